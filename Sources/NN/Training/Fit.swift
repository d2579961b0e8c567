import Foundation

/// Loss and accuracy of a model over a data set.
public struct Evaluation: Equatable, Sendable {
    public var loss: Double
    /// Fraction of samples whose argmax prediction equals the label (nil for
    /// regression targets).
    public var accuracy: Double?
    public var count: Int
}

/// Thrown when the loss stops being a finite number.
public struct NonFiniteLossError: Error, CustomStringConvertible, Sendable {
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
///
/// `across` a data-parallel group, each process evaluates its loader's
/// shard (give it an unpadded `DataShard`) and the sums are added over the
/// processes: every process gets the result for the whole set.
public func evaluate(_ model: Module, on loader: DataLoader, loss: some Loss,
                     across group: (any DataParallelism)? = nil) throws -> Evaluation {
    let wasTraining = model.isTraining
    model.eval()
    defer { model.train(wasTraining) }
    var totalLoss: Tensor?, totalCorrect: Tensor?, count = 0
    try withNoGrad {
        for batch in loader.batches(epoch: 0) {
            let output = model(batch.inputs)
            let l = loss(output, batch.labels) * Double(batch.count)
            totalLoss = totalLoss.map { $0 + l } ?? l
            if !batch.labels.dtype.isFloatingPoint && output.rank == 2 {
                let c = correctCount(logits: output, labels: batch.labels)
                totalCorrect = totalCorrect.map { $0 + c } ?? c
            }
            count += batch.count
        }
        _ = try totalLoss?.scalar()
    }
    // The loss, the samples, the correct ones, and whether batches came
    // without an accuracy (regression): summed over the processes.
    var sums = [try totalLoss?.scalarDouble() ?? 0, Double(count), try totalCorrect?.scalarDouble() ?? 0,
                count > 0 && totalCorrect == nil ? 1 : 0]
    if let group { sums = try group.sumAcrossProcesses(sums) }
    guard sums[1] > 0 else { return Evaluation(loss: .nan, accuracy: nil, count: 0) }
    return Evaluation(loss: sums[0] / sums[1], accuracy: sums[3] > 0 ? nil : sums[2] / sums[1], count: Int(sums[1]))
}

/// A training loop: epochs of forward, loss, backward and optimizer steps,
/// with a progress bar, optional validation each epoch, early stopping,
/// a learning-rate schedule, a metrics log (CSV / SVG) and resumable
/// training checkpoints.
public struct Trainer {
    /// A learning-rate schedule the trainer steps after each epoch (and
    /// saves in its checkpoints).
    public enum Schedule {
        /// `step()` after every epoch (StepLR, ExponentialLR, CosineAnnealingLR).
        case everyEpoch(any LRScheduler)
        /// `step(metric)` after every epoch with the validation loss (the
        /// training loss without a validation set).
        case onPlateau(ReduceLROnPlateau)
    }

    public var epochs: Int
    public var validation: DataLoader?
    public var earlyStopping: EarlyStopping?
    public var schedule: Schedule?
    /// Called after each epoch, after the schedule's step.
    public var afterEpoch: ((Int, Evaluation?) -> Void)?
    /// Clip the global gradient norm before each step.
    public var clipGradientNorm: Double?
    /// Progress lines on standard error (a live bar on a terminal).
    public var showProgress = true
    public var metricsCSV: String?
    public var metricsSVG: String?
    /// Called around every step and after every epoch (`TrainingDiagnostics`).
    public var monitor: TrainingMonitor?
    /// Extra metadata for the training checkpoints (say, the input
    /// normalization a later user of the weights needs).
    public var checkpointMetadata: [String: String] = [:]
    /// Data-parallel training (NNDistributed's `DataParallel`): the
    /// gradients are averaged over the processes after every backward pass,
    /// the epoch's metrics and the validation are summed over them (give the
    /// loaders their `DataShard`s), and only rank 0 shows progress and
    /// writes the checkpoints, metrics files and diagnostics. Every rank
    /// resumes from the same checkpoint file.
    public var dataParallel: (any DataParallelism)?

    public init(epochs: Int, validation: DataLoader? = nil, earlyStopping: EarlyStopping? = nil, schedule: Schedule? = nil) {
        self.epochs = epochs
        self.validation = validation
        self.earlyStopping = earlyStopping
        self.schedule = schedule
    }

