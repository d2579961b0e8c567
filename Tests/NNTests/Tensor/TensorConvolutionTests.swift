import XCTest
@testable import NN

/// conv2d, maxPool2d and avgPool2d on tensors: forward against direct Double
/// loops (PyTorch's definitions), and gradient checks.
final class TensorConvolutionTests: XCTestCase {
    private struct Conv {
        var n = 2, c = 2, h = 5, w = 6, oc = 3, kh = 3, kw = 2
        var stride = (1, 1), padding = (0, 0), dilation = (1, 1)
        var outH: Int { (h + 2 * padding.0 - dilation.0 * (kh - 1) - 1) / stride.0 + 1 }
        var outW: Int { (w + 2 * padding.1 - dilation.1 * (kw - 1) - 1) / stride.1 + 1 }
    }

    private func referenceConv(_ x: [Double], _ weight: [Double], _ bias: [Double]?, _ g: Conv) -> [Double] {
        var out: [Double] = []
        for n in 0..<g.n {
            for o in 0..<g.oc {
                for oh in 0..<g.outH {
                    for ow in 0..<g.outW {
                        var acc = bias?[o] ?? 0
                        for c in 0..<g.c {
                            for i in 0..<g.kh {
                                for j in 0..<g.kw {
                                    let ih = oh * g.stride.0 - g.padding.0 + i * g.dilation.0
                                    let iw = ow * g.stride.1 - g.padding.1 + j * g.dilation.1
                                    guard ih >= 0, ih < g.h, iw >= 0, iw < g.w else { continue }
                                    acc += x[((n * g.c + c) * g.h + ih) * g.w + iw] * weight[((o * g.c + c) * g.kh + i) * g.kw + j]
                                }
                            }
                        }
                        out.append(acc)
                    }
                }
            }
        }
        return out
    }

    private let convCases: [Conv] = [
        Conv(),
        Conv(stride: (2, 1), padding: (1, 2), dilation: (2, 1)),
        Conv(stride: (2, 3), padding: (1, 0), dilation: (1, 2)),
        Conv(n: 1, c: 3, h: 7, w: 13, oc: 5, kh: 1, kw: 1),
        Conv(n: 3, c: 1, h: 13, w: 7, oc: 2, kh: 3, kw: 3, stride: (2, 2), padding: (1, 1)),
    ]

    func testConv2dForward() throws {
        for (i, g) in convCases.enumerated() {
            let x = TT.random(g.n * g.c * g.h * g.w, seed: 501), w = TT.random(g.oc * g.c * g.kh * g.kw, seed: 502)
            let b = TT.random(g.oc, seed: 503)
            let out = TT.f64(x, [g.n, g.c, g.h, g.w]).conv2d(weight: TT.f64(w, [g.oc, g.c, g.kh, g.kw]), bias: TT.f64(b, [g.oc]),
                                                             stride: g.stride, padding: g.padding, dilation: g.dilation)
            XCTAssertEqual(out.shape, [g.n, g.oc, g.outH, g.outW], "case \(i)")
            assertTensorValues(try TT.values(out), referenceConv(x, w, b, g), abs: 1e-14, rel: 1e-13, "case \(i)")
            let noBias = TT.f32(x, [g.n, g.c, g.h, g.w]).conv2d(weight: TT.f32(w, [g.oc, g.c, g.kh, g.kw]),
                                                                stride: g.stride, padding: g.padding, dilation: g.dilation)
            assertTensorValues(try TT.values(noBias), referenceConv(x, w, nil, g), abs: 1e-6, rel: 1e-5, "case \(i) f32 no bias")
        }
    }

    func testConv2dByHand() throws {
        // 1x1x3x3 input, 2x2 kernel of ones: window sums.
        let x = TT.f32([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 1, 3, 3])
        let y = x.conv2d(weight: TT.f32([1, 1, 1, 1], [1, 1, 2, 2]), bias: TT.f32([10], [1]))
        XCTAssertEqual(y.shape, [1, 1, 2, 2])
        XCTAssertEqual(try y.toArray(), [22, 26, 34, 38])
    }

    func testConv2dGradients() {
        let g = Conv(stride: (2, 1), padding: (1, 2), dilation: (2, 1))
        let x = TT.uniform([g.n, g.c, g.h, g.w], seed: 511), w = TT.uniform([g.oc, g.c, g.kh, g.kw], seed: 512)
        let b = TT.uniform([g.oc], seed: 513)
        assertGradientCheck([x, w, b], "conv2d stride/padding/dilation/bias") {
            $0[0].conv2d(weight: $0[1], bias: $0[2], stride: g.stride, padding: g.padding, dilation: g.dilation)
        }
        assertGradientCheck([x, w], "conv2d no bias") { $0[0].conv2d(weight: $0[1], stride: (1, 2), padding: (0, 1)) }
        // Gradient to the weight and bias only (input constant), and to the input only.
        assertGradientCheck([w, b], "conv2d weight and bias") {
            x.conv2d(weight: $0[0], bias: $0[1], stride: g.stride, padding: g.padding, dilation: g.dilation)
        }
        assertGradientCheck([x], "conv2d input only") {
            $0[0].conv2d(weight: w, bias: b, stride: g.stride, padding: g.padding, dilation: g.dilation)
        }
    }

