import Foundation

/// Loss and accuracy of a model over a data set.
public struct Evaluation: Equatable {
    public var loss: Double
    /// Fraction of samples whose argmax prediction equals the label (nil for
    /// regression targets).
    public var accuracy: Double?
    public var count: Int
}

/// Thrown when the loss stops being a finite number.
public struct NonFiniteLossError: Error, CustomStringConvertible {
    public let epoch: Int
    public let step: Int
    public let value: Float
    public var description: String { "the loss became \(value) at epoch \(epoch), step \(step); lower the learning rate or check the data" }
}

/// Correct predictions in a batch, counted on the device: argmax of the
/// logits against the int32 labels, without downloading either.
func correctCount(logits: Tensor, labels: Tensor) -> Tensor {
    let predicted = logits.argmax(axis: 1).to(dtype: logits.dtype)
    let wrong = (predicted - labels.to(dtype: logits.dtype)).abs().clamp(max: 1)
    return (1 - wrong).sum()
}

/// Evaluates `model` in eval mode without recording gradients. Classification
/// (int32 labels and 2-D logits) also reports accuracy.
public func evaluate(_ model: Module, on loader: DataLoader, loss: some Loss) throws -> Evaluation {
    let wasTraining = model.isTraining
    model.eval()
    defer { model.train(wasTraining) }
    var totalLoss: Tensor?, totalCorrect: Tensor?, count = 0
    try withNoGrad {
        for batch in loader.batches(epoch: 0) {
            let output = model(batch.inputs)
            let l = loss(output, batch.labels) * Double(batch.count)
            totalLoss = totalLoss.map { $0 + l } ?? l
            if batch.labels.dtype == .int32 && output.rank == 2 {
                let c = correctCount(logits: output, labels: batch.labels)
                totalCorrect = totalCorrect.map { $0 + c } ?? c
            }
            count += batch.count
        }
        _ = try totalLoss?.scalar()
    }
    guard let totalLoss, count > 0 else { return Evaluation(loss: .nan, accuracy: nil, count: 0) }
    return Evaluation(loss: try totalLoss.scalarDouble() / Double(count),
                      accuracy: try totalCorrect.map { try $0.scalarDouble() / Double(count) }, count: count)
}

/// A training loop: epochs of forward, loss, backward and optimizer steps,
/// with a progress bar, optional validation each epoch, early stopping,
/// a learning-rate schedule and a metrics log (CSV / SVG).
public struct Trainer {
    public var epochs: Int
    public var validation: DataLoader?
    public var earlyStopping: EarlyStopping?
    /// Called after each epoch (e.g. `{ scheduler.step() }`).
    public var afterEpoch: ((Int, Evaluation?) -> Void)?
    /// Clip the global gradient norm before each step.
    public var clipGradientNorm: Double?
    /// Progress lines on standard error (a live bar on a terminal).
    public var showProgress = true
    public var metricsCSV: String?
    public var metricsSVG: String?

    public init(epochs: Int, validation: DataLoader? = nil, earlyStopping: EarlyStopping? = nil) {
        self.epochs = epochs
        self.validation = validation
        self.earlyStopping = earlyStopping
    }

    /// Trains `model` and returns the per-epoch metrics. Throws
    /// `NonFiniteLossError` naming the step where the loss stopped being
    /// finite. With early stopping, the best epoch's weights are restored.
    @discardableResult
    public func fit(_ model: Module, optimizer: any Optimizer, loss: some Loss, on loader: DataLoader) throws -> MetricsLog {
        var log = MetricsLog()
        for epoch in 1...max(epochs, 1) {
            let start = Date()
            model.train()
            let batches = loader.batches(epoch: epoch - 1)
            let bar = showProgress ? ProgressBar(total: batches.count, label: "epoch \(epoch)/\(epochs)") : nil
            var lossSum = 0.0, correct: Tensor?, seen = 0, classification = false
            for (index, batch) in batches.enumerated() {
                let output = model(batch.inputs)
                let l = loss(output, batch.labels)
                optimizer.zeroGrad()
                l.backward()
                if let maxNorm = clipGradientNorm { _ = clipGradNorm(optimizer.parameters, maxNorm: maxNorm) }
                optimizer.step()
                // One scalar per step: the loss, to stop at the exact step
                // it goes non-finite. Accuracy stays on the device.
                let value = try l.scalar()
                guard value.isFinite else { throw NonFiniteLossError(epoch: epoch, step: index + 1, value: value) }
                lossSum += Double(value) * Double(batch.count)
                seen += batch.count
                if batch.labels.dtype == .int32 && output.rank == 2 {
                    classification = true
                    let c = withNoGrad { correctCount(logits: output.detached(), labels: batch.labels) }
                    correct = correct.map { $0 + c } ?? c
                }
                bar?.update(step: index + 1, batchSize: batch.count, loss: lossSum / Double(seen),
                            accuracy: index + 1 == batches.count && classification ? try correct.map { try $0.scalarDouble() / Double(seen) } : nil)
            }
            let trainAccuracy = classification ? try correct.map { try $0.scalarDouble() / Double(max(seen, 1)) } : nil
            let validationResult = try validation.map { try evaluate(model, on: $0, loss: loss) }
            log.append(.init(epoch: epoch, trainLoss: lossSum / Double(max(seen, 1)), trainAccuracy: trainAccuracy,
                             validationLoss: validationResult?.loss, validationAccuracy: validationResult?.accuracy,
                             seconds: Date().timeIntervalSince(start)))
            if showProgress, let v = validationResult {
                FileHandle.standardError.write(Data("  validation loss \(String(format: "%.4f", v.loss))\(v.accuracy.map { " acc \(String(format: "%.2f%%", $0 * 100))" } ?? "")\n".utf8))
            }
            afterEpoch?(epoch, validationResult)
            if let stopper = earlyStopping, let v = validationResult, stopper.update(v.loss, epoch: epoch, model: model) { break }
        }
        if let stopper = earlyStopping { try stopper.restoreBest(into: model) }
        if let path = metricsCSV { try log.writeCSV(to: path) }
        if let path = metricsSVG { try log.writeSVG(to: path) }
        return log
    }
}
