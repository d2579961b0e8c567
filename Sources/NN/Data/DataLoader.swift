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
public final class DataLoader: Sequence {
    public let dataset: Dataset
    public let batchSize: Int
    public let shuffle: Bool
    public let seed: UInt64
    public let dropLast: Bool
    public let device: Device
    /// The epoch the next plain iteration (`for batch in loader`) runs.
    public private(set) var nextEpoch = 0

    public init(_ dataset: Dataset, batchSize: Int, shuffle: Bool = false, seed: UInt64 = 0, dropLast: Bool = false,
                device: Device = .default) {
        require(batchSize >= 1, "DataLoader: batchSize must be at least 1, got \(batchSize)")
        self.dataset = dataset
        self.batchSize = batchSize
        self.shuffle = shuffle
        self.seed = seed
        self.dropLast = dropLast
        self.device = device
    }

    /// Batches per epoch.
    public var batchCount: Int {
        dropLast ? dataset.count / batchSize : (dataset.count + batchSize - 1) / batchSize
    }

    /// Samples per epoch (fewer than the dataset with `dropLast`).
    public var sampleCount: Int { dropLast ? batchCount * batchSize : dataset.count }

    /// The order in which `epoch` visits the samples.
    public func order(epoch: Int) -> [Int] {
        require(epoch >= 0, "DataLoader: epoch must not be negative, got \(epoch)")
        return shuffle ? DataLoader.permutation(count: dataset.count, seed: seed, stream: UInt64(epoch)) : Array(0..<dataset.count)
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
