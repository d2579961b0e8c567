import Foundation
import XCTest
@testable import NN

/// Tensor.sgdStep and Tensor.adamStep against PyTorch's update formulas,
/// evaluated in Double in the test, over two steps.
final class TensorUpdateTests: XCTestCase {
    private let p0: [Double] = [0.5, -1.25, 2.0, 0.75, -0.3, 1.1]
    private let g1: [Double] = [0.1, -0.4, 0.25, 1.5, -2.0, 0.0]

    /// Runs two steps: the first with gradient g1 (from backward of
    /// sum(p * g1)), the second with gradient p (from backward of
    /// sum(p^2 / 2), evaluated at the updated p). Returns p after each step.
    private func twoSteps(dtype: DType, _ step: (Tensor, Int) -> Void) throws -> [[Double]] {
        let p = (dtype == .float64 ? TT.f64(p0, [2, 3]) : TT.f32(p0, [2, 3])).requiringGrad()
        let c = dtype == .float64 ? TT.f64(g1, [2, 3]) : TT.f32(g1, [2, 3])
        (p * c).sum().backward()
        step(p, 1)
        let after1 = try TT.values(p)
        p.zeroGrad()
        (p.square() * 0.5).sum().backward()
        step(p, 2)
        XCTAssertTrue(p.requiresGrad, "an update keeps the parameter a leaf")
        return [after1, try TT.values(p)]
    }

    private func sgdReference(_ h: SGDHyperparameters) -> [[Double]] {
        var p = p0, buf = [Double](repeating: 0, count: p0.count)
        var out: [[Double]] = []
        for step in 1...2 {
            let g = step == 1 ? g1 : p
            for i in 0..<p.count {
                var d = g[i] + h.weightDecay * p[i]
                if h.momentum != 0 {
                    buf[i] = step == 1 ? d : h.momentum * buf[i] + (1 - h.dampening) * d
                    d = h.nesterov ? d + h.momentum * buf[i] : buf[i]
                }
                p[i] -= h.learningRate * d
            }
            out.append(p)
        }
        return out
    }

    private func adamReference(_ h: AdamHyperparameters) -> [[Double]] {
        var p = p0, m = [Double](repeating: 0, count: p0.count), v = m
        var out: [[Double]] = []
        for t in 1...2 {
            let g0 = t == 1 ? g1 : p
            for i in 0..<p.count {
                var g = g0[i]
                if h.decoupledWeightDecay { p[i] *= 1 - h.learningRate * h.weightDecay } else { g += h.weightDecay * p[i] }
                m[i] = h.beta1 * m[i] + (1 - h.beta1) * g
                v[i] = h.beta2 * v[i] + (1 - h.beta2) * g * g
                let mHat = m[i] / (1 - Foundation.pow(h.beta1, Double(t)))
                let vHat = v[i] / (1 - Foundation.pow(h.beta2, Double(t)))
                p[i] -= h.learningRate * mHat / (vHat.squareRoot() + h.epsilon)
            }
            out.append(p)
        }
        return out
    }

    func testSGDSteps() throws {
        let cases = [
            SGDHyperparameters(learningRate: 0.1),
            SGDHyperparameters(learningRate: 0.05, weightDecay: 0.01),
            SGDHyperparameters(learningRate: 0.1, momentum: 0.9),
            SGDHyperparameters(learningRate: 0.1, momentum: 0.9, dampening: 0.1, weightDecay: 0.01),
            SGDHyperparameters(learningRate: 0.2, momentum: 0.8, weightDecay: 0.05, nesterov: true),
        ]
        for h in cases {
            let expected = sgdReference(h)
            for dtype in [DType.float64, .float32] {
                var buffer: Tensor?
                let got = try twoSteps(dtype: dtype) { p, step in
                    if step == 1 { buffer = h.momentum != 0 ? p.detached().zerosLike() : nil }
                    p.sgdStep(momentumBuffer: buffer, hyper: h, firstStep: step == 1)
                }
                let tol = dtype == .float64 ? 1e-15 : 1e-6
                for s in 0..<2 {
                    assertTensorValues(got[s], expected[s], abs: tol, rel: tol, "\(h) \(dtype) step \(s + 1)")
                }
            }
        }
    }

    func testSGDMomentumBufferHoldsTheVelocity() throws {
        let h = SGDHyperparameters(learningRate: 0.1, momentum: 0.9, dampening: 0.25)
        let buf = TT.f64([Double](repeating: 0, count: 6), [2, 3])
        _ = try twoSteps(dtype: .float64) { p, step in p.sgdStep(momentumBuffer: buf, hyper: h, firstStep: step == 1) }
        // buf1 = g1; p1 = p0 - lr g1; buf2 = 0.9 g1 + 0.75 p1.
        let p1 = (0..<6).map { p0[$0] - 0.1 * g1[$0] }
        assertTensorValues(try TT.values(buf), (0..<6).map { 0.9 * g1[$0] + 0.75 * p1[$0] }, abs: 1e-15, rel: 1e-15)
    }

    func testAdamSteps() throws {
        let cases = [
            AdamHyperparameters(learningRate: 0.01),
            AdamHyperparameters(learningRate: 0.1, beta1: 0.8, beta2: 0.99, epsilon: 1e-6),
            AdamHyperparameters(learningRate: 0.01, weightDecay: 0.1),
            AdamHyperparameters(learningRate: 0.05, weightDecay: 0.1, decoupledWeightDecay: true),
        ]
        for h in cases {
            let expected = adamReference(h)
            for dtype in [DType.float64, .float32] {
                var m: Tensor?, v: Tensor?
                let got = try twoSteps(dtype: dtype) { p, step in
                    if step == 1 {
                        m = p.detached().zerosLike()
                        v = p.detached().zerosLike()
                    }
                    p.adamStep(m: m!, v: v!, hyper: h, step: step)
                }
                let tol = dtype == .float64 ? 1e-14 : 2e-6
                for s in 0..<2 {
                    assertTensorValues(got[s], expected[s], abs: tol, rel: tol, "\(h) \(dtype) step \(s + 1)")
                }
            }
        }
    }

    func testAdamFirstStepMovesByLearningRate() throws {
        // With bias correction, step 1 moves every element with a non-zero
        // gradient by lr * g / (|g| + eps) ~ lr * sign(g).
        let p = TT.f64([1, 1, 1], [3]).requiringGrad()
        (p * TT.f64([3, -0.001, 0], [3])).sum().backward()
        p.adamStep(m: p.detached().zerosLike(), v: p.detached().zerosLike(), hyper: AdamHyperparameters(learningRate: 0.1),
                   step: 1)
        assertTensorValues(try TT.values(p), [0.9, 1.1, 1], abs: 1e-5, rel: 0)
    }

    func testUpdatesAreVisibleThroughEveryCopy() throws {
        let p = TT.f64([1, 2], [2]).requiringGrad()
        let alias = p.detached()
        (p * 1).sum().backward()
        p.sgdStep(momentumBuffer: nil, hyper: SGDHyperparameters(learningRate: 0.5), firstStep: true)
        XCTAssertEqual(try TT.values(alias), [0.5, 1.5])
    }
}
