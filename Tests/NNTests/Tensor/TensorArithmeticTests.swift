import Foundation
import XCTest
@testable import NN

/// Elementwise arithmetic, math functions and activations: forward values
/// against Double references, and gradient checks of every op.
final class TensorArithmeticTests: XCTestCase {
    /// Operand shape pairs covering broadcasting in both directions.
    private let shapePairs: [([Int], [Int])] = [
        ([2, 3], [2, 3]), ([2, 3], [3]), ([3], [2, 3]), ([2, 1], [1, 3]), ([1, 3], [2, 1]),
        ([2, 3], []), ([], [2, 3]), ([2, 3], [1]), ([4, 1, 3], [2, 1]), ([], []),
    ]

    private let binaryOps: [(name: String, op: (Tensor, Tensor) -> Tensor, ref: (Double, Double) -> Double)] = [
        ("add", { $0 + $1 }, { $0 + $1 }),
        ("subtract", { $0 - $1 }, { $0 - $1 }),
        ("multiply", { $0 * $1 }, { $0 * $1 }),
        ("divide", { $0 / $1 }, { $0 / $1 }),
        ("maximum", { Tensor.maximum($0, $1) }, { Swift.max($0, $1) }),
        ("minimum", { Tensor.minimum($0, $1) }, { Swift.min($0, $1) }),
    ]

    // MARK: - Forward

    func testBinaryForwardWithBroadcastingFloat64() throws {
        let pairs = shapePairs + [([7, 13], [13]), ([7, 1], [1, 13]), ([31, 1, 7], [13, 1]), ([1], [7]), ([13, 7], [1, 1])]
        for (aShape, bShape) in pairs {
            let av = TT.awayFromZero(TT.count(aShape), seed: 11), bv = TT.awayFromZero(TT.count(bShape), seed: 12)
            for (name, op, ref) in binaryOps {
                let out = op(TT.f64(av, aShape), TT.f64(bv, bShape))
                let expected = TT.broadcastOp(av, aShape, bv, bShape, ref)
                XCTAssertEqual(out.shape, expected.shape, "\(name) \(aShape) \(bShape)")
                XCTAssertEqual(out.dtype, .float64)
                assertTensorValues(try TT.values(out), expected.values, abs: 0, rel: 1e-15, "\(name) \(aShape) \(bShape)")
            }
        }
    }

    func testBinaryForwardWithBroadcastingFloat32() throws {
        for (aShape, bShape) in [([257, 129], [129]), ([31, 1], [1, 13]), ([13], [7, 13]), ([5, 7], [])] {
            let av = TT.awayFromZero(TT.count(aShape), seed: 21), bv = TT.awayFromZero(TT.count(bShape), seed: 22)
            for (name, op, ref) in binaryOps {
                let out = op(TT.f32(av, aShape), TT.f32(bv, bShape))
                XCTAssertEqual(out.dtype, .float32)
                // The float32 result is the correctly rounded Double result.
                let expected = TT.broadcastOp(av, aShape, bv, bShape) { Double(Float(ref($0, $1))) }
                XCTAssertEqual(out.shape, expected.shape, "\(name) \(aShape) \(bShape)")
                assertTensorValues(try TT.values(out), expected.values, abs: 0, rel: 0, "\(name) \(aShape) \(bShape)")
            }
        }
    }

    func testZeroDimensionalArithmetic() throws {
        let a = TT.f64([3], []), b = TT.f64([4], [])
        let s = a + b
        XCTAssertEqual(s.shape, [])
        XCTAssertEqual(s.count, 1)
        XCTAssertEqual(try s.scalarDouble(), 7)
        XCTAssertEqual(try (a * b).scalarDouble(), 12)
        XCTAssertEqual(try (a - b).scalarDouble(), -1)
        XCTAssertEqual(try (b / a * 3).scalarDouble(), 4, accuracy: 1e-15)
        let m = TT.f64([1, 2, 3, 4, 5, 6], [2, 3]) * a
        XCTAssertEqual(m.shape, [2, 3])
        XCTAssertEqual(try TT.values(m), [3, 6, 9, 12, 15, 18])
        let one = TT.f64([2], [1]) + TT.f64([5], [1])
        XCTAssertEqual(one.shape, [1])
        XCTAssertEqual(try one.scalarDouble(), 7)
    }

