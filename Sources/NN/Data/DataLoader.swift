/// Batches of a dataset for training or evaluation, uploaded to a device.
///
///     let loader = DataLoader(train, batchSize: 64, shuffle: true, seed: 42, device: device)
///     for epoch in 0..<5 {
///         for batch in loader.batches(epoch: epoch) { ... batch.inputs, batch.labels ... }
///     }
///
/// With `shuffle`, each epoch visits the samples in a permutation that
/// depends only on (seed, epoch): a counter-based Philox draw, so the order
/// is the same on every run and every machine, and epoch 3 can be replayed
/// without running epochs 0-2. Without it, samples come in dataset order.
/// The last batch is smaller when the batch size does not divide the
/// dataset, or dropped with `dropLast`.
///
/// Iterating the loader itself (`for batch in loader`) runs the next epoch
/// (0, then 1, ...), as iterating a PyTorch DataLoader reshuffles.
///
/// With a `shard`, the loader visits only one process's part of every
/// epoch's order (data-parallel training; see `DataShard`).
public final class DataLoader: Sequence {
    public let dataset: Dataset
    public let batchSize: Int
    public let shuffle: Bool
    public let seed: UInt64
    public let dropLast: Bool
    public let device: Device
    /// The part of every epoch this process visits; nil: all of it.
    public let shard: DataShard?
    /// The epoch the next plain iteration (`for batch in loader`) runs.
    public private(set) var nextEpoch = 0

    public init(_ dataset: Dataset, batchSize: Int, shuffle: Bool = false, seed: UInt64 = 0, dropLast: Bool = false,
                shard: DataShard? = nil, device: Device = .default) {
        require(batchSize >= 1, "DataLoader: batchSize must be at least 1, got \(batchSize)")
        self.shard = shard
        self.dataset = dataset
        self.batchSize = batchSize
        self.shuffle = shuffle
        self.seed = seed
        self.dropLast = dropLast
        self.device = device
    }

    /// Batches per epoch.
    public var batchCount: Int {
        let samples = shardedCount
        return dropLast ? samples / batchSize : (samples + batchSize - 1) / batchSize
    }

    /// Samples per epoch (fewer than the dataset with `dropLast`; this
    /// process's part with a shard).
    public var sampleCount: Int { dropLast ? batchCount * batchSize : shardedCount }

    /// Samples in this loader's part of an epoch, before `dropLast`.
    private var shardedCount: Int { shard?.sampleCount(of: dataset.count) ?? dataset.count }

    /// The order in which `epoch` visits the samples (this process's part of
    /// it with a shard).
    public func order(epoch: Int) -> [Int] {
        require(epoch >= 0, "DataLoader: epoch must not be negative, got \(epoch)")
        let all = shuffle ? DataLoader.permutation(count: dataset.count, seed: seed, stream: UInt64(epoch)) : Array(0..<dataset.count)
        return shard?.part(of: all) ?? all
    }

    /// The sample indices of each batch of `epoch`.
    public func batchIndices(epoch: Int) -> [[Int]] {
        let order = order(epoch: epoch)
        return (0..<batchCount).map { b in Array(order[b * batchSize..<Swift.min((b + 1) * batchSize, order.count)]) }
    }

    /// The batches of `epoch`, made (gathered and uploaded) one at a time as
    /// the iteration reaches them.
    public func batches(epoch: Int) -> Epoch { Epoch(dataset: dataset, indices: batchIndices(epoch: epoch), device: device) }

    public func makeIterator() -> Epoch.Iterator {
        defer { nextEpoch += 1 }
        return batches(epoch: nextEpoch).makeIterator()
    }

    /// The batches of one epoch.
    public struct Epoch: Sequence {
        let dataset: Dataset
        public let indices: [[Int]]
        let device: Device

        public var count: Int { indices.count }

        public func makeIterator() -> Iterator { Iterator(epoch: self) }

        public struct Iterator: IteratorProtocol {
            let epoch: Epoch
            var position = 0

            public mutating func next() -> Batch? {
                guard position < epoch.indices.count else { return nil }
                defer { position += 1 }
                return epoch.dataset.batch(epoch.indices[position], on: epoch.device)
            }
        }
    }

    // MARK: Permutations

    /// The Philox stream `Dataset.split(validationFraction:seed:)` draws from
    /// (epochs use streams 0, 1, ...).
    static let splitStream = UInt64.max

    /// A Fisher-Yates permutation of 0..<count driven by Philox4x32-10 under
    /// key `seed`, counter (step, stream): a function of its arguments only.
    static func permutation(count: Int, seed: UInt64, stream: UInt64) -> [Int] {
        var order = Array(0..<count)
        guard count > 1 else { return order }
        var step: UInt64 = 0
        for i in stride(from: count - 1, to: 0, by: -1) {
            // 64 random bits; j uniform in 0...i by a multiply-high (bias < 2^-40 for any real size).
            let block = Philox.block(step >> 1, seed: seed, stream: stream)
            let (high, low) = step & 1 == 0 ? (block.0, block.1) : (block.2, block.3)
            step += 1
            let random = UInt64(high) << 32 | UInt64(low)
            let j = Int(random.multipliedFullWidth(by: UInt64(i + 1)).high)
            order.swapAt(i, j)
        }
        return order
    }
}

/// One process's part of every epoch in data-parallel training, as PyTorch's
/// `DistributedSampler` deals it: with `count` processes, the one of rank r
/// takes positions r, r + count, r + 2·count, ... of the epoch's order. Every
/// process draws the same permutation (same seed and epoch), so the parts
/// are disjoint and together they are the whole epoch: batch k of N
/// processes with batch size b holds the samples of batch k of one process
/// with batch size N·b.
///
/// `padded` (training) repeats the first samples of the order until it
/// divides evenly, as PyTorch does, so that every process runs the same
/// number of steps; the gradient averaging of each step needs all of them.
/// Unpadded shards (evaluation, whose sums are added across processes
/// afterwards) count every sample once and may differ by one in size.
public struct DataShard: Equatable, CustomStringConvertible, Sendable {
    public let rank: Int
    public let count: Int
    public let padded: Bool

    public init(rank: Int, count: Int, padded: Bool = true) {
        require(count >= 1 && (0..<count).contains(rank), "DataShard: rank \(rank) is not in 0..<\(count)")
        self.rank = rank
        self.count = count
        self.padded = padded
    }

    /// This shard's number of samples of an epoch of `total`.
    public func sampleCount(of total: Int) -> Int {
        padded ? (total + count - 1) / count : max(0, (total - rank + count - 1) / count)
    }

    /// This shard's part of an epoch's order.
    public func part(of order: [Int]) -> [Int] {
        guard !order.isEmpty else { return [] }
        let total = padded ? sampleCount(of: order.count) * count : order.count
        return stride(from: rank, to: total, by: count).map { order[$0 % order.count] }
    }

    public var description: String { "shard \(rank) of \(count)\(padded ? "" : " (unpadded)")" }
}
