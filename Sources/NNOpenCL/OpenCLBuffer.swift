import COpenCL
import Foundation
import NNBackend

/// Device memory of the OpenCL backend. On deinit the cl_mem goes back to its
/// backend's pool rather than to the driver, so a steady training loop that
/// allocates the same sizes every step reuses memory instead of allocating.
///
/// A buffer the driver could not allocate has no cl_mem: it carries the
/// allocation error instead, and every op that touches it records that error
/// for the next synchronization to throw (ops themselves do not throw).
///
/// `@unchecked Sendable`: every stored property is a constant; the cl_mem is
/// an OpenCL handle, safe to use from any thread by the OpenCL
/// specification, which Swift sees as a plain pointer.
final class OpenCLBuffer: DeviceBuffer, @unchecked Sendable {
    let count: Int
    let dtype: DType
    private let storage: Result<cl_mem, OpenCLError>
    let byteSize: Int
    /// The owning backend's pool (also how a backend recognizes its buffers).
    let pool: OpenCLBufferPool

    init(count: Int, dtype: DType, storage: Result<cl_mem, OpenCLError>, byteSize: Int, pool: OpenCLBufferPool) {
        self.count = count
        self.dtype = dtype
        self.storage = storage
        self.byteSize = byteSize
        self.pool = pool
    }

    /// The cl_mem, or the error that kept it from being allocated.
    func mem() throws -> cl_mem { try storage.get() }

    deinit {
        if case .success(let mem) = storage { pool.recycle(mem, byteSize: byteSize) }
    }
}

/// Free cl_mem objects by byte size. Reuse is safe without waiting: the
/// backend has one in-order queue, so whatever the next owner enqueues runs
/// after everything the previous owner enqueued.
final class OpenCLBufferPool {
    /// Buffers are released from whatever thread drops them.
    private let lock = NSLock()
    private var free: [Int: [cl_mem]] = [:]
    private(set) var cachedBytes = 0
    /// Buffers created through the driver (for tests of the steady state).
    private(set) var driverAllocations = 0

    func take(byteSize: Int) -> cl_mem? {
        lock.lock()
        defer { lock.unlock() }
        guard var list = free[byteSize], let mem = list.popLast() else { return nil }
        free[byteSize] = list
        cachedBytes -= byteSize
        return mem
    }

    func recycle(_ mem: cl_mem, byteSize: Int) {
        lock.lock()
        defer { lock.unlock() }
        free[byteSize, default: []].append(mem)
        cachedBytes += byteSize
    }

    func noteDriverAllocation() {
        lock.lock()
        driverAllocations += 1
        lock.unlock()
    }

    /// Returns every cached buffer to the driver (after an allocation
    /// failure, or at teardown).
    func drain() {
        lock.lock()
        defer { lock.unlock() }
        for list in free.values { for mem in list { _ = openCL.clReleaseMemObject(mem) } }
        free = [:]
        cachedBytes = 0
    }

    deinit { drain() }
}
