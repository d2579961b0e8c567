import COpenCL
import Foundation
import NNBackend

/// The OpenCL backend: every op is a kernel enqueued on one in-order queue.
/// Nothing waits except `download` and `synchronize`; buffers stay on the
/// device and are pooled.
///
/// Errors from enqueued work cannot be thrown by the op that queued it (ops
/// are non-throwing so tensor code reads like math). The first such error is
/// kept and thrown by the next `download` or `synchronize`. Later ops still
/// run; buffers that a failed op should have written hold stale values, so
/// results computed from them after the error are meaningless, and a failed
/// allocation reports again whenever its buffer is used.
///
/// A backend may be shared by threads: enqueueing (argument setting plus
/// launch), the pool and the error state are serialized by a lock. The
/// queue is in order, so work from different threads runs in the order it
/// was enqueued.
///
/// `@unchecked Sendable`: the mutable state (the error, the counters, the
/// GEMM tuning and override, the index-check buffer, the program caches) is
/// guarded by `lock`, an NSRecursiveLock the compiler does not see. Moving
/// it into a `Mutex` needs the nested helpers (record, launch, the program
/// build) to take the locked state as a parameter instead of re-locking.
public final class OpenCLBackend: Backend, @unchecked Sendable {
    public let info: OpenCLDeviceInfo
    let context: cl_context
    let queue: cl_command_queue
    let pool = OpenCLBufferPool()
    let programs: OpenCLPrograms
    /// The first error of queued work, thrown by the next synchronization.
    private(set) var pendingError: Error?
    /// Serializes kernel-argument setting + enqueue, transfers, the program
    /// caches and the error state.
    let lock = NSRecursiveLock()
    /// NN_TUNE, read once: how GEMM configs are chosen on this device.
    public let tuneMode: GEMMTuneMode
    /// The tuning in effect (loaded or searched on the first float32 GEMM).
    var gemmTuning: GEMMTuning?
    /// A GEMM config every product runs with, whatever its shape: the
    /// parity suite sets it to run each candidate; nil uses the tuning.
    public var gemmOverride: GEMMConfig? {
        get { lock.lock(); defer { lock.unlock() }; return overrideConfig }
        set { lock.lock(); defer { lock.unlock() }; overrideConfig = newValue }
    }
    private var overrideConfig: GEMMConfig?
    /// Work-items per automatic work-group (see `automaticLocalSize`);
    /// NN_GROUP_SIZE overrides it for experiments (0: the driver chooses).
    let groupTarget = ProcessInfo.processInfo.environment["NN_GROUP_SIZE"].flatMap { Int($0) }.map { max(0, $0) } ?? 256
    /// The device-side index checks' error buffer (OpenCLIndexChecks.swift),
    /// and whether an op that checks ran since the last read of it.
    var indexErrorBuffer: DeviceBuffer?
    var indexChecksDue = false
    /// Per-kernel device times when the queue profiles (nil otherwise).
    let profile: OpenCLKernelProfile?

    /// A backend on `device` (see `OpenCLDevices.all()`). With
    /// `profileKernels` (default: NN_PROFILE_KERNELS=1) the queue records
    /// each kernel's device time for `kernelProfile()`, at the cost of an
    /// event per launch.
    public init(device: OpenCLDeviceInfo, cache: Bool = true, profileKernels: Bool = OpenCLBackend.profilingRequested) throws {
        info = device
        tuneMode = try GEMMTuneMode.fromEnvironment()
        var status: cl_int = 0
        var deviceID: cl_device_id? = device.deviceID
        guard let context = openCL.clCreateContext(nil, 1, &deviceID, nil, nil, &status), status == CL_SUCCESS else {
            throw OpenCLError.call(operation: "clCreateContext(\(device.name))", code: status)
        }
        let properties = profileKernels ? cl_command_queue_properties(CL_QUEUE_PROFILING_ENABLE) : 0
        guard let queue = openCL.clCreateCommandQueue(context, device.deviceID, properties, &status), status == CL_SUCCESS else {
            _ = openCL.clReleaseContext(context)
            throw OpenCLError.call(operation: "clCreateCommandQueue(\(device.name))", code: status)
        }
        self.context = context
        self.queue = queue
        profile = profileKernels ? OpenCLKernelProfile() : nil
        programs = OpenCLPrograms(context: context, device: device, cache: cache ? OpenCLBinaryCache.fromEnvironment(for: device) : nil)
    }

