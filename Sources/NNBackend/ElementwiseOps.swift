/// Elementwise functions of one operand. Activations are here too: a backend
/// implements each case once for the forward and once for the derivative.
public enum UnaryOp: Hashable, Sendable {
    case negate, abs, square, sqrt, exp, log, reciprocal, sin, cos
    case sigmoid, tanh, relu
    /// x if x > 0 else slope * x
    case leakyReLU(slope: Double)
    /// x if x > 0 else alpha * (exp(x) - 1)
    case elu(alpha: Double)
    /// log(1 + exp(beta * x)) / beta, linear where beta * x > threshold
    /// (PyTorch's Softplus).
    case softplus(beta: Double, threshold: Double)
    case addScalar(Double)
    case multiplyScalar(Double)
    /// x ** p
    case power(Double)
    /// min(max(x, min), max)
    case clamp(min: Double, max: Double)
    /// 1 where x > 0, -1 where x < 0, 0 at 0 (no gradient).
    case sign
}

/// Elementwise functions of two operands, broadcast NumPy-style.
public enum BinaryOp: Hashable, Sendable, CaseIterable {
    case add, subtract, multiply, divide, maximum, minimum, power
}

/// How two operands broadcast to one output: the output shape and, for each
/// operand, the stride of every output axis (0 along broadcast axes). Axes
/// that both operands walk contiguously are merged, so a plain same-shape op
/// is rank 1 and kernels loop over as few axes as possible.
public struct BroadcastLayout: Equatable, Sendable {
    /// The output's shape, as the op returns it.
    public let outputShape: [Int]
    /// Collapsed output shape (rank >= 1).
    public let shape: [Int]
    public let aStrides: [Int]
    public let bStrides: [Int]
    /// Number of output elements.
    public let count: Int

    /// The broadcast of `a` and `b`, or nil when they are incompatible.
    public static func outputShape(_ a: [Int], _ b: [Int]) -> [Int]? {
        let rank = Swift.max(a.count, b.count)
        var out = [Int](repeating: 1, count: rank)
        for i in 0..<rank {
            let da = i < rank - a.count ? 1 : a[i - (rank - a.count)]
            let db = i < rank - b.count ? 1 : b[i - (rank - b.count)]
            if da == db || db == 1 { out[i] = da } else if da == 1 { out[i] = db } else { return nil }
        }
        return out
    }

    public init?(_ a: [Int], _ b: [Int]) {
        if a == b {
            // The common case, without the arrays of the general walk: one
            // dense axis, exactly what collapsedAxes gives for it (stride 0
            // when every axis is 1).
            let count = a.reduce(1, *)
            outputShape = a
            shape = [count]
            aStrides = [count == 1 ? 0 : 1]
            bStrides = aStrides
            self.count = count
            return
        }
        guard let out = BroadcastLayout.outputShape(a, b) else { return nil }
        let walk = collapsedAxes(out, broadcastStrides(a, to: out)!, broadcastStrides(b, to: out)!)
        outputShape = out
        self.shape = walk.shape
        self.aStrides = walk.a
        self.bStrides = walk.b
        self.count = out.reduce(1, *)
    }
}

/// The stride of each axis of `output` for an operand of `shape` broadcast
/// to it (NumPy rules: aligned at the last axis, 0 along axes the operand
/// lacks or has as 1); nil when it does not broadcast to `output`.
package func broadcastStrides(_ shape: [Int], to output: [Int]) -> [Int]? {
    let rank = output.count, lead = rank - shape.count
    guard lead >= 0 else { return nil }
    var result = [Int](repeating: 0, count: rank), running = 1
    for i in stride(from: shape.count - 1, through: 0, by: -1) {
        let size = shape[i]
        guard size == output[i + lead] || size == 1 else { return nil }
        result[i + lead] = size == 1 ? 0 : running
        running *= size
    }
    return result
}

/// Elementwise arithmetic and activations.
public protocol ElementwiseOps: AnyObject {
    /// out[i] = op(x[i]) for i < count.
    func unary(_ op: UnaryOp, _ x: DeviceBuffer, out: DeviceBuffer, count: Int)

    /// gradX[i] = gradOut[i] * op'(x[i]), where `y` holds op(x) from the
    /// forward pass (sigmoid, tanh, exp, sqrt, reciprocal and ELU read y; the
    /// others x).
    func unaryBackward(_ op: UnaryOp, x: DeviceBuffer, y: DeviceBuffer, gradOut: DeviceBuffer,
                       gradX: DeviceBuffer, count: Int)

    /// out = op(a, b) broadcast per `layout`; out is dense with layout.count
    /// elements.
    func binary(_ op: BinaryOp, _ a: DeviceBuffer, _ b: DeviceBuffer, out: DeviceBuffer,
                layout: BroadcastLayout)

    /// The partial derivatives of `binary`, times gradOut, at output shape:
    /// gradA = gradOut * d op/da, gradB = gradOut * d op/db (either may be nil
    /// when not needed). Reducing them to the operands' shapes is the
    /// caller's job (a sum over the broadcast axes).
    func binaryBackward(_ op: BinaryOp, _ a: DeviceBuffer, _ b: DeviceBuffer, gradOut: DeviceBuffer,
                        gradA: DeviceBuffer?, gradB: DeviceBuffer?, layout: BroadcastLayout)

    /// Runs a chain of the ops above as one pass: outputs[j][i] = output j of
    /// `program` at element i, input k read at element i's offset under
    /// `layout.strides[k]`. Outputs are dense with layout.count elements and
    /// alias no input. Each node rounds as its own op would, so the result
    /// is the same bits as the chain run op by op on this backend.
    func fused(_ program: ElementwiseProgram, inputs: [DeviceBuffer], outputs: [DeviceBuffer], layout: FusedLayout)
}
