import Foundation
import XCTest
@testable import NN

/// Adam and AdamW: the first three updates worked by hand, bias correction
/// included, then many steps against the update rule written out in Double.
final class AdamTests: XCTestCase {
    func testAdamByHand() throws {
        // loss p^2 / 2 (g = p), p0 = 1, lr 0.1, betas (0.9, 0.999), eps 1e-8.
        // step 1: g = 1:  m = 0.1, v = 0.001; m^ = 0.1 / (1 - 0.9) = 1,
        //         v^ = 0.001 / (1 - 0.999) = 1; p = 1 - 0.1 * 1 / (1 + 1e-8) = 0.900000001
        // step 2: g = p1: m = 0.09 + 0.1 p1 = 0.1800000001, v = 0.000999 + 0.001 p1^2 = 0.0018090000018;
        //         m^ = m / (1 - 0.81) = 0.94736842158, v^ = v / (1 - 0.998001) = 0.90495247714;
        //         p = p1 - 0.1 m^ / (sqrt(v^) + 1e-8) = 0.80041222971
        // step 3: g = p2: m = 0.9 m + 0.1 p2 = 0.24204122306, v = 0.999 v + 0.001 p2^2 = 0.00244785073927;
        //         m^ = m / (1 - 0.729) = 0.89314104451, v^ = v / (1 - 0.997002999) = 0.81676674091;
        //         p = p2 - 0.1 m^ / (sqrt(v^) + 1e-8) = 0.70158627450
        let p = OptimTest.parameter([1])
        let adam = Adam([p], learningRate: 0.1)
        let got = try OptimTest.quadratic(adam, p)
        assertSteps(got, [[0.900000001], [0.80041222971], [0.70158627450]], tol: 1e-10)
        let state = adam.moments(of: p)!
        XCTAssertEqual(state.step, 3)
        assertTensorValues(try TT.values(state.m), [0.24204122306], abs: 1e-11, rel: 0)
        assertTensorValues(try TT.values(state.v), [0.00244785073927], abs: 1e-14, rel: 0)
    }

    func testBiasCorrectionMakesConstantGradientStepsOfLr() throws {
        // With a constant gradient g, m^ = g and v^ = g^2 at every step (the
        // bias corrections undo the zero start exactly), so each step moves
        // lr * g / (|g| + eps): here 0.1 * 0.5 / (0.5 + 1e-8) = 0.1 - 2e-9.
        let p = OptimTest.parameter([1, -1])
        let got = try OptimTest.linear(Adam([p], learningRate: 0.1), p, [0.5, -0.5])
        let d = 0.1 * 0.5 / (0.5 + 1e-8)
        assertSteps(got, [[1 - d, -1 + d], [1 - 2 * d, -1 + 2 * d], [1 - 3 * d, -1 + 3 * d]], tol: 1e-14)
    }

    func testAdamWByHand() throws {
        // Constant g = 0.5, lr 0.1, weight decay 0.1 decoupled: each step
        // p = 0.99 p - d with d = 0.1 * 0.5 / (0.5 + 1e-8):
        // 1: 0.99 - d;  2: 0.99 (0.99 - d) - d;  3: 0.99 p2 - d  (~0.89, 0.7811, 0.673289)
        let p = OptimTest.parameter([1])
        let got = try OptimTest.linear(AdamW([p], learningRate: 0.1, weightDecay: 0.1), p, [0.5])
        let d = 0.1 * 0.5 / (0.5 + 1e-8)
        let p1 = 0.99 - d, p2 = 0.99 * p1 - d, p3 = 0.99 * p2 - d
        assertSteps(got, [[p1], [p2], [p3]], tol: 1e-15)
        assertTensorValues([p1, p2, p3], [0.89, 0.7811, 0.673289], abs: 1e-8, rel: 0)
        XCTAssertEqual(AdamW([p]).hyper.weightDecay, 0.01, "PyTorch's AdamW default")
    }

    /// torch.optim.Adam's rule in Double.
    private func reference(_ p0: [Double], _ grads: [[Double]], lr: Double, b1: Double, b2: Double, eps: Double,
                           wd: Double, decoupled: Bool) -> [[Double]] {
        var p = p0, m = [Double](repeating: 0, count: p0.count), v = m, out: [[Double]] = []
        for (s, grad) in grads.enumerated() {
            let t = Double(s + 1)
            for i in 0..<p.count {
                var g = grad[i]
                if decoupled { p[i] *= 1 - lr * wd } else { g += wd * p[i] }
                m[i] = b1 * m[i] + (1 - b1) * g
                v[i] = b2 * v[i] + (1 - b2) * g * g
                p[i] -= lr * (m[i] / (1 - Foundation.pow(b1, t))) / ((v[i] / (1 - Foundation.pow(b2, t))).squareRoot() + eps)
            }
            out.append(p)
        }
        return out
    }

    func testManyStepsWithWeightDecay() throws {
        let count = 13, steps = 8
        let p0 = TT.random(count, seed: 31), grads = (0..<steps).map { TT.random(count, seed: 300 + UInt64($0)) }
        for decoupled in [false, true] {
            let p = OptimTest.parameter(p0)
            let opt: Adam = decoupled ? AdamW([p], learningRate: 0.02, betas: (0.8, 0.99), epsilon: 1e-6, weightDecay: 0.3)
                : Adam([p], learningRate: 0.02, betas: (0.8, 0.99), epsilon: 1e-6, weightDecay: 0.3)
            let expected = reference(p0, grads, lr: 0.02, b1: 0.8, b2: 0.99, eps: 1e-6, wd: 0.3, decoupled: decoupled)
            for s in 0..<steps {
                OptimTest.setGrad(p, grads[s])
                opt.step()
                assertTensorValues(try TT.values(p.value), expected[s], abs: 1e-14, rel: 1e-13, "decoupled \(decoupled) step \(s + 1)")
            }
        }
    }

    func testStepCountsArePerParameter() throws {
        // A parameter that first gets a gradient at the optimizer's third
        // step starts its own bias correction at t = 1, as PyTorch's.
        let a = OptimTest.parameter([1]), b = OptimTest.parameter([1])
        let adam = Adam([a, b], learningRate: 0.1)
        for _ in 0..<2 {
            OptimTest.setGrad(a, [1])
            adam.step()
        }
        OptimTest.setGrad(a, [1])
        OptimTest.setGrad(b, [0.5])
        adam.step()
        XCTAssertEqual(adam.moments(of: a)?.step, 3)
        XCTAssertEqual(adam.moments(of: b)?.step, 1)
        assertTensorValues(try TT.values(b.value), [1 - 0.1 * 0.5 / (0.5 + 1e-8)], abs: 1e-15, rel: 0)
    }

    func testFloat32OnTheDefaultDevice() throws {
        // The same rule in float32 on whatever device NN_BACKEND picks.
        let p0 = TT.random(9, seed: 41), grads = (0..<3).map { TT.random(9, seed: 400 + UInt64($0)) }
        let device = Device.default
        let p = Parameter(Tensor(p0.map { Float($0) }, on: device))
        let adam = AdamW([p], learningRate: 0.01)
        let expected = reference(p0, grads, lr: 0.01, b1: 0.9, b2: 0.999, eps: 1e-8, wd: 0.01, decoupled: true)
        for s in 0..<3 {
            p.value.grad = Tensor(grads[s].map { Float($0) }, on: device)
            adam.step()
            assertTensorValues(try TT.values(p.value), expected[s], abs: 1e-6, rel: 1e-5, "float32 step \(s + 1) on \(device)")
        }
    }
}