    deinit {
        _ = openCL.clFinish(queue)
        indexErrorBuffer = nil  // back to the pool before it drains
        pool.drain()
        _ = openCL.clReleaseCommandQueue(queue)
        _ = openCL.clReleaseContext(context)
    }

    public var name: String { "\(info.spec) (\(info.name))" }
    public var supportsFloat64: Bool { info.supportsFloat64 }

    /// Programs compiled from source in this process, and loaded from the
    /// on-disk binary cache.
    public var programsCompiled: Int { programs.compiledFromSource }

    public var programsLoadedFromCache: Int { programs.loadedFromCache }

    /// Whether compiled programs are kept in the library's on-disk cache
    /// (off on PoCL, which keeps its own, and with NN_KERNEL_CACHE=off).
    public var keepsProgramBinaries: Bool { programs.keepsBinaries }
    /// cl_mem objects created through the driver so far (the pool serves the
    /// rest).
    public var driverAllocations: Int { pool.driverAllocations }
    /// Host transfers so far, to prove a training step reads back only what
    /// the caller asks for.
    public private(set) var uploads = 0
    public private(set) var downloads = 0
    /// Kernels enqueued so far (fusion tests count what a chain saves).
    public internal(set) var launches = 0

    /// Builds every kernel program for `dtypes` now instead of on first use
    /// (before timing, or to surface a build error early).
    public func prepareKernels(dtypes: [DType] = [.float32]) throws {
        lock.lock()
        defer { lock.unlock() }
        for family in KernelFamily.allCases {
            for dtype in dtypes { _ = try programs.program(family, dtype) }
        }
    }

    /// Keeps the first asynchronous error for the next synchronization.
    func record(_ error: Error) {
        lock.lock()
        defer { lock.unlock() }
        if pendingError == nil { pendingError = error }
    }

    // MARK: Memory

    public func makeBuffer(count: Int, dtype: DType) -> DeviceBuffer {
        require(count >= 0, "OpenCLBackend.makeBuffer: negative count \(count)")
        lock.lock()
        defer { lock.unlock() }
        let bytes = max(count * dtype.byteSize, 4)
        if let mem = pool.take(byteSize: bytes) {
            return OpenCLBuffer(count: count, dtype: dtype, storage: .success(mem), byteSize: bytes, pool: pool)
        }
        var status: cl_int = 0
        var mem = openCL.clCreateBuffer(context, cl_mem_flags(CL_MEM_READ_WRITE), bytes, nil, &status)
        if mem == nil || status != CL_SUCCESS {
            // Give the pool's memory back to the driver and try once more.
            pool.drain()
            mem = openCL.clCreateBuffer(context, cl_mem_flags(CL_MEM_READ_WRITE), bytes, nil, &status)
        }
        guard let mem, status == CL_SUCCESS else {
            // Out of device memory (or over the device's largest allocation):
            // the error surfaces at the next download or synchronize.
            let error = OpenCLError.call(operation: "clCreateBuffer(\(bytes) bytes) on \(info.name)", code: status)
            record(error)
            return OpenCLBuffer(count: count, dtype: dtype, storage: .failure(error), byteSize: bytes, pool: pool)
        }
        pool.noteDriverAllocation()
        return OpenCLBuffer(count: count, dtype: dtype, storage: .success(mem), byteSize: bytes, pool: pool)
    }

    func cl(_ buffer: DeviceBuffer, _ op: StaticString) -> OpenCLBuffer {
        guard let b = buffer as? OpenCLBuffer, b.pool === pool else {
            requirementFailed("OpenCLBackend.\(op): the buffer belongs to another backend (\(type(of: buffer))), not \(name)")
        }
        return b
    }

    public func upload(_ bytes: UnsafeRawBufferPointer, to buffer: DeviceBuffer, offset: Int) {
        let b = cl(buffer, "upload")
        require(offset >= 0 && offset * b.dtype.byteSize + bytes.count <= b.byteCount,
                     "OpenCLBackend.upload: \(bytes.count) bytes at element \(offset) overflow a buffer of \(b.count) \(b.dtype)")
        guard bytes.count > 0 else { return }
        lock.lock()
        defer { lock.unlock() }
        uploads += 1
        do {
            // Blocking write: the host memory is only borrowed for this call.
            try check(openCL.clEnqueueWriteBuffer(queue, try b.mem(), cl_bool(CL_TRUE), offset * b.dtype.byteSize, bytes.count,
                                           bytes.baseAddress, 0, nil, nil), "clEnqueueWriteBuffer on \(info.name)")
        } catch {
            record(error)
        }
    }

