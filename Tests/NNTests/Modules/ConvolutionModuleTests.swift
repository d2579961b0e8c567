import XCTest
@testable import NN

final class ConvolutionModuleTests: XCTestCase {
    /// Direct loops of the definition: y[n, o, i, j] = b[o] + sum over
    /// (c, p, q) of x[n, c, i*sh - ph + p*dh, j*sw - pw + q*dw] w[o, c, p, q].
    static func referenceConv(_ x: [Double], _ xShape: [Int], _ w: [Double], _ wShape: [Int], _ b: [Double]?,
                              stride: (Int, Int), padding: (Int, Int), dilation: (Int, Int)) -> (values: [Double], shape: [Int]) {
        let (n, c, h, wd) = (xShape[0], xShape[1], xShape[2], xShape[3])
        let (o, kh, kw) = (wShape[0], wShape[2], wShape[3])
        let oh = (h + 2 * padding.0 - dilation.0 * (kh - 1) - 1) / stride.0 + 1
        let ow = (wd + 2 * padding.1 - dilation.1 * (kw - 1) - 1) / stride.1 + 1
        var y = [Double](repeating: 0, count: n * o * oh * ow)
        for ni in 0..<n {
            for oc in 0..<o {
                for i in 0..<oh {
                    for j in 0..<ow {
                        var s = b?[oc] ?? 0
                        for ci in 0..<c {
                            for p in 0..<kh {
                                for q in 0..<kw {
                                    let r = i * stride.0 - padding.0 + p * dilation.0, col = j * stride.1 - padding.1 + q * dilation.1
                                    if r < 0 || r >= h || col < 0 || col >= wd { continue }
                                    s += x[((ni * c + ci) * h + r) * wd + col] * w[((oc * c + ci) * kh + p) * kw + q]
                                }
                            }
                        }
                        y[((ni * o + oc) * oh + i) * ow + j] = s
                    }
                }
            }
        }
        return (y, [n, o, oh, ow])
    }

    func testStateDictLayoutIsPyTorchs() {
        let conv = Conv2d(3, 8, kernelSize: [3, 2], device: .cpu)
        XCTAssertEqual(conv.stateDict().map(\.name), ["weight", "bias"])
        XCTAssertEqual(conv.stateDict().map(\.tensor.shape), [[8, 3, 3, 2], [8]])
        XCTAssertEqual(conv.parameterCount, 8 * 3 * 3 * 2 + 8)
        let noBias = Conv2d(3, 8, kernelSize: 3, bias: false, device: .cpu)
        XCTAssertEqual(noBias.stateDict().map(\.name), ["weight"])
        XCTAssertEqual(noBias.weight.shape, [8, 3, 3, 3])
        XCTAssertNil(noBias.bias)
    }

    /// Int, array literal and tuple spellings of the sizes mean the same.
    func testSizeSpellings() {
        let a = Conv2d(2, 4, kernelSize: 3, stride: 2, padding: 1, dilation: 1, device: .cpu)
        XCTAssertTrue(a.kernelSize == (3, 3) && a.stride == (2, 2) && a.padding == (1, 1) && a.dilation == (1, 1))
        let b = Conv2d(2, 4, kernelSize: [3, 2], stride: [2, 1], padding: [1, 0], dilation: [1, 2], device: .cpu)
        XCTAssertTrue(b.kernelSize == (3, 2) && b.stride == (2, 1) && b.padding == (1, 0) && b.dilation == (1, 2))
        let c = Conv2d(2, 4, kernelSize: (3, 2), stride: (2, 1), padding: (1, 0), dilation: (1, 2), device: .cpu)
        XCTAssertTrue(c.kernelSize == b.kernelSize && c.stride == b.stride && c.padding == b.padding && c.dilation == b.dilation)
        XCTAssertEqual(c.weight.shape, [4, 2, 3, 2])
        XCTAssertEqual(IntOrPair(5), IntOrPair(5, 5))
        XCTAssertEqual(IntOrPair((2, 7)), [2, 7])
    }

