import Synchronization

/// Stochastic gradient descent with optional momentum, dampening, Nesterov
/// momentum and L2 weight decay: torch.optim.SGD, step for step.
///
/// Per parameter p with gradient g:
///
///     d = g + weightDecay * p
///     buf = d (first step) or momentum * buf + (1 - dampening) * d
///     d = nesterov ? d + momentum * buf : buf     (with momentum)
///     p -= lr * d
///
/// With dampening 0 and a fixed lr this is the course notes' momentum
/// v = mu v - lr dx, p += v (v = -lr buf). Each update is one in-place
/// backend call per parameter (`Tensor.sgdStep`).
public final class SGD: Optimizer {
    /// The hyperparameters and the per-parameter states, behind one lock
    /// (see `OptimizerCore`).
    private let core: Mutex<OptimizerCore<SGDHyperparameters, Tensor?>>
    public var hyper: SGDHyperparameters {
        get { core.withLock { $0.hyper } }
        set { core.withLock { $0.hyper = newValue } }
    }

    public let parameters: [Parameter]
    public var learningRate: Double {
        get { hyper.learningRate }
        set { core.withLock { $0.hyper.learningRate = newValue } }
    }

    public init(_ parameters: [Parameter], learningRate: Double = 1e-3, momentum: Double = 0, dampening: Double = 0,
                weightDecay: Double = 0, nesterov: Bool = false) {
        checkHyper("SGD", "learning rate", learningRate, learningRate >= 0)
        checkHyper("SGD", "momentum", momentum, momentum >= 0)
        checkHyper("SGD", "weight decay", weightDecay, weightDecay >= 0)
        require(!nesterov || (momentum > 0 && dampening == 0), "SGD: Nesterov momentum requires a momentum and zero dampening")
        let hyper = SGDHyperparameters(learningRate: learningRate, momentum: momentum, dampening: dampening,
                                       weightDecay: weightDecay, nesterov: nesterov)
        self.parameters = parameters
        core = Mutex(OptimizerCore(hyper: hyper, states: ParameterStates("SGD", parameters)))
    }

    public func step() {
        core.withLock { core in
            let h = core.hyper
            core.states.forEachUpdate("SGD", make: { _ in nil }) { value, buffer, _ in
                guard h.momentum != 0 else { return value.sgdStep(momentumBuffer: nil, hyper: h, firstStep: false) }
                // PyTorch starts the buffer at the first gradient: an
                // uninitialized buffer is written before it is read.
                let first = buffer == nil
                let buf = buffer ?? value.emptyLike()
                checkStateDevice("SGD", value, buf)
                value.sgdStep(momentumBuffer: buf, hyper: h, firstStep: first)
                buffer = buf
            }
        }
    }

    /// The momentum buffer of `parameter` (nil before its first step or
    /// without momentum).
    public func momentumBuffer(of parameter: Parameter) -> Tensor? { core.withLock { $0.states.state(of: parameter)?.state ?? nil } }

    /// torch.optim.SGD's param group.
    private struct Group: Codable {
        var lr, momentum, dampening, weightDecay: Double
        var nesterov: Bool
        var params: [Int]
    }

    /// `state.<i>.momentum_buffer` per stepped parameter (none without
    /// momentum) and the param group.
    public func stateDict() -> OptimizerState {
        return core.withLock { core in
            let h = core.hyper
            let group = Group(lr: h.learningRate, momentum: h.momentum, dampening: h.dampening, weightDecay: h.weightDecay,
                              nesterov: h.nesterov, params: Array(parameters.indices))
            return OptimizerState(optimizer: "SGD", tensors: core.states.stateTensors { buffer, _ in buffer.map { [("momentum_buffer", $0)] } ?? [] },
                                  paramGroups: OptimizerState.encodeGroup(group))
        }
    }

    public func loadStateDict(_ state: OptimizerState) throws {
        try core.withLock { core in
            let g = try state.decodeGroup(Group.self, expecting: "SGD", parameterCount: parameters.count, params: \.params)
            try core.states.load("SGD", state.tensors, tensorKeys: ["momentum_buffer"], keepsSteps: false) { tensors, _ in tensors["momentum_buffer"] }
            core.hyper = SGDHyperparameters(learningRate: g.lr, momentum: g.momentum, dampening: g.dampening, weightDecay: g.weightDecay,
                                            nesterov: g.nesterov)
        }
    }
}
