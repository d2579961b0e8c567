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
}
