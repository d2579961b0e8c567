import Foundation
import XCTest
import NN

/// Unary and binary elementwise ops against float64 formulas written here
/// with PyTorch's semantics.
final class ElementwiseTests: XCTestCase {
    struct UnaryCase {
        var op: UnaryOp
        var inputs: [Double]
        var f: (Double) -> Double
        /// d op / dx as a function of x.
        var df: (Double) -> Double
    }

    static func sigmoid(_ x: Double) -> Double { 1 / (1 + Foundation.exp(-x)) }

    /// Every UnaryOp case (some twice, with other parameters), with inputs
    /// in its domain that include the special points (0, kinks, thresholds).
    static func unaryCases() -> [UnaryCase] {
        var rng = SplitMix64(seed: 42)
        func inputs(_ low: Double, _ high: Double, _ extra: [Double] = []) -> [Double] {
            rng.floats(61, low, high) + extra
        }
        let general = inputs(-3, 3, [0, 1, -1, 0.5, -0.5, 2.75])
        let positive = inputs(0.05, 4, [1, 0.25, 2])
        return [
            UnaryCase(op: .negate, inputs: general, f: { -$0 }, df: { _ in -1 }),
            UnaryCase(op: .abs, inputs: general, f: { Swift.abs($0) }, df: { $0 > 0 ? 1 : ($0 < 0 ? -1 : 0) }),
            UnaryCase(op: .square, inputs: general, f: { $0 * $0 }, df: { 2 * $0 }),
            UnaryCase(op: .sqrt, inputs: positive, f: { $0.squareRoot() }, df: { 0.5 / $0.squareRoot() }),
            UnaryCase(op: .exp, inputs: inputs(-6, 6, [0]), f: { Foundation.exp($0) }, df: { Foundation.exp($0) }),
            UnaryCase(op: .log, inputs: positive, f: { Foundation.log($0) }, df: { 1 / $0 }),
            UnaryCase(op: .reciprocal, inputs: inputs(0.2, 3, [-0.25, -1, -2.5, 1]), f: { 1 / $0 }, df: { -1 / ($0 * $0) }),
            UnaryCase(op: .sin, inputs: inputs(-4, 4, [0]), f: { Foundation.sin($0) }, df: { Foundation.cos($0) }),
            UnaryCase(op: .cos, inputs: inputs(-4, 4, [0]), f: { Foundation.cos($0) }, df: { -Foundation.sin($0) }),
            UnaryCase(op: .sigmoid, inputs: inputs(-8, 8, [0, 20, -20, 90, -90]),
                      f: { sigmoid($0) }, df: { sigmoid($0) * (1 - sigmoid($0)) }),
            UnaryCase(op: .tanh, inputs: inputs(-4, 4, [0, 10, -10]),
                      f: { Foundation.tanh($0) }, df: { 1 - Foundation.tanh($0) * Foundation.tanh($0) }),
            UnaryCase(op: .relu, inputs: general, f: { Swift.max($0, 0) }, df: { $0 > 0 ? 1 : 0 }),
            UnaryCase(op: .leakyReLU(slope: 0.01), inputs: general, f: { $0 > 0 ? $0 : 0.01 * $0 }, df: { $0 > 0 ? 1 : 0.01 }),
            UnaryCase(op: .leakyReLU(slope: 0.2), inputs: general, f: { $0 > 0 ? $0 : 0.2 * $0 }, df: { $0 > 0 ? 1 : 0.2 }),
            UnaryCase(op: .elu(alpha: 1), inputs: general,
                      f: { $0 > 0 ? $0 : Foundation.expm1($0) }, df: { $0 > 0 ? 1 : Foundation.exp($0) }),
            UnaryCase(op: .elu(alpha: 0.5), inputs: general,
                      f: { $0 > 0 ? $0 : 0.5 * Foundation.expm1($0) }, df: { $0 > 0 ? 1 : 0.5 * Foundation.exp($0) }),
            // PyTorch Softplus: linear where beta * x > threshold.
            UnaryCase(op: .softplus(beta: 1, threshold: 20), inputs: inputs(-10, 10, [0, 19.5, 20.5, 30, -30]),
                      f: { $0 > 20 ? $0 : Foundation.log1p(Foundation.exp($0)) },
                      df: { $0 > 20 ? 1 : sigmoid($0) }),
            UnaryCase(op: .softplus(beta: 2, threshold: 5), inputs: inputs(-5, 5, [0, 2.25, 2.75, 4]),
                      f: { 2 * $0 > 5 ? $0 : Foundation.log1p(Foundation.exp(2 * $0)) / 2 },
                      df: { 2 * $0 > 5 ? 1 : sigmoid(2 * $0) }),
            UnaryCase(op: .addScalar(2.5), inputs: general, f: { $0 + 2.5 }, df: { _ in 1 }),
            UnaryCase(op: .multiplyScalar(-1.5), inputs: general, f: { $0 * -1.5 }, df: { _ in -1.5 }),
            UnaryCase(op: .power(3), inputs: general, f: { $0 * $0 * $0 }, df: { 3 * $0 * $0 }),
            UnaryCase(op: .power(2), inputs: general, f: { $0 * $0 }, df: { 2 * $0 }),
            UnaryCase(op: .power(0.5), inputs: positive, f: { $0.squareRoot() }, df: { 0.5 / $0.squareRoot() }),
            UnaryCase(op: .power(-1.5), inputs: positive,
                      f: { Foundation.pow($0, -1.5) }, df: { -1.5 * Foundation.pow($0, -2.5) }),
            // PyTorch passes the gradient at the bounds themselves.
            UnaryCase(op: .clamp(min: -1, max: 0.5), inputs: general,
                      f: { Swift.min(Swift.max($0, -1), 0.5) }, df: { $0 >= -1 && $0 <= 0.5 ? 1 : 0 }),
            UnaryCase(op: .sign, inputs: general, f: { $0 > 0 ? 1 : ($0 < 0 ? -1 : 0) }, df: { _ in 0 }),
        ]
    }

