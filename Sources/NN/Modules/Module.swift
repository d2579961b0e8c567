import Synchronization

/// The base of every layer: named parameters, state buffers and submodules,
/// registered explicitly (no reflection, so nothing is ever silently
/// missed), a train/eval mode, and a forward pass.
///
/// Names and layouts follow PyTorch, so `stateDict()` of a model matches the
/// `state_dict()` of the same PyTorch model: `0.weight` inside a Sequential,
/// Linear weight [out, in], and so on.
///
///     final class TwoLayer: Module, @unchecked Sendable {
///         let hidden: Linear, output: Linear
///         init() {
///             hidden = Linear(784, 128); output = Linear(128, 10)
///             super.init()
///             register(module: "hidden", hidden)
///             register(module: "output", output)
///         }
///         override func forward(_ x: Tensor) -> Tensor { output(hidden(x).relu()) }
///     }
///
/// Modules are `Sendable`, so a model can be handed to another task. The
/// conformance is `@unchecked`: Swift checks Sendable only on a final class
/// without a superclass, and asks each subclass to restate the unchecked one.
/// The promise holds because this class keeps its registry and mode behind
/// a lock, and every layer of the library keeps its settings in `let`s of
/// Sendable types (`Parameter` is one) and what it changes (running
/// statistics, caches) in a `Mutex`. A layer of your own restates
/// `@unchecked Sendable` and keeps to the same rule.
open class Module: @unchecked Sendable {
    private struct Registry {
        var parameters: [(name: String, parameter: Parameter)] = []
        var children: [(name: String, module: Module)] = []
        var isTraining = true
    }
    private let registry = Mutex(Registry())

    private var ownParameters: [(name: String, parameter: Parameter)] { registry.withLock { $0.parameters } }
    private var ownChildren: [(name: String, module: Module)] { registry.withLock { $0.children } }
    /// Training mode (dropout active, batch norm using batch statistics).
    public var isTraining: Bool { registry.withLock { $0.isTraining } }

    public init() {}

    /// Registers a trainable parameter (initialized from `tensor`).
    @discardableResult
    public func register(parameter name: String, _ tensor: Tensor) -> Parameter {
        register(name, Parameter(tensor))
    }

    /// Registers a parameter made before `super.init()`, so a layer can hold
    /// it in a `let` (no optional, no force unwrap):
    ///
    ///     weight = Parameter(w)
    ///     super.init()
    ///     register(parameter: "weight", weight)
    @discardableResult
    public func register(parameter name: String, _ parameter: Parameter) -> Parameter {
        register(name, parameter)
    }

    /// Registers non-trainable state that belongs in the state dict (running
    /// statistics).
    @discardableResult
    public func register(buffer name: String, _ tensor: Tensor) -> Parameter {
        register(name, Parameter(tensor, trainable: false))
    }

    /// Registers a buffer made before `super.init()` (a `Parameter` with
    /// `trainable: false`).
    @discardableResult
    public func register(buffer name: String, _ buffer: Parameter) -> Parameter {
        require(!buffer.trainable, "\(type(of: self)).register(buffer: '\(name)'): a trainable parameter is not a buffer")
        return register(name, buffer)
    }

    @discardableResult
    public func register<M: Module>(module name: String, _ module: M) -> M {
        require(!name.isEmpty && !name.contains("."), "\(type(of: self)).register: bad module name '\(name)'")
        let mode = registry.withLock { r in
            require(!r.children.contains { $0.name == name } && !r.parameters.contains { $0.name == name },
                    "\(type(of: self)).register: '\(name)' is already registered")
            r.children.append((name, module))
            return r.isTraining
        }
        module.train(mode)
        return module
    }

    private func register(_ name: String, _ parameter: Parameter) -> Parameter {
        require(!name.isEmpty && !name.contains("."), "\(type(of: self)).register: bad parameter name '\(name)'")
        registry.withLock { r in
            require(!r.children.contains { $0.name == name } && !r.parameters.contains { $0.name == name },
                    "\(type(of: self)).register: '\(name)' is already registered")
            r.parameters.append((name, parameter))
        }
        return parameter
    }

    /// The forward pass. Subclasses override it.
    open func forward(_ input: Tensor) -> Tensor {
        requirementFailed("\(type(of: self)) does not override forward(_:)")
    }

    public func callAsFunction(_ input: Tensor) -> Tensor { forward(input) }

    /// Direct submodules, in registration order.
    public var children: [(name: String, module: Module)] { ownChildren }

    /// This module (named "") and every submodule below it with its dotted
    /// name, depth first in registration order (PyTorch's `named_modules()`).
    public func namedModules() -> [(name: String, module: Module)] {
        [("", self)] + ownChildren.flatMap { childName, child in
            child.namedModules().map { ($0.name.isEmpty ? childName : "\(childName).\($0.name)", $0.module) }
        }
    }

