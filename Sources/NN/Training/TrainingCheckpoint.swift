import Foundation

/// Where a training run stands, beside its weights and optimizer state in a
/// training checkpoint: enough to carry on as if it had never stopped.
public struct TrainingProgress: Codable, Equatable, Sendable {
    /// Epochs completed (for a loop without epochs, 0).
    public var epoch: Int
    /// Optimizer steps taken in all.
    public var step: Int
    /// `Random.state` when it was saved, as decimal strings (JSON numbers
    /// are not exact past 2^53).
    public var randomSeed: String
    public var randomStream: String
    /// The training loader's order, checked on resume: a different seed,
    /// batch size or data set would not continue the same run.
    public var data: DataOrder?
    /// The schedule's type and `stateDict()`.
    public var scheduleType: String?
    public var schedule: [String: Double]?
    var earlyStopping: EarlyStopping.Progress?
    /// Early stopping ended the run: a resume only restores the best epoch.
    public var stopped: Bool
    /// The metrics of the epochs so far.
    public var metrics: [MetricsLog.Epoch]
    /// Numbers a hand-written loop keeps (running sums, timers).
    public var counters: [String: Double]

    public init(epoch: Int, step: Int, data: DataOrder? = nil, metrics: [MetricsLog.Epoch] = [], counters: [String: Double] = [:]) {
        self.epoch = epoch
        self.step = step
        let random = Random.state
        randomSeed = String(random.seed)
        randomStream = String(random.stream)
        self.data = data
        stopped = false
        self.metrics = metrics
        self.counters = counters
    }

    /// What decides a loader's batches.
    public struct DataOrder: Codable, Equatable, CustomStringConvertible, Sendable {
        public var samples: Int
        public var batchSize: Int
        public var shuffle: Bool
        public var dropLast: Bool
        /// The loader's seed, as a decimal string.
        public var seed: String
        /// The number of processes of a data-parallel run, each visiting
        /// its shard of every epoch (absent: one). The rank is not kept:
        /// every rank resumes from rank 0's checkpoint.
        public var processes: Int?

        public init(_ loader: DataLoader) {
            samples = loader.dataset.count
            batchSize = loader.batchSize
            shuffle = loader.shuffle
            dropLast = loader.dropLast
            seed = String(loader.seed)
            processes = loader.shard.map(\.count).flatMap { $0 > 1 ? $0 : nil }
        }

        /// "8000 samples, batch 32, shuffled, seed 11, 2 processes".
        public var description: String {
            "\(samples) samples, batch \(batchSize), \(shuffle ? "shuffled" : "in order")\(dropLast ? ", last batch dropped" : ""), "
                + "seed \(seed)\(processes.map { ", \($0) processes" } ?? ", 1 process")"
        }
    }

    /// Sets `Random.state` to the saved one.
    func restoreRandom(file: String) throws {
        guard let seed = UInt64(randomSeed), let stream = UInt64(randomStream) else {
            throw CheckpointError(file: file, message: "random state '\(randomSeed)', '\(randomStream)' is not two integers")
        }
        Random.state = (seed, stream)
    }
}

/// A training checkpoint: one safetensors file with the model's state dict
/// under `model.`, the optimizer's (PyTorch's layout, `OptimizerState`)
/// under `optimizer.`, other tensors a loop keeps (early stopping's best
/// weights under `early_stopping.`), and in the metadata the optimizer's
/// param groups, the `TrainingProgress` as JSON and the caller's own
/// entries. Written atomically like every checkpoint.
/// `Module.load(checkpoint:)` reads the weights from it as from a plain
/// state-dict file.
///
/// In PyTorch terms it is the usual
/// `torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "epoch": ...})`,
/// flattened.
public struct TrainingCheckpoint: Sendable {
    /// The `format` metadata entry that marks a training checkpoint.
    public static let format = "swift-nn training checkpoint v1"
    static let reservedKeys: Set<String> = ["format", "optimizer", "optimizer.param_groups", "training"]

    public var model: [(name: String, tensor: Tensor)]
    public var optimizer: OptimizerState
    public var progress: TrainingProgress
    public var tensors: [(name: String, tensor: Tensor)]
    /// The caller's metadata (not the reserved keys `format`, `optimizer`,
    /// `optimizer.param_groups`, `training`).
    public var metadata: [String: String]

