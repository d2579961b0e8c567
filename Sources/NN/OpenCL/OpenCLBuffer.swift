import COpenCL

/// Device memory of the OpenCL backend. On deinit the cl_mem goes back to its
/// backend's pool rather than to the driver, so a steady training loop that
/// allocates the same sizes every step reuses memory instead of allocating.
final class OpenCLBuffer: DeviceBuffer {
    let count: Int
    let dtype: DType
    let mem: cl_mem
    let byteSize: Int
    private let pool: OpenCLBufferPool

    init(count: Int, dtype: DType, mem: cl_mem, byteSize: Int, pool: OpenCLBufferPool) {
        self.count = count
        self.dtype = dtype
        self.mem = mem
        self.byteSize = byteSize
        self.pool = pool
    }

    deinit { pool.recycle(mem, byteSize: byteSize) }
}

/// Free cl_mem objects by byte size. Reuse is safe without waiting: the
/// backend has one in-order queue, so whatever the next owner enqueues runs
/// after everything the previous owner enqueued.
final class OpenCLBufferPool {
    private var free: [Int: [cl_mem]] = [:]
    private(set) var cachedBytes = 0
    /// Buffers created through the driver (for tests of the steady state).
    private(set) var driverAllocations = 0

    func take(byteSize: Int) -> cl_mem? {
        guard var list = free[byteSize], let mem = list.popLast() else { return nil }
        free[byteSize] = list
        cachedBytes -= byteSize
        return mem
    }

    func recycle(_ mem: cl_mem, byteSize: Int) {
        free[byteSize, default: []].append(mem)
        cachedBytes += byteSize
    }

    func noteDriverAllocation() { driverAllocations += 1 }

    /// Returns every cached buffer to the driver (after an allocation
    /// failure, or at teardown).
    func drain() {
        for list in free.values { for mem in list { clReleaseMemObject(mem) } }
        free = [:]
        cachedBytes = 0
    }

    deinit { drain() }
}