    func testTensorScalarOperators() throws {
        let v = [0.5, -2, 4, 1.25]
        let x = TT.f64(v, [2, 2])
        let cases: [(String, Tensor, [Double])] = [
            ("x + 2.5", x + 2.5, v.map { $0 + 2.5 }),
            ("2.5 + x", 2.5 + x, v.map { 2.5 + $0 }),
            ("x - 1.5", x - 1.5, v.map { $0 - 1.5 }),
            ("1.5 - x", 1.5 - x, v.map { 1.5 - $0 }),
            ("x * -3", x * -3, v.map { $0 * -3 }),
            ("-3 * x", -3 * x, v.map { -3 * $0 }),
            ("x / 4", x / 4, v.map { $0 / 4 }),
            ("4 / x", 4 / x, v.map { 4 / $0 }),
            ("-x", -x, v.map { -$0 }),
        ]
        for (name, t, expected) in cases {
            XCTAssertEqual(t.shape, [2, 2], name)
            assertTensorValues(try TT.values(t), expected, abs: 0, rel: 1e-15, name)
        }
        var y = x
        y += x
        y -= TT.f64([1], [1])
        y *= TT.f64([2, 3], [2, 1])
        assertTensorValues(try TT.values(y), [(1 - 1) * 2, (-4 - 1) * 2, (8 - 1) * 3, (2.5 - 1) * 3], abs: 0, rel: 0)
    }

    func testUnaryMathForward() throws {
        let v = [0.25, 0.5, 1.5, 2.75, 3.0, 7.0, 13.0]  // positive for log/sqrt
        let signed = [-2.5, -0.75, -0.125, 0.0, 0.375, 1.0, 3.5]
        let x = TT.f64(v, [7]), s = TT.f64(signed, [7])
        let cases: [(String, Tensor, [Double])] = [
            ("exp", s.exp(), signed.map { Foundation.exp($0) }),
            ("log", x.log(), v.map { Foundation.log($0) }),
            ("sqrt", x.sqrt(), v.map { $0.squareRoot() }),
            ("square", s.square(), signed.map { $0 * $0 }),
            ("abs", s.abs(), signed.map { Swift.abs($0) }),
            ("reciprocal", x.reciprocal(), v.map { 1 / $0 }),
            ("sin", s.sin(), signed.map { Foundation.sin($0) }),
            ("cos", s.cos(), signed.map { Foundation.cos($0) }),
            ("sign", s.sign(), [-1, -1, -1, 0, 1, 1, 1]),
            ("pow 3", s.pow(3), signed.map { Foundation.pow($0, 3) }),
            ("pow 2", s.pow(2), signed.map { $0 * $0 }),
            ("pow 0.5", x.pow(0.5), v.map { $0.squareRoot() }),
            ("pow -1.5", x.pow(-1.5), v.map { Foundation.pow($0, -1.5) }),
            ("clamp", s.clamp(min: -0.5, max: 1), signed.map { Swift.min(Swift.max($0, -0.5), 1) }),
            ("clamp min", s.clamp(min: 0), signed.map { Swift.max($0, 0) }),
            ("clamp max", s.clamp(max: 0.2), signed.map { Swift.min($0, 0.2) }),
            ("pow tensor", x.pow(TT.f64([2], [1])), v.map { $0 * $0 }),
        ]
        for (name, t, expected) in cases {
            XCTAssertEqual(t.shape, [7], name)
            assertTensorValues(try TT.values(t), expected, abs: 1e-15, rel: 1e-14, name)
        }
        // float32 too, against correctly rounded references within 2 ulp.
        let x32 = TT.f32(v, [7])
        assertTensorValues(try TT.values(x32.log()), v.map { Foundation.log($0) }, abs: 1e-7, rel: 2.4e-7, "log f32")
        assertTensorValues(try TT.values(x32.exp()), v.map { Foundation.exp($0) }, abs: 0, rel: 2.4e-7, "exp f32")
    }

