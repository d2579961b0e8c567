import XCTest
import NN

/// conv2d forward and both backwards against direct float64 loops.
final class ConvolutionTests: XCTestCase {
    static let geometries: [(String, Conv2dGeometry)] = [
        ("stride/pad/dilation", Conv2dGeometry(batch: 2, inChannels: 3, inHeight: 7, inWidth: 9, outChannels: 4,
                                               kernelH: 3, kernelW: 2, stride: (2, 1), padding: (1, 2), dilation: (2, 1))),
        ("plain 3x3", Conv2dGeometry(batch: 1, inChannels: 1, inHeight: 5, inWidth: 5, outChannels: 1, kernelH: 3, kernelW: 3)),
        ("1x1", Conv2dGeometry(batch: 3, inChannels: 2, inHeight: 6, inWidth: 6, outChannels: 5, kernelH: 1, kernelW: 1)),
        ("same padding stride 2", Conv2dGeometry(batch: 2, inChannels: 4, inHeight: 8, inWidth: 7, outChannels: 3,
                                                 kernelH: 3, kernelW: 3, stride: (2, 2), padding: (1, 1))),
        ("kernel = input", Conv2dGeometry(batch: 2, inChannels: 3, inHeight: 4, inWidth: 5, outChannels: 2,
                                          kernelH: 4, kernelW: 5)),
        ("dilated, wide", Conv2dGeometry(batch: 1, inChannels: 2, inHeight: 11, inWidth: 13, outChannels: 3,
                                         kernelH: 2, kernelW: 3, stride: (1, 3), padding: (2, 0), dilation: (3, 2))),
        // The CPU backend splits small convolutions' images between the
        // cores (all of the above, odd batches in uneven chunks) and runs
        // large ones image by image with OpenBLAS threading each GEMM (one
        // image's GEMM above 2^18 multiply-adds): these two take that path.
        ("large, image by image", Conv2dGeometry(batch: 2, inChannels: 3, inHeight: 32, inWidth: 30, outChannels: 16,
                                                 kernelH: 3, kernelW: 3, stride: (1, 1), padding: (1, 2))),
        ("1x1 large, image by image", Conv2dGeometry(batch: 3, inChannels: 64, inHeight: 9, inWidth: 9, outChannels: 64,
                                                     kernelH: 1, kernelW: 1)),
        ("odd batch, strided 1x1", Conv2dGeometry(batch: 5, inChannels: 3, inHeight: 7, inWidth: 6, outChannels: 2,
                                                  kernelH: 1, kernelW: 1, stride: (2, 3))),
    ]

