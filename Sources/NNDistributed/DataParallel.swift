import Foundation
import NN
import Synchronization

/// Data-parallel training of one model over the processes of a
/// `ProcessGroup`, as PyTorch's DistributedDataParallel and Horovod do it:
/// every process holds the whole model and trains on its own shard of each
/// batch; after every backward pass the gradients are averaged over the
/// processes, so all of them take the same optimizer step and the weights
/// stay identical. N processes with batch b end where one process with
/// batch N·b ends (up to float rounding), given the same data order
/// (`DataShard`).
///
///     let group = try ProcessGroup.world()
///     let parallel = try DataParallel(model, group: group)     // rank 0's weights everywhere
///     let loader = DataLoader(train, batchSize: 32, shuffle: true, seed: 1,
///                             shard: DataShard(rank: group.rank, count: group.size))
///     for batch in loader {
///         optimizer.zeroGrad()
///         criterion(model(batch.inputs), batch.labels).backward()   // buckets start averaging meanwhile
///         try parallel.synchronizeGradients()                        // the mean gradient, on every rank
///         optimizer.step()
///     }
///
/// or `Trainer.dataParallel = parallel`, which does the same in `fit`.
///
/// - Buckets: the gradients are averaged in fused buckets of about
///   `bucketCapacityMB` (25 MiB by default, as PyTorch), filled in reverse
///   order of `parameters()`, the order in which a backward pass finishes
///   them. A bucket starts its allreduce, on a background thread, as soon
///   as its last gradient is ready (a post-accumulate-grad hook), so the
///   communication overlaps the rest of the backward pass; buckets start in
///   the same order on every rank. `synchronizeGradients()` sends what is
///   left (parameters that got no gradient count as zero, and stay without
///   one if no rank had one), waits, and writes the means back.
/// - Devices: gradients go through host memory, one bucket at a time, so
///   ranks may use different backends (one on OpenCL, one on the CPU).
/// - BatchNorm: as in PyTorch DDP, the batch statistics of a training step
///   are each rank's own (over its b samples, not N·b), and with
///   `broadcastBuffers` (the default, as PyTorch) rank 0's running
///   statistics are copied to every rank after each step, so evaluation is
///   the same everywhere. A model with BatchNorm therefore does not match a
///   one-process run exactly; one without it does.
/// - One backward pass per step, as in PyTorch: a second `backward()`
///   before `synchronizeGradients()` stops with a message. To accumulate
///   gradients over several backward passes, run all but the last inside
///   `noSync { }`; a backward pass that must not communicate at all (a
///   gradient only one rank wants) goes there too. Between a backward pass
///   and `synchronizeGradients()` no other collective of the group may run
///   (checked): ranks whose buckets started at different moments would pair
///   it with different calls.
/// - Faults: a rank that throws leaves the others waiting in their next
///   allreduce; run each rank's work in `ProcessGroup.run`, which ends the
///   whole job instead.
///
/// A DataParallel may be handed between tasks (the hooks run on whatever
/// thread runs the backward pass): its step state lives in a mutex, and a
/// bucket's memory passes to the MPI queue and back in the queue's order.
public final class DataParallel: DataParallelism, Sendable {
    public let module: Module
    public let group: ProcessGroup
    /// The target size of a bucket, in bytes.
    public let bucketCapacity: Int
    /// Copy rank 0's buffers (running statistics) to every rank after each step.
    public var broadcastBuffers: Bool {
        get { step.withLock { $0.broadcastBuffers } }
        set { step.withLock { $0.broadcastBuffers = newValue } }
    }

    public var rank: Int { group.rank }
    public var worldSize: Int { group.size }
    /// The number of buckets the gradients are averaged in.
    public var bucketCount: Int { buckets.count }
    /// How many buckets of the last synchronized step started averaging
    /// during the backward pass (the rest started in `synchronizeGradients`).
    public var bucketsStartedDuringBackward: Int { step.withLock { $0.bucketsStartedDuringBackward } }

    private let buckets: [GradientBucket]
    private let buffers: [Parameter]
    private let hooks = Mutex<[GradHookHandle]>([])

    /// Which gradients of one bucket this step has copied in.
    private struct BucketFill {
        var filled: [Bool]
        var count = 0
        var started = false

        init(slots: Int) { filled = Array(repeating: false, count: slots) }

        var isFull: Bool { count == filled.count && !started }

        mutating func mark(_ i: Int) {
            filled[i] = true
            count += 1
        }

        /// One empty fill per bucket: a step's start.
        static func empty(_ buckets: [GradientBucket]) -> [BucketFill] {
            buckets.map { BucketFill(slots: $0.parameters.count) }
        }
    }

    /// What a step changes, from the hooks and from `synchronizeGradients`.
    private struct Step {
        var broadcastBuffers: Bool
        var bucketsStartedDuringBackward = 0
        var fills: [BucketFill]
        /// The first bucket not started yet in this step.
        var nextBucket = 0
        var startedDuringBackward = 0
        /// A gradient download a hook could not throw.
        var hookError: Error?
        /// Inside `noSync`: hooks leave the gradients alone.
        var suspended = false
        /// A hook has filled a bucket since the last synchronization.
        var open = false
    }
    private let step: Mutex<Step>