    /// Trains `model` and returns the per-epoch metrics. Throws
    /// `NonFiniteLossError` naming the step where the loss stopped being
    /// finite. With early stopping, the best epoch's weights are restored.
    ///
    /// With `checkpoint`, a training checkpoint (weights, optimizer state,
    /// schedule, early stopping, epoch and step, data order, random state,
    /// metrics so far) is written there atomically after every epoch.
    /// `resume: true` first reads that file and carries on after its last
    /// epoch (`resumeFrom` reads another file instead): on the CPU backend
    /// the weights at the end are bit-identical to an uninterrupted run's.
    /// The loader must be the one the run started with (same data, batch
    /// size, shuffling and seed); a resumed run that had finished or
    /// stopped early only restores its result.
    @discardableResult
    public func fit(_ model: Module, optimizer: any Optimizer, loss: some Loss, on loader: DataLoader,
                    checkpoint: URL? = nil, resume: Bool = false, resumeFrom: URL? = nil) throws -> MetricsLog {
        require(!resume || checkpoint != nil || resumeFrom != nil, "Trainer.fit: resume: true needs the checkpoint: URL to resume from")
        var log = MetricsLog()
        var firstEpoch = 1, steps = 0, stopped = false
        // Rank 0 alone talks and writes in data-parallel training.
        let primary = (dataParallel?.rank ?? 0) == 0
        let showProgress = showProgress && primary, monitor = primary ? monitor : nil
        if let dataParallel {
            let expected = DataShard(rank: dataParallel.rank, count: dataParallel.worldSize)
            require(loader.shard == expected,
                    "Trainer.fit: data-parallel training needs the loader's \(expected) (padded), which keeps the ranks "
                    + "in step; it has \(loader.shard.map { "\($0)" } ?? "none")")
        }
        if let source = resumeFrom ?? (resume ? checkpoint : nil) {
            let progress = try restore(from: source, model: model, optimizer: optimizer, loader: loader)
            log = MetricsLog(epochs: progress.metrics)
            (firstEpoch, steps, stopped) = (progress.epoch + 1, progress.step, progress.stopped)
            if showProgress {
                FileHandle.standardError.write(Data("resumed from \(source.path) after epoch \(progress.epoch) (step \(steps))\n".utf8))
            }
        }
        // Every rank must start from the same point (the same checkpoint).
        try dataParallel?.agree("Trainer.fit", steps == 0 ? "a fresh start" : "resuming after step \(steps), epoch \(firstEpoch - 1)")
        var epoch = firstEpoch
        while epoch <= max(epochs, 1) && !stopped {
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
                try dataParallel?.synchronizeGradients()
                if let maxNorm = clipGradientNorm { _ = clipGradNorm(optimizer.parameters, maxNorm: maxNorm) }
                monitor?.beforeStep(model)
                optimizer.step()
                monitor?.afterStep(model)
                steps += 1
                // One scalar per step: the loss, to stop at the exact step
                // it goes non-finite. Accuracy stays on the device.
                let value = try l.scalar()
                guard value.isFinite else { throw NonFiniteLossError(epoch: epoch, step: index + 1, value: value) }
                lossSum += Double(value) * Double(batch.count)
                seen += batch.count
                if !batch.labels.dtype.isFloatingPoint && output.rank == 2 {
                    classification = true
                    let c = withNoGrad { correctCount(logits: output.detached(), labels: batch.labels) }
                    correct = correct.map { $0 + c } ?? c
                }
                bar?.update(step: index + 1, batchSize: batch.count, loss: lossSum / Double(seen),
                            accuracy: index + 1 == batches.count && classification ? try correct.map { try $0.scalarDouble() / Double(seen) } : nil)
            }
            var sums = [lossSum, Double(seen), try correct?.scalarDouble() ?? 0]
            if let dataParallel { sums = try dataParallel.sumAcrossProcesses(sums) }
            let trainLoss = sums[0] / max(sums[1], 1)
            let trainAccuracy = classification ? sums[2] / max(sums[1], 1) : nil
            let validationResult = try validation.map { try evaluate(model, on: $0, loss: loss, across: dataParallel) }
            log.append(.init(epoch: epoch, trainLoss: trainLoss, trainAccuracy: trainAccuracy,
                             validationLoss: validationResult?.loss, validationAccuracy: validationResult?.accuracy,
                             seconds: Date().timeIntervalSince(start)))
            if showProgress, let v = validationResult {
                FileHandle.standardError.write(Data("  validation loss \(String(format: "%.4f", v.loss))\(v.accuracy.map { " acc \(String(format: "%.2f%%", $0 * 100))" } ?? "")\n".utf8))
            }
            try monitor?.afterEpoch(model, epoch: epoch)
            switch schedule {
            case .everyEpoch(let scheduler)?: scheduler.step()
            case .onPlateau(let scheduler)?: scheduler.step(validationResult?.loss ?? trainLoss)
            case nil: break
            }
            afterEpoch?(epoch, validationResult)
            if let stopper = earlyStopping, let v = validationResult { stopped = stopper.update(v.loss, epoch: epoch, model: model) }
            if let checkpoint, primary {
                try save(to: checkpoint, model: model, optimizer: optimizer, loader: loader,
                         epoch: epoch, steps: steps, stopped: stopped, log: log)
            }
            epoch += 1
        }
        if let stopper = earlyStopping { try stopper.restoreBest(into: model) }
        if let path = metricsCSV, primary { try log.writeCSV(to: path) }
        if let path = metricsSVG, primary { try log.writeSVG(to: path) }
        return log
    }

