import XCTest
@testable import NN

/// The gradient checker itself: it must pass a correct backward and catch
/// wrong ones (a scaled derivative, a wrong sign, a dropped term, one bad
/// element), and it must look at every element of every float input.
final class GradientCheckTests: XCTestCase {
    /// cube(x) = x^3 with a backward that multiplies 3x^2 by `factor` and
    /// optionally corrupts one element.
    private func cube(_ x: Tensor, factor: Double = 1, corruptElement: Int? = nil) -> Tensor {
        Tensor.differentiable("cube", [x], forward: { $0[0] * $0[0] * $0[0] }, backward: { g, inputs, _ in
            var d = g * inputs[0] * inputs[0] * (3 * factor)
            if let corruptElement {
                var mask = [Double](repeating: 1, count: d.count)
                mask[corruptElement] = 1.5
                d = d * Tensor(float64: mask, shape: d.shape, on: .cpu)
            }
            return [d]
        })
    }

    private var point: Tensor { TT.f64([0.7, -1.3, 0.4, 1.9, -0.6, 1.1], [2, 3]) }

    func testCorrectCustomOpPasses() throws {
        let result = try GradientCheck.check([point]) { cube($0[0]) }
        XCTAssertTrue(result.passed, "\(result)")
        XCTAssertLessThan(result.maxRelativeError, 1e-7, "\(result)")
        XCTAssertEqual(result.checkedElements, 6)
        XCTAssertEqual(result.tolerance, 1e-5)
    }

    func testScaledDerivativeFails() throws {
        let result = try GradientCheck.check([point]) { cube($0[0], factor: 1.01) }
        XCTAssertFalse(result.passed, "a 1% error in the derivative must fail: \(result)")
        // |1.01 a - a| / (1.01 a) = 0.0099
        XCTAssertEqual(result.maxRelativeError, 0.01 / 1.01, accuracy: 1e-5, "\(result)")
        XCTAssertTrue(result.description.contains("FAILED"), result.description)
    }

    func testWrongSignFails() throws {
        let result = try GradientCheck.check([point]) { cube($0[0], factor: -1) }
        XCTAssertFalse(result.passed)
        XCTAssertEqual(result.maxRelativeError, 2, accuracy: 1e-6, "\(result)")
        let worst = try XCTUnwrap(result.worst)
        XCTAssertEqual(worst.analytic, -worst.numeric, accuracy: 1e-5 * Swift.abs(worst.numeric))
    }

    func testDroppedTermFails() throws {
        // d(x * y)/dy dropped: the backward returns only the x partial.
        let x = TT.f64([0.5, -1.5, 2.0], [3]), y = TT.f64([1.25, 0.75, -0.5], [3])
        let result = try GradientCheck.check([x, y]) { xs in
            Tensor.differentiable("product", xs, forward: { $0[0] * $0[1] }, backward: { g, inputs, _ in
                [g * inputs[1], nil]
            })
        }
        XCTAssertFalse(result.passed)
        XCTAssertEqual(result.maxRelativeError, 1, accuracy: 1e-9, "\(result)")
        XCTAssertEqual(result.worst?.input, 1, "the missing gradient is the second input's: \(result)")
        XCTAssertEqual(result.checkedElements, 6)
    }

    func testDroppedProductRuleTermFails() throws {
        // d(x^2 sin x) = 2x sin x + x^2 cos x; drop the second term.
        let result = try GradientCheck.check([point]) { xs in
            Tensor.differentiable("x2sinx", xs, forward: { $0[0].square() * $0[0].sin() }, backward: { g, inputs, _ in
                [g * 2 * inputs[0] * inputs[0].sin()]
            })
        }
        XCTAssertFalse(result.passed)
        XCTAssertGreaterThan(result.maxRelativeError, 0.1, "\(result)")
    }

    func testEveryElementIsChecked() throws {
        // Only the last element of the six has a wrong derivative: a checker
        // that sampled elements could miss it.
        for bad in [0, 3, 5] {
            let result = try GradientCheck.check([point]) { cube($0[0], corruptElement: bad) }
            XCTAssertFalse(result.passed, "element \(bad): \(result)")
            XCTAssertEqual(result.worst?.index, bad, "\(result)")
            XCTAssertEqual(result.worst?.input, 0)
            XCTAssertEqual(result.maxRelativeError, 0.5 / 1.5, accuracy: 1e-5, "\(result)")
            XCTAssertEqual(result.checkedElements, 6)
        }
    }

    func testCheckedElementsCountsEveryFloatInputAndSkipsInt32() throws {
        let a = TT.uniform([3, 4], seed: 1), b = TT.uniform([4], seed: 2), labels = TT.i32([0, 3, 1])
        let result = try GradientCheck.check([a, b, labels]) { xs in
            Tensor.softmaxCrossEntropy(logits: xs[0] * xs[1], labels: xs[2])
        }
        XCTAssertTrue(result.passed, "\(result)")
        XCTAssertEqual(result.checkedElements, 12 + 4)
    }

    func testSecondInputWrongIsFound() throws {
        let x = TT.f64([0.5, -1.5], [2]), y = TT.f64([1.25, 0.75], [2])
        let result = try GradientCheck.check([x, y]) { xs in
            Tensor.differentiable("product", xs, forward: { $0[0] * $0[1] }, backward: { g, inputs, _ in
                [g * inputs[1], g * inputs[0] * 1.05]
            })
        }
        XCTAssertFalse(result.passed)
        XCTAssertEqual(result.worst?.input, 1)
        XCTAssertEqual(result.maxRelativeError, 0.05 / 1.05, accuracy: 1e-5)
    }

    func testFloat32InputsAreCheckedInFloat64() throws {
        // The checker promotes float32 inputs, so a correct op passes at the
        // default tolerance even though float32 differences would not.
        let x = Tensor([0.3, -0.8, 1.7], shape: [3], on: .cpu)
        let result = try GradientCheck.check([x]) { xs in
            XCTAssertEqual(xs[0].dtype, .float64)
            return xs[0].exp() * xs[0]
        }
        XCTAssertTrue(result.passed, "\(result)")
        XCTAssertLessThan(result.maxRelativeError, 1e-7)
    }

    func testToleranceIsRespected() throws {
        let result = try GradientCheck.check([point], tolerance: 0.02) { cube($0[0], factor: 1.01) }
        XCTAssertTrue(result.passed, "a 1% error is inside a 2% tolerance: \(result)")
        XCTAssertEqual(result.tolerance, 0.02)
    }

    func testUserDefinedOpMatchesBuiltInValuesAndGradient() throws {
        // Forward through the custom op equals x^3 computed by hand; its
        // gradient reaches the leaf as 3x^2.
        let values = [0.7, -1.3, 0.4, 1.9, -0.6, 1.1]
        let x = TT.f64(values, [2, 3]).requiringGrad()
        let y = cube(x)
        XCTAssertTrue(y.requiresGrad)
        assertTensorValues(try TT.values(y), values.map { $0 * $0 * $0 }, abs: 1e-15, rel: 1e-14)
        y.sum().backward()
        assertTensorValues(try TT.values(try XCTUnwrap(x.grad)), values.map { 3 * $0 * $0 }, abs: 1e-15, rel: 1e-14)
    }

    func testUserDefinedOpWithoutGradInputRecordsNothing() {
        let x = TT.f64([1, 2], [2])
        let y = cube(x)
        XCTAssertFalse(y.requiresGrad)
    }
}
