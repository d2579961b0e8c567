import Foundation
import NNBackend

/// Host memory for the CPU backend, 64-byte aligned (a cache line and an
/// AVX-512 vector), freed when the last reference goes away.
///
/// `@unchecked Sendable`: the stored properties are constants, but `raw` is
/// a pointer, which Swift never treats as Sendable. The memory it points to
/// is written only by backend ops, ordered by their callers
/// (see `DeviceBuffer`).
final class CPUBuffer: DeviceBuffer, @unchecked Sendable {
    let count: Int
    let dtype: DType
    let raw: UnsafeMutableRawPointer

    init(count: Int, dtype: DType) {
        require(count >= 0, "CPUBackend.makeBuffer: negative count \(count)")
        self.count = count
        self.dtype = dtype
        raw = UnsafeMutableRawPointer.allocate(byteCount: max(count * dtype.byteSize, 1), alignment: 64)
    }

    deinit { raw.deallocate() }

    @inline(__always)
    func pointer<T>(_: T.Type) -> UnsafeMutablePointer<T> { raw.assumingMemoryBound(to: T.self) }
}

extension CPUBackend {
    /// The CPU buffer behind `buffer`; stops with the op's name when the
    /// buffer belongs to another backend.
    @inline(__always)
    func cpu(_ buffer: DeviceBuffer, _ op: StaticString) -> CPUBuffer {
        guard let b = buffer as? CPUBuffer else {
            requirementFailed("CPUBackend.\(op): buffer of type \(type(of: buffer)) belongs to another backend")
        }
        return b
    }

    @inline(__always)
    func floatType(_ buffer: DeviceBuffer, _ op: StaticString) -> DType {
        require(buffer.dtype.isFloatingPoint, "CPUBackend.\(op): expected a float buffer, got \(buffer.dtype)")
        return buffer.dtype
    }
}
