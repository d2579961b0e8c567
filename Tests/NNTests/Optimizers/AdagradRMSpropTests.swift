import Foundation
import XCTest
@testable import NN

/// Adagrad and RMSprop: the first three updates worked by hand, then every
/// option (weight decay, lr decay, initial accumulator, centered, momentum)
/// against PyTorch's update rule written out in Double.
final class AdagradRMSpropTests: XCTestCase {
    func testAdagradByHand() throws {
        // g = p, p0 = 1, lr 0.1, eps 1e-10: p -= 0.1 g / (sqrt(sum) + eps)
        // 1: sum = 1,                      p = 1 - 0.1 / (1 + 1e-10)           = 0.90000000001
        // 2: sum = 1 + 0.9^2 = 1.81,       p = 0.9 - 0.09 / 1.3453624          = 0.83310352685
        // 3: sum = 1.81 + 0.8331^2 = 2.5040615, p = 0.8331 - 0.08331 / 1.5824227 = 0.78045618137
        let p = OptimTest.parameter([1])
        let adagrad = Adagrad([p], learningRate: 0.1)
        assertSteps(try OptimTest.quadratic(adagrad, p), [[0.90000000001], [0.83310352685], [0.78045618137]], tol: 1e-10)
        assertTensorValues(try TT.values(adagrad.sum(of: p)!.sum), [2.5040614865], abs: 1e-9, rel: 0)
    }

    func testAdagradDecayAndAccumulatorByHand() throws {
        // Constant g = 2, lr 1, lrDecay 0.5, initial accumulator 5, p0 = 0:
        // clr_t = 1 / (1 + (t - 1) 0.5) = 1, 2/3, 1/2; sum_t = 5 + 4t = 9, 13, 17
        // p1 = -2 / 3;  p2 = p1 - (2/3) 2 / sqrt(13);  p3 = p2 - (1/2) 2 / sqrt(17)
        let p = OptimTest.parameter([0])
        let got = try OptimTest.linear(Adagrad([p], learningRate: 1, learningRateDecay: 0.5, initialAccumulatorValue: 5), p, [2])
        let p1 = -2.0 / 3, p2 = p1 - (2.0 / 3) * 2 / 13.0.squareRoot(), p3 = p2 - 0.5 * 2 / 17.0.squareRoot()
        assertSteps(got, [[p1], [p2], [p3]], tol: 1e-10)
    }

    func testAdagradWeightDecay() throws {
        // g = 0 and wd 0.5: the decay term alone, g_eff = 0.5 p:
        // p0 = 2: g 1, sum 1, p = 2 - 0.1 = 1.9; g 0.95, sum 1.9025, p = 1.9 - 0.095 / sqrt(1.9025) ...
        let p = OptimTest.parameter([2])
        let got = try OptimTest.linear(Adagrad([p], learningRate: 0.1, weightDecay: 0.5, epsilon: 0), p, [0])
        let p1 = 1.9, s2 = 1 + 0.95 * 0.95, p2 = p1 - 0.1 * 0.95 / s2.squareRoot()
        let g3 = 0.5 * p2, p3 = p2 - 0.1 * g3 / (s2 + g3 * g3).squareRoot()
        assertSteps(got, [[p1], [p2], [p3]], tol: 1e-14)
    }

    func testRMSpropByHand() throws {
        // Constant g = 1, lr 0.01, alpha 0.99, eps 1e-8, p0 = 0:
        // sq_t = 1 - 0.99^t = 0.01, 0.0199, 0.029701; p -= 0.01 / (sqrt(sq) + eps):
        // p1 = -0.01 / 0.1 = -0.1 (less eps), p2 = p1 - 0.01 / 0.14106736 = -0.1708881, p3 = p2 - 0.01 / 0.17233978 = -0.2289130
        let p = OptimTest.parameter([0])
        let got = try OptimTest.linear(RMSprop([p]), p, [1])
        let sq = [0.01, 0.0199, 0.029701]
        var expected: [[Double]] = [], x = 0.0
        for s in sq {
            x -= 0.01 / (s.squareRoot() + 1e-8)
            expected.append([x])
        }
        assertTensorValues(expected.map { $0[0] }, [-0.1, -0.1708881, -0.2289130], abs: 1e-6, rel: 0)
        assertSteps(got, expected, tol: 1e-14)
    }

    func testRMSpropCenteredAndMomentumByHand() throws {
        // Constant g = 1, alpha 0.5, lr 0.1, eps 0, momentum 0.9, centered:
        // sq = 0.5, 0.75, 0.875; ga = 0.5, 0.75, 0.875; avg = sqrt(sq - ga^2)
        //    = sqrt(0.25), sqrt(0.1875), sqrt(0.109375) = 0.5, 0.4330127, 0.3307189
        // buf = 0.9 buf + 1 / avg = 2, 1.8 + 2.3094011 = 4.1094011, 3.6984610 + 3.0237158 = 6.7221768
        // p = -0.2, -0.6109401, -1.2831578
        let p = OptimTest.parameter([0])
        let got = try OptimTest.linear(RMSprop([p], learningRate: 0.1, alpha: 0.5, epsilon: 0, momentum: 0.9, centered: true), p, [1])
        let b1 = 2.0, b2 = 0.9 * b1 + 1 / 0.1875.squareRoot(), b3 = 0.9 * b2 + 1 / 0.109375.squareRoot()
        assertSteps(got, [[-0.1 * b1], [-0.1 * (b1 + b2)], [-0.1 * (b1 + b2 + b3)]], tol: 1e-14)
        assertTensorValues(got.map { $0[0] }, [-0.2, -0.6109401, -1.2831578], abs: 1e-7, rel: 0)
    }

