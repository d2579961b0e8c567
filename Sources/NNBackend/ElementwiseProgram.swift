/// A chain of elementwise ops run as one kernel (`ElementwiseOps.fused`):
/// every node is computed per element in registers, and only the outputs
/// are written. The nodes are the backend's own unary and binary ops and
/// their derivatives, so a fused chain gives the same bits as the same ops
/// run one by one on the same backend.
///
/// Nodes are in order (each refers only to earlier ones) and unique: the
/// builder hands back the existing index for a node it already holds.
public struct ElementwiseProgram: Hashable, Sendable, CustomStringConvertible {
    public enum Node: Hashable, Sendable {
        /// Input operand k.
        case input(Int)
        case unary(UnaryOp, Int)
        case binary(BinaryOp, Int, Int)
        /// grad * op'(x), where y = op(x): `unaryBackward` for one element.
        case unaryGradient(UnaryOp, x: Int, y: Int, grad: Int)
        /// grad * d op(a, b) / da (`wantB` false) or / db: one partial of
        /// `binaryBackward` for one element.
        case binaryGradient(BinaryOp, Int, Int, grad: Int, wantB: Bool)

        /// The nodes this one reads.
        public var operands: [Int] {
            switch self {
            case .input: return []
            case .unary(_, let x): return [x]
            case .binary(_, let a, let b): return [a, b]
            case .unaryGradient(_, let x, let y, let g): return [x, y, g]
            case .binaryGradient(_, let a, let b, let g, _): return [a, b, g]
            }
        }

        func renumbered(_ map: (Int) -> Int) -> Node {
            switch self {
            case .input: return self
            case .unary(let op, let x): return .unary(op, map(x))
            case .binary(let op, let a, let b): return .binary(op, map(a), map(b))
            case .unaryGradient(let op, let x, let y, let g): return .unaryGradient(op, x: map(x), y: map(y), grad: map(g))
            case .binaryGradient(let op, let a, let b, let g, let wantB):
                return .binaryGradient(op, map(a), map(b), grad: map(g), wantB: wantB)
            }
        }
    }

    public let inputCount: Int
    public let nodes: [Node]
    /// The nodes written out, in order (one may appear twice).
    public let outputs: [Int]

    public var description: String {
        let body = nodes.enumerated().map { "v\($0.offset) = \($0.element)" }.joined(separator: "; ")
        return "\(inputCount) inputs: \(body) -> \(outputs.map { "v\($0)" }.joined(separator: ", "))"
    }

    /// Builds a program node by node; `finish` drops what no output reads.
    public final class Builder {
        public let inputCount: Int
        private(set) var nodes: [Node] = []
        private var index: [Node: Int] = [:]

        public init(inputCount: Int) {
            self.inputCount = inputCount
        }

        /// The node of input operand k.
        public func input(_ k: Int) -> Int {
            require(k >= 0 && k < inputCount, "ElementwiseProgram: input \(k) of \(inputCount)")
            return add(.input(k))
        }

        /// The index of `node`, added unless the builder holds it already.
        @discardableResult
        public func add(_ node: Node) -> Int {
            if let existing = index[node] { return existing }
            require(node.operands.allSatisfy { $0 >= 0 && $0 < nodes.count },
                    "ElementwiseProgram: node \(node) reads a node not yet defined (\(nodes.count) so far)")
            nodes.append(node)
            index[node] = nodes.count - 1
            return nodes.count - 1
        }

        /// The program computing `outputs`, without the nodes none of them
        /// reads.
        public func finish(outputs: [Int]) -> ElementwiseProgram {
            require(!outputs.isEmpty && outputs.allSatisfy { $0 >= 0 && $0 < nodes.count },
                    "ElementwiseProgram: outputs \(outputs) of \(nodes.count) nodes")
            var live = [Bool](repeating: false, count: nodes.count)
            for o in outputs { live[o] = true }
            for k in nodes.indices.reversed() where live[k] {
                for operand in nodes[k].operands { live[operand] = true }
            }
            var renumber = [Int](repeating: -1, count: nodes.count)
            var kept: [Node] = []
            for k in nodes.indices where live[k] {
                renumber[k] = kept.count
                kept.append(nodes[k].renumbered { renumber[$0] })
            }
            return ElementwiseProgram(inputCount: inputCount, nodes: kept, outputs: outputs.map { renumber[$0] })
        }
    }