    // MARK: - Pooling

    private func referencePool(_ x: [Double], _ shape: [Int], kernel: (Int, Int), stride: (Int, Int), padding: (Int, Int),
                               max: Bool, countIncludePad: Bool = true) -> (values: [Double], shape: [Int]) {
        let (n, c, h, w) = (shape[0], shape[1], shape[2], shape[3])
        let oh = (h + 2 * padding.0 - kernel.0) / stride.0 + 1, ow = (w + 2 * padding.1 - kernel.1) / stride.1 + 1
        var out: [Double] = []
        for plane in 0..<(n * c) {
            for i in 0..<oh {
                for j in 0..<ow {
                    var best = -Double.infinity, sum = 0.0, cells = 0
                    for a in 0..<kernel.0 {
                        for b in 0..<kernel.1 {
                            let y = i * stride.0 - padding.0 + a, x0 = j * stride.1 - padding.1 + b
                            guard y >= 0, y < h, x0 >= 0, x0 < w else { continue }
                            let v = x[plane * h * w + y * w + x0]
                            best = Swift.max(best, v)
                            sum += v
                            cells += 1
                        }
                    }
                    out.append(max ? best : sum / Double(countIncludePad ? kernel.0 * kernel.1 : cells))
                }
            }
        }
        return (out, [n, c, oh, ow])
    }

    private let poolCases: [(shape: [Int], kernel: (Int, Int), stride: (Int, Int)?, padding: (Int, Int))] = [
        ([2, 3, 6, 8], (2, 2), nil, (0, 0)),
        ([2, 3, 7, 5], (3, 3), (2, 2), (1, 1)),
        ([1, 2, 13, 7], (3, 2), (2, 1), (1, 1)),
        ([2, 2, 5, 6], (2, 3), (1, 2), (0, 1)),
        ([1, 1, 1, 1], (1, 1), nil, (0, 0)),
    ]

    func testMaxPool2dForward() throws {
        for (shape, kernel, stride, padding) in poolCases {
            let v = TT.random(TT.count(shape), seed: 521)
            let out = TT.f32(v, shape).maxPool2d(kernel: kernel, stride: stride, padding: padding)
            let ref = referencePool(v, shape, kernel: kernel, stride: stride ?? kernel, padding: padding, max: true)
            XCTAssertEqual(out.shape, ref.shape, "\(shape) \(kernel)")
            XCTAssertEqual(try TT.values(out), ref.values, "\(shape) \(kernel) \(String(describing: stride)) \(padding)")
        }
        // Negative inputs with padding: padding is -inf, never 0.
        let neg = TT.f32([-5, -4, -3, -2], [1, 1, 2, 2]).maxPool2d(kernel: (2, 2), stride: (1, 1), padding: (1, 1))
        XCTAssertEqual(try neg.toArray(), [-5, -4, -4, -3, -2, -2, -3, -2, -2])
    }

    func testAvgPool2dForward() throws {
        for (shape, kernel, stride, padding) in poolCases {
            let v = TT.random(TT.count(shape), seed: 522)
            for include in [true, false] {
                let out = TT.f64(v, shape).avgPool2d(kernel: kernel, stride: stride, padding: padding, countIncludePad: include)
                let ref = referencePool(v, shape, kernel: kernel, stride: stride ?? kernel, padding: padding, max: false,
                                        countIncludePad: include)
                XCTAssertEqual(out.shape, ref.shape)
                assertTensorValues(try TT.values(out), ref.values, abs: 1e-15, rel: 1e-14,
                                   "\(shape) \(kernel) \(padding) include \(include)")
            }
        }
        // By hand: 2x2 of ones, kernel 2, stride 1, padding 1.
        let ones = TT.f32([1, 1, 1, 1], [1, 1, 2, 2])
        XCTAssertEqual(try ones.avgPool2d(kernel: (2, 2), stride: (1, 1), padding: (1, 1)).toArray(),
                       [0.25, 0.5, 0.25, 0.5, 1, 0.5, 0.25, 0.5, 0.25])
        XCTAssertEqual(try ones.avgPool2d(kernel: (2, 2), stride: (1, 1), padding: (1, 1), countIncludePad: false).toArray(),
                       [1, 1, 1, 1, 1, 1, 1, 1, 1])
    }

    func testMaxPool2dGradient() {
        for (shape, kernel, stride, padding) in poolCases.prefix(4) {
            let x = TT.f64(TT.distinct(TT.count(shape), seed: 531), shape)
            assertGradientCheck([x], "maxPool2d \(shape) \(kernel)") {
                $0[0].maxPool2d(kernel: kernel, stride: stride, padding: padding)
            }
        }
    }

    func testAvgPool2dGradient() {
        for (shape, kernel, stride, padding) in poolCases.prefix(4) {
            let x = TT.uniform(shape, seed: 532)
            for include in [true, false] {
                assertGradientCheck([x], "avgPool2d \(shape) \(kernel) include \(include)") {
                    $0[0].avgPool2d(kernel: kernel, stride: stride, padding: padding, countIncludePad: include)
                }
            }
        }
    }
}
