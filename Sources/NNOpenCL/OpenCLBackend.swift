import COpenCL
import Foundation
import NNBackend
import Synchronization

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
/// A backend may be shared by threads. OpenCL makes every call thread-safe
/// except setting a kernel's arguments, which must not race with another
/// launch of the same kernel; so each launch, transfer and synchronization
/// runs inside `queueState`, the mutex that owns the kernels (with their
/// programs), the first pending error, the counters and the index checks.
/// The queue is in order, so work from different threads runs in the order
/// it was enqueued. The buffer pool has its own mutex, and GEMM tuning its
/// own (held through a search, so concurrent first products tune once).
public final class OpenCLBackend: Backend, Sendable {
    public let info: OpenCLDeviceInfo
    /// `nonisolated(unsafe)`: OpenCL handles, safe to use from any thread
    /// by the OpenCL specification, which Swift sees as plain pointers.
    nonisolated(unsafe) let context: cl_context
    nonisolated(unsafe) let queue: cl_command_queue
    let pool = OpenCLBufferPool()

    /// Everything enqueueing touches, owned by one mutex. Helpers that run
    /// inside it take the state as `inout` instead of locking again.
    struct QueueState {
        var programs: OpenCLPrograms
        /// Per-kernel device times when the queue profiles (nil otherwise).
        var profile: OpenCLKernelProfile?
        /// The first error of queued work, thrown by the next synchronization.
        var pendingError: Error?
        /// See `gemmOverride`.
        var gemmOverride: GEMMConfig?
        /// The device-side index checks' error buffer (OpenCLIndexChecks.swift),
        /// and whether an op that checks ran since the last read of it.
        var indexErrorBuffer: DeviceBuffer?
        var indexChecksDue = false
        var uploads = 0, downloads = 0, launches = 0
    }
    let queueState: Mutex<QueueState>