    /// Makes every rank's model rank 0's (parameters and buffers) and sets
    /// up the buckets. Every rank must build the same model (names, shapes,
    /// dtypes, checked: a mismatch throws on every rank); the trainable
    /// parameters must be float32.
    public init(_ module: Module, group: ProcessGroup, bucketCapacityMB: Double = 25, broadcastBuffers: Bool = true) throws {
        require(bucketCapacityMB > 0 && bucketCapacityMB.isFinite, "DataParallel: bucketCapacityMB must be positive, got \(bucketCapacityMB)")
        self.module = module
        self.group = group
        bucketCapacity = max(4, Int(bucketCapacityMB * 1024 * 1024))

        // Each parameter object once (a tied weight appears under two names).
        var seen = Set<ObjectIdentifier>()
        let state = module.namedState().filter { seen.insert(ObjectIdentifier($0.parameter)).inserted }
        let layout = state.map { "\($0.name) \($0.parameter.value.dtype) \($0.parameter.shape)\($0.parameter.trainable ? "" : " buffer")" }
        try group.agree("DataParallel (the model on each rank)",
                        "\(state.count) tensors, \(state.map { $0.parameter.value.count }.reduce(0, +)) values: "
                        + layout.joined(separator: ", "))
        for (name, parameter) in state where parameter.trainable {
            require(parameter.value.dtype == .float32,
                    "DataParallel: parameter '\(name)' is \(parameter.value.dtype); gradients are averaged as float32")
        }
        buffers = state.map(\.parameter).filter { !$0.trainable }
        try DataParallel.broadcast(state.map(\.parameter), in: group)

        // Buckets in reverse registration order: a backward pass finishes
        // the last layers' gradients first.
        var grouped: [[Parameter]] = [[]]
        var bytes = 0
        for parameter in state.map(\.parameter).filter(\.trainable).reversed() {
            let size = parameter.value.count * 4
            if !grouped[grouped.count - 1].isEmpty && bytes + size > bucketCapacity {
                grouped.append([])
                bytes = 0
            }
            grouped[grouped.count - 1].append(parameter)
            bytes += size
        }
        let buckets = grouped.filter { !$0.isEmpty }.map(GradientBucket.init)
        self.buckets = buckets
        step = Mutex(Step(broadcastBuffers: broadcastBuffers, fills: BucketFill.empty(buckets)))
        var hooks: [GradHookHandle] = []
        for (b, bucket) in buckets.enumerated() {
            for (i, parameter) in bucket.parameters.enumerated() {
                hooks.append(parameter.registerPostAccumulateGradHook { [weak self] grad in
                    self?.gradientReady(bucket: b, slot: i, grad)
                })
            }
        }
        self.hooks.withLock { [hooks] in $0 = hooks }
    }

    deinit {
        hooks.withLock { $0.forEach { $0.remove() } }
    }

    /// The module's forward pass.
    public func callAsFunction(_ input: Tensor) -> Tensor { module(input) }

    /// Runs `body` (backward passes whose gradients accumulate locally)
    /// without averaging anything (PyTorch's `no_sync()`): the next
    /// backward pass outside it, and its `synchronizeGradients()`, average
    /// the accumulated gradients.
    public func noSync<R>(_ body: () throws -> R) rethrows -> R {
        let outer = step.withLock { step in
            defer { step.suspended = true }
            return step.suspended
        }
        defer { step.withLock { $0.suspended = outer } }
        return try body()
    }

    /// A hook: one parameter's gradient of this backward pass is complete.
    private func gradientReady(bucket b: Int, slot i: Int, _ grad: Tensor) {
        step.withLock { step in
            guard !step.suspended else { return }
            let bucket = buckets[b]
            if step.fills[b].filled[i] {
                requirementFailed("DataParallel: a second backward() reached a parameter \(bucket.parameters[i].shape) before "
                                  + "synchronizeGradients(); accumulate gradients inside noSync { } and synchronize after the last "
                                  + "backward()")
            }
            if !step.open {
                step.open = true
                group.openGradientSteps.withLock { $0 += 1 }
            }
            do {
                try bucket.copy(i, from: grad)
                step.fills[b].mark(i)
            } catch {
                step.hookError = step.hookError ?? error
                return
            }
            startFilledBuckets(&step)
            step.startedDuringBackward = step.nextBucket
        }
    }

    /// Starts the next buckets, in order, while they are full.
    private func startFilledBuckets(_ step: inout Step) {
        while step.nextBucket < buckets.count && step.fills[step.nextBucket].isFull {
            step.fills[step.nextBucket].started = true
            buckets[step.nextBucket].start(in: group)
            step.nextBucket += 1
        }
    }