    func testUnaryCasesCoverEveryOp() {
        // Guards the table above: one case per enum case at least.
        let names = Set(Self.unaryCases().map { "\($0.op)".split(separator: "(").first.map(String.init) ?? "" })
        XCTAssertEqual(names, ["negate", "abs", "square", "sqrt", "exp", "log", "reciprocal", "sin", "cos", "sigmoid",
                               "tanh", "relu", "leakyReLU", "elu", "softplus", "addScalar", "multiplyScalar", "power",
                               "clamp", "sign"])
    }

    func testUnaryForward() throws {
        for dtype in [DType.float32, .float64] {
            let tol = tolerances(dtype)
            for c in Self.unaryCases() {
                let x = c.inputs
                let xb = buffer(x, dtype: dtype)
                let out = testBackend.makeBuffer(count: x.count, dtype: dtype)
                testBackend.unary(c.op, xb, out: out, count: x.count)
                assertClose(try downloadDoubles(out), x.map(c.f), relTol: tol.rel, absTol: tol.abs, "\(c.op) \(dtype)")
            }
        }
    }

    func testUnaryForwardCountLeavesTailAlone() throws {
        let x = buffer([1, 2, 3, 4, 5], dtype: .float32)
        let out = buffer([9, 9, 9, 9, 9], dtype: .float32)
        testBackend.unary(.square, x, out: out, count: 3)
        XCTAssertEqual(try download(out, as: Float.self), [1, 4, 9, 9, 9])
    }

    func testUnaryBackward() throws {
        for dtype in [DType.float32, .float64] {
            let tol = tolerances(dtype)
            for c in Self.unaryCases() {
                var rng = SplitMix64(seed: 7)
                let x = c.inputs
                let g = rng.floats(x.count, -2, 2)
                // y = op(x) from the reference, as the forward pass would store it.
                let y = rounded(x.map(c.f), to: dtype)
                let gradX = testBackend.makeBuffer(count: x.count, dtype: dtype)
                testBackend.unaryBackward(c.op, x: buffer(x, dtype: dtype), y: buffer(y, dtype: dtype),
                                          gradOut: buffer(g, dtype: dtype), gradX: gradX, count: x.count)
                let expected = zip(x, g).map { $1 * c.df($0) }
                assertClose(try downloadDoubles(gradX), expected, relTol: dtype == .float32 ? 1e-4 : 1e-9,
                            absTol: tol.abs, "\(c.op) backward \(dtype)")
            }
        }
    }