    /// torch.optim.RMSprop's rule in Double.
    private func rmspropReference(_ p0: [Double], _ grads: [[Double]], _ h: RMSpropHyperparameters) -> [[Double]] {
        var p = p0, sq = [Double](repeating: 0, count: p0.count), ga = sq, buf = sq, out: [[Double]] = []
        for grad in grads {
            for i in 0..<p.count {
                let g = grad[i] + h.weightDecay * p[i]
                sq[i] = h.alpha * sq[i] + (1 - h.alpha) * g * g
                var avg: Double
                if h.centered {
                    ga[i] = h.alpha * ga[i] + (1 - h.alpha) * g
                    avg = (sq[i] - ga[i] * ga[i]).squareRoot() + h.epsilon
                } else {
                    avg = sq[i].squareRoot() + h.epsilon
                }
                if h.momentum > 0 {
                    buf[i] = h.momentum * buf[i] + g / avg
                    p[i] -= h.learningRate * buf[i]
                } else {
                    p[i] -= h.learningRate * g / avg
                }
            }
            out.append(p)
        }
        return out
    }

    /// torch.optim.Adagrad's rule in Double.
    private func adagradReference(_ p0: [Double], _ grads: [[Double]], _ h: AdagradHyperparameters) -> [[Double]] {
        var p = p0, sum = [Double](repeating: h.initialAccumulatorValue, count: p0.count), out: [[Double]] = []
        for (s, grad) in grads.enumerated() {
            let clr = h.learningRate / (1 + Double(s) * h.learningRateDecay)
            for i in 0..<p.count {
                let g = grad[i] + h.weightDecay * p[i]
                sum[i] += g * g
                p[i] -= clr * g / (sum[i].squareRoot() + h.epsilon)
            }
            out.append(p)
        }
        return out
    }

    func testEveryOptionOverManySteps() throws {
        let count = 11, steps = 7
        let p0 = TT.random(count, seed: 51), grads = (0..<steps).map { TT.random(count, seed: 500 + UInt64($0)) }
        for centered in [false, true] {
            for momentum in [0, 0.7] {
                let h = RMSpropHyperparameters(learningRate: 0.03, alpha: 0.9, epsilon: 1e-6, weightDecay: 0.1,
                                               momentum: momentum, centered: centered)
                let p = OptimTest.parameter(p0)
                let opt = RMSprop([p], learningRate: h.learningRate, alpha: h.alpha, epsilon: h.epsilon,
                                  weightDecay: h.weightDecay, momentum: h.momentum, centered: h.centered)
                let expected = rmspropReference(p0, grads, h)
                for s in 0..<steps {
                    OptimTest.setGrad(p, grads[s])
                    opt.step()
                    assertTensorValues(try TT.values(p.value), expected[s], abs: 1e-13, rel: 1e-13,
                                       "RMSprop centered \(centered) momentum \(momentum) step \(s + 1)")
                }
            }
        }
        let h = AdagradHyperparameters(learningRate: 0.2, learningRateDecay: 0.1, weightDecay: 0.05,
                                       initialAccumulatorValue: 0.3, epsilon: 1e-7)
        let p = OptimTest.parameter(p0)
        let opt = Adagrad([p], learningRate: h.learningRate, learningRateDecay: h.learningRateDecay,
                          weightDecay: h.weightDecay, initialAccumulatorValue: h.initialAccumulatorValue, epsilon: h.epsilon)
        let expected = adagradReference(p0, grads, h)
        for s in 0..<steps {
            OptimTest.setGrad(p, grads[s])
            opt.step()
            assertTensorValues(try TT.values(p.value), expected[s], abs: 1e-14, rel: 1e-13, "Adagrad step \(s + 1)")
        }
    }

    func testBackendOpsInFloat32AndLeaveTheTailAlone() throws {
        // The CPU ops directly: float32 against the Double rule, and `count`
        // elements only.
        let backend = CPUBackend.shared
        let p0 = TT.random(6, seed: 61), g = TT.random(6, seed: 62)
        let param = backend.makeBuffer(p0.map { Float($0) }), grad = backend.makeBuffer(g.map { Float($0) })
        let sum = backend.makeBuffer([Float](repeating: 0.1, count: 6))
        backend.adagradStep(param: param, grad: grad, sum: sum, count: 4,
                            hyper: AdagradHyperparameters(learningRate: 0.1, initialAccumulatorValue: 0.1), step: 1)
        let got = try backend.download(param, as: Float.self).map(Double.init)
        let expected = adagradReference(p0, [g], AdagradHyperparameters(learningRate: 0.1, initialAccumulatorValue: 0.1))[0]
        assertTensorValues(Array(got[..<4]), Array(expected[..<4]), abs: 1e-6, rel: 1e-6)
        XCTAssertEqual(Array(got[4...]), p0[4...].map { Double(Float($0)) })

        let h = RMSpropHyperparameters(learningRate: 0.01, momentum: 0.5, centered: true)
        let param2 = backend.makeBuffer(p0.map { Float($0) })
        let zeros = { backend.makeBuffer([Float](repeating: 0, count: 6)) }
        let (sq, ga, buf) = (zeros(), zeros(), zeros())
        for _ in 0..<3 {
            backend.rmspropStep(param: param2, grad: grad, squareAvg: sq, gradAvg: ga, momentumBuffer: buf, count: 5, hyper: h)
        }
        let got2 = try backend.download(param2, as: Float.self).map(Double.init)
        let expected2 = rmspropReference(p0, [g, g, g], h)[2]
        assertTensorValues(Array(got2[..<5]), Array(expected2[..<5]), abs: 1e-6, rel: 1e-5)
        XCTAssertEqual(got2[5], Double(Float(p0[5])))
    }
}