    func testPowTensorForwardBroadcast() throws {
        let base = [0.5, 1.5, 2.0, 3.0, 0.25, 4.0], exps = [2.0, -1.0, 0.5]
        let out = TT.f64(base, [2, 3]).pow(TT.f64(exps, [3]))
        let expected = TT.broadcastOp(base, [2, 3], exps, [3]) { Foundation.pow($0, $1) }
        assertTensorValues(try TT.values(out), expected.values, abs: 0, rel: 1e-15)
    }

    func testActivationsForwardByHand() throws {
        let v: [Double] = [-30, -2, -0.5, 0, 0.5, 2, 25]
        let x = TT.f64(v, [7])
        func sig(_ z: Double) -> Double { 1 / (1 + Foundation.exp(-z)) }
        let cases: [(String, Tensor, [Double])] = [
            ("sigmoid", x.sigmoid(), v.map(sig)),
            ("tanh", x.tanh(), v.map { Foundation.tanh($0) }),
            ("relu", x.relu(), [0, 0, 0, 0, 0.5, 2, 25]),
            ("leakyReLU", x.leakyReLU(), [-0.3, -0.02, -0.005, 0, 0.5, 2, 25]),
            ("leakyReLU 0.2", x.leakyReLU(negativeSlope: 0.2), [-6, -0.4, -0.1, 0, 0.5, 2, 25]),
            ("elu", x.elu(), v.map { $0 > 0 ? $0 : Foundation.exp($0) - 1 }),
            ("elu 0.7", x.elu(alpha: 0.7), v.map { $0 > 0 ? $0 : 0.7 * (Foundation.exp($0) - 1) }),
            // log(1 + e^x), and exactly x above the threshold (25 > 20).
            ("softplus", x.softplus(), v.map { $0 > 20 ? $0 : Foundation.log(1 + Foundation.exp($0)) }),
            ("softplus beta 2 threshold 3", x.softplus(beta: 2, threshold: 3),
             v.map { 2 * $0 > 3 ? $0 : Foundation.log(1 + Foundation.exp(2 * $0)) / 2 }),
        ]
        for (name, t, expected) in cases {
            assertTensorValues(try TT.values(t), expected, abs: 1e-15, rel: 1e-14, name)
        }
        XCTAssertEqual(try TT.values(x.sigmoid())[3], 0.5)
        XCTAssertEqual(try TT.values(x.softplus())[6], 25, "softplus is linear above the threshold")
        XCTAssertEqual(try TT.values(x.softplus())[3], Foundation.log(2), accuracy: 1e-15)
        // float32 sigmoid of large negative inputs stays finite and positive.
        let s32 = try TT.values(TT.f32([-100, -88, 100], [3]).sigmoid())
        XCTAssertTrue(s32.allSatisfy { $0.isFinite && $0 >= 0 && $0 <= 1 }, "\(s32)")
        XCTAssertEqual(s32[2], 1)
    }

    func testLargeElementwiseMatchesReference() throws {
        // 257 x 129 elements: crosses any parallel chunking boundary.
        let n = 257 * 129
        let a = TT.random(n, seed: 31), b = TT.random(n, seed: 32, low: 0.5, high: 2)
        let out = (TT.f32(a, [257, 129]) * TT.f32(b, [257, 129]) + 1).relu()
        let expected = (0..<n).map { Swift.max(Double(Float(Double(Float(a[$0] * b[$0])) + 1)), 0) }
        assertTensorValues(try TT.values(out), expected, abs: 0, rel: 0)
    }

    // MARK: - Gradients

    private func operands(_ aShape: [Int], _ bShape: [Int], seed: UInt64) -> (Tensor, Tensor) {
        (TT.f64(TT.awayFromZero(TT.count(aShape), seed: seed), aShape),
         TT.f64(TT.awayFromZero(TT.count(bShape), seed: seed + 100), bShape))
    }

    func testAddGradient() {
        for (i, (sa, sb)) in shapePairs.enumerated() {
            let (a, b) = operands(sa, sb, seed: UInt64(i))
            assertGradientCheck([a, b], "add \(sa) \(sb)") { $0[0] + $0[1] }
        }
    }