    /// The doc comment: sigmoid, tanh, exp, sqrt, reciprocal and ELU read y; the others
    /// read x. An op that reads x must not depend on y (poisoned with NaN
    /// here) and vice versa.
    func testUnaryBackwardReadsOnlyTheDocumentedOperand() throws {
        let readsY: Set<String> = ["sigmoid", "tanh", "exp", "sqrt", "reciprocal"]
        for c in Self.unaryCases() {
            let name = "\(c.op)".split(separator: "(").first.map(String.init) ?? ""
            if name == "elu" { continue }  // reads y, and x for the branch
            var rng = SplitMix64(seed: 9)
            let x = c.inputs
            let g = rng.floats(x.count, -2, 2)
            let y = x.map(c.f)
            let poison = [Double](repeating: .nan, count: x.count)
            let usesY = readsY.contains(name)
            let gradX = testBackend.makeBuffer(count: x.count, dtype: .float64)
            testBackend.unaryBackward(c.op, x: buffer(usesY ? poison : x, dtype: .float64),
                                      y: buffer(usesY ? y : poison, dtype: .float64),
                                      gradOut: buffer(g, dtype: .float64), gradX: gradX, count: x.count)
            assertClose(try downloadDoubles(gradX), zip(x, g).map { $1 * c.df($0) }, relTol: 1e-9, absTol: 1e-12,
                        "\(c.op) should read only \(usesY ? "y" : "x")")
        }
    }

    /// PyTorch: d(x ** 0)/dx is 0 everywhere, x = 0 included.
    func testPowerZeroBackwardIsZero() throws {
        let x: [Double] = [0, 1, -2, 0.5]
        let gradX = testBackend.makeBuffer(count: 4, dtype: .float32)
        testBackend.unaryBackward(.power(0), x: floatBuffer(x), y: floatBuffer([1, 1, 1, 1]),
                                  gradOut: floatBuffer([1, 1, 1, 1]), gradX: gradX, count: 4)
        XCTAssertEqual(try download(gradX, as: Float.self), [0, 0, 0, 0])
    }

    func testNaNPropagatesThroughActivations() throws {
        for op in [UnaryOp.relu, .leakyReLU(slope: 0.1), .clamp(min: -1, max: 1), .abs, .sigmoid, .tanh] {
            let out = testBackend.makeBuffer(count: 2, dtype: .float32)
            testBackend.unary(op, floatBuffer([.nan, 2]), out: out, count: 2)
            let got = try download(out, as: Float.self)
            XCTAssertTrue(got[0].isNaN, "\(op)(NaN) = \(got[0]), PyTorch gives NaN")
        }
    }

    // MARK: - Broadcasting

    func testBroadcastOutputShape() {
        XCTAssertEqual(BroadcastLayout.outputShape([2, 3], [2, 3]), [2, 3])
        XCTAssertEqual(BroadcastLayout.outputShape([], [2, 3]), [2, 3])
        XCTAssertEqual(BroadcastLayout.outputShape([2, 3], [1]), [2, 3])
        XCTAssertEqual(BroadcastLayout.outputShape([3, 1], [1, 4]), [3, 4])
        XCTAssertEqual(BroadcastLayout.outputShape([2, 3, 4], [3, 1]), [2, 3, 4])
        XCTAssertEqual(BroadcastLayout.outputShape([5], [2, 5]), [2, 5])
        XCTAssertEqual(BroadcastLayout.outputShape([2, 1, 4], [1, 3, 1]), [2, 3, 4])
        XCTAssertNil(BroadcastLayout.outputShape([3], [4]))
        XCTAssertNil(BroadcastLayout.outputShape([2, 3], [3, 2]))
        XCTAssertNil(BroadcastLayout.outputShape([2, 3, 4], [2, 4]))
        XCTAssertNil(BroadcastLayout([3], [4]))
        XCTAssertNil(BroadcastLayout([2, 3, 4], [3, 4, 1]))
        XCTAssertEqual(BroadcastLayout([3, 1], [1, 4])?.count, 12)
        XCTAssertEqual(BroadcastLayout([2, 3, 4], [2, 3, 4])?.count, 24)
        XCTAssertEqual(BroadcastLayout([], [])?.count, 1)
    }