    /// Calls body(n, oc, oh, ow, ic, kh, kw, inputIndex, weightIndex,
    /// outIndex) for every pair of (output cell, kernel tap) that reads an
    /// input cell inside the image: the seven loops of the definition.
    static func forEachTap(_ g: Conv2dGeometry, _ body: (Int, Int, Int, Int) -> Void) {
        let oh = g.outHeight, ow = g.outWidth
        for n in 0..<g.batch {
            for oc in 0..<g.outChannels {
                for y in 0..<oh {
                    for x in 0..<ow {
                        for ic in 0..<g.inChannels {
                            for kh in 0..<g.kernelH {
                                for kw in 0..<g.kernelW {
                                    let ih = y * g.strideH - g.padH + kh * g.dilationH
                                    let iw = x * g.strideW - g.padW + kw * g.dilationW
                                    if ih < 0 || ih >= g.inHeight || iw < 0 || iw >= g.inWidth { continue }
                                    let inputIndex = ((n * g.inChannels + ic) * g.inHeight + ih) * g.inWidth + iw
                                    let weightIndex = ((oc * g.inChannels + ic) * g.kernelH + kh) * g.kernelW + kw
                                    let outIndex = ((n * g.outChannels + oc) * oh + y) * ow + x
                                    body(inputIndex, weightIndex, outIndex, oc)
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    struct Data {
        var input: [Double], weight: [Double], bias: [Double], gradOut: [Double]
    }

    static func data(_ g: Conv2dGeometry, seed: UInt64) -> Data {
        var rng = SplitMix64(seed: seed)
        return Data(input: rng.floats(product(g.inputShape)), weight: rng.floats(product(g.weightShape)),
                    bias: rng.floats(g.outChannels), gradOut: rng.floats(product(g.outputShape)))
    }

    func testOutputGeometry() {
        let g = Self.geometries[0].1
        // floor((7 + 2 - 2*2 - 1) / 2) + 1 = 3, floor((9 + 4 - 1 - 1) / 1) + 1 = 12
        XCTAssertEqual(g.outputShape, [2, 4, 3, 12])
        XCTAssertEqual(g.patchSize, 18)
    }

    func testForward() throws {
        for dtype in [DType.float32, .float64] {
            for (name, g) in Self.geometries {
                let d = Self.data(g, seed: 1)
                var expected = [Double](repeating: 0, count: product(g.outputShape))
                var scale = [Double](repeating: 0, count: expected.count)
                Self.forEachTap(g) { i, w, o, _ in
                    expected[o] += d.input[i] * d.weight[w]
                    scale[o] += Swift.abs(d.input[i] * d.weight[w])
                }
                let tol = dtype == .float32 ? 1e-5 : 1e-13
                for withBias in [false, true] {
                    var exp = expected
                    if withBias {
                        let plane = g.outHeight * g.outWidth
                        for o in 0..<exp.count { exp[o] += d.bias[(o / plane) % g.outChannels] }
                    }
                    let out = buffer([Double](repeating: .nan, count: exp.count), dtype: dtype)
                    testBackend.conv2dForward(input: buffer(d.input, dtype: dtype), weight: buffer(d.weight, dtype: dtype),
                                              bias: withBias ? buffer(d.bias, dtype: dtype) : nil, out: out, geometry: g)
                    assertCloseScaled(try downloadDoubles(out), exp, scale: scale.map { $0 + 1 }, tol: tol,
                                      "forward \(name) bias \(withBias) \(dtype)")
                }
            }
        }
    }

    func testForwardHandWorked() throws {
        // 3x3 input 1..9, 2x2 kernel [[1, 0], [0, -1]]: out[y][x] = in[y][x] - in[y+1][x+1] = -4 everywhere.
        let g = Conv2dGeometry(batch: 1, inChannels: 1, inHeight: 3, inWidth: 3, outChannels: 1, kernelH: 2, kernelW: 2)
        let out = testBackend.makeBuffer(count: 4, dtype: .float32)
        testBackend.conv2dForward(input: floatBuffer((1...9).map(Double.init)), weight: floatBuffer([1, 0, 0, -1]),
                                  bias: floatBuffer([0.5]), out: out, geometry: g)
        XCTAssertEqual(try download(out, as: Float.self), [-3.5, -3.5, -3.5, -3.5])
    }

    func testBackwardData() throws {
        for dtype in [DType.float32, .float64] {
            for (name, g) in Self.geometries {
                let d = Self.data(g, seed: 2)
                var expected = [Double](repeating: 0, count: product(g.inputShape))
                var scale = [Double](repeating: 1, count: expected.count)
                Self.forEachTap(g) { i, w, o, _ in
                    expected[i] += d.gradOut[o] * d.weight[w]
                    scale[i] += Swift.abs(d.gradOut[o] * d.weight[w])
                }
                // Prefilled with NaN: the result is overwritten, not accumulated.
                let gradInput = buffer([Double](repeating: .nan, count: expected.count), dtype: dtype)
                testBackend.conv2dBackwardData(gradOut: buffer(d.gradOut, dtype: dtype), weight: buffer(d.weight, dtype: dtype),
                                               gradInput: gradInput, geometry: g)
                assertCloseScaled(try downloadDoubles(gradInput), expected, scale: scale,
                                  tol: dtype == .float32 ? 1e-5 : 1e-13, "backward data \(name) \(dtype)")
            }
        }
    }

    func testBackwardFilter() throws {
        for dtype in [DType.float32, .float64] {
            for (name, g) in Self.geometries {
                let d = Self.data(g, seed: 3)
                var expectedW = [Double](repeating: 0, count: product(g.weightShape))
                var scaleW = [Double](repeating: 1, count: expectedW.count)
                Self.forEachTap(g) { i, w, o, _ in
                    expectedW[w] += d.gradOut[o] * d.input[i]
                    scaleW[w] += Swift.abs(d.gradOut[o] * d.input[i])
                }
                var expectedB = [Double](repeating: 0, count: g.outChannels)
                var scaleB = [Double](repeating: 1, count: g.outChannels)
                let plane = g.outHeight * g.outWidth
                for (o, v) in d.gradOut.enumerated() {
                    expectedB[(o / plane) % g.outChannels] += v
                    scaleB[(o / plane) % g.outChannels] += Swift.abs(v)
                }
                let tol = dtype == .float32 ? 1e-5 : 1e-13
                for withBias in [false, true] {
                    let gradWeight = buffer([Double](repeating: .nan, count: expectedW.count), dtype: dtype)
                    let gradBias = buffer([Double](repeating: .nan, count: g.outChannels), dtype: dtype)
                    testBackend.conv2dBackwardFilter(input: buffer(d.input, dtype: dtype), gradOut: buffer(d.gradOut, dtype: dtype),
                                                     gradWeight: gradWeight, gradBias: withBias ? gradBias : nil, geometry: g)
                    assertCloseScaled(try downloadDoubles(gradWeight), expectedW, scale: scaleW, tol: tol,
                                      "backward filter \(name) bias \(withBias) \(dtype)")
                    if withBias {
                        assertCloseScaled(try downloadDoubles(gradBias), expectedB, scale: scaleB, tol: tol,
                                          "backward bias \(name) \(dtype)")
                    }
                }
            }
        }
    }
}
