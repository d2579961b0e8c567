import Synchronization

/// Adagrad (torch.optim.Adagrad): each weight's step shrinks with the sum
/// of its squared gradients.
///
/// Per parameter p with gradient g at step t (from 1):
///
///     g += weightDecay * p
///     sum += g^2                          (sum starts at initialAccumulatorValue)
///     p -= lr / (1 + (t - 1) lrDecay) * g / (sqrt(sum) + eps)
///
/// One in-place backend call per parameter (`Tensor.adagradStep`).
public final class Adagrad: Optimizer {
    /// The hyperparameters and the per-parameter states, behind one lock
    /// (see `OptimizerCore`).
    private let core: Mutex<OptimizerCore<AdagradHyperparameters, Tensor>>
    public var hyper: AdagradHyperparameters {
        get { core.withLock { $0.hyper } }
        set { core.withLock { $0.hyper = newValue } }
    }

    public let parameters: [Parameter]
    public var learningRate: Double {
        get { hyper.learningRate }
        set { core.withLock { $0.hyper.learningRate = newValue } }
    }

    public init(_ parameters: [Parameter], learningRate: Double = 1e-2, learningRateDecay: Double = 0,
                weightDecay: Double = 0, initialAccumulatorValue: Double = 0, epsilon: Double = 1e-10) {
        checkHyper("Adagrad", "learning rate", learningRate, learningRate >= 0)
        checkHyper("Adagrad", "learning rate decay", learningRateDecay, learningRateDecay >= 0)
        checkHyper("Adagrad", "weight decay", weightDecay, weightDecay >= 0)
        checkHyper("Adagrad", "initial accumulator value", initialAccumulatorValue, initialAccumulatorValue >= 0)
        checkHyper("Adagrad", "epsilon", epsilon, epsilon >= 0)
        let hyper = AdagradHyperparameters(learningRate: learningRate, learningRateDecay: learningRateDecay,
                                           weightDecay: weightDecay, initialAccumulatorValue: initialAccumulatorValue,
                                           epsilon: epsilon)
        self.parameters = parameters
        core = Mutex(OptimizerCore(hyper: hyper, states: ParameterStates("Adagrad", parameters)))
    }

    public func step() {
        core.withLock { core in
            let h = core.hyper
            core.states.forEachUpdate("Adagrad", make: { Tensor.full($0.shape, h.initialAccumulatorValue, dtype: $0.dtype, on: $0.device) }) {
                value, sum, t in
                checkStateDevice("Adagrad", value, sum)
                value.adagradStep(sum: sum, hyper: h, step: t)
            }
        }
    }

    /// The running sum of squared gradients of `parameter` and its step
    /// count (nil before its first step).
    public func sum(of parameter: Parameter) -> (sum: Tensor, step: Int)? {
        core.withLock { $0.states.state(of: parameter).map { ($0.state, $0.steps) } }
    }

    /// torch.optim.Adagrad's param group.
    private struct Group: Codable {
        var lr, lrDecay, weightDecay, initialAccumulatorValue, eps: Double
        var params: [Int]
    }

    /// `state.<i>.sum` and `.step` per stepped parameter, and the param
    /// group.
    public func stateDict() -> OptimizerState {
        return core.withLock { core in
            let h = core.hyper
            let group = Group(lr: h.learningRate, lrDecay: h.learningRateDecay, weightDecay: h.weightDecay,
                              initialAccumulatorValue: h.initialAccumulatorValue, eps: h.epsilon, params: Array(parameters.indices))
            return OptimizerState(optimizer: "Adagrad", tensors: core.states.stateTensors { sum, steps in [("sum", sum), ("step", OptimizerState.stepTensor(steps))] },
                                  paramGroups: OptimizerState.encodeGroup(group))
        }
    }

    public func loadStateDict(_ state: OptimizerState) throws {
        try core.withLock { core in
            let g = try state.decodeGroup(Group.self, expecting: "Adagrad", parameterCount: parameters.count, params: \.params)
            try core.states.load("Adagrad", state.tensors, tensorKeys: ["sum"], keepsSteps: true) { tensors, value in
                guard let sum = tensors["sum"] else { throw OptimizerStateError(optimizer: "Adagrad", problems: ["a parameter \(value.shape) lacks sum"]) }
                return sum
            }
            core.hyper = AdagradHyperparameters(learningRate: g.lr, learningRateDecay: g.lrDecay, weightDecay: g.weightDecay,
                                                initialAccumulatorValue: g.initialAccumulatorValue, epsilon: g.eps)
        }
    }
}