    /// Equal shapes take a shortcut; it must give what the general walk
    /// gives (one dense axis, stride 0 when every axis is 1), which the
    /// broadcasting pairs on the right still take.
    func testBroadcastLayoutOfEqualShapes() {
        func walk(_ layout: BroadcastLayout?) -> [[Int]]? { layout.map { [$0.shape, $0.aStrides, $0.bStrides, [$0.count]] } }
        XCTAssertEqual(walk(BroadcastLayout([2, 3, 4], [2, 3, 4])), [[24], [1], [1], [24]])
        XCTAssertEqual(walk(BroadcastLayout([2, 3, 4], [2, 3, 4])), walk(BroadcastLayout([1, 2, 3, 4], [2, 3, 4])))
        XCTAssertEqual(walk(BroadcastLayout([1, 1], [1, 1])), [[1], [0], [0], [1]])
        XCTAssertEqual(walk(BroadcastLayout([1, 1], [1, 1])), walk(BroadcastLayout([1, 1], [1])))
        XCTAssertEqual(walk(BroadcastLayout([], [])), walk(BroadcastLayout([], [1])))
        XCTAssertEqual(walk(BroadcastLayout([0, 3], [0, 3])), [[0], [1], [1], [0]])
        XCTAssertEqual(walk(BroadcastLayout([0, 3], [0, 3])), walk(BroadcastLayout([1, 0, 3], [0, 3])))
        XCTAssertEqual(walk(BroadcastLayout([3, 0], [3, 0])), walk(BroadcastLayout([3, 0], [1, 3, 0])))
    }

    /// (a shape, b shape, expected output shape)
    static let broadcastCases: [([Int], [Int], [Int])] = [
        ([2, 3], [2, 3], [2, 3]),
        ([], [2, 3], [2, 3]),
        ([2, 3], [], [2, 3]),
        ([3, 1], [1, 4], [3, 4]),
        ([2, 3, 4], [3, 1], [2, 3, 4]),
        ([3, 1], [2, 3, 4], [2, 3, 4]),
        ([5], [2, 5], [2, 5]),
        ([2, 5], [5], [2, 5]),
        ([2, 1, 4], [1, 3, 1], [2, 3, 4]),
        ([4, 1, 3, 1], [5, 1, 2], [4, 5, 3, 2]),
        ([37, 41], [41], [37, 41]),
    ]

    /// Flat index into an operand of `shape` for the output multi-index.
    static func operandIndex(_ outIndex: [Int], _ shape: [Int]) -> Int {
        let lead = outIndex.count - shape.count
        let strides = rowMajorStrides(shape)
        var flat = 0
        for d in 0..<shape.count where shape[d] != 1 { flat += outIndex[lead + d] * strides[d] }
        return flat
    }

    struct BinaryCase: Sendable {
        var op: BinaryOp
        var aRange: (Double, Double)
        var bRange: (Double, Double)
        var f: @Sendable (Double, Double) -> Double
        var da: @Sendable (Double, Double) -> Double
        var db: @Sendable (Double, Double) -> Double
    }

