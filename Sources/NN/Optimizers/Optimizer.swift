/// Updates parameters from their gradients, in place on their device.
///
/// The training step is PyTorch's:
///
///     optimizer.zeroGrad()
///     let loss = criterion(model(x), y)
///     loss.backward()
///     optimizer.step()
///
/// An optimizer holds the same `Parameter` objects as the model, so its
/// updates are what the model sees. Its state (momentum buffers, moment
/// estimates) is created on the first `step()` on each parameter's device:
/// move the model to its device before that. Parameters without a gradient
/// (frozen, unused in the loss, or buffers) are skipped and keep their state,
/// as in PyTorch.
///
/// Optimizers are `Sendable`: their hyperparameters and per-parameter state
/// live in an `OptimizerCore` behind a `Mutex`, so a step, a state dict and
/// a learning-rate change from different tasks happen one at a time.
public protocol Optimizer: AnyObject, Sendable {
    /// The parameters it updates.
    var parameters: [Parameter] { get }
    /// The step size; learning-rate schedules change it between steps.
    var learningRate: Double { get set }
    /// One update of every parameter that has a gradient.
    func step()
    /// Its state, as PyTorch's `optimizer.state_dict()` lays it out (see
    /// `OptimizerState`): what a training checkpoint saves.
    func stateDict() -> OptimizerState
    /// Restores a state from `stateDict()` (or PyTorch's, flattened the same
    /// way): the hyperparameters and every stepped parameter's state. All
    /// or nothing; throws `OptimizerStateError` listing what does not fit.
    func loadStateDict(_ state: OptimizerState) throws
}

extension Optimizer {
    /// Clears the gradient of every parameter (PyTorch's zero_grad with
    /// set_to_none=True): the next backward() starts from nothing.
    public func zeroGrad() { parameters.forEach { $0.zeroGrad() } }
}

/// What an optimizer changes, held together in one `Mutex` so that a step
/// never sees half-loaded hyperparameters or state.
struct OptimizerCore<Hyper: Sendable, State: Sendable>: Sendable {
    var hyper: Hyper
    var states: ParameterStates<State>
}

/// The bookkeeping every optimizer shares: the parameter list (each object
/// once), per-parameter state and step counts.
struct ParameterStates<State: Sendable>: Sendable {
    let parameters: [Parameter]
    private var states: [ObjectIdentifier: (state: State, steps: Int)] = [:]

    init(_ name: String, _ parameters: [Parameter]) {
        var seen = Set<ObjectIdentifier>()
        for p in parameters {
            require(seen.insert(ObjectIdentifier(p)).inserted,
                         "\(name): a parameter \(p.shape) appears twice in the parameter list")
        }
        self.parameters = parameters
    }

    /// Calls `update` for every trainable parameter with a gradient, with
    /// its state (made by `make` on the first update) and its 1-based step
    /// number. Runs without recording gradients.
    mutating func forEachUpdate(_ name: String, make: (Tensor) -> State, _ update: (Tensor, inout State, Int) -> Void) {
        withNoGrad {
            for parameter in parameters where parameter.trainable {
                let value = parameter.value
                guard value.grad != nil else { continue }
                let key = ObjectIdentifier(parameter)
                var entry = states[key] ?? (make(value), 0)
                entry.steps += 1
                update(value, &entry.state, entry.steps)
                states[key] = entry
            }
        }
    }

    /// Replaces every state (a loaded optimizer state): parameters not
    /// listed start afresh.
    mutating func replaceAll(_ entries: [(Parameter, State, Int)]) {
        states = Dictionary(uniqueKeysWithValues: entries.map { (ObjectIdentifier($0.0), ($0.1, $0.2)) })
    }

    /// The state of `parameter`, if it has been stepped.
    func state(of parameter: Parameter) -> (state: State, steps: Int)? { states[ObjectIdentifier(parameter)] }
}

/// Checks that an optimizer's state tensor still lives where its parameter
/// does (a model moved after its optimizer's first step would otherwise
/// stop deep in the backend).
func checkStateDevice(_ name: String, _ value: Tensor, _ state: Tensor) {
    require(value.device == state.device,
                 "\(name): parameter \(value.shape) is on \(value.device) but its optimizer state is on \(state.device); "
                 + "create the optimizer after moving the model")
}

func checkHyper(_ name: String, _ what: String, _ value: Double, _ ok: Bool) {
    require(ok && !value.isNaN, "\(name): invalid \(what) \(value)")
}