    /// The program of the gradient of output 0 with respect to the inputs
    /// marked in `needs`. Its inputs are this program's inputs followed by
    /// the output's gradient; `outputOf[k]` is the output holding input k's
    /// gradient (inputs with the same gradient share one), nil where k was
    /// not asked for or does not reach the output.
    ///
    /// Reverse mode over the nodes, with each op's derivative taken from its
    /// backward (`unaryGradient`, `binaryGradient`) and the pass-through of
    /// add and subtract written as Tensor's autograd does it, so the fused
    /// gradient rounds as the op-by-op one.
    public func gradient(needs: [Bool]) -> (program: ElementwiseProgram, outputOf: [Int?])? {
        require(needs.count == inputCount, "ElementwiseProgram.gradient: \(needs.count) flags for \(inputCount) inputs")
        require(nodes.allSatisfy { if case .unaryGradient = $0 { return false }; if case .binaryGradient = $0 { return false }; return true },
                "ElementwiseProgram.gradient: a gradient program has no gradient of its own (no double backward)")
        // Which nodes depend on an input that wants a gradient.
        var reaches = [Bool](repeating: false, count: nodes.count)
        for (k, node) in nodes.enumerated() {
            if case .input(let i) = node { reaches[k] = needs[i] } else { reaches[k] = node.operands.contains { reaches[$0] } }
        }
        let root = outputs[0]
        guard reaches[root] else { return nil }
        let builder = Builder(inputCount: inputCount + 1)
        // The forward nodes come first, at the same indices (they are unique).
        let forward = nodes.map { builder.add($0) }
        let seed = builder.input(inputCount)
        var adjoint = [Int?](repeating: nil, count: nodes.count)
        adjoint[root] = seed
        func accumulate(_ node: Int, _ contribution: Int) {
            guard reaches[node] else { return }
            adjoint[node] = adjoint[node].map { builder.add(.binary(.add, $0, contribution)) } ?? contribution
        }
        for k in nodes.indices.reversed() {
            guard let g = adjoint[k], reaches[k] else { continue }
            switch nodes[k] {
            case .input, .unaryGradient, .binaryGradient: break
            case .unary(let op, let x):
                if reaches[x] { accumulate(x, builder.add(.unaryGradient(op, x: forward[x], y: forward[k], grad: g))) }
            case .binary(let op, let a, let b):
                switch op {
                case .add:
                    accumulate(a, g)
                    accumulate(b, g)
                case .subtract:
                    accumulate(a, g)
                    if reaches[b] { accumulate(b, builder.add(.unary(.negate, g))) }
                default:
                    if reaches[a] { accumulate(a, builder.add(.binaryGradient(op, forward[a], forward[b], grad: g, wantB: false))) }
                    if reaches[b] { accumulate(b, builder.add(.binaryGradient(op, forward[a], forward[b], grad: g, wantB: true))) }
                }
            }
        }
        var outputs: [Int] = [], outputOf = [Int?](repeating: nil, count: inputCount)
        for (k, node) in nodes.enumerated() {
            guard case .input(let i) = node, needs[i], let g = adjoint[k] else { continue }
            // Inputs with the same gradient (x and b of x + b) share one.
            if let shared = outputs.firstIndex(of: g) {
                outputOf[i] = shared
            } else {
                outputOf[i] = outputs.count
                outputs.append(g)
            }
        }
        guard !outputs.isEmpty else { return nil }
        return (builder.finish(outputs: outputs), outputOf)
    }
}

/// Where each input of a fused op reads its element: the output shape
/// collapsed together with every input's strides (0 along the axes it is
/// broadcast over). At most `maxRank` axes remain, so kernels index with no
/// division; a layout that needs more is not fused (nil).
public struct FusedLayout: Equatable, Sendable {
    public static let maxRank = 3
    /// Collapsed output shape, 1 to `maxRank` axes.
    public let shape: [Int]
    /// Per input, the stride of each axis of `shape`.
    public let strides: [[Int]]
    /// Number of output elements.
    public let count: Int

    /// `inputs` broadcast (NumPy rules) to `output`; nil when one does not
    /// broadcast to it or the walk needs more than `maxRank` axes.
    public init?(output: [Int], inputs: [[Int]]) {
        var strides: [[Int]] = []
        for s in inputs {
            guard let operand = broadcastStrides(s, to: output) else { return nil }
            strides.append(operand)
        }
        let walk = collapsedAxes(output, strides)
        guard walk.shape.count <= FusedLayout.maxRank else { return nil }
        self.shape = walk.shape
        self.strides = walk.strides
        self.count = output.reduce(1, *)
    }

    /// Whether input k reads element i at i (no broadcast).
    public func isDense(_ k: Int) -> Bool {
        var running = 1
        for axis in shape.indices.reversed() {
            if shape[axis] != 1 && strides[k][axis] != running { return false }
            running *= shape[axis]
        }
        return true
    }
}