    /// NN_TUNE, read once: how GEMM configs are chosen on this device.
    public let tuneMode: GEMMTuneMode
    /// The tuning in effect (loaded or searched on the first float32 GEMM).
    let gemmTuning = Mutex<GEMMTuning?>(nil)
    /// A GEMM config every product runs with, whatever its shape: the
    /// parity suite sets it to run each candidate; nil uses the tuning.
    public var gemmOverride: GEMMConfig? {
        get { queueState.withLock { $0.gemmOverride } }
        set { queueState.withLock { $0.gemmOverride = newValue } }
    }
    /// Work-items per automatic work-group (see `automaticLocalSize`);
    /// NN_GROUP_SIZE overrides it for experiments (0: the driver chooses).
    let groupTarget = ProcessInfo.processInfo.environment["NN_GROUP_SIZE"].flatMap { Int($0) }.map { max(0, $0) } ?? 256
    /// Whether this backend's queue records per-kernel device times.
    public let profilesKernels: Bool

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
        profilesKernels = profileKernels
        let programs = OpenCLPrograms(context: context, device: device,
                                      cache: cache ? OpenCLBinaryCache.fromEnvironment(for: device) : nil)
        queueState = Mutex(QueueState(programs: programs, profile: profileKernels ? OpenCLKernelProfile() : nil))
    }

    deinit {
        _ = openCL.clFinish(queue)
        queueState.withLock { $0.indexErrorBuffer = nil }  // back to the pool before it drains
        pool.drain()
        _ = openCL.clReleaseCommandQueue(queue)
        _ = openCL.clReleaseContext(context)
    }

    public var name: String { "\(info.spec) (\(info.name))" }
    public var supportsFloat64: Bool { info.supportsFloat64 }

    /// Programs compiled from source in this process, and loaded from the
    /// on-disk binary cache.
    public var programsCompiled: Int { queueState.withLock { $0.programs.compiledFromSource } }

    public var programsLoadedFromCache: Int { queueState.withLock { $0.programs.loadedFromCache } }

    /// Whether compiled programs are kept in the library's on-disk cache
    /// (off on PoCL, which keeps its own, and with NN_KERNEL_CACHE=off).
    public var keepsProgramBinaries: Bool { queueState.withLock { $0.programs.keepsBinaries } }
    /// cl_mem objects created through the driver so far (the pool serves the
    /// rest).
    public var driverAllocations: Int { pool.driverAllocations }
    /// Host transfers so far, to prove a training step reads back only what
    /// the caller asks for.
    public var uploads: Int { queueState.withLock { $0.uploads } }
    public var downloads: Int { queueState.withLock { $0.downloads } }
    /// Kernels enqueued so far (fusion tests count what a chain saves).
    public var launches: Int { queueState.withLock { $0.launches } }

    /// Builds every kernel program for `dtypes` now instead of on first use
    /// (before timing, or to surface a build error early).
    public func prepareKernels(dtypes: [DType] = [.float32]) throws {
        try queueState.withLock { state in
            for family in KernelFamily.allCases {
                for dtype in dtypes { _ = try state.programs.program(family, dtype) }
            }
        }
    }

    /// Keeps the first asynchronous error for the next synchronization.
    func record(_ error: Error) {
        queueState.withLock { record(error, in: &$0) }
    }

    func record(_ error: Error, in state: inout QueueState) {
        if state.pendingError == nil { state.pendingError = error }
    }

    // MARK: Memory

    public func makeBuffer(count: Int, dtype: DType) -> DeviceBuffer {
        let buffer = allocate(count: count, dtype: dtype)
        if let error = buffer.allocationError { record(error) }
        return buffer
    }

    /// A buffer from the pool or the driver. One the driver refuses (out of
    /// device memory, or over the device's largest allocation) carries the
    /// error, which the caller records for the next download or synchronize.
    func allocate(count: Int, dtype: DType) -> OpenCLBuffer {
        require(count >= 0, "OpenCLBackend.makeBuffer: negative count \(count)")
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
            let error = OpenCLError.call(operation: "clCreateBuffer(\(bytes) bytes) on \(info.name)", code: status)
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
        queueState.withLock { state in
            state.uploads += 1
            do {
                // Blocking write: the host memory is only borrowed for this call.
                try check(openCL.clEnqueueWriteBuffer(queue, try b.mem(), cl_bool(CL_TRUE), offset * b.dtype.byteSize, bytes.count,
                                                      bytes.baseAddress, 0, nil, nil), "clEnqueueWriteBuffer on \(info.name)")
            } catch {
                record(error, in: &state)
            }
        }
    }

    public func download(_ buffer: DeviceBuffer, offset: Int, into bytes: UnsafeMutableRawBufferPointer) throws {
        let b = cl(buffer, "download")
        require(offset >= 0 && offset * b.dtype.byteSize + bytes.count <= b.byteCount,
                     "OpenCLBackend.download: \(bytes.count) bytes at element \(offset) overflow a buffer of \(b.count) \(b.dtype)")
        try queueState.withLock { state in
            try throwPending(in: &state)
            try throwIndexErrors(in: &state)
            state.downloads += 1
            guard bytes.count > 0 else { return try synchronize(in: &state) }
            let status = openCL.clEnqueueReadBuffer(queue, try b.mem(), cl_bool(CL_TRUE), offset * b.dtype.byteSize, bytes.count,
                                                    bytes.baseAddress, 0, nil, nil)
            try check(status, "clEnqueueReadBuffer on \(info.name)")
        }
    }

    public func synchronize() throws {
        try queueState.withLock { try synchronize(in: &$0) }
    }

    func synchronize(in state: inout QueueState) throws {
        try throwPending(in: &state)
        try check(openCL.clFinish(queue), "clFinish on \(info.name)")
        try throwIndexErrors(in: &state)
    }

    private func throwPending(in state: inout QueueState) throws {
        if let error = state.pendingError {
            state.pendingError = nil
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
        let size = s.dtype.byteSize
        queueState.withLock { state in
            do {
                let (sm, dm) = (try s.mem(), try d.mem())
                try check(enqueueCommand("(copy)", range: [count], in: &state) {
                    openCL.clEnqueueCopyBuffer(queue, sm, dm, srcOffset * size, dstOffset * size, count * size, 0, nil, $0)
                }, "clEnqueueCopyBuffer on \(info.name)")
            } catch {
                record(error, in: &state)
            }
        }
    }

    public func fill(_ buffer: DeviceBuffer, value: Double, offset: Int, count: Int) {
        queueState.withLock { fill(buffer, value: value, offset: offset, count: count, in: &$0) }
    }

    func fill(_ buffer: DeviceBuffer, value: Double, offset: Int, count: Int, in state: inout QueueState) {
        let b = cl(buffer, "fill")
        require(offset >= 0 && offset + count <= b.count, "OpenCLBackend.fill: \(count) elements at \(offset) of \(b.count)")
        guard count > 0 else { return }
        func enqueue<T: BitwiseCopyable>(_ pattern: T) {
            var p = pattern
            let size = MemoryLayout<T>.size
            do {
                let mem = try b.mem()
                try check(enqueueCommand("(fill)", range: [count], in: &state) {
                    openCL.clEnqueueFillBuffer(queue, mem, &p, size, offset * size, count * size, 0, nil, $0)
                }, "clEnqueueFillBuffer on \(info.name)")
            } catch {
                record(error, in: &state)
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
