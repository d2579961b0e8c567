import Foundation
import Synchronization

/// Adam with bias correction (torch.optim.Adam), and with
/// `decoupledWeightDecay` AdamW.
///
/// Per parameter p with gradient g at step t (from 1):
///
///     g += weightDecay * p                  (Adam's L2 weight decay)
///     p *= 1 - lr * weightDecay             (AdamW's, instead)
///     m = beta1 m + (1 - beta1) g
///     v = beta2 v + (1 - beta2) g^2
///     p -= lr * (m / (1 - beta1^t)) / (sqrt(v / (1 - beta2^t)) + eps)
///
/// One in-place backend call per parameter (`Tensor.adamStep`); the bias
/// corrections are computed on the host in Double. AMSGrad is not offered.
///
/// `@unchecked Sendable` only because the class is open to AdamW (Swift
/// checks final classes alone): its stored properties are `let`s, the
/// mutable state in `core`'s `Mutex`.
public class Adam: Optimizer, @unchecked Sendable {
    /// The hyperparameters and the per-parameter states, behind one lock
    /// (see `OptimizerCore`).
    private let core: Mutex<OptimizerCore<AdamHyperparameters, (m: Tensor, v: Tensor)>>
    public var hyper: AdamHyperparameters {
        get { core.withLock { $0.hyper } }
        set { core.withLock { $0.hyper = newValue } }
    }
    private let name: String

    public let parameters: [Parameter]
    public var learningRate: Double {
        get { hyper.learningRate }
        set { core.withLock { $0.hyper.learningRate = newValue } }
    }

    public convenience init(_ parameters: [Parameter], learningRate: Double = 1e-3, betas: (Double, Double) = (0.9, 0.999),
                            epsilon: Double = 1e-8, weightDecay: Double = 0) {
        self.init("Adam", parameters, AdamHyperparameters(learningRate: learningRate, beta1: betas.0, beta2: betas.1,
                                                          epsilon: epsilon, weightDecay: weightDecay))
    }

    init(_ name: String, _ parameters: [Parameter], _ h: AdamHyperparameters) {
        checkHyper(name, "learning rate", h.learningRate, h.learningRate >= 0)
        checkHyper(name, "beta1", h.beta1, h.beta1 >= 0 && h.beta1 < 1)
        checkHyper(name, "beta2", h.beta2, h.beta2 >= 0 && h.beta2 < 1)
        checkHyper(name, "epsilon", h.epsilon, h.epsilon >= 0)
        checkHyper(name, "weight decay", h.weightDecay, h.weightDecay >= 0)
        self.name = name
        self.parameters = parameters
        core = Mutex(OptimizerCore(hyper: h, states: ParameterStates(name, parameters)))
    }

    public func step() {
        core.withLock { core in
            let h = core.hyper
            core.states.forEachUpdate("Adam", make: { ($0.zerosLike(), $0.zerosLike()) }) { value, moments, t in
                checkStateDevice("Adam", value, moments.m)
                value.adamStep(m: moments.m, v: moments.v, hyper: h, step: t)
            }
        }
    }

    /// The first and second moment estimates of `parameter` and its step
    /// count (nil before its first step).
    public func moments(of parameter: Parameter) -> (m: Tensor, v: Tensor, step: Int)? {
        core.withLock { $0.states.state(of: parameter).map { ($0.state.m, $0.state.v, $0.steps) } }
    }

    /// torch.optim.Adam's (and AdamW's) param group.
    private struct Group: Codable {
        var lr: Double
        var betas: [Double]
        var eps, weightDecay: Double
        var amsgrad: Bool
        var params: [Int]
    }

    /// `state.<i>.exp_avg`, `.exp_avg_sq` and `.step` per stepped parameter,
    /// and the param group.
    public func stateDict() -> OptimizerState {
        return core.withLock { core in
            let h = core.hyper
            let group = Group(lr: h.learningRate, betas: [h.beta1, h.beta2], eps: h.epsilon, weightDecay: h.weightDecay, amsgrad: false,
                              params: Array(parameters.indices))
            let tensors = core.states.stateTensors { moments, steps in
                [("exp_avg", moments.m), ("exp_avg_sq", moments.v), ("step", OptimizerState.stepTensor(steps))]
            }
            return OptimizerState(optimizer: name, tensors: tensors, paramGroups: OptimizerState.encodeGroup(group))
        }
    }

    public func loadStateDict(_ state: OptimizerState) throws {
        try core.withLock { core in
            let g = try state.decodeGroup(Group.self, expecting: name, parameterCount: parameters.count, params: \.params)
            guard g.betas.count == 2, !g.amsgrad else {
                throw OptimizerStateError(optimizer: name, problems: ["betas \(g.betas) amsgrad \(g.amsgrad): expected two betas and no AMSGrad"])
            }
            let name = self.name
            try core.states.load(name, state.tensors, tensorKeys: ["exp_avg", "exp_avg_sq"], keepsSteps: true) { tensors, value in
                guard let m = tensors["exp_avg"], let v = tensors["exp_avg_sq"] else {
                    throw OptimizerStateError(optimizer: name, problems: ["a parameter \(value.shape) lacks exp_avg or exp_avg_sq"])
                }
                return (m, v)
            }
            core.hyper = AdamHyperparameters(learningRate: g.lr, beta1: g.betas[0], beta2: g.betas[1], epsilon: g.eps,
                                             weightDecay: g.weightDecay, decoupledWeightDecay: core.hyper.decoupledWeightDecay)
        }
    }
}

/// Adam with decoupled weight decay (torch.optim.AdamW): the weights shrink
/// by lr * weightDecay each step instead of weightDecay * p joining the
/// gradient. PyTorch's default weight decay, 0.01.
public final class AdamW: Adam, @unchecked Sendable {
    public init(_ parameters: [Parameter], learningRate: Double = 1e-3, betas: (Double, Double) = (0.9, 0.999),
                epsilon: Double = 1e-8, weightDecay: Double = 1e-2) {
        super.init("AdamW", parameters, AdamHyperparameters(learningRate: learningRate, beta1: betas.0, beta2: betas.1,
                                                            epsilon: epsilon, weightDecay: weightDecay,
                                                            decoupledWeightDecay: true))
    }
}
