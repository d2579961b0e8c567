import Foundation
import NNBackend
import Synchronization

/// An elementwise function traced once and run as one kernel per call, with
/// one more for its gradient: the chain's intermediates never reach memory,
/// and a chain of n ops costs one launch instead of n (and its backward one
/// instead of up to 2n).
///
///     let swish = FusedElementwise("swish") { x in x * x.sigmoid() }
///     let y = swish(x)                     // x * sigmoid(x), one kernel
///     let biasReLU = FusedElementwise { x, b in (x + b).relu() }
///     let h = biasReLU(product, bias)      // bias [n] broadcast over [m, n]
///
/// The body sees `FusedValue`s, which offer Tensor's elementwise ops and
/// activations under the same names. Inputs broadcast as in Tensor's
/// arithmetic. Each node rounds as the Tensor op of the same name does, so
/// the result is the same bits as `unfused(_:)`, the chain run op by op, and
/// so are the gradients of inputs of the output's shape (where a value
/// feeds three or more ops, its gradient contributions may add in another
/// order). A broadcast input's gradient is summed over the broadcast once,
/// at the end, where op by op each op sums its share: equal to rounding,
/// and the same bits when the input meets the broadcast at its first op
/// (a bias added, a slope multiplied). A broadcast that needs more than
/// `FusedLayout.maxRank` axes after collapsing runs unfused.
public struct FusedElementwise: Sendable {
    public let name: String
    public let program: ElementwiseProgram

    /// Traces `body` over `inputs` symbolic operands.
    public init(_ name: String = "fused", inputs: Int, _ body: ([FusedValue]) -> FusedValue) {
        require(inputs >= 1, "FusedElementwise(\(name)): needs at least one input")
        let builder = ElementwiseProgram.Builder(inputCount: inputs)
        let operands = (0..<inputs).map { FusedValue(builder, builder.input($0)) }
        let result = body(operands)
        require(result.builder === builder, "FusedElementwise(\(name)): the body returned a value traced by another function")
        self.name = name
        program = builder.finish(outputs: [result.node])
    }

    public init(_ name: String = "fused", _ body: (FusedValue) -> FusedValue) {
        self.init(name, inputs: 1) { body($0[0]) }
    }

    public init(_ name: String = "fused", _ body: (FusedValue, FusedValue) -> FusedValue) {
        self.init(name, inputs: 2) { body($0[0], $0[1]) }
    }

    public init(_ name: String = "fused", _ body: (FusedValue, FusedValue, FusedValue) -> FusedValue) {
        self.init(name, inputs: 3) { body($0[0], $0[1], $0[2]) }
    }

    public func callAsFunction(_ inputs: Tensor...) -> Tensor { callAsFunction(inputs) }

    public func callAsFunction(_ inputs: [Tensor]) -> Tensor {
        let shape = outputShape(inputs)
        let shapes = inputs.map(\.shape)
        guard let layout = FusedLayout(output: shape, inputs: shapes) else { return unfused(inputs) }
        let out = inputs[0].emptyLike(shape)
        inputs[0].backend.fused(program, inputs: inputs.map(\.buffer), outputs: [out.buffer], layout: layout)
        let program = program
        return Tensor.record(name, inputs: inputs, output: out) { g, needs in
            guard let (gradient, outputOf) = GradientPrograms.shared.program(of: program, needs: needs) else {
                return needs.map { _ in nil }
            }
            // One more dense operand (the gradient) collapses the same way.
            let gradientLayout = FusedLayout(output: shape, inputs: shapes + [shape])!
            let grads = gradient.outputs.map { _ in g.emptyLike() }
            g.backend.fused(gradient, inputs: inputs.map(\.buffer) + [g.buffer], outputs: grads.map(\.buffer),
                            layout: gradientLayout)
            return inputs.indices.map { k in outputOf[k].map { grads[$0].sumToShape(shapes[k]) } }
        }
    }

    /// The same chain run op by op through Tensor's ops (the reference the
    /// fused kernel is tested against, and the path for layouts it cannot
    /// walk).
    public func unfused(_ inputs: [Tensor]) -> Tensor {
        _ = outputShape(inputs)
        var values: [Tensor] = []
        for node in program.nodes {
            switch node {
            case .input(let k): values.append(inputs[k])
            case .unary(let op, let x): values.append(values[x].unary(op, "\(op)"))
            case .binary(let op, let a, let b): values.append(Tensor.binary(op, "\(op)", values[a], values[b]))
            case .unaryGradient, .binaryGradient:
                requirementFailed("FusedElementwise(\(name)).unfused: a traced function has no gradient nodes")
            }
        }
        return values[program.outputs[0]]
    }

    /// Checks the operands and gives their broadcast shape.
    private func outputShape(_ inputs: [Tensor]) -> [Int] {
        require(inputs.count == program.inputCount,
                "FusedElementwise(\(name)): \(inputs.count) inputs given, the function takes \(program.inputCount)")
        var shape = inputs[0].shape
        for t in inputs {
            Tensor.checkCompatible(name, inputs[0], t)
            require(t.dtype.isFloatingPoint, "\(name): arithmetic needs float tensors, got \(t.dtype)")
            guard let s = BroadcastLayout.outputShape(shape, t.shape) else {
                requirementFailed(ShapeErrors.notBroadcastable(name, shape, t.shape))
            }
            shape = s
        }
        return shape
    }
}

