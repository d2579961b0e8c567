import Foundation
@testable import NN
@testable import NNCPU
import XCTest

/// The CPU backend's vectorizable exp/sigmoid/tanh against libm in double.
final class CPUMathTests: XCTestCase {
    /// Largest relative error of `f` against `reference` over `points`.
    private func worst(_ points: [Float], _ f: (Float) -> Float, _ reference: (Double) -> Double) -> (error: Double, at: Float) {
        var result = (error: 0.0, at: Float(0))
        for x in points {
            let expected = reference(Double(x))
            let error = Swift.abs(Double(f(x)) - expected) / Swift.max(Swift.abs(expected), 1e-30)
            if error > result.error { result = (error, x) }
        }
        return result
    }

    private func grid(_ low: Float, _ high: Float, _ count: Int) -> [Float] {
        (0...count).map { low + (high - low) * Float($0) / Float(count) }
    }

    func testExpIsAccurateOverTheNormalRange() {
        let (error, at) = worst(grid(-87, 88, 200_000), Float.expInline, Foundation.exp)
        XCTAssertLessThan(error, 3e-7, "expInline worst at \(at)")
    }

    func testSigmoidAndTanhAreAccurate() {
        let points = grid(-20, 20, 200_000) + grid(-0.7, 0.7, 50_000)
        let s = worst(points, Float.sigmoidInline) { 1 / (1 + Foundation.exp(-$0)) }
        XCTAssertLessThan(s.error, 5e-7, "sigmoidInline worst at \(s.at)")
        let t = worst(points, Float.tanhInline, Foundation.tanh)
        XCTAssertLessThan(t.error, 5e-7, "tanhInline worst at \(t.at)")
    }

    func testLimitsAndNaN() {
        XCTAssertEqual(Float.tanhInline(50), 1)
        XCTAssertEqual(Float.tanhInline(-50), -1)
        XCTAssertEqual(Float.tanhInline(0), 0)
        XCTAssertEqual(Float.sigmoidInline(100), 1)
        XCTAssertLessThan(Float.sigmoidInline(-100), 1e-37)
        XCTAssertGreaterThanOrEqual(Float.sigmoidInline(-100), 0)
        XCTAssert(Float.expInline(1000).isFinite && Float.expInline(1000) > 1e38)
        XCTAssert(Float.expInline(-1000) >= 0 && Float.expInline(-1000) < 1e-37)
        XCTAssert(Float.expInline(.nan).isNaN)
        XCTAssert(Float.sigmoidInline(.nan).isNaN)
        XCTAssert(Float.tanhInline(.nan).isNaN)
    }
}
