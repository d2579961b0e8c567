/// A model's parameters and buffers by dotted name, in PyTorch's state-dict
/// order (PyTorch's `state_dict()`, an ordered dictionary): iterate it as
/// `(name, tensor)` pairs, look a tensor up by name, save it, or hand it to
/// another model's `loadStateDict`.
///
///     let state = a.stateDict()
///     print(state["0.weight"]!.shape)
///     try b.loadStateDict(state)
public struct StateDict: RandomAccessCollection, ExpressibleByDictionaryLiteral, Sendable {
    public typealias Element = (name: String, tensor: Tensor)

    /// The entries in order.
    public private(set) var entries: [Element]
    private var positions: [String: Int]

    /// Entries in the given order; names must be unique.
    public init(_ entries: [Element]) {
        self.entries = []
        positions = [:]
        for (name, tensor) in entries { append(name, tensor) }
    }

    /// A dictionary's entries, ordered by name.
    public init(_ dictionary: [String: Tensor]) {
        self.init(dictionary.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
    }

    public init(dictionaryLiteral elements: (String, Tensor)...) {
        self.init(elements.map { ($0.0, $0.1) })
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { entries.count }
    public subscript(position: Int) -> Element { entries[position] }

    /// The tensor named `name`; setting nil removes it, setting a new name
    /// appends it.
    public subscript(name: String) -> Tensor? {
        get { positions[name].map { entries[$0].tensor } }
        set {
            if let newValue {
                if let at = positions[name] { entries[at].tensor = newValue } else { append(name, newValue) }
            } else if let at = positions.removeValue(forKey: name) {
                entries.remove(at: at)
                for i in at..<entries.count { positions[entries[i].name] = i }
            }
        }
    }

    /// The names in order (PyTorch's `keys()`).
    public var keys: [String] { entries.map(\.name) }

    private mutating func append(_ name: String, _ tensor: Tensor) {
        require(positions[name] == nil, "StateDict: duplicate name '\(name)'")
        positions[name] = entries.count
        entries.append((name, tensor))
    }
}

/// What a non-strict `loadStateDict(_:strict:)` left out (PyTorch's
/// `_IncompatibleKeys`): the model's names the state did not have, and the
/// state's names the model does not have.
public struct IncompatibleKeys: Equatable, CustomStringConvertible, Sendable {
    public let missingKeys: [String]
    public let unexpectedKeys: [String]

    public init(missingKeys: [String], unexpectedKeys: [String]) {
        self.missingKeys = missingKeys
        self.unexpectedKeys = unexpectedKeys
    }

    public var description: String { "IncompatibleKeys(missingKeys: \(missingKeys), unexpectedKeys: \(unexpectedKeys))" }
}
