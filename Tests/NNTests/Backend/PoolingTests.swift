import XCTest
import NN

/// Max and average pooling against direct float64 loops with PyTorch's
/// semantics (floor mode; padding is -inf for max; for average it counts as
/// zeros when countIncludePad, else the divisor counts real cells only).
final class PoolingTests: XCTestCase {
    static let geometries: [(String, Pool2dGeometry)] = [
        ("k3x2 s2x3 p1x1", Pool2dGeometry(batch: 2, channels: 3, inHeight: 7, inWidth: 8, kernel: (3, 2), stride: (2, 3),
                                          padding: (1, 1))),
        ("k2 default stride", Pool2dGeometry(batch: 1, channels: 2, inHeight: 6, inWidth: 6, kernel: (2, 2))),
        ("k3 s1x2 p1x0 overlapping", Pool2dGeometry(batch: 2, channels: 1, inHeight: 5, inWidth: 7, kernel: (3, 3),
                                                    stride: (1, 2), padding: (1, 0))),
        ("k2x3 s3x1 p1x1 gaps", Pool2dGeometry(batch: 1, channels: 1, inHeight: 9, inWidth: 4, kernel: (2, 3), stride: (3, 1),
                                               padding: (1, 1))),
        ("k5x5 odd input", Pool2dGeometry(batch: 1, channels: 2, inHeight: 11, inWidth: 6, kernel: (5, 5), stride: (2, 2),
                                          padding: (2, 2))),
    ]

    /// Calls body(outIndex, planeBase, [in-plane positions of real cells])
    /// for every output cell.
    static func forEachWindow(_ g: Pool2dGeometry, _ body: (Int, Int, [Int]) -> Void) {
        for plane in 0..<(g.batch * g.channels) {
            for oh in 0..<g.outHeight {
                for ow in 0..<g.outWidth {
                    var cells = [Int]()
                    for kh in 0..<g.kernelH {
                        for kw in 0..<g.kernelW {
                            let ih = oh * g.strideH - g.padH + kh, iw = ow * g.strideW - g.padW + kw
                            if ih >= 0 && ih < g.inHeight && iw >= 0 && iw < g.inWidth { cells.append(ih * g.inWidth + iw) }
                        }
                    }
                    body((plane * g.outHeight + oh) * g.outWidth + ow, plane * g.inHeight * g.inWidth, cells)
                }
            }
        }
    }

    func testOutputGeometry() {
        let g = Self.geometries[0].1
        // floor((7 + 2 - 3) / 2) + 1 = 4, floor((8 + 2 - 2) / 3) + 1 = 3
        XCTAssertEqual(g.outputShape, [2, 3, 4, 3])
        XCTAssertEqual(Self.geometries[1].1.strideH, 2)
        XCTAssertEqual(Self.geometries[1].1.outputShape, [1, 2, 3, 3])
    }

    func testMaxPoolForward() throws {
        for dtype in [DType.float32, .float64] {
            for (name, g) in Self.geometries {
                for negative in [false, true] {
                    var rng = SplitMix64(seed: 5)
                    // All-negative inputs catch padding treated as 0.
                    let input = rng.floats(product(g.inputShape), negative ? -2 : -1, negative ? -0.5 : 1)
                    var expected = [Double](), expectedIdx = [Int32]()
                    Self.forEachWindow(g) { _, base, cells in
                        var best = -Double.infinity, bestCell = -1
                        for c in cells where input[base + c] > best { best = input[base + c]; bestCell = c }
                        expected.append(best)
                        expectedIdx.append(Int32(bestCell))
                    }
                    let out = testBackend.makeBuffer(count: expected.count, dtype: dtype)
                    let indices = testBackend.makeBuffer(count: expected.count, dtype: .int32)
                    testBackend.maxPool2dForward(input: buffer(input, dtype: dtype), out: out, indices: indices, geometry: g)
                    assertClose(try downloadDoubles(out), expected, relTol: 0, absTol: 0, "max pool \(name) \(dtype)")
                    XCTAssertEqual(try download(indices, as: Int32.self), expectedIdx, "max pool indices \(name) \(dtype)")
                }
            }
        }
    }

    func testMaxPoolTiesPickFirstCell() throws {
        // One 2x2 window over equal values, and a window whose max appears
        // twice: the first in row-major window order wins, as in PyTorch.
        let g = Pool2dGeometry(batch: 1, channels: 1, inHeight: 2, inWidth: 4, kernel: (2, 2))
        let out = testBackend.makeBuffer(count: 2, dtype: .float32)
        let indices = testBackend.makeBuffer(count: 2, dtype: .int32)
        testBackend.maxPool2dForward(input: floatBuffer([3, 3, 1, 5, 3, 3, 5, 2]), out: out, indices: indices, geometry: g)
        XCTAssertEqual(try download(out, as: Float.self), [3, 5])
        XCTAssertEqual(try download(indices, as: Int32.self), [0, 3])
    }

