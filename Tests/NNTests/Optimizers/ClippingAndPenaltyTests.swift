import Foundation
import XCTest
@testable import NN

/// Gradient clipping (by global norm and by value) and the L1/L2 penalties.
final class ClippingAndPenaltyTests: XCTestCase {
    /// Two parameters with gradients (3, -4) and (12): global 2-norm 13,
    /// 1-norm 19, inf-norm 12.
    private func parameters() -> [Parameter] {
        let a = OptimTest.parameter([0, 0]), b = OptimTest.parameter([0])
        OptimTest.setGrad(a, [3, -4])
        OptimTest.setGrad(b, [12])
        return [a, b]
    }

    func testClipGradNormScalesAllGradientsTogether() throws {
        let ps = parameters()
        let total = clipGradNorm(ps, maxNorm: 6.5)
        XCTAssertEqual(total.shape, [])
        XCTAssertEqual(try total.scalarDouble(), 13, accuracy: 1e-15)
        // Every gradient times 6.5 / (13 + 1e-6), PyTorch's coefficient.
        let c = 6.5 / (13 + 1e-6)
        assertTensorValues(try TT.values(ps[0].grad!), [3 * c, -4 * c], abs: 1e-15, rel: 1e-15)
        assertTensorValues(try TT.values(ps[1].grad!), [12 * c], abs: 1e-15, rel: 1e-15)
        // The clipped norm is maxNorm (to the 1e-6 PyTorch adds).
        XCTAssertEqual(try clipGradNorm(ps, maxNorm: 100).scalarDouble(), 6.5, accuracy: 1e-6)
    }

    func testClipGradNormLeavesSmallGradientsAlone() throws {
        let ps = parameters()
        XCTAssertEqual(try clipGradNorm(ps, maxNorm: 13.5).scalarDouble(), 13, accuracy: 1e-15)
        XCTAssertEqual(try TT.values(ps[0].grad!), [3, -4])
        XCTAssertEqual(try TT.values(ps[1].grad!), [12])
    }

    func testOtherNorms() throws {
        var ps = parameters()
        XCTAssertEqual(try clipGradNorm(ps, maxNorm: 1, normType: 1).scalarDouble(), 19, accuracy: 1e-14)
        assertTensorValues(try TT.values(ps[1].grad!), [12 / (19 + 1e-6)], abs: 1e-15, rel: 1e-14)
        ps = parameters()
        XCTAssertEqual(try clipGradNorm(ps, maxNorm: 6, normType: .infinity).scalarDouble(), 12)
        assertTensorValues(try TT.values(ps[0].grad!), [3 * 6 / (12 + 1e-6), -4 * 6 / (12 + 1e-6)], abs: 1e-15, rel: 1e-14)
        ps = parameters()
        // p = 3: (27 + 64 + 1728)^(1/3)
        XCTAssertEqual(try clipGradNorm(ps, maxNorm: 1000, normType: 3).scalarDouble(), Foundation.pow(1819, 1.0 / 3),
                       accuracy: 1e-12)
    }

    func testClipGradNormSkipsParametersWithoutGradientsAndStaysFloat32() throws {
        let a = Parameter(Tensor([0, 0], on: .cpu)), none = Parameter(Tensor([1], on: .cpu))
        a.value.grad = Tensor([6, 8], on: .cpu)
        XCTAssertEqual(try clipGradNorm([a, none], maxNorm: 5).scalar(), 10)
        XCTAssertEqual(a.grad?.dtype, .float32)
        let g = try a.grad!.toArray()
        XCTAssertEqual(g[0], 3, accuracy: 1e-5)
        XCTAssertEqual(g[1], 4, accuracy: 1e-5)
        XCTAssertNil(none.grad)
        XCTAssertEqual(try clipGradNorm([none], maxNorm: 1).scalar(), 0)
    }

    func testClipGradValue() throws {
        let ps = parameters()
        clipGradValue(ps, clipValue: 3.5)
        XCTAssertEqual(try TT.values(ps[0].grad!), [3, -3.5])
        XCTAssertEqual(try TT.values(ps[1].grad!), [3.5])
    }

    func testClippedGradientsAreWhatTheOptimizerUses() throws {
        let ps = parameters()
        clipGradNorm(ps, maxNorm: 1.3)
        SGD(ps, learningRate: 1).step()
        // Gradients scaled by 1.3 / 13 = 0.1 (to 1e-7): p = -0.1 g.
        assertTensorValues(try TT.values(ps[0].value), [-0.3, 0.4], abs: 1e-7, rel: 0)
        assertTensorValues(try TT.values(ps[1].value), [-1.2], abs: 1e-7, rel: 0)
    }

    func testL1Penalty() throws {
        // 0.1 * (|1| + |-2| + |0.5|) = 0.35; gradient 0.1 sign(w), 0 at 0.
        let a = OptimTest.parameter([1, -2]), b = OptimTest.parameter([0.5, 0])
        let penalty = l1Penalty([a, b], lambda: 0.1)
        XCTAssertEqual(try penalty.scalarDouble(), 0.35, accuracy: 1e-15)
        penalty.backward()
        XCTAssertEqual(try TT.values(a.grad!), [0.1, -0.1])
        XCTAssertEqual(try TT.values(b.grad!), [0.1, 0])
    }

    func testL1PenaltyAddsToTheLossGradient() throws {
        // loss = sum(c w) + l1: gradient c + lambda sign(w).
        let w = OptimTest.parameter([2, -3])
        ((w.value * TT.f64([0.5, 0.5], [2])).sum() + l1Penalty([w], lambda: 0.25)).backward()
        XCTAssertEqual(try TT.values(w.grad!), [0.75, 0.25])
    }

    func testL2Penalty() throws {
        let a = OptimTest.parameter([1, -2])
        let penalty = l2Penalty([a], lambda: 0.5)
        XCTAssertEqual(try penalty.scalarDouble(), 2.5, accuracy: 1e-15)
        penalty.backward()
        XCTAssertEqual(try TT.values(a.grad!), [1, -2])
    }
}
