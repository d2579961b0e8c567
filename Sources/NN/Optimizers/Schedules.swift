import Foundation
import Synchronization

/// Learning-rate schedules. Each holds an optimizer and sets its
/// `learningRate`; call `step()` once per epoch after the optimizer's steps,
/// as in PyTorch:
///
///     let scheduler = StepLR(optimizer, stepSize: 30, gamma: 0.1)
///     for epoch in 0..<100 {
///         train(...)            // optimizer.step() per batch
///         scheduler.step()
///     }
///
/// The schedules take the optimizer's learning rate at construction as the
/// base rate (epoch 0) and update it the way PyTorch's do: multiplicatively
/// from the current rate (StepLR, ExponentialLR, CosineAnnealingLR's
/// recursive form), so a rate changed by hand between steps carries on.
///
/// Schedules are `Sendable`: their progress is behind a `Mutex`, so one
/// step at a time changes it, from whichever task.
public protocol LRScheduler: AnyObject, Sendable {
    var optimizer: any Optimizer { get }
    /// The epoch count: 0 after construction, +1 per `step()`.
    var lastEpoch: Int { get }
    /// Advances one epoch and sets the optimizer's learning rate.
    func step()
    /// Its progress and settings under PyTorch's attribute names
    /// (`last_epoch`, `gamma`, `T_max`, ...): what a training checkpoint
    /// saves. The learning rate itself lives in the optimizer's state.
    func stateDict() -> [String: Double]
    /// Restores progress from `stateDict()`. Unlike PyTorch, which takes
    /// the saved settings over silently, a state of a schedule with other
    /// settings is refused (`ScheduleStateError`): a run resumed with, say,
    /// more epochs of cosine would follow neither curve.
    func loadStateDict(_ state: [String: Double]) throws
}

extension LRScheduler {
    /// The learning rate the optimizer has now.
    public var learningRate: Double { optimizer.learningRate }
}

/// A schedule state without an entry the schedule needs, or from a
/// schedule with other settings.
public struct ScheduleStateError: Error, CustomStringConvertible, Equatable, Sendable {
    public let schedule: String
    /// The entry it lacks, or what does not match.
    public let problem: String
    public var description: String { "\(schedule) state does not fit: \(problem)" }
}

/// Throws unless the saved setting `key` equals this schedule's `value`.
private func checkSetting(_ state: [String: Double], _ key: String, _ value: Double, of schedule: String) throws {
    let saved = try entry(state, key, of: schedule, integer: false)
    guard saved == value else { throw ScheduleStateError(schedule: schedule, problem: "the saved \(key) is \(saved), this schedule's \(value)") }
}

/// An integer or finite entry of a schedule's state.
private func entry(_ state: [String: Double], _ key: String, of schedule: String, integer: Bool = true) throws -> Double {
    guard let value = state[key], !value.isNaN, !integer || (value == value.rounded() && abs(value) < 1e15) else {
        throw ScheduleStateError(schedule: schedule, problem: "no valid '\(key)'")
    }
    return value
}

/// Multiplies the learning rate by `gamma` every `stepSize` epochs
/// (torch.optim.lr_scheduler.StepLR): lr = base * gamma^floor(epoch /
/// stepSize).
public final class StepLR: LRScheduler {
    public let optimizer: any Optimizer
    public let stepSize: Int
    public let gamma: Double
    private let epochs = Mutex(0)
    public var lastEpoch: Int { epochs.withLock { $0 } }

    public init(_ optimizer: any Optimizer, stepSize: Int, gamma: Double = 0.1) {
        require(stepSize >= 1, "StepLR: stepSize must be at least 1, got \(stepSize)")
        self.optimizer = optimizer
        self.stepSize = stepSize
        self.gamma = gamma
    }

    public func step() {
        epochs.withLock { lastEpoch in
            lastEpoch += 1
            if lastEpoch % stepSize == 0 { optimizer.learningRate *= gamma }
        }
    }

    public func stateDict() -> [String: Double] { ["last_epoch": Double(lastEpoch), "step_size": Double(stepSize), "gamma": gamma] }

    public func loadStateDict(_ state: [String: Double]) throws {
        try checkSetting(state, "step_size", Double(stepSize), of: "StepLR")
        try checkSetting(state, "gamma", gamma, of: "StepLR")
        let epoch = Int(try entry(state, "last_epoch", of: "StepLR"))
        epochs.withLock { $0 = epoch }
    }
}

