import XCTest
@testable import NN

/// Every elementwise op, forward and backward, on inputs where each op is
/// defined; OpenCL's transcendental functions may differ from glibc's by a
/// few ulps, hence 1e-5 relative.
final class ElementwiseParityTests: XCTestCase {
    static let tolerance = Tolerance.elementwise(rel: 1e-5, abs: 1e-6)

    static let unaryOps: [(UnaryOp, Double, Double)] = [
        (.negate, -3, 3), (.abs, -3, 3), (.square, -3, 3), (.sqrt, 0.1, 4), (.exp, -5, 5), (.log, 0.05, 9),
        (.reciprocal, 0.2, 3), (.sin, -4, 4), (.cos, -4, 4), (.sigmoid, -8, 8), (.tanh, -4, 4), (.relu, -2, 2),
        (.leakyReLU(slope: 0.1), -2, 2), (.elu(alpha: 1.3), -3, 3), (.softplus(beta: 2, threshold: 5), -4, 4),
        (.addScalar(0.5), -1, 1), (.multiplyScalar(-1.5), -1, 1), (.power(3), -2, 2), (.power(2), -2, 2),
        (.power(0.5), 0.1, 4), (.clamp(min: -0.5, max: 0.25), -1, 1), (.sign, -1, 1),
    ]

    func testUnaryForwardAndBackward() throws {
        for (index, (op, low, high)) in Self.unaryOps.enumerated() {
            for count in [1, 7, 1000, 65_537] {
                let seed = UInt64(index * 10 + count)
                try assertParity("\(op) n=\(count)", [.random(count, seed: seed, low: low, high: high), .random(count, seed: seed + 1)],
                                 Self.tolerance) { backend, x in
                    let y = backend.makeBuffer(count: count, dtype: .float32), gx = backend.makeBuffer(count: count, dtype: .float32)
                    backend.unary(op, x[0], out: y, count: count)
                    backend.unaryBackward(op, x: x[0], y: y, gradOut: x[1], gradX: gx, count: count)
                    return [y, gx]
                }
            }
        }
    }

    func testUnaryFloat64() throws {
        for (index, (op, low, high)) in Self.unaryOps.enumerated() {
            try assertParity("\(op) f64", [.random(257, seed: UInt64(index), low: low, high: high, dtype: .float64),
                                           .random(257, seed: 99, dtype: .float64)],
                             .elementwise(rel: 1e-12, abs: 1e-14), dtype: .float64) { backend, x in
                let y = backend.makeBuffer(count: 257, dtype: .float64), gx = backend.makeBuffer(count: 257, dtype: .float64)
                backend.unary(op, x[0], out: y, count: 257)
                backend.unaryBackward(op, x: x[0], y: y, gradOut: x[1], gradX: gx, count: 257)
                return [y, gx]
            }
        }
    }

    func testBinaryBroadcastForwardAndBackward() throws {
        let shapes: [([Int], [Int])] = [([1], [1]), ([7], [7]), ([2, 3], [3]), ([3, 1], [1, 4]), ([2, 3, 4], [3, 1]),
                                        ([5], [2, 5]), ([31, 1, 7], [1, 13, 1]), ([300, 200], [300, 200])]
        for op in BinaryOp.allCases {
            for (sa, sb) in shapes {
                let layout = BroadcastLayout(sa, sb)!
                let positive = op == .power || op == .divide
                try assertParity("\(op) \(sa) \(sb)", [.random(sa.reduce(1, *), seed: 1, low: positive ? 0.5 : -2, high: 2),
                                                       .random(sb.reduce(1, *), seed: 2, low: positive ? 0.5 : -2, high: 2),
                                                       .random(layout.count, seed: 3)], Self.tolerance) { backend, x in
                    let out = backend.makeBuffer(count: layout.count, dtype: .float32)
                    let ga = backend.makeBuffer(count: layout.count, dtype: .float32)
                    let gb = backend.makeBuffer(count: layout.count, dtype: .float32)
                    backend.binary(op, x[0], x[1], out: out, layout: layout)
                    backend.binaryBackward(op, x[0], x[1], gradOut: x[2], gradA: ga, gradB: gb, layout: layout)
                    return [out, ga, gb]
                }
            }
        }
    }

    /// Ops that round nothing must agree bit for bit, on the inputs where
    /// their rules matter: zeros (relu/abs/sign derivatives), clamp bounds,
    /// and ties (maximum/minimum split the gradient).
    func testExactOpsOnZerosBoundsAndTies() throws {
        let grid: [Float] = [-2, -1, -0.5, 0, 0.5, 1, 2, 0, -0.5, 0.5]
        let gradient: [Float] = [1, -2, 0.5, 3, -1, 0.25, 2, -4, 1.5, -0.75]
        for op in [UnaryOp.negate, .abs, .relu, .sign, .clamp(min: -0.5, max: 0.5), .addScalar(0.5), .multiplyScalar(2),
                   .leakyReLU(slope: 0.25), .square] {
            try assertParity("exact \(op)", [.float(grid), .float(gradient)], .exact) { backend, x in
                let y = backend.makeBuffer(count: grid.count, dtype: .float32), gx = backend.makeBuffer(count: grid.count, dtype: .float32)
                backend.unary(op, x[0], out: y, count: grid.count)
                backend.unaryBackward(op, x: x[0], y: y, gradOut: x[1], gradX: gx, count: grid.count)
                return [y, gx]
            }
        }
        let other: [Float] = [-2, 1, -0.5, 0, 1, 1, -2, 0, 0.5, 0.5]  // ties at 0, 2, 3, 5, 7, 9
        let layout = BroadcastLayout([grid.count], [grid.count])!
        for op in [BinaryOp.add, .subtract, .multiply, .maximum, .minimum] {
            try assertParity("exact \(op)", [.float(grid), .float(other), .float(gradient)], .exact) { backend, x in
                let out = backend.makeBuffer(count: grid.count, dtype: .float32)
                let ga = backend.makeBuffer(count: grid.count, dtype: .float32), gb = backend.makeBuffer(count: grid.count, dtype: .float32)
                backend.binary(op, x[0], x[1], out: out, layout: layout)
                backend.binaryBackward(op, x[0], x[1], gradOut: x[2], gradA: ga, gradB: gb, layout: layout)
                return [out, ga, gb]
            }
        }
    }
}
