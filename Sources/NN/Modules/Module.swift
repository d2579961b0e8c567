/// The base of every layer: named parameters, state buffers and submodules,
/// registered explicitly (no reflection, so nothing is ever silently
/// missed), a train/eval mode, and a forward pass.
///
/// Names and layouts follow PyTorch, so `stateDict()` of a model matches the
/// `state_dict()` of the same PyTorch model: `0.weight` inside a Sequential,
/// Linear weight [out, in], and so on.
///
///     final class TwoLayer: Module {
///         let hidden: Linear, output: Linear
///         init() {
///             hidden = Linear(784, 128); output = Linear(128, 10)
///             super.init()
///             register(module: "hidden", hidden)
///             register(module: "output", output)
///         }
///         override func forward(_ x: Tensor) -> Tensor { output(hidden(x).relu()) }
///     }
open class Module {
    private var ownParameters: [(name: String, parameter: Parameter)] = []
    private var ownChildren: [(name: String, module: Module)] = []
    /// Training mode (dropout active, batch norm using batch statistics).
    public private(set) var isTraining = true

    public init() {}

    /// Registers a trainable parameter (initialized from `tensor`).
    @discardableResult
    public func register(parameter name: String, _ tensor: Tensor) -> Parameter {
        register(name, Parameter(tensor))
    }

    /// Registers non-trainable state that belongs in the state dict (running
    /// statistics).
    @discardableResult
    public func register(buffer name: String, _ tensor: Tensor) -> Parameter {
        register(name, Parameter(tensor, trainable: false))
    }

    @discardableResult
    public func register<M: Module>(module name: String, _ module: M) -> M {
        require(!name.isEmpty && !name.contains("."), "\(type(of: self)).register: bad module name '\(name)'")
        require(!ownChildren.contains { $0.name == name } && !ownParameters.contains { $0.name == name },
                     "\(type(of: self)).register: '\(name)' is already registered")
        ownChildren.append((name, module))
        module.train(isTraining)
        return module
    }

    private func register(_ name: String, _ parameter: Parameter) -> Parameter {
        require(!name.isEmpty && !name.contains("."), "\(type(of: self)).register: bad parameter name '\(name)'")
        require(!ownChildren.contains { $0.name == name } && !ownParameters.contains { $0.name == name },
                     "\(type(of: self)).register: '\(name)' is already registered")
        ownParameters.append((name, parameter))
        return parameter
    }

    /// The forward pass. Subclasses override it.
    open func forward(_ input: Tensor) -> Tensor {
        requirementFailed("\(type(of: self)) does not override forward(_:)")
    }

    public func callAsFunction(_ input: Tensor) -> Tensor { forward(input) }

    /// Direct submodules, in registration order.
    public var children: [(name: String, module: Module)] { ownChildren }

    /// Every parameter and buffer with its dotted name, in PyTorch's
    /// state-dict order: a module's own entries, then each child's.
    public func namedState() -> [(name: String, parameter: Parameter)] {
        var result = ownParameters
        for (childName, child) in ownChildren {
            result += child.namedState().map { ("\(childName).\($0.name)", $0.parameter) }
        }
        return result
    }

    /// Trainable parameters with dotted names.
    public func namedParameters() -> [(name: String, parameter: Parameter)] { namedState().filter { $0.parameter.trainable } }

    /// Trainable parameters (what an optimizer updates).
    public func parameters() -> [Parameter] { namedParameters().map(\.parameter) }

    /// Every parameter and buffer by name (for checkpoints).
    public func stateDict() -> [(name: String, tensor: Tensor)] { namedState().map { ($0.name, $0.parameter.value) } }

    /// Loads values by name. Every name, shape and dtype is checked first and
    /// all mismatches are reported together; nothing is changed unless all
    /// match, so a failed load never leaves a half-loaded model.
    public func loadStateDict(_ state: [String: Tensor]) throws {
        let mine = namedState()
        var problems: [String] = []
        for (name, parameter) in mine {
            guard let tensor = state[name] else { problems.append("missing '\(name)' \(parameter.shape)"); continue }
            if tensor.shape != parameter.shape {
                problems.append("'\(name)': shape \(tensor.shape), expected \(parameter.shape)")
            } else if tensor.dtype != parameter.value.dtype {
                problems.append("'\(name)': dtype \(tensor.dtype), expected \(parameter.value.dtype)")
            }
        }
        let known = Set(mine.map(\.name))
        problems += state.keys.filter { !known.contains($0) }.sorted().map { "unexpected '\($0)'" }
        guard problems.isEmpty else { throw StateDictError(problems: problems) }
        // Move everything to the parameters' devices first (the step that
        // can fail), then swap the values in: all or nothing.
        let converted = try mine.map { name, parameter in
            // copied(): the model must not share storage with the caller's
            // tensors, or in-place optimizer steps would change them too.
            try withNoGrad { try state[name]!.detached().to(parameter.device).to(dtype: parameter.value.dtype).copied() }
        }
        for ((_, parameter), value) in zip(mine, converted) { parameter.value = value }
    }

    /// Sets training mode here and in every submodule.
    public func train(_ mode: Bool = true) {
        isTraining = mode
        for (_, child) in ownChildren { child.train(mode) }
    }

    /// Evaluation mode: `train(false)`.
    public func eval() { train(false) }

    /// Moves every parameter and buffer to `device`. Create optimizers after
    /// moving (their state lives where the parameters were).
    public func to(_ device: Device) throws {
        for (_, parameter) in namedState() where parameter.device != device {
            parameter.value = try parameter.value.detached().to(device)
        }
    }

    /// Clears every parameter's gradient.
    public func zeroGrad() { parameters().forEach { $0.zeroGrad() } }

    /// Number of trainable scalars.
    public var parameterCount: Int { parameters().map { $0.value.count }.reduce(0, +) }
}

/// A state dict that does not fit the model; `problems` lists every
/// mismatch.
public struct StateDictError: Error, CustomStringConvertible, Equatable {
    public let problems: [String]
    public var description: String { "state dict does not match the model:\n  " + problems.joined(separator: "\n  ") }
}
