import Dispatch
import Foundation
import NN
import Synchronization

/// The processes of one MPI job (`mpirun -np N program`), and the
/// collective operations among them, on tensors of either backend.
///
///     let group = try ProcessGroup.world()
///     let total = try group.allReduce(Tensor([Float(group.rank)]))   // every rank: 0 + 1 + ... + (N-1)
///
/// Collectives are called by every rank in the same order with tensors of
/// the same shape and dtype (checked: a mismatch throws on every rank, named
/// per rank). Tensors travel through host memory: Open MPI from Debian does
/// not read device memory, so an OpenCL tensor is downloaded, reduced and
/// uploaded again.
///
/// Every MPI call of the process goes through one serial queue, so that the
/// gradient averaging of `DataParallel` can run on it in the background
/// (MPI_THREAD_SERIALIZED: calls from any thread, one at a time). That also
/// makes a group safe to hand between tasks.
public final class ProcessGroup: Sendable {
    /// This process's index in the job, 0..<size.
    public let rank: Int
    /// The number of processes.
    public let size: Int
    /// The index among the processes on this machine (pick a device with it).
    public let localRank: Int
    /// The number of processes on this machine.
    public let localSize: Int
    /// The machine's name, as MPI reports it.
    public let processorName: String
    /// The MPI library, for the record ("Open MPI v4.1.4").
    public let libraryVersion: String

    let mpi: OpenMPI
    /// `nonisolated(unsafe)`: an MPI communicator handle, only ever passed
    /// to MPI on `queue`; Swift sees a plain pointer.
    nonisolated(unsafe) let comm: OpenMPI.Handle
    /// The queue every MPI call goes through.
    let queue = DispatchQueue(label: "nn.distributed.mpi")

    /// DataParallel steps whose buckets may be in flight (between a
    /// backward pass and `synchronizeGradients()`): no other collective may
    /// start then, or ranks that started different buckets would pair it
    /// with different calls.
    let openGradientSteps = Mutex(0)

    /// The world group once made, or why MPI could not be used once it was
    /// initialized anyway.
    private static let worldGroup = Mutex<Result<ProcessGroup, Error>?>(nil)

    /// All the processes of the job (MPI_COMM_WORLD). The first call
    /// initializes MPI; MPI is finalized when the process exits. Started
    /// without `mpirun`, the job is this one process.
    public static func world() throws -> ProcessGroup {
        try worldGroup.withLock { world in
            if let world { return try world.get() }
            let mpi = try OpenMPI.shared()
            var flag: Int32 = 0
            try mpi.check(mpi.initialized(&flag), "MPI_Initialized")
            if flag == 0 {
                var provided: Int32 = 0
                try mpi.check(mpi.initThread(nil, nil, OpenMPI.threadSerialized, &provided), "MPI_Init_thread")
                atexit { ProcessGroup.finalizeAtExit() }
                guard provided >= OpenMPI.threadSerialized else {
                    let failure = DistributedError.threadSupport(provided: Int(provided))
                    world = .failure(failure)
                    throw failure
                }
            }
            // Errors come back as codes (thrown), not as Open MPI's default of
            // ending the job from inside the call.
            try mpi.check(mpi.commSetErrhandler(mpi.commWorld, mpi.errorsReturn), "MPI_Comm_set_errhandler")
            let group = try ProcessGroup(mpi: mpi, comm: mpi.commWorld)
            world = .success(group)
            return group
        }
    }