    /// The state of `model` and `optimizer` now.
    public init(model: Module, optimizer: any Optimizer, progress: TrainingProgress,
                tensors: [(name: String, tensor: Tensor)] = [], metadata: [String: String] = [:]) {
        self.model = model.stateDict().entries
        self.optimizer = optimizer.stateDict()
        self.progress = progress
        self.tensors = tensors
        self.metadata = metadata
    }

    private init(model: [(name: String, tensor: Tensor)], optimizer: OptimizerState, progress: TrainingProgress,
                 tensors: [(name: String, tensor: Tensor)], metadata: [String: String]) {
        (self.model, self.optimizer, self.progress, self.tensors, self.metadata) = (model, optimizer, progress, tensors, metadata)
    }

    /// Writes the file atomically: a reader (or a resume after a kill)
    /// sees the previous checkpoint or this one, never a mix.
    public func write(to url: URL) throws {
        if let clash = metadata.keys.first(where: TrainingCheckpoint.reservedKeys.contains) {
            throw CheckpointError(file: url.path, message: "metadata key '\(clash)' is reserved for the training checkpoint itself")
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        let progressJSON = String(decoding: try encoder.encode(progress), as: UTF8.self)
        var all = model.map { ("model." + $0.name, $0.tensor) }
        all += optimizer.tensors.map { ("optimizer." + $0.name, $0.tensor) }
        all += tensors
        try Checkpoint.save(all, to: url, metadata: metadata.merging(
            ["format": TrainingCheckpoint.format, "optimizer": optimizer.optimizer,
             "optimizer.param_groups": optimizer.paramGroups, "training": progressJSON]) { $1 })
    }

    /// Reads a training checkpoint (tensors on the CPU).
    public static func read(from url: URL) throws -> TrainingCheckpoint {
        let contents = try Checkpoint.read(from: url, on: .cpu)
        return try TrainingCheckpoint(contents, file: url.path)
    }

    init(_ contents: SafeTensorsContents, file: String) throws {
        let meta = contents.metadata
        guard meta["format"] == TrainingCheckpoint.format else {
            throw CheckpointError(file: file, message: "is not a training checkpoint (a weights-only file has no optimizer state "
                                  + "or progress to resume from; its metadata 'format' is \(meta["format"].map { "'\($0)'" } ?? "absent"))")
        }
        guard let optimizerName = meta["optimizer"], let groups = meta["optimizer.param_groups"], let training = meta["training"] else {
            throw CheckpointError(file: file, message: "training checkpoint without its optimizer or training metadata")
        }
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        let progress: TrainingProgress
        do {
            progress = try decoder.decode(TrainingProgress.self, from: Data(training.utf8))
        } catch {
            throw CheckpointError(file: file, message: "its training progress cannot be read: \(error)")
        }
        func part(_ prefix: String) -> [(name: String, tensor: Tensor)] {
            contents.tensors.filter { $0.name.hasPrefix(prefix) }.map { (String($0.name.dropFirst(prefix.count)), $0.tensor) }
        }
        self.init(model: part("model."), optimizer: OptimizerState(optimizer: optimizerName, tensors: part("optimizer."), paramGroups: groups),
                  progress: progress,
                  tensors: contents.tensors.filter { !$0.name.hasPrefix("model.") && !$0.name.hasPrefix("optimizer.") },
                  metadata: meta.filter { !TrainingCheckpoint.reservedKeys.contains($0.key) })
    }

    /// Loads the weights into `model`, the state into `optimizer` and
    /// `Random.state`, then runs `more` (a loop's own state: a schedule,
    /// early stopping). All or nothing: when any part does not fit, every
    /// part already loaded is put back as it was and a `CheckpointError`
    /// lists the problems.
    public func restore(into model: Module, optimizer: any Optimizer, file: String, then more: () throws -> Void = {}) throws {
        // The current values stay intact: loading swaps in new tensors.
        let previousModel = model.stateDict(), previousOptimizer = optimizer.stateDict(), previousRandom = Random.state
        do {
            try model.loadStateDict(self.model, file: file)
            do {
                try optimizer.loadStateDict(self.optimizer)
            } catch let error as OptimizerStateError {
                throw CheckpointError(file: file, message: "its optimizer state does not fit this \(error.optimizer)", problems: error.problems)
            }
            try progress.restoreRandom(file: file)
            try more()
        } catch {
            try? model.loadStateDict(previousModel.entries, file: file)
            try? optimizer.loadStateDict(previousOptimizer)
            Random.state = previousRandom
            throw error
        }
    }
}
