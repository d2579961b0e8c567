import Foundation
import XCTest
@testable import NN

final class ActivationsTests: XCTestCase {
    private let x = TT.awayFromZero(12, seed: 31, lo: 0.1, hi: 3)

    private func check(_ module: Module, _ f: (Double) -> Double, _ name: String,
                       file: StaticString = #filePath, line: UInt = #line) throws {
        let y = module(TT.f64(x, [3, 4]))
        XCTAssertEqual(y.shape, [3, 4], name, file: file, line: line)
        assertTensorValues(try TT.values(y), x.map(f), abs: 1e-14, rel: 1e-13, name, file: file, line: line)
        XCTAssertTrue(module.stateDict().isEmpty, "\(name) has no state", file: file, line: line)
        assertModuleGradientCheck(module, input: TT.f64(x, [3, 4]), name, file: file, line: line)
    }

    func testElementwiseActivations() throws {
        try check(Sigmoid(), { 1 / (1 + Foundation.exp(-$0)) }, "Sigmoid")
        try check(Tanh(), { Foundation.tanh($0) }, "Tanh")
        try check(ReLU(), { Swift.max($0, 0) }, "ReLU")
        try check(LeakyReLU(), { $0 > 0 ? $0 : 0.01 * $0 }, "LeakyReLU default slope 0.01")
        try check(LeakyReLU(negativeSlope: 0.2), { $0 > 0 ? $0 : 0.2 * $0 }, "LeakyReLU(0.2)")
        try check(ELU(), { $0 > 0 ? $0 : Foundation.exp($0) - 1 }, "ELU default alpha 1")
        try check(ELU(alpha: 0.5), { $0 > 0 ? $0 : 0.5 * (Foundation.exp($0) - 1) }, "ELU(0.5)")
        try check(Softplus(), { Foundation.log(1 + Foundation.exp($0)) }, "Softplus default")
        // beta 2, threshold 3: linear where 2x > 3
        try check(Softplus(beta: 2, threshold: 3), { 2 * $0 > 3 ? $0 : Foundation.log(1 + Foundation.exp(2 * $0)) / 2 },
                  "Softplus(2, 3)")
    }

    func testDefaults() {
        XCTAssertEqual(LeakyReLU().negativeSlope, 0.01)
        XCTAssertEqual(ELU().alpha, 1)
        XCTAssertEqual(Softplus().beta, 1)
        XCTAssertEqual(Softplus().threshold, 20)
        XCTAssertEqual(PReLU(device: .cpu).numParameters, 1)
    }

    func testSoftmaxAndLogSoftmaxAlongDim() throws {
        let input = TT.f64(x, [3, 4])
        func softmax(dim: Int) -> [Double] {
            var out = [Double](repeating: 0, count: 12)
            for i in 0..<3 {
                for j in 0..<4 {
                    let others = dim == 1 ? (0..<4).map { x[i * 4 + $0] } : (0..<3).map { x[$0 * 4 + j] }
                    out[i * 4 + j] = Foundation.exp(x[i * 4 + j]) / others.map(Foundation.exp).reduce(0, +)
                }
            }
            return out
        }
        assertTensorValues(try TT.values(Softmax(dim: 1)(input)), softmax(dim: 1), abs: 1e-15, rel: 1e-13)
        assertTensorValues(try TT.values(Softmax(dim: -1)(input)), softmax(dim: 1), abs: 1e-15, rel: 1e-13)
        assertTensorValues(try TT.values(Softmax(dim: 0)(input)), softmax(dim: 0), abs: 1e-15, rel: 1e-13)
        assertTensorValues(try TT.values(LogSoftmax(dim: 0)(input)), softmax(dim: 0).map(Foundation.log), abs: 1e-14, rel: 1e-13)
        assertTensorValues(try TT.values(LogSoftmax(dim: 1)(input)), softmax(dim: 1).map(Foundation.log), abs: 1e-14, rel: 1e-13)
        for module in [Softmax(dim: 0), Softmax(dim: 1), LogSoftmax(dim: 0), LogSoftmax(dim: 1)] {
            assertModuleGradientCheck(module, input: input, "\(type(of: module)) dim")
        }
    }

