/// Stops training when a monitored metric has not improved for `patience`
/// epochs, keeping a copy of the best weights to restore (the course notes'
/// early stopping: the model you keep is the one from the best epoch).
public final class EarlyStopping {
    public enum Mode: Sendable { case min, max }

    public let patience: Int
    public let minDelta: Double
    public let mode: Mode
    public private(set) var best: Double?
    public private(set) var bestEpoch: Int?
    public private(set) var epochsWithoutImprovement = 0
    private var bestState: [String: Tensor] = [:]

    public init(patience: Int, minDelta: Double = 0, mode: Mode = .min) {
        require(patience >= 0, "EarlyStopping: patience \(patience) must be >= 0")
        self.patience = patience
        self.minDelta = minDelta
        self.mode = mode
    }

    /// Records the metric of `epoch`; returns true when training should stop.
    /// An improvement snapshots `model`'s parameters and buffers (a device
    /// copy: nothing goes through the host).
    public func update(_ value: Double, epoch: Int, model: Module) -> Bool {
        let improved: Bool
        if let best {
            improved = mode == .min ? value < best - minDelta : value > best + minDelta
        } else {
            improved = value.isFinite
        }
        if improved {
            best = value
            bestEpoch = epoch
            epochsWithoutImprovement = 0
            bestState = Dictionary(uniqueKeysWithValues: model.stateDict().map { ($0.name, $0.tensor.copied()) })
        } else {
            epochsWithoutImprovement += 1
        }
        return epochsWithoutImprovement > patience
    }

    /// The counters a training checkpoint saves (the best weights go beside
    /// them as tensors).
    struct Progress: Codable, Equatable {
        var best: Double?
        var bestEpoch: Int?
        var epochsWithoutImprovement: Int
    }

    var progress: Progress { Progress(best: best, bestEpoch: bestEpoch, epochsWithoutImprovement: epochsWithoutImprovement) }

    /// The best epoch's weights by state-dict name (empty before any
    /// improvement).
    var bestWeights: [String: Tensor] { bestState }

    /// Carries on from a checkpoint's counters and best weights.
    func restore(_ progress: Progress, bestWeights: [String: Tensor]) {
        (best, bestEpoch, epochsWithoutImprovement) = (progress.best, progress.bestEpoch, progress.epochsWithoutImprovement)
        bestState = bestWeights
    }

    /// Puts the best epoch's weights back into `model` (no-op before any
    /// improvement).
    public func restoreBest(into model: Module) throws {
        guard !bestState.isEmpty else { return }
        try model.loadStateDict(bestState)
    }
}
