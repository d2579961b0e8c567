import CBLAS
import CPUKernels
import Foundation
import NNBackend

/// The CPU backend: OpenBLAS for every matrix product, tight loops spread
/// over the cores for everything else. Work runs synchronously, so
/// `synchronize` has nothing to wait for.
public final class CPUBackend: Backend {
    public static let shared = CPUBackend()

    public init() {
        // Before any product: OpenBLAS's core, corrected on CPUs newer than
        // it, and one thread for it: products are spread over the backend's
        // own pool (CPUThreadPool), block by block.
        _ = OpenBLASCore.correction
        openblas_set_num_threads(1)
        // The float32 GEMM library, so that a bad NN_CPU_GEMM stops here
        // and not at the first large product.
        _ = CPUGEMMLibrary.current
    }

    public var name: String { "cpu" }
    public var supportsFloat64: Bool { true }

    /// The instruction set the float32 transcendental loops (exp, sigmoid,
    /// tanh, softplus, softmax) run with, the widest this CPU has, chosen at
    /// run time ($NN_CPU_LEVEL=baseline|x86-64-v3 asks for a narrower one):
    /// "x86-64-v3 (AVX2, FMA)", "x86-64-v4 (AVX-512)" or "baseline".
    public static var vectorLevel: String {
        switch Int(nn_cpu_level()) {
        case NN_CPU_X86_64_V4: return "x86-64-v4 (AVX-512)"
        case NN_CPU_X86_64_V3: return "x86-64-v3 (AVX2, FMA)"
        default: return "baseline"
        }
    }

    /// The threads the backend's loops and products run on, the caller's
    /// included: `$NN_NUM_THREADS`, or the cores this process may use.
    public static var threadCount: Int { CPUThreadPool.shared.threadCount }

    public func makeBuffer(count: Int, dtype: DType) -> DeviceBuffer {
        CPUBuffer(count: count, dtype: dtype)
    }

    /// Bytes of freed buffers the CPU backend keeps for reuse
    /// (`NN_CPU_POOL_MB` bounds them), and how many buffers it has had to
    /// allocate from the system: a warm training step adds none.
    public static var cachedBytes: Int { CPUBufferPool.shared.cachedBytes }
    public static var systemAllocations: Int { CPUBufferPool.shared.systemAllocations }

    /// Gives the kept buffers back to the system (as PyTorch's
    /// `torch.cuda.empty_cache()` does for its device cache).
    public static func emptyCache() { CPUBufferPool.shared.empty() }

    public func upload(_ bytes: UnsafeRawBufferPointer, to buffer: DeviceBuffer, offset: Int) {
        let b = cpu(buffer, "upload")
        require(offset >= 0 && offset * b.dtype.byteSize + bytes.count <= b.byteCount,
                     "CPUBackend.upload: \(bytes.count) bytes at element \(offset) overflow a buffer of \(b.count) \(b.dtype)")
        if bytes.count > 0 {
            (b.raw + offset * b.dtype.byteSize).copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
        }
    }

    public func download(_ buffer: DeviceBuffer, offset: Int, into bytes: UnsafeMutableRawBufferPointer) throws {
        let b = cpu(buffer, "download")
        require(offset >= 0 && offset * b.dtype.byteSize + bytes.count <= b.byteCount,
                     "CPUBackend.download: \(bytes.count) bytes at element \(offset) overflow a buffer of \(b.count) \(b.dtype)")
        if bytes.count > 0 {
            bytes.baseAddress!.copyMemory(from: b.raw + offset * b.dtype.byteSize, byteCount: bytes.count)
        }
    }

    public func synchronize() throws {}

    public func copy(_ src: DeviceBuffer, srcOffset: Int, to dst: DeviceBuffer, dstOffset: Int, count: Int) {
        let s = cpu(src, "copy"), d = cpu(dst, "copy")
        require(s.dtype == d.dtype, "CPUBackend.copy: \(s.dtype) to \(d.dtype)")
        require(srcOffset >= 0 && dstOffset >= 0 && srcOffset + count <= s.count && dstOffset + count <= d.count,
                     "CPUBackend.copy: \(count) elements from \(srcOffset) of \(s.count) to \(dstOffset) of \(d.count)")
        require(s !== d || srcOffset + count <= dstOffset || dstOffset + count <= srcOffset,
                     "CPUBackend.copy: source \(srcOffset)..<\(srcOffset + count) overlaps destination \(dstOffset)..<\(dstOffset + count)")
        let size = s.dtype.byteSize
        (d.raw + dstOffset * size).copyMemory(from: s.raw + srcOffset * size, byteCount: count * size)
    }

    public func fill(_ buffer: DeviceBuffer, value: Double, offset: Int, count: Int) {
        let b = cpu(buffer, "fill")
        require(offset >= 0 && offset + count <= b.count, "CPUBackend.fill: \(count) elements at \(offset) of \(b.count)")
        switch b.dtype {
        case .float32: (b.pointer(Float.self) + offset).update(repeating: Float(value), count: count)
        case .float64: (b.pointer(Double.self) + offset).update(repeating: value, count: count)
        case .int32: (b.pointer(Int32.self) + offset).update(repeating: Int32(value), count: count)
        case .int64: (b.pointer(Int64.self) + offset).update(repeating: Int64(value), count: count)
        }
    }

    public func convert(_ src: DeviceBuffer, to dst: DeviceBuffer, count: Int) {
        let s = cpu(src, "convert"), d = cpu(dst, "convert")
        require(count <= s.count && count <= d.count, "CPUBackend.convert: \(count) elements of \(s.count) -> \(d.count)")
        func run<S, D>(_ from: S.Type, _ to: D.Type, _ f: (S) -> D) {
            let sp = s.pointer(S.self), dp = d.pointer(D.self)
            for i in 0..<count { dp[i] = f(sp[i]) }
        }
        switch (s.dtype, d.dtype) {
        case (.float32, .float64): run(Float.self, Double.self) { Double($0) }
        case (.float64, .float32): run(Double.self, Float.self) { Float($0) }
        case (.int32, .float32): run(Int32.self, Float.self) { Float($0) }
        case (.int32, .float64): run(Int32.self, Double.self) { Double($0) }
        case (.float32, .int32): run(Float.self, Int32.self) { Int32($0) }
        case (.float64, .int32): run(Double.self, Int32.self) { Int32($0) }
        // int64 -> int32 saturates, so an out-of-range label or index stays
        // out of range for the op that reads it (see DType).
        case (.int64, .int32): run(Int64.self, Int32.self) { Int32(clamping: $0) }
        case (.int32, .int64): run(Int32.self, Int64.self) { Int64($0) }
        case (.int64, .float32): run(Int64.self, Float.self) { Float($0) }
        case (.int64, .float64): run(Int64.self, Double.self) { Double($0) }
        case (.float32, .int64): run(Float.self, Int64.self) { Int64($0) }
        case (.float64, .int64): run(Double.self, Int64.self) { Int64($0) }
        default: copy(src, srcOffset: 0, to: dst, dstOffset: 0, count: count)
        }
    }
}