    private init(mpi: OpenMPI, comm: OpenMPI.Handle) throws {
        self.mpi = mpi
        self.comm = comm
        var value: Int32 = 0
        try mpi.check(mpi.commRank(comm, &value), "MPI_Comm_rank")
        rank = Int(value)
        try mpi.check(mpi.commSize(comm, &value), "MPI_Comm_size")
        size = Int(value)
        // The processes that share this machine's memory.
        var local: OpenMPI.Handle?
        try mpi.check(mpi.commSplitType(comm, OpenMPI.commTypeShared, Int32(rank), mpi.infoNull, &local), "MPI_Comm_split_type")
        try mpi.check(mpi.commRank(local!, &value), "MPI_Comm_rank")
        localRank = Int(value)
        try mpi.check(mpi.commSize(local!, &value), "MPI_Comm_size")
        localSize = Int(value)
        var name = [CChar](repeating: 0, count: OpenMPI.maxProcessorName + 1)
        try mpi.check(mpi.getProcessorName(&name, &value), "MPI_Get_processor_name")
        processorName = String(nulTerminated: name)
        libraryVersion = mpi.version
    }

    private static func finalizeAtExit() {
        guard let mpi = try? OpenMPI.shared() else { return }
        // What is still queued (a backward pass never synchronized) first:
        // MPI_THREAD_SERIALIZED allows one call at a time.
        if case .success(let group) = worldGroup.withLock({ $0 }) { group.queue.sync {} }
        var done: Int32 = 0
        _ = mpi.finalized(&done)
        if done == 0 { _ = mpi.finalize() }
    }

    /// `body` on the MPI queue, waiting for it (and for every call queued
    /// before it).
    func perform<T>(_ body: () throws -> T) rethrows -> T { try queue.sync(execute: body) }

    /// Stops a collective called while a DataParallel step is open.
    private func requireNoOpenStep(_ operation: String) {
        require(openGradientSteps.withLock { $0 } == 0,
                "ProcessGroup.\(operation): called between backward() and DataParallel.synchronizeGradients(), while gradient "
                + "buckets may be in flight; ranks would pair it with different calls. Call it after synchronizeGradients()")
    }

    /// Ends every process of the job (MPI_Abort): `mpirun` then exits with
    /// `code`. What a rank does when it cannot go on, so that the others do
    /// not wait for it forever in their next collective.
    public func abort(code: Int32 = 1) -> Never {
        _ = mpi.abort(comm, code)
        exit(code)  // MPI_Abort does not return; if it did, still end.
    }

    /// Runs `body` as this rank's part of the job. An error it throws is
    /// printed on standard error, naming the rank and the machine
    /// ("rank 1 of 2 (host): ..."), and ends the whole job (`abort`), so
    /// that `mpirun` exits non-zero instead of the other ranks hanging.
    public func run(_ body: () throws -> Void) {
        do {
            try body()
        } catch {
            FileHandle.standardError.write(Data("rank \(rank) of \(size) (\(processorName)): \(error)\n".utf8))
            abort(code: 1)
        }
    }
}

// MARK: - Collectives

extension ProcessGroup {
    /// The reductions of `allReduce`.
    public enum ReduceOperation { case sum, max, min }

    private func handle(_ operation: ReduceOperation) -> OpenMPI.Handle {
        switch operation {
        case .sum: return mpi.sum
        case .max: return mpi.max
        case .min: return mpi.min
        }
    }

    private func datatype(_ dtype: DType) -> OpenMPI.Handle {
        switch dtype {
        case .float32: return mpi.float
        case .float64: return mpi.double
        case .int32: return mpi.int32
        case .int64: return mpi.int64
        }
    }

    /// The element-wise reduction of `tensor` over all processes, on every
    /// process (on `tensor`'s device).
    public func allReduce(_ tensor: Tensor, _ operation: ReduceOperation = .sum) throws -> Tensor {
        try agree("allReduce", "\(operation) of \(tensor.dtype) \(tensor.shape)")
        var bytes = try HostBytes(tensor)
        try bytes.withBuffer { try allReduceInPlace($0, count: tensor.count, datatype(tensor.dtype), operation) }
        return try bytes.tensor(shape: tensor.shape, dtype: tensor.dtype, on: tensor.device)
    }

    /// Element-wise sums (or another reduction) of host values over all processes.
    public func allReduce(_ values: [Double], _ operation: ReduceOperation = .sum) throws -> [Double] {
        var result = values
        try allReduce(&result, operation)
        return result
    }