    func testDescriptionNamesTheNonDefaultSizes() {
        XCTAssertEqual(Conv2d(1, 6, kernelSize: 5, device: .cpu).summary, "Conv2d(1, 6, kernelSize: (5, 5))")
        XCTAssertEqual(Conv2d(1, 6, kernelSize: 5, padding: 2, device: .cpu).summary, "Conv2d(1, 6, kernelSize: (5, 5), padding: (2, 2))")
        XCTAssertEqual(Conv2d(3, 8, kernelSize: [3, 2], stride: [2, 1], dilation: 2, bias: false, device: .cpu).summary,
                       "Conv2d(3, 8, kernelSize: (3, 2), stride: (2, 1), dilation: (2, 2), bias: false)")
    }

    /// U(-1/sqrt(fanIn), 1/sqrt(fanIn)) for weight and bias, fanIn = in · kh · kw.
    func testDefaultInitRanges() throws {
        Random.manualSeed(3)
        let conv = Conv2d(2, 500, kernelSize: [3, 2], device: .cpu)  // fanIn 12
        let bound = 1 / 12.0.squareRoot()
        for (name, p) in conv.namedParameters() {
            let v = try MT.values(p)
            XCTAssertLessThanOrEqual(v.map(Swift.abs).max()!, bound * (1 + 1e-6), name)
            XCTAssertGreaterThan(v.map(Swift.abs).max()!, 0.98 * bound, "\(name) fills its range")
            XCTAssertEqual(MT.stats(v).mean, 0, accuracy: 0.1 * bound, name)
            XCTAssertEqual(MT.stats(v).std, bound / 3.0.squareRoot(), accuracy: 0.06 * bound, name)
        }
    }

    /// PyTorch's draw order: weight first, then bias, each one uniform draw.
    func testInitDrawOrderFromTheSeed() throws {
        Random.manualSeed(21)
        let conv = Conv2d(3, 2, kernelSize: [2, 3], dtype: .float64, device: .cpu)  // fanIn 18
        Random.manualSeed(21)
        let bound = 1 / 18.0.squareRoot()
        let w = Tensor.uniform([2, 3, 2, 3], low: -bound, high: bound, dtype: .float64, on: .cpu)
        let b = Tensor.uniform([2], low: -bound, high: bound, dtype: .float64, on: .cpu)
        XCTAssertEqual(try MT.values(conv.weight), try TT.values(w))
        XCTAssertEqual(try MT.values(conv.bias!), try TT.values(b))
    }

    /// 3x3 input 1..9, 2x2 kernel [[1, 2], [3, 4]], bias 0.5, worked by hand.
    func testForwardHandWorked() throws {
        let conv = Conv2d(1, 1, kernelSize: 2, dtype: .float64, device: .cpu)
        MT.set(conv.weight, [1, 2, 3, 4])
        MT.set(conv.bias!, [0.5])
        let x = TT.f64((1...9).map(Double.init), [1, 1, 3, 3])
        // 1+4+12+20, 2+6+15+24, 4+10+21+32, 5+12+24+36
        let y = conv(x)
        XCTAssertEqual(y.shape, [1, 1, 2, 2])
        XCTAssertEqual(try TT.values(y), [37.5, 47.5, 67.5, 77.5])

        // Padding 1, stride 2 on the same input: the padded 5x5 image's
        // windows at (0, 0), (0, 2), (2, 0), (2, 2) see 1·4; 2·3 + 3·4;
        // 4·2 + 7·4; 5 + 12 + 24 + 36.
        let padded = Conv2d(1, 1, kernelSize: 2, stride: 2, padding: 1, dtype: .float64, device: .cpu)
        MT.set(padded.weight, [1, 2, 3, 4])
        MT.set(padded.bias!, [0.5])
        XCTAssertEqual(try TT.values(padded(x)), [4.5, 18.5, 36.5, 77.5])
    }