    static let binaryCases: [BinaryCase] = [
        BinaryCase(op: .add, aRange: (-2, 2), bRange: (-2, 2), f: { $0 + $1 }, da: { _, _ in 1 }, db: { _, _ in 1 }),
        BinaryCase(op: .subtract, aRange: (-2, 2), bRange: (-2, 2), f: { $0 - $1 }, da: { _, _ in 1 }, db: { _, _ in -1 }),
        BinaryCase(op: .multiply, aRange: (-2, 2), bRange: (-2, 2), f: { $0 * $1 }, da: { $1 }, db: { a, _ in a }),
        BinaryCase(op: .divide, aRange: (-2, 2), bRange: (0.5, 2), f: { $0 / $1 }, da: { 1 / $1 }, db: { -$0 / ($1 * $1) }),
        BinaryCase(op: .maximum, aRange: (-2, 2), bRange: (-2, 2), f: { Swift.max($0, $1) },
                   da: { $0 > $1 ? 1 : ($0 == $1 ? 0.5 : 0) }, db: { $1 > $0 ? 1 : ($0 == $1 ? 0.5 : 0) }),
        BinaryCase(op: .minimum, aRange: (-2, 2), bRange: (-2, 2), f: { Swift.min($0, $1) },
                   da: { $0 < $1 ? 1 : ($0 == $1 ? 0.5 : 0) }, db: { $1 < $0 ? 1 : ($0 == $1 ? 0.5 : 0) }),
        BinaryCase(op: .power, aRange: (0.25, 2.5), bRange: (-2, 3), f: { Foundation.pow($0, $1) },
                   da: { $1 * Foundation.pow($0, $1 - 1) }, db: { Foundation.pow($0, $1) * Foundation.log($0) }),
    ]

    func testBinaryCasesCoverEveryOp() {
        XCTAssertEqual(Set(Self.binaryCases.map(\.op)), Set(BinaryOp.allCases))
    }

    /// Inputs for a case; maximum/minimum get values on a coarse grid so
    /// that ties occur.
    static func inputs(_ c: BinaryCase, _ count: Int, range: (Double, Double), rng: inout SplitMix64) -> [Double] {
        if c.op == .maximum || c.op == .minimum {
            return (0..<count).map { _ in Double(rng.int(-3..<4)) * 0.5 }
        }
        return rng.floats(count, range.0, range.1)
    }

    func testBinaryForwardAndBackwardWithBroadcasting() throws {
        for dtype in [DType.float32, .float64] {
            let tol = tolerances(dtype)
            for c in Self.binaryCases {
                for (sa, sb, so) in Self.broadcastCases {
                    var rng = SplitMix64(seed: UInt64(so.reduce(0, +) * 31 + sa.count))
                    let a = Self.inputs(c, product(sa), range: c.aRange, rng: &rng)
                    let b = Self.inputs(c, product(sb), range: c.bRange, rng: &rng)
                    let n = product(so)
                    let g = rng.floats(n, -1, 1)
                    var expected = [Double](), expA = [Double](), expB = [Double]()
                    for flat in 0..<n {
                        let idx = unravel(flat, so)
                        let av = a[Self.operandIndex(idx, sa)], bv = b[Self.operandIndex(idx, sb)]
                        expected.append(c.f(av, bv))
                        expA.append(g[flat] * c.da(av, bv))
                        expB.append(g[flat] * c.db(av, bv))
                    }
                    guard let layout = BroadcastLayout(sa, sb) else {
                        XCTFail("BroadcastLayout(\(sa), \(sb)) is nil")
                        continue
                    }
                    XCTAssertEqual(layout.count, n)
                    let ab = buffer(a, dtype: dtype), bb = buffer(b, dtype: dtype)
                    let out = testBackend.makeBuffer(count: n, dtype: dtype)
                    testBackend.binary(c.op, ab, bb, out: out, layout: layout)
                    let label = "\(c.op) \(sa) with \(sb) \(dtype)"
                    assertClose(try downloadDoubles(out), expected, relTol: tol.rel, absTol: tol.abs, label)

                    let gradA = testBackend.makeBuffer(count: n, dtype: dtype)
                    let gradB = testBackend.makeBuffer(count: n, dtype: dtype)
                    testBackend.binaryBackward(c.op, ab, bb, gradOut: buffer(g, dtype: dtype), gradA: gradA, gradB: gradB,
                                               layout: layout)
                    assertClose(try downloadDoubles(gradA), expA, relTol: tol.rel * 10, absTol: tol.abs, "gradA " + label)
                    assertClose(try downloadDoubles(gradB), expB, relTol: tol.rel * 10, absTol: tol.abs, "gradB " + label)
                }
            }
        }
    }