    /// This module and every submodule (PyTorch's `modules()`).
    public func modules() -> [Module] { namedModules().map(\.module) }

    /// One line naming this module and its settings, e.g. `Linear(784, 128)`:
    /// the first line of `description`, and how messages name the layer.
    /// Layers override it (PyTorch's `extra_repr`).
    open var summary: String { "\(type(of: self))()" }

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

    /// Every parameter and buffer by name, in PyTorch's order (for
    /// checkpoints, or another model's `loadStateDict`).
    public func stateDict() -> StateDict { StateDict(namedState().map { ($0.name, $0.parameter.value) }) }

    /// Loads values by name, as PyTorch's `load_state_dict`: each tensor is
    /// converted to its parameter's dtype and device (PyTorch's copy casts
    /// too: a float `num_batches_tracked` loads into the int buffer). With
    /// `strict`, a missing or unexpected name is an error; without, those are
    /// returned and the other parameters load. A shape mismatch is always an
    /// error. Every problem is checked first and all are reported together;
    /// nothing changes unless the load succeeds, so a failed load never
    /// leaves a half-loaded model.
    @discardableResult
    public func loadStateDict(_ state: StateDict, strict: Bool = true) throws -> IncompatibleKeys {
        let mine = namedState()
        let known = Set(mine.map(\.name))
        let missing = mine.filter { state[$0.name] == nil }
        let keys = IncompatibleKeys(missingKeys: missing.map(\.name), unexpectedKeys: state.keys.filter { !known.contains($0) })
        var problems: [String] = []
        if strict { problems += missing.map { "missing '\($0.name)' \($0.parameter.shape)" } }
        for (name, parameter) in mine {
            if let tensor = state[name], tensor.shape != parameter.shape {
                problems.append("'\(name)': shape \(tensor.shape), expected \(parameter.shape)")
            }
        }
        if strict { problems += keys.unexpectedKeys.map { "unexpected '\($0)'" } }
        guard problems.isEmpty else { throw StateDictError(problems: problems) }
        // Move everything to the parameters' devices first (the step that
        // can fail), then swap the values in: all or nothing.
        let updates = try mine.compactMap { name, parameter -> (Parameter, Tensor)? in
            guard let tensor = state[name] else { return nil }
            // copied(): the model must not share storage with the caller's
            // tensors, or in-place optimizer steps would change them too.
            return (parameter, try withNoGrad { try tensor.detached().to(parameter.device).to(dtype: parameter.value.dtype).copied() })
        }
        for (parameter, value) in updates { parameter.value = value }
        return keys
    }

    /// `loadStateDict` from a dictionary of name to tensor.
    @discardableResult
    public func loadStateDict(_ state: [String: Tensor], strict: Bool = true) throws -> IncompatibleKeys {
        try loadStateDict(StateDict(state), strict: strict)
    }

    /// Sets training mode here and in every submodule.
    public func train(_ mode: Bool = true) {
        registry.withLock { $0.isTraining = mode }
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

extension Module: CustomStringConvertible {
    /// The module tree, as PyTorch's `print(model)`, with each layer's
    /// parameters and buffers (shapes) and the trainable-scalar counts:
    ///
    ///     Sequential(
    ///       (0): Linear(784, 128)  weight [128, 784], bias [128]  (100,480 parameters)
    ///       (1): ReLU()
    ///       (2): Linear(128, 10)  weight [10, 128], bias [10]  (1,290 parameters)
    ///     )  (101,770 parameters)
    public var description: String { treeLines().joined(separator: "\n") }

    private func treeLines() -> [String] {
        var head = ownChildren.isEmpty ? summary : summary.hasSuffix("()") ? String(summary.dropLast()) : summary + "("
        if !ownParameters.isEmpty {
            head += "  " + ownParameters.map { "\($0.name) \($0.parameter.shape)\($0.parameter.trainable ? "" : " (buffer)")" }
                .joined(separator: ", ")
        }
        let count = parameterCount
        let counted = count == 0 ? "" : "  (\(Module.grouped(count)) parameter\(count == 1 ? "" : "s"))"
        guard !ownChildren.isEmpty else { return [head + counted] }
        var lines = [head]
        for (name, child) in ownChildren {
            let childLines = child.treeLines()
            lines.append("  (\(name)): " + childLines[0])
            lines += childLines.dropFirst().map { "  " + $0 }
        }
        lines.append(")" + counted)
        return lines
    }

    /// 101770 as "101,770".
    private static func grouped(_ n: Int) -> String {
        var digits = String(n), out = ""
        while digits.count > 3 {
            out = "," + digits.suffix(3) + out
            digits.removeLast(3)
        }
        return digits + out
    }
}

/// A state dict that does not fit the model; `problems` lists every
/// mismatch.
public struct StateDictError: Error, CustomStringConvertible, Equatable, Sendable {
    public let problems: [String]
    public var description: String { "state dict does not match the model:\n  " + problems.joined(separator: "\n  ") }
}
