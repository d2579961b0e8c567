import Synchronization

/// RMSprop (torch.optim.RMSprop): the gradient divided by a running root
/// mean square of recent gradients.
///
/// Per parameter p with gradient g:
///
///     g += weightDecay * p
///     sq = alpha sq + (1 - alpha) g^2
///     centered: ga = alpha ga + (1 - alpha) g; avg = sqrt(sq - ga^2) + eps
///     else:     avg = sqrt(sq) + eps
///     momentum: buf = momentum buf + g / avg; p -= lr buf
///     else:     p -= lr g / avg
///
/// All state starts at zero. One in-place backend call per parameter
/// (`Tensor.rmspropStep`).
public final class RMSprop: Optimizer {
    /// The hyperparameters and the per-parameter states, behind one lock
    /// (see `OptimizerCore`).
    private let core: Mutex<OptimizerCore<RMSpropHyperparameters, State>>
    public var hyper: RMSpropHyperparameters {
        get { core.withLock { $0.hyper } }
        set { core.withLock { $0.hyper = newValue } }
    }

    struct State {
        var squareAvg: Tensor
        var gradAvg: Tensor?
        var momentumBuffer: Tensor?
    }

    public let parameters: [Parameter]
    public var learningRate: Double {
        get { hyper.learningRate }
        set { core.withLock { $0.hyper.learningRate = newValue } }
    }

    public init(_ parameters: [Parameter], learningRate: Double = 1e-2, alpha: Double = 0.99, epsilon: Double = 1e-8,
                weightDecay: Double = 0, momentum: Double = 0, centered: Bool = false) {
        checkHyper("RMSprop", "learning rate", learningRate, learningRate >= 0)
        checkHyper("RMSprop", "alpha", alpha, alpha >= 0)
        checkHyper("RMSprop", "epsilon", epsilon, epsilon >= 0)
        checkHyper("RMSprop", "weight decay", weightDecay, weightDecay >= 0)
        checkHyper("RMSprop", "momentum", momentum, momentum >= 0)
        let hyper = RMSpropHyperparameters(learningRate: learningRate, alpha: alpha, epsilon: epsilon,
                                           weightDecay: weightDecay, momentum: momentum, centered: centered)
        self.parameters = parameters
        core = Mutex(OptimizerCore(hyper: hyper, states: ParameterStates("RMSprop", parameters)))
    }

    public func step() {
        core.withLock { core in
            let h = core.hyper
            core.states.forEachUpdate("RMSprop", make: { State(squareAvg: $0.zerosLike()) }) { value, state, _ in
                checkStateDevice("RMSprop", value, state.squareAvg)
                // Created when first needed, so centering or momentum switched
                // on between steps starts from zero as PyTorch's would.
                if h.centered && state.gradAvg == nil { state.gradAvg = value.zerosLike() }
                if h.momentum != 0 && state.momentumBuffer == nil { state.momentumBuffer = value.zerosLike() }
                value.rmspropStep(squareAvg: state.squareAvg, gradAvg: h.centered ? state.gradAvg : nil,
                                  momentumBuffer: h.momentum != 0 ? state.momentumBuffer : nil, hyper: h)
            }
        }
    }

    /// torch.optim.RMSprop's param group.
    private struct Group: Codable {
        var lr, alpha, eps, weightDecay, momentum: Double
        var centered: Bool
        var params: [Int]
    }

    /// `state.<i>.square_avg`, `.step` and, where used, `.grad_avg` and
    /// `.momentum_buffer` per stepped parameter, and the param group.
    public func stateDict() -> OptimizerState {
        return core.withLock { core in
            let h = core.hyper
            let group = Group(lr: h.learningRate, alpha: h.alpha, eps: h.epsilon, weightDecay: h.weightDecay, momentum: h.momentum,
                              centered: h.centered, params: Array(parameters.indices))
            let tensors = core.states.stateTensors { state, steps in
                [("square_avg", state.squareAvg)] + (state.gradAvg.map { [("grad_avg", $0)] } ?? [])
                    + (state.momentumBuffer.map { [("momentum_buffer", $0)] } ?? []) + [("step", OptimizerState.stepTensor(steps))]
            }
            return OptimizerState(optimizer: "RMSprop", tensors: tensors, paramGroups: OptimizerState.encodeGroup(group))
        }
    }

    public func loadStateDict(_ state: OptimizerState) throws {
        try core.withLock { core in
            let g = try state.decodeGroup(Group.self, expecting: "RMSprop", parameterCount: parameters.count, params: \.params)
            try core.states.load("RMSprop", state.tensors, tensorKeys: ["square_avg", "grad_avg", "momentum_buffer"], keepsSteps: true) { tensors, value in
                guard let squareAvg = tensors["square_avg"] else {
                    throw OptimizerStateError(optimizer: "RMSprop", problems: ["a parameter \(value.shape) lacks square_avg"])
                }
                return State(squareAvg: squareAvg, gradAvg: tensors["grad_avg"], momentumBuffer: tensors["momentum_buffer"])
            }
            core.hyper = RMSpropHyperparameters(learningRate: g.lr, alpha: g.alpha, epsilon: g.eps, weightDecay: g.weightDecay,
                                                momentum: g.momentum, centered: g.centered)
        }
    }
}