    private static let earlyStoppingPrefix = "early_stopping."

    /// Writes the training checkpoint after `epoch`.
    private func save(to url: URL, model: Module, optimizer: any Optimizer, loader: DataLoader,
                      epoch: Int, steps: Int, stopped: Bool, log: MetricsLog) throws {
        var progress = TrainingProgress(epoch: epoch, step: steps, data: .init(loader), metrics: log.epochs)
        progress.stopped = stopped
        (progress.scheduleType, progress.schedule) = (scheduleState?.type, scheduleState?.state)
        progress.earlyStopping = earlyStopping?.progress
        let best = (earlyStopping?.bestWeights ?? [:]).sorted { $0.key < $1.key }.map { (Trainer.earlyStoppingPrefix + $0.key, $0.value) }
        try TrainingCheckpoint(model: model, optimizer: optimizer, progress: progress, tensors: best,
                               metadata: checkpointMetadata).write(to: url)
    }

    /// Loads a training checkpoint into the model, optimizer, schedule and
    /// early stopping, after checking it belongs to this run.
    private func restore(from url: URL, model: Module, optimizer: any Optimizer, loader: DataLoader) throws -> TrainingProgress {
        let checkpoint = try TrainingCheckpoint.read(from: url)
        let progress = checkpoint.progress
        let file = url.path
        if let saved = progress.data, saved != .init(loader) {
            throw CheckpointError(file: file, message: "was written by a run whose training data loader differs: "
                                  + "saved \(saved), this run's \(TrainingProgress.DataOrder(loader)); "
                                  + "resume with the same data, batch size, shuffling and seed")
        }
        let scheduleType = scheduleState?.type
        guard scheduleType == progress.scheduleType else {
            throw CheckpointError(file: file, message: "was written with schedule \(progress.scheduleType ?? "none"), "
                                  + "this run has \(scheduleType ?? "none")")
        }
        guard (earlyStopping == nil) == (progress.earlyStopping == nil) else {
            throw CheckpointError(file: file, message: "was written \(progress.earlyStopping == nil ? "without" : "with") early stopping, "
                                  + "this run has \(earlyStopping == nil ? "none" : "it")")
        }
        try checkpoint.restore(into: model, optimizer: optimizer, file: file) {
            // Each of these loads checks before it changes anything; a
            // failure puts the model and optimizer back too.
            do {
                switch schedule {
                case .everyEpoch(let scheduler)?: try scheduler.loadStateDict(progress.schedule ?? [:])
                case .onPlateau(let scheduler)?: try scheduler.loadStateDict(progress.schedule ?? [:])
                case nil: break
                }
            } catch {
                throw CheckpointError(file: file, message: "\(error)")
            }
            if let stopper = earlyStopping, let saved = progress.earlyStopping {
                let prefix = Trainer.earlyStoppingPrefix
                let best = checkpoint.tensors.filter { $0.name.hasPrefix(prefix) }.map { (String($0.name.dropFirst(prefix.count)), $0.tensor) }
                let onDevice = try best.map { name, tensor in
                    (name, try model.namedState().first { $0.name == name }.map { try tensor.to($0.parameter.device) } ?? tensor)
                }
                stopper.restore(saved, bestWeights: Dictionary(uniqueKeysWithValues: onDevice))
            }
        }
        return progress
    }

    /// The schedule's type name and `stateDict()`.
    private var scheduleState: (type: String, state: [String: Double])? {
        switch schedule {
        case .everyEpoch(let scheduler)?: return ("\(type(of: scheduler))", scheduler.stateDict())
        case .onPlateau(let scheduler)?: return ("ReduceLROnPlateau", scheduler.stateDict())
        case nil: return nil
        }
    }
}
