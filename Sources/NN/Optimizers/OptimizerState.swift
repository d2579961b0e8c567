import Foundation

/// An optimizer's state laid out as PyTorch's `optimizer.state_dict()`,
/// flattened into named tensors for a safetensors file:
///
///     state.<i>.momentum_buffer                      SGD (with momentum)
///     state.<i>.exp_avg, .exp_avg_sq, .step          Adam, AdamW
///     state.<i>.sum, .step                           Adagrad
///     state.<i>.square_avg, .grad_avg, .momentum_buffer, .step   RMSprop
///
/// where `<i>` is the parameter's position in `optimizer.parameters` (a
/// parameter not stepped yet has no entries, as in PyTorch), and `step` is
/// a float32 scalar as PyTorch keeps it (float64 past 2^24 steps, so the
/// count stays exact). `paramGroups` is the JSON of PyTorch's
/// `param_groups` with its one group: `[{"lr": 0.01, "momentum": 0.9, ...,
/// "params": [0, 1, ...]}]`.
///
/// The tensors are the optimizer's own (not copies): save or copy them
/// before the next step.
public struct OptimizerState: Sendable {
    /// The optimizer that wrote it: "SGD", "Adam", "AdamW", "Adagrad",
    /// "RMSprop".
    public var optimizer: String
    public var tensors: [(name: String, tensor: Tensor)]
    public var paramGroups: String

    public init(optimizer: String, tensors: [(name: String, tensor: Tensor)], paramGroups: String) {
        self.optimizer = optimizer
        self.tensors = tensors
        self.paramGroups = paramGroups
    }
}

/// Optimizer state that does not fit the optimizer it is loaded into;
/// `problems` lists every mismatch.
public struct OptimizerStateError: Error, CustomStringConvertible, Equatable, Sendable {
    public let optimizer: String
    public let problems: [String]
    public var description: String { "optimizer state does not fit this \(optimizer):\n  " + problems.joined(separator: "\n  ") }
}

extension OptimizerState {
    /// PyTorch's param_groups JSON for one group (snake_case keys).
    static func encodeGroup<Group: Encodable>(_ group: Group) -> String {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = .sortedKeys
        // Encoding plain numbers, bools and arrays cannot fail.
        return String(decoding: try! encoder.encode([group]), as: UTF8.self)
    }

    /// The one group of `paramGroups`, checked against `parameterCount`.
    func decodeGroup<Group: Decodable>(_ type: Group.Type, expecting name: String, parameterCount: Int,
                                       params: (Group) -> [Int]) throws -> Group {
        guard optimizer == name else {
            throw OptimizerStateError(optimizer: name, problems: ["it was written by \(optimizer)"])
        }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        let groups: [Group]
        do {
            groups = try decoder.decode([Group].self, from: Data(paramGroups.utf8))
        } catch {
            throw OptimizerStateError(optimizer: name, problems: ["param_groups \(paramGroups) cannot be read: \(error)"])
        }
        guard groups.count == 1, let group = groups.first else {
            throw OptimizerStateError(optimizer: name, problems: ["\(groups.count) parameter groups; this library has one"])
        }
        guard params(group) == Array(0..<parameterCount) else {
            throw OptimizerStateError(optimizer: name, problems: ["params \(params(group)) for \(parameterCount) parameters"])
        }
        return group
    }

    /// A step count as PyTorch stores it.
    static func stepTensor(_ steps: Int) -> Tensor {
        steps < 1 << 24 ? Tensor([Float(steps)], shape: []) : Tensor(float64: [Double(steps)], shape: [])
    }
}

extension ParameterStates {
    /// The per-parameter tensors under `state.<i>.<key>`; `entries` names
    /// one parameter's state tensors (and its step count).
    func stateTensors(_ entries: (State, Int) -> [(key: String, tensor: Tensor)]) -> [(name: String, tensor: Tensor)] {
        parameters.indices.flatMap { i -> [(name: String, tensor: Tensor)] in
            guard let entry = state(of: parameters[i]) else { return [] }
            return entries(entry.state, entry.steps).map { ("state.\(i).\($0.key)", $0.tensor) }
        }
    }

    /// Replaces every parameter's state by the one in `tensors`, all or
    /// nothing: names, shapes and step counts are checked first. `make`
    /// builds one parameter's state from its tensors (by key, already on
    /// the parameter's device and dtype, shapes checked against
    /// `tensorKeys`); a `step` entry, where the optimizer keeps one, gives
    /// the step count.
    mutating func load(_ optimizer: String, _ tensors: [(name: String, tensor: Tensor)], tensorKeys: Set<String>,
                       keepsSteps: Bool, make: ([String: Tensor], Tensor) throws -> State) throws {
        var byParameter: [Int: [String: Tensor]] = [:]
        var problems: [String] = []
        for (name, tensor) in tensors {
            let parts = name.split(separator: ".", maxSplits: 2)
            guard parts.count == 3, parts[0] == "state", let i = Int(parts[1]), parameters.indices.contains(i) else {
                problems.append("unexpected '\(name)'")
                continue
            }
            let key = String(parts[2])
            if key == "step" && keepsSteps {
                guard tensor.shape.isEmpty || tensor.shape == [1] else { problems.append("'\(name)': shape \(tensor.shape), expected a scalar"); continue }
            } else if tensorKeys.contains(key) {
                if tensor.shape != parameters[i].shape {
                    problems.append("'\(name)': shape \(tensor.shape), expected \(parameters[i].shape) like its parameter")
                }
            } else {
                problems.append("unexpected '\(name)'")
            }
            byParameter[i, default: [:]][key] = tensor
        }
        guard problems.isEmpty else { throw OptimizerStateError(optimizer: optimizer, problems: problems) }
        var loaded: [(Parameter, State, Int)] = []
        for (i, entries) in byParameter.sorted(by: { $0.key < $1.key }) {
            let parameter = parameters[i]
            var steps = 0
            if keepsSteps {
                guard let stepTensor = entries["step"] else {
                    throw OptimizerStateError(optimizer: optimizer, problems: ["state.\(i) has no step"])
                }
                let value = try stepTensor.to(.cpu).to(dtype: .float64).toArray(as: Double.self)[0]
                guard value >= 0, value == value.rounded(), value < 1e15 else {
                    throw OptimizerStateError(optimizer: optimizer, problems: ["state.\(i).step is \(value), not a step count"])
                }
                steps = Int(value)
            }
            let value = parameter.value
            let converted = try entries.filter { $0.key != "step" }.mapValues { tensor in
                try withNoGrad { try tensor.detached().to(value.device).to(dtype: value.dtype).copied() }
            }
            loaded.append((parameter, try make(converted, value), steps))
        }
        replaceAll(loaded)
    }
}
