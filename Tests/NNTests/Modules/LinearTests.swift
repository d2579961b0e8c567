import XCTest
@testable import NN

final class LinearTests: XCTestCase {
    func testStateDictLayoutIsPyTorchs() {
        let layer = Linear(4, 3, device: .cpu)
        XCTAssertEqual(layer.stateDict().map(\.name), ["weight", "bias"])
        XCTAssertEqual(layer.stateDict().map(\.tensor.shape), [[3, 4], [3]])
        XCTAssertEqual(layer.parameters().count, 2)
        XCTAssertEqual(layer.parameterCount, 15)
        let noBias = Linear(4, 3, bias: false, device: .cpu)
        XCTAssertEqual(noBias.stateDict().map(\.name), ["weight"])
        XCTAssertNil(noBias.bias)
    }

    /// U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weight and bias: the bias bound
    /// comes from fan in (3 here), not from the 1000 outputs.
    func testDefaultInitRanges() throws {
        Random.manualSeed(1)
        let layer = Linear(3, 1000, device: .cpu)
        let bound = 1 / 3.0.squareRoot()
        for (name, p) in layer.namedParameters() {
            let v = try MT.values(p).map(Swift.abs)
            XCTAssertLessThanOrEqual(v.max()!, bound * (1 + 1e-6), name)
            XCTAssertGreaterThan(v.max()!, 0.99 * bound, "\(name) fills its range")
            XCTAssertEqual(MT.stats(try MT.values(p)).std, bound / 3.0.squareRoot(), accuracy: 0.05 * bound, name)
        }
        Random.manualSeed(2)
        let wide = Linear(400, 30, device: .cpu)
        let w = try MT.values(wide.weight).map(Swift.abs)
        XCTAssertLessThanOrEqual(w.max()!, 0.05 * (1 + 1e-6))
        XCTAssertGreaterThan(w.max()!, 0.0499)
        XCTAssertLessThanOrEqual(try MT.values(wide.bias!).map(Swift.abs).max()!, 0.05 * (1 + 1e-6))
    }

    /// PyTorch's draw order: weight first, then bias, each a uniform draw.
    func testInitDrawOrderFromTheSeed() throws {
        Random.manualSeed(77)
        let layer = Linear(4, 3, dtype: .float64, device: .cpu)
        Random.manualSeed(77)
        let w = Tensor.uniform([3, 4], low: -0.5, high: 0.5, dtype: .float64, on: .cpu)
        let b = Tensor.uniform([3], low: -0.5, high: 0.5, dtype: .float64, on: .cpu)
        XCTAssertEqual(try MT.values(layer.weight), try TT.values(w))
        XCTAssertEqual(try MT.values(layer.bias!), try TT.values(b))
    }

    func testForwardValuesAndLeadingAxes() throws {
        let layer = Linear(3, 2, dtype: .float64, device: .cpu)
        let w = [0.5, -1.0, 2.0,
                 1.5, 0.25, -0.75]
        let b = [0.1, -0.2]
        MT.set(layer.weight, w)
        MT.set(layer.bias!, b)
        let x = TT.random(12, seed: 3)
        let expected = MT.affine(x, rows: 4, inner: 3, w, out: 2, b)

        let y2 = layer(TT.f64(x, [4, 3]))
        XCTAssertEqual(y2.shape, [4, 2])
        assertTensorValues(try TT.values(y2), expected)
        // Row 0 by hand: 0.5 x0 - x1 + 2 x2 + 0.1
        XCTAssertEqual(try TT.values(y2)[0], 0.5 * x[0] - x[1] + 2 * x[2] + 0.1, accuracy: 1e-12)

        let y3 = layer(TT.f64(x, [2, 2, 3]))
        XCTAssertEqual(y3.shape, [2, 2, 2])
        assertTensorValues(try TT.values(y3), expected)

        let y1 = layer(TT.f64(Array(x[0..<3]), [3]))
        XCTAssertEqual(y1.shape, [2])
        assertTensorValues(try TT.values(y1), Array(expected[0..<2]))

        let noBias = Linear(3, 2, bias: false, dtype: .float64, device: .cpu)
        MT.set(noBias.weight, w)
        assertTensorValues(try TT.values(noBias(TT.f64(x, [4, 3]))), MT.affine(x, rows: 4, inner: 3, w, out: 2, nil))
    }

    func testFloat32Forward() throws {
        Random.manualSeed(4)
        let layer = Linear(5, 3, device: .cpu)
        let x = TT.random(10, seed: 8)
        let expected = MT.affine(x, rows: 2, inner: 5, try MT.values(layer.weight), out: 3, try MT.values(layer.bias!))
        assertTensorValues(try TT.values(layer(TT.f32(x, [2, 5]))), expected, abs: 1e-6, rel: 1e-5)
    }

    func testGradientCheck() {
        Random.manualSeed(9)
        let layer = Linear(3, 5, dtype: .float64, device: .cpu)
        assertModuleGradientCheck(layer, input: TT.f64(TT.random(12, seed: 10), [4, 3]))
        assertModuleGradientCheck(layer, input: TT.f64(TT.random(18, seed: 11), [2, 3, 3]), "[*, in] input")
        let noBias = Linear(3, 2, bias: false, dtype: .float64, device: .cpu)
        assertModuleGradientCheck(noBias, input: TT.f64(TT.random(6, seed: 12), [2, 3]))
    }

    /// The gradient reaches the very Parameter objects an optimizer holds.
    func testBackwardFillsParameterGrads() throws {
        let layer = Linear(2, 1, dtype: .float64, device: .cpu)
        MT.set(layer.weight, [2, -3])
        MT.set(layer.bias!, [0.5])
        let x = TT.f64([1, 2, 3, 4], [2, 2])
        layer(x).sum().backward()
        // d/dW sum(x W^T + b) = column sums of x; d/db = N.
        XCTAssertEqual(try TT.values(try XCTUnwrap(layer.weight.grad)), [4, 6])
        XCTAssertEqual(try TT.values(try XCTUnwrap(layer.bias!.grad)), [2])
        layer.zeroGrad()
        XCTAssertNil(layer.weight.grad)
    }
}
