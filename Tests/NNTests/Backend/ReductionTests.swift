import XCTest
import NN

final class ReductionTests: XCTestCase {
    static let shape = [3, 4, 5]

    func testAxisViewOfShape() {
        XCTAssertEqual(AxisView(shape: [3, 4, 5], axis: 0), AxisView(outer: 1, axis: 3, inner: 20))
        XCTAssertEqual(AxisView(shape: [3, 4, 5], axis: 1), AxisView(outer: 3, axis: 4, inner: 5))
        XCTAssertEqual(AxisView(shape: [3, 4, 5], axis: 2), AxisView(outer: 12, axis: 5, inner: 1))
        XCTAssertEqual(AxisView(shape: [3, 4, 5], axis: 2).count, 60)
    }

    /// Reference: reduce a [3, 4, 5] array over `axis`, result in row-major
    /// order of the remaining axes.
    static func reference(_ x: [Double], axis: Int, _ combine: ([Double]) -> Double) -> [Double] {
        let shape = Self.shape
        let strides = rowMajorStrides(shape)
        let rest = (0..<3).filter { $0 != axis }
        var out = [Double]()
        for i in 0..<shape[rest[0]] {
            for j in 0..<shape[rest[1]] {
                var values = [Double]()
                for a in 0..<shape[axis] {
                    values.append(x[i * strides[rest[0]] + j * strides[rest[1]] + a * strides[axis]])
                }
                out.append(combine(values))
            }
        }
        return out
    }

    func testReduceEveryAxis() throws {
        var rng = SplitMix64(seed: 3)
        let x = rng.floats(60, -5, 5)
        let ops: [(ReduceOp, ([Double]) -> Double)] = [
            (.sum, { $0.reduce(0, +) }),
            (.mean, { $0.reduce(0, +) / Double($0.count) }),
            (.max, { $0.max()! }),
            (.min, { $0.min()! }),
        ]
        for dtype in [DType.float32, .float64] {
            let tol = tolerances(dtype)
            let xb = buffer(x, dtype: dtype)
            for (op, combine) in ops {
                for axis in 0..<3 {
                    let view = AxisView(shape: Self.shape, axis: axis)
                    let out = testBackend.makeBuffer(count: view.outer * view.inner, dtype: dtype)
                    testBackend.reduce(op, xb, out: out, view: view)
                    let expected = Self.reference(x, axis: axis, combine)
                    let exact = op == .max || op == .min
                    assertClose(try downloadDoubles(out), expected, relTol: exact ? 0 : tol.rel,
                                absTol: exact ? 0 : tol.abs * 10, "\(op) axis \(axis) \(dtype)")
                }
            }
        }
    }

    func testReduceAllNegativeMaxAndLongAxis() throws {
        // Max of all-negative values must not be 0 (no zero-initialized
        // accumulator); a long axis exercises any blocked loop.
        var rng = SplitMix64(seed: 5)
        let x = rng.floats(2 * 1000 * 3, -9, -1)
        let view = AxisView(outer: 2, axis: 1000, inner: 3)
        let shape = [2, 1000, 3]
        for (op, combine) in [(ReduceOp.max, { (v: [Double]) in v.max()! }), (.min, { $0.min()! }), (.sum, { $0.reduce(0, +) })] {
            let out = testBackend.makeBuffer(count: 6, dtype: .float32)
            testBackend.reduce(op, floatBuffer(x), out: out, view: view)
            var expected = [Double]()
            for o in 0..<2 {
                for i in 0..<3 {
                    expected.append(combine((0..<1000).map { x[(o * shape[1] + $0) * 3 + i] }))
                }
            }
            assertClose(try download(out, as: Float.self), expected, relTol: op == .sum ? 5e-5 : 0, absTol: 0, "\(op)")
        }
    }