/// Multiplies the learning rate by `gamma` every epoch
/// (torch.optim.lr_scheduler.ExponentialLR): lr = base * gamma^epoch.
public final class ExponentialLR: LRScheduler {
    public let optimizer: any Optimizer
    public let gamma: Double
    private let epochs = Mutex(0)
    public var lastEpoch: Int { epochs.withLock { $0 } }

    public init(_ optimizer: any Optimizer, gamma: Double) {
        self.optimizer = optimizer
        self.gamma = gamma
    }

    public func step() {
        epochs.withLock { lastEpoch in
            lastEpoch += 1
            optimizer.learningRate *= gamma
        }
    }

    public func stateDict() -> [String: Double] { ["last_epoch": Double(lastEpoch), "gamma": gamma] }

    public func loadStateDict(_ state: [String: Double]) throws {
        try checkSetting(state, "gamma", gamma, of: "ExponentialLR")
        let epoch = Int(try entry(state, "last_epoch", of: "ExponentialLR"))
        epochs.withLock { $0 = epoch }
    }
}

/// Cosine annealing from the base rate down to `etaMin` over `tMax` epochs
/// (torch.optim.lr_scheduler.CosineAnnealingLR, without restarts):
///
///     lr = etaMin + (base - etaMin) (1 + cos(pi epoch / tMax)) / 2
///
/// computed with PyTorch's recursive form; past tMax the rate climbs back
/// up along the same cosine, as PyTorch's does.
public final class CosineAnnealingLR: LRScheduler {
    public let optimizer: any Optimizer
    public let tMax: Int
    public let etaMin: Double
    private let progress: Mutex<(base: Double, lastEpoch: Int)>
    public var baseLearningRate: Double { progress.withLock { $0.base } }
    public var lastEpoch: Int { progress.withLock { $0.lastEpoch } }

    public init(_ optimizer: any Optimizer, tMax: Int, etaMin: Double = 0) {
        require(tMax >= 1, "CosineAnnealingLR: tMax must be at least 1, got \(tMax)")
        self.optimizer = optimizer
        self.tMax = tMax
        self.etaMin = etaMin
        progress = Mutex((optimizer.learningRate, 0))
    }

    public func step() {
        progress.withLock { p in
            p.lastEpoch += 1
            let e = Double(p.lastEpoch), t = Double(tMax), lr = optimizer.learningRate
            if (p.lastEpoch - 1 - tMax) % (2 * tMax) == 0 {
                // The bottom of the cosine: the ratio below would divide by 0.
                optimizer.learningRate = lr + (p.base - etaMin) * (1 - Foundation.cos(Double.pi / t)) / 2
            } else {
                optimizer.learningRate = (1 + Foundation.cos(Double.pi * e / t)) / (1 + Foundation.cos(Double.pi * (e - 1) / t))
                    * (lr - etaMin) + etaMin
            }
        }
    }

    public func stateDict() -> [String: Double] {
        let p = progress.withLock { $0 }
        return ["last_epoch": Double(p.lastEpoch), "base_lr": p.base, "T_max": Double(tMax), "eta_min": etaMin]
    }

    public func loadStateDict(_ state: [String: Double]) throws {
        try checkSetting(state, "T_max", Double(tMax), of: "CosineAnnealingLR")
        try checkSetting(state, "eta_min", etaMin, of: "CosineAnnealingLR")
        let epoch = try entry(state, "last_epoch", of: "CosineAnnealingLR")
        let base = try entry(state, "base_lr", of: "CosineAnnealingLR", integer: false)
        progress.withLock { $0 = (base, Int(epoch)) }
    }
}

/// Cuts the learning rate by `factor` when a metric has stopped improving
/// for `patience` epochs (torch.optim.lr_scheduler.ReduceLROnPlateau).
///
/// Call `step(_:)` once per epoch with the metric (say the validation
/// loss). A value counts as an improvement when it beats the best so far by
/// more than `threshold`: relative (best * (1 - threshold) for `.min`,
/// best * (1 + threshold) for `.max`) or absolute (best -/+ threshold).
/// After more than `patience` epochs without one, lr = max(lr * factor,
/// minLearningRate) (skipped when that changes lr by no more than `eps`),
/// then `cooldown` epochs pass before bad epochs count again.
public final class ReduceLROnPlateau: Sendable {
    public enum Mode: Sendable { case min, max }
    public enum ThresholdMode: Sendable { case relative, absolute }

    public let optimizer: any Optimizer
    public let mode: Mode
    public let factor: Double
    public let patience: Int
    public let threshold: Double
    public let thresholdMode: ThresholdMode
    public let cooldown: Int
    public let minLearningRate: Double
    public let eps: Double