    /// Reduces host values over all processes in place (no copy: for large
    /// buffers; the count must agree, unchecked).
    public func allReduce(_ values: inout [Double], _ operation: ReduceOperation = .sum) throws {
        requireNoOpenStep("allReduce")
        let count = values.count
        try values.withUnsafeMutableBytes { try allReduceInPlace($0, count: count, mpi.double, operation) }
    }

    /// Reduces host floats over all processes in place (no copy; the count
    /// must agree, unchecked).
    public func allReduce(_ values: inout [Float], _ operation: ReduceOperation = .sum) throws {
        requireNoOpenStep("allReduce")
        let count = values.count
        try values.withUnsafeMutableBytes { try allReduceInPlace($0, count: count, mpi.float, operation) }
    }

    /// `root`'s `tensor` on every process (the others' values are replaced;
    /// shape and dtype must agree).
    public func broadcast(_ tensor: Tensor, from root: Int = 0) throws -> Tensor {
        require(0 <= root && root < size, "broadcast: root \(root) is not a rank of this group of \(size)")
        try agree("broadcast", "\(tensor.dtype) \(tensor.shape) from rank \(root)")
        var bytes = try HostBytes(tensor)
        try bytes.withBuffer { try broadcastInPlace($0, from: root) }
        return try bytes.tensor(shape: tensor.shape, dtype: tensor.dtype, on: tensor.device)
    }

    /// Every process's `tensor`, in rank order, on every process.
    public func allGather(_ tensor: Tensor) throws -> [Tensor] {
        try agree("allGather", "\(tensor.dtype) \(tensor.shape)")
        let local = try HostBytes(tensor)
        let gathered = try allGatherBytes(local.bytes)
        return try gathered.map { try HostBytes(bytes: $0).tensor(shape: tensor.shape, dtype: tensor.dtype, on: tensor.device) }
    }

    /// Waits until every process has reached it.
    public func barrier() throws {
        requireNoOpenStep("barrier")
        try perform { try mpi.check(mpi.barrier(comm), "MPI_Barrier") }
    }

    // MARK: Host buffers

    /// MPI counts are 32-bit: large buffers go in pieces.
    static let maxElementsPerCall = 1 << 30

    /// Reduces `buffer` (count elements of `type`) over the processes, in place.
    func allReduceInPlace(_ buffer: UnsafeMutableRawBufferPointer, count: Int, _ type: OpenMPI.Handle,
                          _ operation: ReduceOperation = .sum) throws {
        try perform { try callAllReduce(buffer, count: count, type, operation) }
    }

    /// Starts summing `buffer` (count floats) over the processes on the MPI
    /// queue and returns at once; `done` runs there with the error, if any.
    /// `perform` waits for it. The buffer must stay put until then.
    func startAllReduce(_ buffer: UnsafeMutableRawBufferPointer, count: Int, done: @escaping @Sendable (Error?) -> Void) {
        // The caller leaves the buffer alone until `perform` has waited.
        nonisolated(unsafe) let buffer = buffer
        queue.async {
            do {
                try self.callAllReduce(buffer, count: count, self.mpi.float, .sum)
                done(nil)
            } catch {
                done(error)
            }
        }
    }

    /// MPI_Allreduce in place, in pieces of at most `maxElementsPerCall`
    /// (on the MPI queue: callers go through `perform` or `queue`).
    private func callAllReduce(_ buffer: UnsafeMutableRawBufferPointer, count: Int, _ type: OpenMPI.Handle,
                               _ operation: ReduceOperation) throws {
        guard count > 0, let base = buffer.baseAddress else { return }
        let elementSize = buffer.count / count
        var start = 0
        while start < count {
            let n = Swift.min(count - start, ProcessGroup.maxElementsPerCall)
            try mpi.check(mpi.allreduce(OpenMPI.inPlace, base + start * elementSize, Int32(n), type, handle(operation), comm),
                          "MPI_Allreduce")
            start += n
        }
    }

