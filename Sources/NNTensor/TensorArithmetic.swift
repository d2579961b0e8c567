import NNBackend

/// Elementwise arithmetic with NumPy/PyTorch broadcasting, and the unary math
/// functions. Every op here is one backend call forward and one backward.
extension Tensor {
    /// op(a, b) with broadcasting; the backward reduces each partial back to
    /// its operand's shape.
    static func binary(_ op: BinaryOp, _ name: String, _ a: Tensor, _ b: Tensor) -> Tensor {
        checkCompatible(name, a, b)
        require(a.dtype.isFloatingPoint, "\(name): arithmetic needs float tensors, got \(a.dtype)")
        guard let layout = BroadcastLayout(a.shape, b.shape) else {
            requirementFailed(ShapeErrors.notBroadcastable(name, a.shape, b.shape))
        }
        let out = a.emptyLike(layout.outputShape)
        a.backend.binary(op, a.buffer, b.buffer, out: out.buffer, layout: layout)
        return record(name, inputs: [a, b], output: out) { g, needs in
            switch op {
            // Sums pass the gradient through unchanged: no kernel needed.
            case .add:
                return [needs[0] ? g.sumToShape(a.shape) : nil, needs[1] ? g.sumToShape(b.shape) : nil]
            case .subtract:
                return [needs[0] ? g.sumToShape(a.shape) : nil, needs[1] ? (-g).sumToShape(b.shape) : nil]
            default:
                let ga = needs[0] ? g.emptyLike() : nil, gb = needs[1] ? g.emptyLike() : nil
                a.backend.binaryBackward(op, a.buffer, b.buffer, gradOut: g.buffer, gradA: ga?.buffer, gradB: gb?.buffer,
                                         layout: layout)
                return [ga?.sumToShape(a.shape), gb?.sumToShape(b.shape)]
            }
        }
    }

    /// op(x) elementwise; the backward hands the backend x, y and the
    /// gradient.
    func unary(_ op: UnaryOp, _ name: String) -> Tensor {
        require(dtype.isFloatingPoint, "\(name): needs a float tensor, got \(dtype) \(shape)")
        let out = emptyLike()
        backend.unary(op, buffer, out: out.buffer, count: count)
        let x = self
        return Tensor.record(name, inputs: [self], output: out) { g, _ in
            let gx = g.emptyLike()
            x.backend.unaryBackward(op, x: x.buffer, y: out.buffer, gradOut: g.buffer, gradX: gx.buffer, count: x.count)
            return [gx]
        }
    }

    /// The sum of this (broadcast) gradient over the axes that broadcasting
    /// added or stretched, giving `target`'s shape.
    package func sumToShape(_ target: [Int]) -> Tensor {
        if shape == target { return self }
        let lead = rank - target.count
        require(lead >= 0, ShapeErrors.mismatch("sumToShape", shape, target, "cannot reduce to a higher rank"))
        let axes = (0..<rank).filter { $0 < lead || (target[$0 - lead] == 1 && shape[$0] != 1) }
        return sum(axes: axes, keepDims: true).reshaped(target)
    }

    // MARK: Operators

    public static func + (a: Tensor, b: Tensor) -> Tensor { binary(.add, "add", a, b) }
    public static func - (a: Tensor, b: Tensor) -> Tensor { binary(.subtract, "subtract", a, b) }
    public static func * (a: Tensor, b: Tensor) -> Tensor { binary(.multiply, "multiply", a, b) }
    public static func / (a: Tensor, b: Tensor) -> Tensor { binary(.divide, "divide", a, b) }

    public static func + (a: Tensor, s: Double) -> Tensor { a.unary(.addScalar(s), "add") }
    public static func + (s: Double, a: Tensor) -> Tensor { a.unary(.addScalar(s), "add") }
    public static func - (a: Tensor, s: Double) -> Tensor { a.unary(.addScalar(-s), "subtract") }
    public static func - (s: Double, a: Tensor) -> Tensor { (-a).unary(.addScalar(s), "subtract") }
    public static func * (a: Tensor, s: Double) -> Tensor { a.unary(.multiplyScalar(s), "multiply") }
    public static func * (s: Double, a: Tensor) -> Tensor { a.unary(.multiplyScalar(s), "multiply") }
    public static func / (a: Tensor, s: Double) -> Tensor { a.unary(.multiplyScalar(1 / s), "divide") }
    public static func / (s: Double, a: Tensor) -> Tensor { a.unary(.reciprocal, "reciprocal").unary(.multiplyScalar(s), "divide") }
    public static prefix func - (a: Tensor) -> Tensor { a.unary(.negate, "negate") }

    public static func += (a: inout Tensor, b: Tensor) { a = a + b }
    public static func -= (a: inout Tensor, b: Tensor) { a = a - b }
    public static func *= (a: inout Tensor, b: Tensor) { a = a * b }

    // MARK: Math functions

    public func exp() -> Tensor { unary(.exp, "exp") }
    public func log() -> Tensor { unary(.log, "log") }
    public func sqrt() -> Tensor { unary(.sqrt, "sqrt") }
    public func square() -> Tensor { unary(.square, "square") }
    public func abs() -> Tensor { unary(.abs, "abs") }
    public func reciprocal() -> Tensor { unary(.reciprocal, "reciprocal") }
    public func sin() -> Tensor { unary(.sin, "sin") }
    public func cos() -> Tensor { unary(.cos, "cos") }
    public func sign() -> Tensor { unary(.sign, "sign") }
    public func pow(_ exponent: Double) -> Tensor { unary(.power(exponent), "pow") }
    public func pow(_ exponent: Tensor) -> Tensor { Tensor.binary(.power, "pow", self, exponent) }
    public func clamp(min: Double = -.infinity, max: Double = .infinity) -> Tensor {
        unary(.clamp(min: min, max: max), "clamp")
    }

    /// Elementwise maximum (ties split the gradient, as PyTorch).
    public static func maximum(_ a: Tensor, _ b: Tensor) -> Tensor { binary(.maximum, "maximum", a, b) }
    public static func minimum(_ a: Tensor, _ b: Tensor) -> Tensor { binary(.minimum, "minimum", a, b) }
}

// MARK: - Activations

extension Tensor {
    public func sigmoid() -> Tensor { unary(.sigmoid, "sigmoid") }
    public func tanh() -> Tensor { unary(.tanh, "tanh") }
    public func relu() -> Tensor { unary(.relu, "relu") }
    /// PyTorch's default negative slope is 0.01.
    public func leakyReLU(negativeSlope: Double = 0.01) -> Tensor { unary(.leakyReLU(slope: negativeSlope), "leakyReLU") }
    public func elu(alpha: Double = 1) -> Tensor { unary(.elu(alpha: alpha), "elu") }
    /// PyTorch's Softplus: log(1 + exp(beta x)) / beta, linear above threshold.
    public func softplus(beta: Double = 1, threshold: Double = 20) -> Tensor {
        unary(.softplus(beta: beta, threshold: threshold), "softplus")
    }
}