    public func download(_ buffer: DeviceBuffer, offset: Int, into bytes: UnsafeMutableRawBufferPointer) throws {
        let b = cl(buffer, "download")
        require(offset >= 0 && offset * b.dtype.byteSize + bytes.count <= b.byteCount,
                     "OpenCLBackend.download: \(bytes.count) bytes at element \(offset) overflow a buffer of \(b.count) \(b.dtype)")
        lock.lock()
        defer { lock.unlock() }
        try throwPending()
        try throwIndexErrors()
        downloads += 1
        guard bytes.count > 0 else { return try synchronize() }
        let status = openCL.clEnqueueReadBuffer(queue, try b.mem(), cl_bool(CL_TRUE), offset * b.dtype.byteSize, bytes.count,
                                         bytes.baseAddress, 0, nil, nil)
        try check(status, "clEnqueueReadBuffer on \(info.name)")
    }

    public func synchronize() throws {
        lock.lock()
        defer { lock.unlock() }
        try throwPending()
        try check(openCL.clFinish(queue), "clFinish on \(info.name)")
        try throwIndexErrors()
    }

    private func throwPending() throws {
        if let error = pendingError {
            pendingError = nil
            throw error
        }
    }

    public func copy(_ src: DeviceBuffer, srcOffset: Int, to dst: DeviceBuffer, dstOffset: Int, count: Int) {
        let s = cl(src, "copy"), d = cl(dst, "copy")
        require(s.dtype == d.dtype, "OpenCLBackend.copy: \(s.dtype) to \(d.dtype)")
        require(srcOffset >= 0 && dstOffset >= 0 && srcOffset + count <= s.count && dstOffset + count <= d.count,
                     "OpenCLBackend.copy: \(count) elements from \(srcOffset) of \(s.count) to \(dstOffset) of \(d.count)")
        require(s !== d || srcOffset + count <= dstOffset || dstOffset + count <= srcOffset,
                     "OpenCLBackend.copy: source \(srcOffset)..<\(srcOffset + count) overlaps destination \(dstOffset)..<\(dstOffset + count)")
        guard count > 0 else { return }
        lock.lock()
        defer { lock.unlock() }
        let size = s.dtype.byteSize
        do {
            let (sm, dm) = (try s.mem(), try d.mem())
            try check(enqueueCommand("(copy)", range: [count]) {
                openCL.clEnqueueCopyBuffer(queue, sm, dm, srcOffset * size, dstOffset * size, count * size, 0, nil, $0)
            }, "clEnqueueCopyBuffer on \(info.name)")
        } catch {
            record(error)
        }
    }

    public func fill(_ buffer: DeviceBuffer, value: Double, offset: Int, count: Int) {
        let b = cl(buffer, "fill")
        require(offset >= 0 && offset + count <= b.count, "OpenCLBackend.fill: \(count) elements at \(offset) of \(b.count)")
        guard count > 0 else { return }
        lock.lock()
        defer { lock.unlock() }
        func enqueue<T: BitwiseCopyable>(_ pattern: T) {
            var p = pattern
            let size = MemoryLayout<T>.size
            do {
                let mem = try b.mem()
                try check(enqueueCommand("(fill)", range: [count]) {
                    openCL.clEnqueueFillBuffer(queue, mem, &p, size, offset * size, count * size, 0, nil, $0)
                }, "clEnqueueFillBuffer on \(info.name)")
            } catch {
                record(error)
            }
        }
        switch b.dtype {
        case .float32: enqueue(Float(value))
        case .float64: enqueue(value)
        case .int32: enqueue(Int32(value))
        case .int64: enqueue(Int64(value))
        }
    }

    public func convert(_ src: DeviceBuffer, to dst: DeviceBuffer, count: Int) {
        let s = cl(src, "convert"), d = cl(dst, "convert")
        require(count <= s.count && count <= d.count, "OpenCLBackend.convert: \(count) elements of \(s.count) -> \(d.count)")
        if s.dtype == d.dtype { return copy(src, srcOffset: 0, to: dst, dstOffset: 0, count: count) }
        func typeName(_ t: DType) -> String {
            switch t {
            case .float32: return "float"
            case .float64: return "double"
            case .int32: return "int"
            case .int64: return "long"
            }
        }
        let dtype: DType = s.dtype == .float64 || d.dtype == .float64 ? .float64 : .float32
        launch(.layout, "convert_\(typeName(s.dtype))_\(typeName(d.dtype))", dtype: dtype, global: count,
               .buffer(s), .buffer(d), .int(count))
    }
}