    func testSubtractGradient() {
        for (i, (sa, sb)) in shapePairs.enumerated() {
            let (a, b) = operands(sa, sb, seed: UInt64(i))
            assertGradientCheck([a, b], "subtract \(sa) \(sb)") { $0[0] - $0[1] }
        }
    }

    func testMultiplyGradient() {
        for (i, (sa, sb)) in shapePairs.enumerated() {
            let (a, b) = operands(sa, sb, seed: UInt64(i))
            assertGradientCheck([a, b], "multiply \(sa) \(sb)") { $0[0] * $0[1] }
        }
    }

    func testDivideGradient() {
        for (i, (sa, sb)) in shapePairs.enumerated() {
            let (a, b) = operands(sa, sb, seed: UInt64(i))
            assertGradientCheck([a, b], "divide \(sa) \(sb)") { $0[0] / $0[1] }
        }
    }

    func testMaximumMinimumGradient() {
        // Operands at least 0.05 apart everywhere (no ties).
        for (sa, sb) in [([2, 3], [2, 3]), ([2, 3], [3]), ([2, 1], [1, 3]), ([2, 3], [])] {
            let a = TT.f64((0..<TT.count(sa)).map { Double($0) * 0.3 - 0.7 }, sa)
            let b = TT.f64((0..<TT.count(sb)).map { 0.55 - Double($0) * 0.4 + 0.01 }, sb)
            assertGradientCheck([a, b], "maximum \(sa) \(sb)") { Tensor.maximum($0[0], $0[1]) }
            assertGradientCheck([a, b], "minimum \(sa) \(sb)") { Tensor.minimum($0[0], $0[1]) }
        }
    }

    func testMaximumTiesSplitTheGradient() throws {
        let a = TT.f64([1, 2, 3], [3]).requiringGrad(), b = TT.f64([1, 5, 0], [3]).requiringGrad()
        Tensor.maximum(a, b).sum().backward()
        XCTAssertEqual(try TT.values(try XCTUnwrap(a.grad)), [0.5, 0, 1])
        XCTAssertEqual(try TT.values(try XCTUnwrap(b.grad)), [0.5, 1, 0])
    }

    func testTensorScalarGradients() {
        let x = TT.f64(TT.awayFromZero(6, seed: 41), [2, 3])
        let ops: [(String, (Tensor) -> Tensor)] = [
            ("x + s", { $0 + 2.5 }), ("s + x", { 2.5 + $0 }), ("x - s", { $0 - 1.5 }), ("s - x", { 1.5 - $0 }),
            ("x * s", { $0 * -3 }), ("s * x", { -3 * $0 }), ("x / s", { $0 / 4 }), ("s / x", { 4 / $0 }),
            ("negate", { -$0 }),
        ]
        for (name, op) in ops { assertGradientCheck([x], name) { op($0[0]) } }
    }

    func testUnaryMathGradients() {
        let signed = TT.f64(TT.random(6, seed: 51, low: -2, high: 2), [2, 3])
        let positive = TT.f64(TT.random(6, seed: 52, low: 0.3, high: 2.5), [2, 3])
        let away = TT.f64(TT.awayFromZero(6, seed: 53), [2, 3])
        assertGradientCheck([signed], "exp") { $0[0].exp() }
        assertGradientCheck([positive], "log") { $0[0].log() }
        assertGradientCheck([positive], "sqrt") { $0[0].sqrt() }
        assertGradientCheck([signed], "square") { $0[0].square() }
        assertGradientCheck([away], "abs") { $0[0].abs() }
        assertGradientCheck([away], "reciprocal") { $0[0].reciprocal() }
        assertGradientCheck([signed], "sin") { $0[0].sin() }
        assertGradientCheck([signed], "cos") { $0[0].cos() }
        assertGradientCheck([signed], "pow 3") { $0[0].pow(3) }
        assertGradientCheck([signed], "pow 2") { $0[0].pow(2) }
        assertGradientCheck([positive], "pow 0.5") { $0[0].pow(0.5) }
        assertGradientCheck([positive], "pow -1.5") { $0[0].pow(-1.5) }
    }

