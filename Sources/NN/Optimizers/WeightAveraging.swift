import Foundation

/// A running average of a model's parameters (torch.optim.swa_utils's
/// `AveragedModel`): stochastic weight averaging with an equal average of
/// every update, or an exponential moving average.
///
///     let swa = AveragedModel(model, copy: makeModel())
///     for epoch in ... {
///         try trainer.fit(...)             // or any loop
///         try swa.update(from: model)      // e.g. once per epoch late in training
///     }
///     try updateBatchNorm(swa, on: trainLoader)   // BatchNorm statistics for the averaged weights
///     evaluate(swa, ...)
///
/// Swift has no deep copy of a module graph, so the caller passes `copy`, a
/// fresh model of the same architecture; it takes `model`'s state at once.
/// The average lives on `copy`'s parameters, on their device. Buffers (the
/// BatchNorm statistics) are copied, not averaged, as PyTorch does without
/// `use_buffers`; `updateBatchNorm` recomputes them for the averaged weights.
/// State dict: `module.<name>` and `n_averaged`, as PyTorch's.
public final class AveragedModel: Module, @unchecked Sendable {
    public enum Strategy: Sendable {
        /// avg += (w - avg) / (n + 1): every update counts the same (SWA).
        case equal
        /// avg = decay · avg + (1 - decay) · w.
        case exponential(decay: Double)
    }

    /// The averaged copy.
    public let module: Module
    public let strategy: Strategy
    /// How many updates the average holds (PyTorch's `n_averaged`), read
    /// from its buffer, so a loaded state dict carries on counting.
    public var averagedCount: Int {
        guard let value = try? countBuffer.value.to(dtype: .int32).toArray(as: Int32.self).first else { return 0 }
        return Int(value)
    }
    private let countBuffer: Parameter

    public init(_ model: Module, copy: Module, strategy: Strategy = .equal) {
        if case .exponential(let decay) = strategy {
            require(decay >= 0 && decay <= 1, "AveragedModel: decay must be in [0, 1], got \(decay)")
        }
        module = copy
        self.strategy = strategy
        countBuffer = Parameter(Tensor.zeros([], dtype: .int32, on: .cpu), trainable: false)
        super.init()
        register(module: "module", copy)
        register(buffer: "n_averaged", countBuffer)
        do {
            try copy.loadStateDict(Dictionary(uniqueKeysWithValues: model.stateDict().map { ($0.name, $0.tensor) }))
        } catch {
            requirementFailed("AveragedModel: the copy does not have the model's architecture: \(error)")
        }
    }

    public override func forward(_ input: Tensor) -> Tensor { module(input) }

    /// Folds `model`'s current parameters into the average (the first
    /// update copies them) and copies its buffers.
    public func update(from model: Module) throws {
        let source = Dictionary(uniqueKeysWithValues: model.namedState().map { ($0.name, $0.parameter) })
        let count = averagedCount, n = Double(count)
        try withNoGrad {
            for (name, averaged) in module.namedState() {
                guard let current = source[name], current.shape == averaged.shape else {
                    requirementFailed("AveragedModel.update: the model has no '\(name)' \(averaged.shape)")
                }
                let w = try current.value.detached().to(averaged.device).to(dtype: averaged.value.dtype)
                guard averaged.trainable && count > 0 else {
                    averaged.value = w.copied()
                    continue
                }
                switch strategy {
                case .equal: averaged.value = averaged.value + (w - averaged.value) * (1 / (n + 1))
                case .exponential(let decay): averaged.value = averaged.value * decay + w * (1 - decay)
                }
            }
        }
        countBuffer.value = Tensor(int32: [Int32(truncatingIfNeeded: count + 1)], shape: [], on: countBuffer.device)
    }
}

/// Recomputes every BatchNorm's running statistics of `model` over one pass
/// of `loader` (torch.optim.swa_utils.update_bn): the statistics are reset
/// and accumulated as a cumulative average (momentum nil), then each
/// momentum is put back. Averaged weights need this: the statistics the
/// members gathered belong to their own weights, not to the average.
public func updateBatchNorm(_ model: Module, on loader: DataLoader) throws {
    func batchNorms(_ module: Module) -> [BatchNormBase] {
        ((module as? BatchNormBase).map { [$0] } ?? []) + module.children.flatMap { batchNorms($0.module) }
    }
    let norms = batchNorms(model)
    guard !norms.isEmpty else { return }
    let momenta = norms.map(\.momentum)
    norms.forEach { $0.resetRunningStats(); $0.momentum = nil }
    let wasTraining = model.isTraining
    model.train()
    defer {
        for (norm, momentum) in zip(norms, momenta) { norm.momentum = momentum }
        model.train(wasTraining)
    }
    try withNoGrad {
        for batch in loader.batches(epoch: 0) { _ = model(batch.inputs) }
        _ = try norms[0].runningMean?.value.sum().scalar()  // waits for the device, and surfaces its errors here
    }
}