    func testPReLUSharedSlope() throws {
        let prelu = PReLU(dtype: .float64, device: .cpu)
        XCTAssertEqual(prelu.stateDict().map(\.name), ["weight"])
        XCTAssertEqual(prelu.weight.shape, [1])
        XCTAssertEqual(try MT.values(prelu.weight), [0.25], "PyTorch's init 0.25")
        XCTAssertEqual(prelu.parameters().count, 1, "the slope is learnable")
        assertTensorValues(try TT.values(prelu(TT.f64(x, [3, 4]))), x.map { $0 > 0 ? $0 : 0.25 * $0 })
        MT.set(prelu.weight, [-0.4])
        assertModuleGradientCheck(prelu, input: TT.f64(x, [3, 4]), "shared slope")
        assertModuleGradientCheck(prelu, input: TT.f64(x, [12]), "1-D input")
    }

    func testPReLUPerChannel() throws {
        let prelu = PReLU(numParameters: 3, init: 0.1, dtype: .float64, device: .cpu)
        XCTAssertEqual(prelu.weight.shape, [3])
        XCTAssertEqual(try MT.values(prelu.weight), [0.1, 0.1, 0.1])
        let slopes = [0.1, -0.3, 0.7]
        MT.set(prelu.weight, slopes)
        // [N 2, C 3, L 2]: the slope follows axis 1.
        let v = TT.awayFromZero(12, seed: 32)
        let y = try TT.values(prelu(TT.f64(v, [2, 3, 2])))
        var expected = [Double]()
        for n in 0..<2 { for c in 0..<3 { for l in 0..<2 {
            let value = v[n * 6 + c * 2 + l]
            expected.append(value > 0 ? value : slopes[c] * value)
        } } }
        assertTensorValues(y, expected)
        assertModuleGradientCheck(prelu, input: TT.f64(v, [2, 3, 2]), "per channel [N, C, L]")
        assertModuleGradientCheck(prelu, input: TT.f64(Array(v[0..<9]), [3, 3]), "per channel [N, C]")
    }

    func testMaxoutLayoutAndValues() throws {
        Random.manualSeed(33)
        let maxout = Maxout(4, 3, pieces: 2, dtype: .float64, device: .cpu)
        XCTAssertEqual(maxout.stateDict().map(\.name), ["linear.weight", "linear.bias"])
        XCTAssertEqual(maxout.stateDict().map(\.tensor.shape), [[6, 4], [6]])
        let w = try MT.values(maxout.linear.weight), b = try MT.values(maxout.linear.bias!)
        let v = TT.random(20, seed: 34, low: -2, high: 2)
        let z = MT.affine(v, rows: 5, inner: 4, w, out: 6, b)
        // out[n, j] = max(z[n, 2j], z[n, 2j + 1])
        let expected = (0..<5).flatMap { n in (0..<3).map { j in Swift.max(z[n * 6 + 2 * j], z[n * 6 + 2 * j + 1]) } }
        let y = maxout(TT.f64(v, [5, 4]))
        XCTAssertEqual(y.shape, [5, 3])
        assertTensorValues(try TT.values(y), expected, abs: 1e-14, rel: 1e-13)
        XCTAssertEqual(maxout(TT.f64(v, [5, 1, 4])).shape, [5, 1, 3], "[*, in] input")
        assertModuleGradientCheck(maxout, input: TT.f64(v, [5, 4]))

        let three = Maxout(3, 2, pieces: 3, dtype: .float64, device: .cpu)
        assertModuleGradientCheck(three, input: TT.f64(TT.random(12, seed: 35), [4, 3]), "3 pieces")
    }
}