    func testPowTensorGradient() {
        let base = TT.f64(TT.random(6, seed: 61, low: 0.4, high: 2.5), [2, 3])
        let exps = TT.f64(TT.random(3, seed: 62, low: -1.5, high: 2.5), [3])
        assertGradientCheck([base, exps], "pow [2,3] ** [3]") { $0[0].pow($0[1]) }
        let sameShape = TT.f64(TT.random(6, seed: 63, low: -1.5, high: 2.5), [2, 3])
        assertGradientCheck([base, sameShape], "pow [2,3] ** [2,3]") { $0[0].pow($0[1]) }
        assertGradientCheck([base, TT.f64([1.7], [])], "pow [2,3] ** []") { $0[0].pow($0[1]) }
    }

    func testClampGradient() {
        // Inside (gradient 1) and outside (gradient 0), never within 0.05 of an edge.
        let x = TT.f64([-1.2, -0.6, -0.3, 0.0, 0.45, 0.7, 1.3, -0.45], [2, 4])
        assertGradientCheck([x], "clamp") { $0[0].clamp(min: -0.5, max: 0.5) }
        assertGradientCheck([x], "clamp min") { $0[0].clamp(min: -0.5) }
        assertGradientCheck([x], "clamp max") { $0[0].clamp(max: 0.5) }
    }

    func testActivationGradients() {
        let signed = TT.f64(TT.random(8, seed: 71, low: -3, high: 3), [2, 4])
        let away = TT.f64(TT.awayFromZero(8, seed: 72, lo: 0.1, hi: 2.5), [2, 4])
        assertGradientCheck([signed], "sigmoid") { $0[0].sigmoid() }
        assertGradientCheck([signed], "tanh") { $0[0].tanh() }
        assertGradientCheck([away], "relu") { $0[0].relu() }
        assertGradientCheck([away], "leakyReLU") { $0[0].leakyReLU() }
        assertGradientCheck([away], "leakyReLU 0.2") { $0[0].leakyReLU(negativeSlope: 0.2) }
        assertGradientCheck([away], "elu") { $0[0].elu() }
        assertGradientCheck([away], "elu 0.7") { $0[0].elu(alpha: 0.7) }
        // 25 is above the default threshold 20 (linear part).
        let withLarge = TT.f64([-3, -0.5, 0.25, 1.5, 25, 30], [6])
        assertGradientCheck([withLarge], "softplus") { $0[0].softplus() }
        // beta 2, threshold 3: the linear part starts at x = 1.5; -1 ... 1.2 below, 2 and 4 above.
        let around = TT.f64([-1, 0.3, 1.0, 1.2, 2, 4], [6])
        assertGradientCheck([around], "softplus beta 2 threshold 3") { $0[0].softplus(beta: 2, threshold: 3) }
    }

    func testActivationDerivativesByHand() throws {
        let x = TT.f64([-2, -0.5, 0.5, 2, 25], [5]).requiringGrad()
        func grad(_ f: (Tensor) -> Tensor) throws -> [Double] {
            x.zeroGrad()
            f(x).sum().backward()
            return try TT.values(try XCTUnwrap(x.grad))
        }
        XCTAssertEqual(try grad { $0.relu() }, [0, 0, 1, 1, 1])
        XCTAssertEqual(try grad { $0.leakyReLU(negativeSlope: 0.1) }, [0.1, 0.1, 1, 1, 1])
        assertTensorValues(try grad { $0.elu() }, [Foundation.exp(-2), Foundation.exp(-0.5), 1, 1, 1], abs: 1e-15, rel: 1e-14)
        let sig = [-2, -0.5, 0.5, 2, 25].map { 1 / (1 + Foundation.exp(-$0)) }
        assertTensorValues(try grad { $0.sigmoid() }, sig.map { $0 * (1 - $0) }, abs: 1e-15, rel: 1e-12)
        assertTensorValues(try grad { $0.softplus() }, sig.enumerated().map { $0.offset == 4 ? 1 : $0.element },
                           abs: 1e-15, rel: 1e-12)
        assertTensorValues(try grad { $0.tanh() },
                           [-2, -0.5, 0.5, 2, 25].map { 1 - Foundation.tanh($0) * Foundation.tanh($0) }, abs: 1e-15, rel: 1e-12)
    }
}