    /// Several channels, non-square stride, padding and dilation, against
    /// the direct loops; also float32, and one image without a batch axis.
    func testForwardMatchesDirectLoops() throws {
        Random.manualSeed(5)
        let conv = Conv2d(3, 4, kernelSize: [3, 2], stride: [2, 1], padding: [1, 2], dilation: [2, 1], dtype: .float64, device: .cpu)
        let x = TT.random(2 * 3 * 7 * 6, seed: 6)
        let expected = Self.referenceConv(x, [2, 3, 7, 6], try MT.values(conv.weight), [4, 3, 3, 2], try MT.values(conv.bias!),
                                          stride: (2, 1), padding: (1, 2), dilation: (2, 1))
        let y = conv(TT.f64(x, [2, 3, 7, 6]))
        XCTAssertEqual(y.shape, expected.shape)
        XCTAssertEqual(y.shape, [2, 4, 3, 9])  // floor((7 + 2 - 4 - 1) / 2) + 1, (6 + 4 - 1 - 1) + 1
        assertTensorValues(try TT.values(y), expected.values)

        let single = conv(TT.f64(Array(x[0..<(3 * 7 * 6)]), [3, 7, 6]))
        XCTAssertEqual(single.shape, [4, 3, 9])
        assertTensorValues(try TT.values(single), Array(expected.values[0..<(4 * 3 * 9)]))

        Random.manualSeed(5)
        let conv32 = Conv2d(3, 4, kernelSize: [3, 2], stride: [2, 1], padding: [1, 2], dilation: [2, 1], device: .cpu)
        let expected32 = Self.referenceConv(x, [2, 3, 7, 6], try MT.values(conv32.weight), [4, 3, 3, 2],
                                            try MT.values(conv32.bias!), stride: (2, 1), padding: (1, 2), dilation: (2, 1))
        assertTensorValues(try TT.values(conv32(TT.f32(x, [2, 3, 7, 6]))), expected32.values, abs: 1e-5, rel: 1e-5)
    }

    func testGradientCheck() {
        Random.manualSeed(7)
        let conv = Conv2d(2, 3, kernelSize: [3, 2], stride: [2, 1], padding: [1, 2], dilation: [2, 1], dtype: .float64, device: .cpu)
        assertModuleGradientCheck(conv, input: TT.f64(TT.random(2 * 2 * 7 * 5, seed: 8), [2, 2, 7, 5]),
                                  "stride (2, 1), padding (1, 2), dilation (2, 1)")
        let noBias = Conv2d(2, 2, kernelSize: 2, stride: [1, 3], padding: [0, 1], bias: false, dtype: .float64, device: .cpu)
        assertModuleGradientCheck(noBias, input: TT.f64(TT.random(1 * 2 * 4 * 7, seed: 9), [1, 2, 4, 7]), "no bias")
        let single = Conv2d(1, 2, kernelSize: 3, padding: 1, dtype: .float64, device: .cpu)
        assertModuleGradientCheck(single, input: TT.f64(TT.random(25, seed: 10), [1, 5, 5]), "[C, H, W] input")
    }

    func testBadInputMessagesNameTheLayerAndShapes() {
        let conv = Conv2d(1, 6, kernelSize: 5, device: .cpu)
        XCTAssertNil(conv.inputProblem([64, 1, 28, 28]))
        XCTAssertNil(conv.inputProblem([1, 5, 5]), "[C, H, W] is one image")
        let rank = conv.inputProblem([28, 28])
        assertMentions(rank, ["Conv2d(1, 6, kernelSize: (5, 5))", "[28, 28]", "[N, 1, H, W]"])
        let channels = conv.inputProblem([64, 3, 28, 28])
        assertMentions(channels, ["Conv2d(1, 6, kernelSize: (5, 5))", "[64, 3, 28, 28]", "3 channels", "expected 1"])
        let small = conv.inputProblem([2, 1, 4, 9])
        assertMentions(small, ["Conv2d(1, 6, kernelSize: (5, 5))", "[2, 1, 4, 9]", "4x9", "5x5 kernel"])
        // Padding and dilation count: 3 + 2·1 = 5 fits a 5-tall dilated kernel, 4 does not.
        let dilated = Conv2d(2, 3, kernelSize: 3, padding: 1, dilation: 2, device: .cpu)
        XCTAssertNil(dilated.inputProblem([1, 2, 3, 3]))
        assertMentions(dilated.inputProblem([1, 2, 2, 3]), ["Conv2d(2, 3, kernelSize: (3, 3), padding: (1, 1), dilation: (2, 2))",
                                                          "[1, 2, 2, 3]", "4x5 after padding", "5x5 kernel", "dilated"])
    }

    private func assertMentions(_ message: String?, _ parts: [String], file: StaticString = #filePath, line: UInt = #line) {
        guard let message else { return XCTFail("expected a message", file: file, line: line) }
        for part in parts {
            XCTAssertTrue(message.contains(part), "'\(message)' does not mention '\(part)'", file: file, line: line)
        }
    }
}