/// The gradient programs of traced functions, derived on first use for each
/// program and set of inputs wanting gradients, and shared by every
/// function with the same program (layers trace theirs on each call).
/// Backward passes on several threads share it, hence the mutex; a program
/// embeds its scalars, so a scalar that changes every step makes new
/// entries, and the table starts over past `capacity`.
private final class GradientPrograms: Sendable {
    static let shared = GradientPrograms()
    private static let capacity = 4096
    private struct Key: Hashable {
        let program: ElementwiseProgram
        let needs: [Bool]
    }
    /// nil entries: programs without a gradient program, kept so they are
    /// not derived again.
    private let programs = Mutex<[Key: (program: ElementwiseProgram, outputOf: [Int?])?]>([:])

    func program(of forward: ElementwiseProgram, needs: [Bool]) -> (program: ElementwiseProgram, outputOf: [Int?])? {
        let key = Key(program: forward, needs: needs)
        return programs.withLock { programs in
            if let known = programs[key] { return known }
            let derived = forward.gradient(needs: needs)
            if programs.count >= GradientPrograms.capacity { programs.removeAll() }
            programs[key] = .some(derived)
            return derived
        }
    }
}

/// A value inside a `FusedElementwise` body: one node of the chain being
/// traced. It offers Tensor's elementwise ops, built the same way (a
/// scalar on the left of - or / included), so the chain rounds as Tensor's.
public struct FusedValue {
    let builder: ElementwiseProgram.Builder
    let node: Int

    init(_ builder: ElementwiseProgram.Builder, _ node: Int) {
        self.builder = builder
        self.node = node
    }

    func unary(_ op: UnaryOp) -> FusedValue { FusedValue(builder, builder.add(.unary(op, node))) }

    static func binary(_ op: BinaryOp, _ a: FusedValue, _ b: FusedValue) -> FusedValue {
        require(a.builder === b.builder, "FusedElementwise: values of two different traced functions combined")
        return FusedValue(a.builder, a.builder.add(.binary(op, a.node, b.node)))
    }

    public static func + (a: FusedValue, b: FusedValue) -> FusedValue { binary(.add, a, b) }
    public static func - (a: FusedValue, b: FusedValue) -> FusedValue { binary(.subtract, a, b) }
    public static func * (a: FusedValue, b: FusedValue) -> FusedValue { binary(.multiply, a, b) }
    public static func / (a: FusedValue, b: FusedValue) -> FusedValue { binary(.divide, a, b) }

    public static func + (a: FusedValue, s: Double) -> FusedValue { a.unary(.addScalar(s)) }
    public static func + (s: Double, a: FusedValue) -> FusedValue { a.unary(.addScalar(s)) }
    public static func - (a: FusedValue, s: Double) -> FusedValue { a.unary(.addScalar(-s)) }
    public static func - (s: Double, a: FusedValue) -> FusedValue { (-a).unary(.addScalar(s)) }
    public static func * (a: FusedValue, s: Double) -> FusedValue { a.unary(.multiplyScalar(s)) }
    public static func * (s: Double, a: FusedValue) -> FusedValue { a.unary(.multiplyScalar(s)) }
    public static func / (a: FusedValue, s: Double) -> FusedValue { a.unary(.multiplyScalar(1 / s)) }
    public static func / (s: Double, a: FusedValue) -> FusedValue { a.unary(.reciprocal).unary(.multiplyScalar(s)) }
    public static prefix func - (a: FusedValue) -> FusedValue { a.unary(.negate) }

    public func exp() -> FusedValue { unary(.exp) }
    public func log() -> FusedValue { unary(.log) }
    public func sqrt() -> FusedValue { unary(.sqrt) }
    public func square() -> FusedValue { unary(.square) }
    public func abs() -> FusedValue { unary(.abs) }
    public func reciprocal() -> FusedValue { unary(.reciprocal) }
    public func sin() -> FusedValue { unary(.sin) }
    public func cos() -> FusedValue { unary(.cos) }
    public func sign() -> FusedValue { unary(.sign) }
    public func pow(_ exponent: Double) -> FusedValue { unary(.power(exponent)) }
    public func pow(_ exponent: FusedValue) -> FusedValue { FusedValue.binary(.power, self, exponent) }
    public func clamp(min: Double = -.infinity, max: Double = .infinity) -> FusedValue { unary(.clamp(min: min, max: max)) }
    public static func maximum(_ a: FusedValue, _ b: FusedValue) -> FusedValue { binary(.maximum, a, b) }
    public static func minimum(_ a: FusedValue, _ b: FusedValue) -> FusedValue { binary(.minimum, a, b) }

    public func sigmoid() -> FusedValue { unary(.sigmoid) }
    public func tanh() -> FusedValue { unary(.tanh) }
    public func relu() -> FusedValue { unary(.relu) }
    public func leakyReLU(negativeSlope: Double = 0.01) -> FusedValue { unary(.leakyReLU(slope: negativeSlope)) }
    public func elu(alpha: Double = 1) -> FusedValue { unary(.elu(alpha: alpha)) }
    public func softplus(beta: Double = 1, threshold: Double = 20) -> FusedValue {
        unary(.softplus(beta: beta, threshold: threshold))
    }
}