    func testArgmaxFirstMaximumWins() throws {
        // Values on a coarse grid so that ties are common.
        var rng = SplitMix64(seed: 11)
        let x = (0..<60).map { _ in Double(rng.int(0..<4)) }
        let xb = floatBuffer(x)
        let strides = rowMajorStrides(Self.shape)
        for axis in 0..<3 {
            let view = AxisView(shape: Self.shape, axis: axis)
            let indices = testBackend.makeBuffer(count: view.outer * view.inner, dtype: .int32)
            testBackend.argmax(xb, indices: indices, view: view)
            let rest = (0..<3).filter { $0 != axis }
            var expected = [Int32]()
            for i in 0..<Self.shape[rest[0]] {
                for j in 0..<Self.shape[rest[1]] {
                    var best = 0
                    var bestValue = -Double.infinity
                    for a in 0..<Self.shape[axis] {
                        let v = x[i * strides[rest[0]] + j * strides[rest[1]] + a * strides[axis]]
                        if v > bestValue { bestValue = v; best = a }
                    }
                    expected.append(Int32(best))
                }
            }
            XCTAssertEqual(try download(indices, as: Int32.self), expected, "argmax axis \(axis)")
        }
        // Hand-worked: rows [1, 3, 3, 2] and [-5, -7, -5, -6].
        let hand = floatBuffer([1, 3, 3, 2, -5, -7, -5, -6])
        let idx = testBackend.makeBuffer(count: 2, dtype: .int32)
        testBackend.argmax(hand, indices: idx, view: AxisView(outer: 2, axis: 4, inner: 1))
        XCTAssertEqual(try download(idx, as: Int32.self), [1, 0])
    }

    func testArgmaxFloat64() throws {
        let x: [Double] = [0.1, 0.1 + 1e-12, 0.1]
        let idx = testBackend.makeBuffer(count: 1, dtype: .int32)
        testBackend.argmax(makeBuffer(x), indices: idx, view: AxisView(outer: 1, axis: 3, inner: 1))
        XCTAssertEqual(try download(idx, as: Int32.self), [1])
    }

    func testGather() throws {
        // x viewed as [2, 5, 3]; 4 indices per (outer, inner).
        var rng = SplitMix64(seed: 13)
        let view = AxisView(outer: 2, axis: 5, inner: 3)
        let indexCount = 4
        let x = rng.floats(view.count)
        let indices = (0..<(2 * indexCount * 3)).map { _ in Int32(rng.int(0..<5)) }
        var expected = [Double]()
        for o in 0..<2 {
            for j in 0..<indexCount {
                for i in 0..<3 {
                    expected.append(x[(o * 5 + Int(indices[(o * indexCount + j) * 3 + i])) * 3 + i])
                }
            }
        }
        for dtype in [DType.float32, .float64] {
            let out = testBackend.makeBuffer(count: expected.count, dtype: dtype)
            testBackend.gather(buffer(x, dtype: dtype), indices: makeBuffer(indices), out: out, view: view,
                               indexCount: indexCount)
            assertClose(try downloadDoubles(out), expected, relTol: 0, absTol: 0, "gather \(dtype)")
        }
        // Hand-worked: picking a class per row, as cross-entropy does.
        let logits = floatBuffer([10, 11, 12, 20, 21, 22])
        let picked = testBackend.makeBuffer(count: 2, dtype: .float32)
        testBackend.gather(logits, indices: makeBuffer([Int32(2), 0]), out: picked,
                           view: AxisView(outer: 2, axis: 3, inner: 1), indexCount: 1)
        XCTAssertEqual(try download(picked, as: Float.self), [12, 20])
    }

    func testScatterAddAccumulates() throws {
        var rng = SplitMix64(seed: 17)
        let view = AxisView(outer: 2, axis: 5, inner: 3)
        let indexCount = 6  // more indices than positions: duplicates guaranteed
        let src = rng.floats(2 * indexCount * 3)
        let indices = (0..<(2 * indexCount * 3)).map { _ in Int32(rng.int(0..<5)) }
        let initial = rng.floats(view.count)
        var expected = initial
        for o in 0..<2 {
            for j in 0..<indexCount {
                for i in 0..<3 {
                    let flat = (o * indexCount + j) * 3 + i
                    expected[(o * 5 + Int(indices[flat])) * 3 + i] += src[flat]
                }
            }
        }
        for dtype in [DType.float32, .float64] {
            let tol = tolerances(dtype)
            let out = buffer(initial, dtype: dtype)
            testBackend.scatterAdd(buffer(src, dtype: dtype), indices: makeBuffer(indices), out: out, view: view,
                                   indexCount: indexCount)
            assertClose(try downloadDoubles(out), expected, relTol: tol.rel, absTol: tol.abs, "scatterAdd \(dtype)")
        }
        // Hand-worked: every source into one slot.
        let out = floatBuffer([1, 1, 1])
        testBackend.scatterAdd(floatBuffer([2, 3, 4]), indices: makeBuffer([Int32(1), 1, 1]), out: out,
                               view: AxisView(outer: 1, axis: 3, inner: 1), indexCount: 3)
        XCTAssertEqual(try download(out, as: Float.self), [1, 10, 1])
    }
}
