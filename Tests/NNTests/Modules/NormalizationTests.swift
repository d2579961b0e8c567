import XCTest
@testable import NN

final class NormalizationTests: XCTestCase {
    /// x / max(||x||, eps) along dim, computed on the host.
    private func reference(_ x: [Double], shape: [Int], dim: Int, eps: Double = 1e-12) -> [Double] {
        var out = x
        for flat in 0..<x.count {
            let idx = TT.unravel(flat, shape)
            var sum = 0.0
            for k in 0..<shape[dim] {
                var j = idx
                j[dim] = k
                sum += x[TT.ravel(j, shape)] * x[TT.ravel(j, shape)]
            }
            out[flat] = x[flat] / Swift.max(sum.squareRoot(), eps)
        }
        return out
    }

    func testValuesAlongEachDim() throws {
        let x = TT.random(24, seed: 61, low: -2, high: 2)
        let input = TT.f64(x, [2, 3, 4])
        XCTAssertEqual(L2Normalize().dim, 1, "F.normalize's default dim")
        XCTAssertEqual(L2Normalize().eps, 1e-12)
        for dim in 0..<3 {
            let y = L2Normalize(dim: dim)(input)
            XCTAssertEqual(y.shape, [2, 3, 4])
            assertTensorValues(try TT.values(y), reference(x, shape: [2, 3, 4], dim: dim), abs: 1e-15, rel: 1e-13, "dim \(dim)")
        }
        assertTensorValues(try TT.values(L2Normalize(dim: -1)(input)), reference(x, shape: [2, 3, 4], dim: 2), abs: 1e-15, rel: 1e-13)
        // Rows of a [2, 2] matrix: (3, 4) / 5.
        assertTensorValues(try TT.values(L2Normalize()(TT.f64([3, 4, -6, 8], [2, 2]))), [0.6, 0.8, -0.6, 0.8])
        XCTAssertTrue(L2Normalize().stateDict().isEmpty)
    }

    /// A zero row stays zero with PyTorch's finite gradient g / eps.
    func testZeroRowHasFiniteGradient() throws {
        let x = TT.f64([0, 0, 0, 3, 4, 0], [2, 3]).requiringGrad()
        let y = L2Normalize(eps: 1e-6)(x)
        assertTensorValues(try TT.values(y), [0, 0, 0, 0.6, 0.8, 0])
        (y * TT.f64([1, 2, 3, 1, 1, 1], [2, 3])).sum().backward()
        let g = try TT.values(try XCTUnwrap(x.grad))
        XCTAssertTrue(g.allSatisfy(\.isFinite), "\(g)")
        assertTensorValues(Array(g[0..<3]), [1e6, 2e6, 3e6], abs: 0, rel: 1e-12)
        // Row 2, y = (0.6, 0.8, 0), g = 1: (g - y (g . y)) / 5 with g . y = 1.4
        assertTensorValues(Array(g[3..<6]), [(1 - 0.6 * 1.4) / 5, (1 - 0.8 * 1.4) / 5, 1.0 / 5], abs: 1e-15)
    }

    func testGradientCheck() {
        let x = TT.f64(TT.random(24, seed: 62), [2, 3, 4])
        for dim in [0, 1, 2, -1] {
            assertModuleGradientCheck(L2Normalize(dim: dim), input: x, "dim \(dim)")
        }
        // eps above some norms: the clamped branch (y = x / eps).
        let small = TT.f64([0.1, -0.2, 0.05, 1.5, 2, -1], [2, 3])
        assertModuleGradientCheck(L2Normalize(dim: 1, eps: 0.5), input: small, "clamped rows")
    }
}
