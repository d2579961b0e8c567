import Foundation

/// SGD hyper-parameters with PyTorch's semantics (torch.optim.SGD).
public struct SGDHyperparameters: Equatable, Sendable {
    public var learningRate: Double
    public var momentum: Double = 0
    public var dampening: Double = 0
    public var weightDecay: Double = 0
    public var nesterov: Bool = false

    public init(learningRate: Double, momentum: Double = 0, dampening: Double = 0,
                weightDecay: Double = 0, nesterov: Bool = false) {
        self.learningRate = learningRate
        self.momentum = momentum
        self.dampening = dampening
        self.weightDecay = weightDecay
        self.nesterov = nesterov
    }
}

/// Adam / AdamW hyper-parameters with PyTorch's semantics.
public struct AdamHyperparameters: Equatable, Sendable {
    public var learningRate: Double
    public var beta1: Double = 0.9
    public var beta2: Double = 0.999
    public var epsilon: Double = 1e-8
    public var weightDecay: Double = 0
    /// AdamW: decay the weights directly instead of adding wd * p to the
    /// gradient.
    public var decoupledWeightDecay: Bool = false

    public init(learningRate: Double, beta1: Double = 0.9, beta2: Double = 0.999,
                epsilon: Double = 1e-8, weightDecay: Double = 0, decoupledWeightDecay: Bool = false) {
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        self.decoupledWeightDecay = decoupledWeightDecay
    }
}

/// Adagrad hyper-parameters with PyTorch's semantics (torch.optim.Adagrad).
public struct AdagradHyperparameters: Equatable, Sendable {
    public var learningRate: Double
    /// The step size at 1-based step t is lr / (1 + (t - 1) * lrDecay).
    public var learningRateDecay: Double = 0
    public var weightDecay: Double = 0
    /// What the running sum of squared gradients starts at (used by the
    /// optimizer when it creates the state; the step op does not read it).
    public var initialAccumulatorValue: Double = 0
    public var epsilon: Double = 1e-10

    public init(learningRate: Double = 1e-2, learningRateDecay: Double = 0, weightDecay: Double = 0,
                initialAccumulatorValue: Double = 0, epsilon: Double = 1e-10) {
        self.learningRate = learningRate
        self.learningRateDecay = learningRateDecay
        self.weightDecay = weightDecay
        self.initialAccumulatorValue = initialAccumulatorValue
        self.epsilon = epsilon
    }
}

/// RMSprop hyper-parameters with PyTorch's semantics (torch.optim.RMSprop).
public struct RMSpropHyperparameters: Equatable, Sendable {
    public var learningRate: Double
    /// The smoothing constant of the running averages.
    public var alpha: Double = 0.99
    public var epsilon: Double = 1e-8
    public var weightDecay: Double = 0
    public var momentum: Double = 0
    /// Normalize by an estimate of the gradient's variance (square average
    /// minus the squared gradient average) instead of its second moment.
    public var centered: Bool = false

    public init(learningRate: Double = 1e-2, alpha: Double = 0.99, epsilon: Double = 1e-8, weightDecay: Double = 0,
                momentum: Double = 0, centered: Bool = false) {
        self.learningRate = learningRate
        self.alpha = alpha
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        self.momentum = momentum
        self.centered = centered
    }
}

/// Optimizer steps applied in place on the device, so a training step needs
/// no host round trip.
public protocol OptimizerOps: AnyObject {
    /// d = g + wd * p; with momentum: buf = d on the first step, else
    /// buf = momentum * buf + (1 - dampening) * d; d = nesterov ? d +
    /// momentum * buf : buf; then p -= lr * d. `momentumBuffer` may be nil
    /// when momentum is 0.
    func sgdStep(param: DeviceBuffer, grad: DeviceBuffer, momentumBuffer: DeviceBuffer?, count: Int,
                 hyper: SGDHyperparameters, firstStep: Bool)

    /// Bias-corrected Adam (or AdamW) at 1-based `step`:
    /// m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2;
    /// p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps).
    func adamStep(param: DeviceBuffer, grad: DeviceBuffer, m: DeviceBuffer, v: DeviceBuffer, count: Int,
                  hyper: AdamHyperparameters, step: Int)

    /// Adagrad at 1-based `step`: g = g + wd * p; sum += g^2;
    /// p -= clr * g / (sqrt(sum) + eps) with clr = lr / (1 + (step - 1) *
    /// lrDecay), computed on the host in Double.
    func adagradStep(param: DeviceBuffer, grad: DeviceBuffer, sum: DeviceBuffer, count: Int,
                     hyper: AdagradHyperparameters, step: Int)

    /// RMSprop: g = g + wd * p; sq = alpha sq + (1 - alpha) g^2; centered:
    /// ga = alpha ga + (1 - alpha) g, avg = sqrt(sq - ga^2) + eps, else avg =
    /// sqrt(sq) + eps; with momentum: buf = momentum buf + g / avg, p -= lr
    /// buf; without: p -= lr g / avg. `gradAvg` is needed when centered,
    /// `momentumBuffer` when momentum is non-zero (both start at zero).
    func rmspropStep(param: DeviceBuffer, grad: DeviceBuffer, squareAvg: DeviceBuffer, gradAvg: DeviceBuffer?,
                     momentumBuffer: DeviceBuffer?, count: Int, hyper: RMSpropHyperparameters)
}

// The per-step scalars every backend derives from the hyper-parameters,
// computed once here in Double on the host (as PyTorch does), so the
// backends cannot drift apart in how they round them.

extension AdamHyperparameters {
    /// lr / (1 - beta1^t), sqrt(1 - beta2^t), and AdamW's decay factor
    /// 1 - lr * wd, for 1-based `step`.
    public func stepScalars(step: Int) -> (stepSize: Double, rootCorrection2: Double, decay: Double) {
        let correction1 = 1 - Foundation.pow(beta1, Double(step))
        let correction2 = 1 - Foundation.pow(beta2, Double(step))
        return (learningRate / correction1, correction2.squareRoot(), 1 - learningRate * weightDecay)
    }
}

extension AdagradHyperparameters {
    /// The decayed learning rate lr / (1 + (t - 1) lr_decay) at 1-based `step`.
    public func stepSize(step: Int) -> Double { learningRate / (1 + Double(step - 1) * learningRateDecay) }
}
