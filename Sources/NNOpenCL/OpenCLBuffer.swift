import COpenCL
import Foundation
import NNBackend
import Synchronization

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

    /// Why the driver could not allocate this buffer (nil when it did).
    var allocationError: OpenCLError? {
        if case .failure(let error) = storage { return error }
        return nil
    }

    deinit {
        if case .success(let mem) = storage { pool.recycle(mem, byteSize: byteSize) }
    }
}

/// Free cl_mem objects by byte size. Reuse is safe without waiting: the
/// backend has one in-order queue, so whatever the next owner enqueues runs
/// after everything the previous owner enqueued.
///
/// Buffers are released from whatever thread drops them, so the free lists
/// live in a mutex.
final class OpenCLBufferPool: Sendable {
    /// `@unchecked Sendable`: a cl_mem is a handle any thread may use (the
    /// OpenCL specification says so); Swift sees a plain pointer.
    private struct Handle: @unchecked Sendable {
        let mem: cl_mem
    }
    private struct Lists {
        var free: [Int: [Handle]] = [:]
        var cachedBytes = 0
        /// Buffers created through the driver (for tests of the steady state).
        var driverAllocations = 0
    }
    private let lists = Mutex(Lists())

    var cachedBytes: Int { lists.withLock { $0.cachedBytes } }
    var driverAllocations: Int { lists.withLock { $0.driverAllocations } }

    func take(byteSize: Int) -> cl_mem? {
        lists.withLock { lists in
            guard let handle = lists.free[byteSize]?.popLast() else { return nil }
            lists.cachedBytes -= byteSize
            return handle.mem
        }
    }

    func recycle(_ mem: cl_mem, byteSize: Int) {
        let handle = Handle(mem: mem)
        lists.withLock { lists in
            lists.free[byteSize, default: []].append(handle)
            lists.cachedBytes += byteSize
        }
    }

    func noteDriverAllocation() {
        lists.withLock { $0.driverAllocations += 1 }
    }

    /// Returns every cached buffer to the driver (after an allocation
    /// failure, or at teardown).
    func drain() {
        lists.withLock { lists in
            for list in lists.free.values { for handle in list { _ = openCL.clReleaseMemObject(handle.mem) } }
            lists.free = [:]
            lists.cachedBytes = 0
        }
    }

    deinit { drain() }
}