    /// Averages the gradients over the ranks: sends the buckets the
    /// backward pass has not started, waits for all, and gives every
    /// parameter the mean gradient. Call it after every `backward()`,
    /// before the optimizer step, on every rank.
    public func synchronizeGradients() throws {
        try step.withLock { step in
            require(!step.suspended, "DataParallel.synchronizeGradients: called inside noSync { }")
            defer {
                // Nothing of this step may still be running when its buckets
                // are reused, even when an error ends the step early.
                group.perform {}
                for bucket in buckets { bucket.clearError() }
                step.fills = BucketFill.empty(buckets)
                step.nextBucket = 0
                step.startedDuringBackward = 0
                step.hookError = nil
                if step.open {
                    step.open = false
                    group.openGradientSteps.withLock { $0 -= 1 }
                }
            }
            step.bucketsStartedDuringBackward = step.startedDuringBackward
            if let hookError = step.hookError { throw hookError }
            for b in step.nextBucket..<buckets.count {
                let bucket = buckets[b]
                for (i, parameter) in bucket.parameters.enumerated() where !step.fills[b].filled[i] {
                    try bucket.copy(i, from: parameter.grad)
                    step.fills[b].mark(i)
                }
            }
            startFilledBuckets(&step)
            group.perform {}  // every started allreduce has finished
            for bucket in buckets {
                if let error = bucket.error { throw error }
                bucket.writeMeans(worldSize: worldSize)
            }
            if step.broadcastBuffers && !buffers.isEmpty { try DataParallel.broadcast(buffers, in: group) }
        }
    }

    public func sumAcrossProcesses(_ values: [Double]) throws -> [Double] { try group.allReduce(values) }

    public func agree(_ operation: String, _ value: String) throws { try group.agree(operation, value) }

    /// Gives every rank rank 0's values of `parameters`, in one message.
    private static func broadcast(_ parameters: [Parameter], in group: ProcessGroup) throws {
        guard group.size > 1 else { return }
        let parts = try parameters.map { try HostBytes($0.value).bytes }
        var all = parts.flatMap { $0 }
        try all.withUnsafeMutableBytes { try group.broadcastInPlace($0, from: 0) }
        guard group.rank != 0 else { return }
        var offset = 0
        for (parameter, part) in zip(parameters, parts) {
            let bytes = HostBytes(bytes: Array(all[offset..<offset + part.count]))
            offset += part.count
            try parameter.assign(bytes.tensor(shape: parameter.shape, dtype: parameter.value.dtype, on: parameter.device))
        }
    }
}

/// The gradients of a few parameters in one host buffer, averaged by one
/// allreduce: each parameter's values at its offset, then one flag per
/// parameter (1 where this rank had a gradient), summed with the values.
/// Which slots are filled is the owning DataParallel's step state.
///
/// `@unchecked Sendable`: `storage` is written by `copy` before `start`,
/// by MPI on the ProcessGroup's serial queue after it, and read by
/// `writeMeans` once the caller has waited for that queue (`perform {}`):
/// the queue orders every access, which the compiler cannot see through a
/// raw buffer. Everything else is constant or in a mutex.
final class GradientBucket: @unchecked Sendable {
    let parameters: [Parameter]
    let offsets: [Int]
    let flagsOffset: Int
    let storage: UnsafeMutableBufferPointer<Float>
    /// Set on the MPI queue; read after waiting for it.
    private let failure = Mutex<Error?>(nil)

    init(_ parameters: [Parameter]) {
        self.parameters = parameters
        var offsets: [Int] = [], total = 0
        for parameter in parameters {
            offsets.append(total)
            total += parameter.value.count
        }
        self.offsets = offsets
        flagsOffset = total
        storage = .allocate(capacity: total + parameters.count)
        storage.initialize(repeating: 0)
    }

    deinit { storage.deallocate() }

    var error: Error? { failure.withLock { $0 } }

    func clearError() { failure.withLock { $0 = nil } }

    /// Copies parameter `i`'s gradient (zeros and flag 0 for none) in.
    func copy(_ i: Int, from grad: Tensor?) throws {
        let start = offsets[i], count = parameters[i].value.count
        if let grad {
            let values = try grad.toArray(as: Float.self)
            _ = UnsafeMutableBufferPointer(rebasing: storage[start..<start + count]).initialize(from: values)
            storage[flagsOffset + i] = 1
        } else {
            UnsafeMutableBufferPointer(rebasing: storage[start..<start + count]).update(repeating: 0)
            storage[flagsOffset + i] = 0
        }
    }

    /// Starts the allreduce in the background.
    func start(in group: ProcessGroup) {
        group.startAllReduce(UnsafeMutableRawBufferPointer(storage), count: storage.count) { [self] error in
            failure.withLock { $0 = error }
        }
    }

    /// Divides the sums by the number of ranks and sets the gradients.
    func writeMeans(worldSize: Int) {
        let scale = 1 / Float(worldSize)
        for (i, parameter) in parameters.enumerated() where storage[flagsOffset + i] > 0 {
            let start = offsets[i], count = parameter.value.count
            let mean = storage[start..<start + count].map { $0 * scale }
            parameter.value.grad = Tensor(mean, shape: parameter.shape, on: parameter.device)
        }
    }
}