    func testBinaryBackwardWithOnePartialOnly() throws {
        let layout = BroadcastLayout([3, 1], [1, 4])!
        let a = floatBuffer([1, 2, 3]), b = floatBuffer([0.5, 1, 2, 4]), g = floatBuffer((0..<12).map { Double($0) })
        let gradB = testBackend.makeBuffer(count: 12, dtype: .float32)
        testBackend.binaryBackward(.multiply, a, b, gradOut: g, gradA: nil, gradB: gradB, layout: layout)
        // d(a*b)/db = a[i], times g[i*4+j].
        var expected = [Double]()
        for i in 0..<3 { for j in 0..<4 { expected.append(Double(i + 1) * Double(i * 4 + j)) } }
        assertClose(try download(gradB, as: Float.self), expected, relTol: 0, absTol: 0)
        let gradA = testBackend.makeBuffer(count: 12, dtype: .float32)
        testBackend.binaryBackward(.divide, a, b, gradOut: g, gradA: gradA, gradB: nil, layout: layout)
        expected = []
        for i in 0..<3 { for j in 0..<4 { expected.append(Double(i * 4 + j) / [0.5, 1, 2, 4][j]) } }
        assertClose(try download(gradA, as: Float.self), expected, relTol: 1e-7, absTol: 0)
    }

    func testMaximumMinimumTiesSplitGradient() throws {
        let layout = BroadcastLayout([4], [4])!
        let a = floatBuffer([1, 2, 3, -1]), b = floatBuffer([1, 5, 3, -2]), g = floatBuffer([2, 2, 4, 8])
        let gradA = testBackend.makeBuffer(count: 4, dtype: .float32)
        let gradB = testBackend.makeBuffer(count: 4, dtype: .float32)
        testBackend.binaryBackward(.maximum, a, b, gradOut: g, gradA: gradA, gradB: gradB, layout: layout)
        XCTAssertEqual(try download(gradA, as: Float.self), [1, 0, 2, 8])
        XCTAssertEqual(try download(gradB, as: Float.self), [1, 2, 2, 0])
        testBackend.binaryBackward(.minimum, a, b, gradOut: g, gradA: gradA, gradB: gradB, layout: layout)
        XCTAssertEqual(try download(gradA, as: Float.self), [1, 2, 2, 0])
        XCTAssertEqual(try download(gradB, as: Float.self), [1, 0, 2, 8])
    }

    /// PyTorch: d(a ** b)/db is 0 where a == 0 and b >= 0.
    func testPowerGradientAtZeroBase() throws {
        let layout = BroadcastLayout([3], [3])!
        let a = floatBuffer([0, 0, 2]), b = floatBuffer([2, 3, 3]), g = floatBuffer([1, 1, 1])
        let out = testBackend.makeBuffer(count: 3, dtype: .float32)
        testBackend.binary(.power, a, b, out: out, layout: layout)
        XCTAssertEqual(try download(out, as: Float.self), [0, 0, 8])
        let gradA = testBackend.makeBuffer(count: 3, dtype: .float32)
        let gradB = testBackend.makeBuffer(count: 3, dtype: .float32)
        testBackend.binaryBackward(.power, a, b, gradOut: g, gradA: gradA, gradB: gradB, layout: layout)
        XCTAssertEqual(try download(gradA, as: Float.self), [0, 0, 12])
        assertClose(try download(gradB, as: Float.self), [0, 0, 8 * Foundation.log(2)], relTol: 1e-6, absTol: 0)
    }

    func testMaximumMinimumPropagateNaN() throws {
        let layout = BroadcastLayout([2], [2])!
        let a = floatBuffer([.nan, 1]), b = floatBuffer([1, .nan])
        for op in [BinaryOp.maximum, .minimum] {
            let out = testBackend.makeBuffer(count: 2, dtype: .float32)
            testBackend.binary(op, a, b, out: out, layout: layout)
            let got = try download(out, as: Float.self)
            XCTAssertTrue(got[0].isNaN && got[1].isNaN, "\(op) with NaN gave \(got); PyTorch propagates NaN")
        }
    }
}