    private struct Progress {
        var best: Double
        var badEpochs = 0, cooldownCounter = 0, lastEpoch = 0
    }
    /// Changed one `step(_:)` at a time.
    private let progress: Mutex<Progress>

    /// The best metric so far (+inf / -inf before the first step).
    public var best: Double { progress.withLock { $0.best } }
    /// Epochs since the last improvement (reset by a reduction and during
    /// cooldown).
    public var badEpochs: Int { progress.withLock { $0.badEpochs } }
    public var cooldownCounter: Int { progress.withLock { $0.cooldownCounter } }
    public var lastEpoch: Int { progress.withLock { $0.lastEpoch } }

    public init(_ optimizer: any Optimizer, mode: Mode = .min, factor: Double = 0.1, patience: Int = 10,
                threshold: Double = 1e-4, thresholdMode: ThresholdMode = .relative, cooldown: Int = 0,
                minLearningRate: Double = 0, eps: Double = 1e-8) {
        require(factor < 1 && factor >= 0, "ReduceLROnPlateau: factor must be in [0, 1), got \(factor)")
        require(patience >= 0 && cooldown >= 0, "ReduceLROnPlateau: patience \(patience) and cooldown \(cooldown) must be >= 0")
        self.optimizer = optimizer
        self.mode = mode
        self.factor = factor
        self.patience = patience
        self.threshold = threshold
        self.thresholdMode = thresholdMode
        self.cooldown = cooldown
        self.minLearningRate = minLearningRate
        self.eps = eps
        progress = Mutex(Progress(best: mode == .min ? .infinity : -.infinity))
    }

    public var learningRate: Double { optimizer.learningRate }

    /// Whether `value` improves on the best so far.
    public func isBetter(_ value: Double) -> Bool { isBetter(value, than: best) }

    private func isBetter(_ value: Double, than best: Double) -> Bool {
        switch (mode, thresholdMode) {
        case (.min, .relative): return value < best * (1 - threshold)
        case (.min, .absolute): return value < best - threshold
        case (.max, .relative): return value > best * (threshold + 1)
        case (.max, .absolute): return value > best + threshold
        }
    }

    /// Records this epoch's metric and reduces the rate if it has
    /// plateaued.
    public func step(_ metric: Double) {
        progress.withLock { p in
            p.lastEpoch += 1
            if isBetter(metric, than: p.best) {
                p.best = metric
                p.badEpochs = 0
            } else {
                p.badEpochs += 1
            }
            if p.cooldownCounter > 0 {
                p.cooldownCounter -= 1
                p.badEpochs = 0
            }
            if p.badEpochs > patience {
                let old = optimizer.learningRate
                let new = Swift.max(old * factor, minLearningRate)
                if old - new > eps { optimizer.learningRate = new }
                p.cooldownCounter = cooldown
                p.badEpochs = 0
            }
        }
    }

    /// Its progress and settings under PyTorch's names (`best` may be
    /// infinite); see `LRScheduler.stateDict()`.
    public func stateDict() -> [String: Double] {
        let p = progress.withLock { $0 }
        return ["last_epoch": Double(p.lastEpoch), "best": p.best, "num_bad_epochs": Double(p.badEpochs), "cooldown_counter": Double(p.cooldownCounter),
                "factor": factor, "patience": Double(patience), "threshold": threshold, "cooldown": Double(cooldown),
                "min_lr": minLearningRate, "eps": eps, "mode": mode == .min ? 0 : 1,
                "threshold_mode": thresholdMode == .relative ? 0 : 1]
    }

    /// Restores progress; a state of a schedule with other settings is
    /// refused, as `LRScheduler.loadStateDict` does.
    public func loadStateDict(_ state: [String: Double]) throws {
        let name = "ReduceLROnPlateau"
        // mode: 0 min, 1 max; threshold_mode: 0 relative, 1 absolute.
        for (key, value) in [("factor", factor), ("patience", Double(patience)), ("threshold", threshold),
                             ("cooldown", Double(cooldown)), ("min_lr", minLearningRate), ("eps", eps),
                             ("mode", mode == .min ? 0 : 1), ("threshold_mode", thresholdMode == .relative ? 0 : 1)] {
            try checkSetting(state, key, value, of: name)
        }
        let epoch = try entry(state, "last_epoch", of: name), bad = try entry(state, "num_bad_epochs", of: name)
        let counter = try entry(state, "cooldown_counter", of: name)
        let best = try entry(state, "best", of: name, integer: false)
        progress.withLock { $0 = Progress(best: best, badEpochs: Int(bad), cooldownCounter: Int(counter), lastEpoch: Int(epoch)) }
    }
}