    func testMaxPoolBackward() throws {
        for dtype in [DType.float32, .float64] {
            for (name, g) in Self.geometries {
                var rng = SplitMix64(seed: 7)
                let input = rng.floats(product(g.inputShape))
                let gradOut = rng.floats(product(g.outputShape))
                var indices = [Int32]()
                var expected = [Double](repeating: 0, count: input.count)
                Self.forEachWindow(g) { o, base, cells in
                    var best = -Double.infinity, bestCell = -1
                    for c in cells where input[base + c] > best { best = input[base + c]; bestCell = c }
                    indices.append(Int32(bestCell))
                    expected[base + bestCell] += gradOut[o]  // overlapping windows accumulate
                }
                let gradInput = buffer([Double](repeating: .nan, count: input.count), dtype: dtype)
                testBackend.maxPool2dBackward(gradOut: buffer(gradOut, dtype: dtype), indices: makeBuffer(indices),
                                              gradInput: gradInput, geometry: g)
                let tol = tolerances(dtype)
                assertClose(try downloadDoubles(gradInput), expected, relTol: tol.rel, absTol: tol.abs,
                            "max pool backward \(name) \(dtype)")
            }
        }
    }

    func testAvgPoolForward() throws {
        for dtype in [DType.float32, .float64] {
            let tol = tolerances(dtype)
            for (name, g) in Self.geometries {
                var rng = SplitMix64(seed: 9)
                let input = rng.floats(product(g.inputShape))
                for includePad in [true, false] {
                    var expected = [Double]()
                    Self.forEachWindow(g) { _, base, cells in
                        let sum = cells.reduce(0.0) { $0 + input[base + $1] }
                        expected.append(sum / Double(includePad ? g.kernelH * g.kernelW : cells.count))
                    }
                    let out = testBackend.makeBuffer(count: expected.count, dtype: dtype)
                    testBackend.avgPool2dForward(input: buffer(input, dtype: dtype), out: out, geometry: g,
                                                 countIncludePad: includePad)
                    assertClose(try downloadDoubles(out), expected, relTol: tol.rel, absTol: tol.abs,
                                "avg pool \(name) includePad \(includePad) \(dtype)")
                }
            }
        }
    }

    func testAvgPoolHandWorked() throws {
        // 2x2 input [[1, 2], [3, 4]], kernel 2, stride 1, padding 1: the
        // corner window holds one real cell.
        let g = Pool2dGeometry(batch: 1, channels: 1, inHeight: 2, inWidth: 2, kernel: (2, 2), stride: (1, 1), padding: (1, 1))
        let out = testBackend.makeBuffer(count: 9, dtype: .float32)
        testBackend.avgPool2dForward(input: floatBuffer([1, 2, 3, 4]), out: out, geometry: g, countIncludePad: true)
        XCTAssertEqual(try download(out, as: Float.self), [0.25, 0.75, 0.5, 1, 2.5, 1.5, 0.75, 1.75, 1])
        testBackend.avgPool2dForward(input: floatBuffer([1, 2, 3, 4]), out: out, geometry: g, countIncludePad: false)
        XCTAssertEqual(try download(out, as: Float.self), [1, 1.5, 2, 2, 2.5, 3, 3, 3.5, 4])
    }

    func testAvgPoolBackward() throws {
        for dtype in [DType.float32, .float64] {
            let tol = tolerances(dtype)
            for (name, g) in Self.geometries {
                var rng = SplitMix64(seed: 11)
                let gradOut = rng.floats(product(g.outputShape))
                for includePad in [true, false] {
                    var expected = [Double](repeating: 0, count: product(g.inputShape))
                    Self.forEachWindow(g) { o, base, cells in
                        let share = gradOut[o] / Double(includePad ? g.kernelH * g.kernelW : cells.count)
                        for c in cells { expected[base + c] += share }
                    }
                    let gradInput = buffer([Double](repeating: .nan, count: expected.count), dtype: dtype)
                    testBackend.avgPool2dBackward(gradOut: buffer(gradOut, dtype: dtype), gradInput: gradInput, geometry: g,
                                                  countIncludePad: includePad)
                    assertClose(try downloadDoubles(gradInput), expected, relTol: tol.rel, absTol: tol.abs,
                                "avg pool backward \(name) includePad \(includePad) \(dtype)")
                }
            }
        }
    }
}