    /// Overwrites `buffer` with `root`'s bytes.
    func broadcastInPlace(_ buffer: UnsafeMutableRawBufferPointer, from root: Int) throws {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return }
        try perform {
            var start = 0
            while start < buffer.count {
                let n = Swift.min(buffer.count - start, ProcessGroup.maxElementsPerCall)
                try mpi.check(mpi.bcast(base + start, Int32(n), mpi.byte, Int32(root), comm), "MPI_Bcast")
                start += n
            }
        }
    }

    /// Every process's bytes (the same count on each), in rank order.
    func allGatherBytes(_ bytes: [UInt8]) throws -> [[UInt8]] {
        require(bytes.count <= ProcessGroup.maxElementsPerCall, "allGather: \(bytes.count) bytes per process is more than one call takes")
        var gathered = [UInt8](repeating: 0, count: bytes.count * size)
        try perform {
            try bytes.withUnsafeBytes { send in
                try gathered.withUnsafeMutableBytes { receive in
                    try mpi.check(mpi.allgather(send.baseAddress ?? OpenMPI.inPlace, Int32(bytes.count), mpi.byte,
                                                receive.baseAddress!, Int32(bytes.count), mpi.byte, comm), "MPI_Allgather")
                }
            }
        }
        return (0..<size).map { Array(gathered[$0 * bytes.count..<($0 + 1) * bytes.count]) }
    }

    /// Throws on every rank, naming each rank's value, unless all ranks
    /// pass the same `description`: what a collective is given must agree,
    /// or MPI would mix up or truncate the buffers.
    func agree(_ operation: String, _ description: String) throws {
        requireNoOpenStep(operation)
        // A fixed-size record per rank: a 64-bit FNV-1a hash of the text
        // and its first 240 bytes (for the message).
        var record = [UInt8](repeating: 0, count: 256)
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in description.utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
        }
        withUnsafeBytes(of: hash.littleEndian) { record.replaceSubrange(0..<8, with: $0) }
        let text = Array(description.utf8.prefix(240))
        record.replaceSubrange(8..<8 + text.count, with: text)
        let all = try allGatherBytes(record)
        guard all.contains(where: { $0[0..<8] != all[0][0..<8] }) else { return }
        throw DistributedError.mismatch(operation: operation, perRank: all.map {
            String(decoding: $0[8...].prefix { $0 != 0 }, as: UTF8.self)
        })
    }
}

/// A tensor's values as host bytes, and back.
struct HostBytes {
    var bytes: [UInt8]

    init(bytes: [UInt8]) { self.bytes = bytes }

    init(_ tensor: Tensor) throws {
        switch tensor.dtype {
        case .float32: bytes = try tensor.toArray(as: Float.self).withUnsafeBytes { Array($0) }
        case .float64: bytes = try tensor.toArray(as: Double.self).withUnsafeBytes { Array($0) }
        case .int32: bytes = try tensor.toArray(as: Int32.self).withUnsafeBytes { Array($0) }
        case .int64: bytes = try tensor.toArray(as: Int64.self).withUnsafeBytes { Array($0) }
        }
    }

    mutating func withBuffer<R>(_ body: (UnsafeMutableRawBufferPointer) throws -> R) rethrows -> R {
        try bytes.withUnsafeMutableBytes(body)
    }

    func tensor(shape: [Int], dtype: DType, on device: Device) throws -> Tensor {
        func values<T>(_: T.Type) -> [T] {
            bytes.withUnsafeBytes { Array($0.bindMemory(to: T.self)) }
        }
        switch dtype {
        case .float32: return Tensor(values(Float.self), shape: shape, on: device)
        case .float64: return Tensor(float64: values(Double.self), shape: shape, on: device)
        case .int32: return Tensor(int32: values(Int32.self), shape: shape, on: device)
        case .int64: return Tensor(int64: values(Int64.self), shape: shape, on: device)
        }
    }
}
