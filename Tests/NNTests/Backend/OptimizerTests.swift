import Foundation
import XCTest
import NN

/// Optimizer steps against torch.optim's update rules written out in float64.
final class OptimizerTests: XCTestCase {
    static let count = 37

    /// Three steps of torch.optim.SGD (single tensor, float64).
    static func sgdReference(_ p0: [Double], _ grads: [[Double]], _ h: SGDHyperparameters) -> (params: [[Double]], bufs: [[Double]]) {
        var p = p0
        var buf = [Double](repeating: 0, count: p0.count)
        var params = [[Double]](), bufs = [[Double]]()
        for (step, g) in grads.enumerated() {
            for i in 0..<p.count {
                var d = g[i]
                if h.weightDecay != 0 { d += h.weightDecay * p[i] }
                if h.momentum != 0 {
                    buf[i] = step == 0 ? d : h.momentum * buf[i] + (1 - h.dampening) * d
                    d = h.nesterov ? d + h.momentum * buf[i] : buf[i]
                }
                p[i] -= h.learningRate * d
            }
            params.append(p)
            bufs.append(buf)
        }
        return (params, bufs)
    }

    static let sgdCases: [(String, SGDHyperparameters)] = [
        ("plain", SGDHyperparameters(learningRate: 0.1)),
        ("momentum", SGDHyperparameters(learningRate: 0.05, momentum: 0.9)),
        ("momentum + dampening", SGDHyperparameters(learningRate: 0.05, momentum: 0.9, dampening: 0.5)),
        ("nesterov", SGDHyperparameters(learningRate: 0.05, momentum: 0.8, nesterov: true)),
        ("weight decay", SGDHyperparameters(learningRate: 0.1, weightDecay: 0.01)),
        ("momentum + weight decay", SGDHyperparameters(learningRate: 0.03, momentum: 0.7, weightDecay: 0.05)),
        ("all", SGDHyperparameters(learningRate: 0.02, momentum: 0.6, dampening: 0.1, weightDecay: 0.2, nesterov: true)),
    ]

    func testSGDThreeSteps() throws {
        for dtype in [DType.float32, .float64] {
            for (name, h) in Self.sgdCases {
                var rng = SplitMix64(seed: 101)
                let p0 = rng.floats(Self.count, -2, 2)
                let grads = (0..<3).map { _ in rng.floats(Self.count, -1, 1) }
                // float32 runs see float32-rounded hyper-parameters' effects
                // only through round-off: compare with a tolerance.
                let ref = Self.sgdReference(p0, grads, h)
                let param = buffer(p0, dtype: dtype)
                // The momentum buffer starts as garbage: the first step must
                // overwrite it, not read it.
                let momentum = h.momentum != 0 ? buffer([Double](repeating: .nan, count: Self.count), dtype: dtype) : nil
                let tol = dtype == .float32 ? (1e-5, 1e-6) : (1e-12, 1e-14)
                for step in 0..<3 {
                    testBackend.sgdStep(param: param, grad: buffer(grads[step], dtype: dtype), momentumBuffer: momentum,
                                        count: Self.count, hyper: h, firstStep: step == 0)
                    assertClose(try downloadDoubles(param), ref.params[step], relTol: tol.0, absTol: tol.1,
                                "SGD \(name) step \(step + 1) \(dtype)")
                    if let momentum {
                        assertClose(try downloadDoubles(momentum), ref.bufs[step], relTol: tol.0, absTol: tol.1,
                                    "SGD \(name) momentum buffer step \(step + 1) \(dtype)")
                    }
                }
            }
        }
    }

    func testSGDHandWorked() throws {
        // p = 1, g = 0.5, lr 0.1, momentum 0.9, dampening 0.5:
        // step 1: buf = 0.5 (no dampening on the first step), p = 0.95
        // step 2 (g 0.5): buf = 0.45 + 0.25 = 0.7, p = 0.88
        let p = floatBuffer([1]), buf = floatBuffer([123])
        let h = SGDHyperparameters(learningRate: 0.1, momentum: 0.9, dampening: 0.5)
        testBackend.sgdStep(param: p, grad: floatBuffer([0.5]), momentumBuffer: buf, count: 1, hyper: h, firstStep: true)
        XCTAssertEqual(try download(p, as: Float.self)[0], 0.95, accuracy: 1e-7)
        XCTAssertEqual(try download(buf, as: Float.self)[0], 0.5, accuracy: 1e-7)
        testBackend.sgdStep(param: p, grad: floatBuffer([0.5]), momentumBuffer: buf, count: 1, hyper: h, firstStep: false)
        XCTAssertEqual(try download(p, as: Float.self)[0], 0.88, accuracy: 1e-7)
        XCTAssertEqual(try download(buf, as: Float.self)[0], 0.7, accuracy: 1e-7)
    }

    func testSGDCountLeavesTailAlone() throws {
        let p = floatBuffer([1, 1, 1, 1])
        testBackend.sgdStep(param: p, grad: floatBuffer([1, 1, 1, 1]), momentumBuffer: nil, count: 2,
                            hyper: SGDHyperparameters(learningRate: 0.5), firstStep: true)
        XCTAssertEqual(try download(p, as: Float.self), [0.5, 0.5, 1, 1])
    }

    /// Three steps of torch.optim.Adam / AdamW (float64).
    static func adamReference(_ p0: [Double], _ grads: [[Double]], _ h: AdamHyperparameters)
        -> (params: [[Double]], ms: [[Double]], vs: [[Double]])
    {
        var p = p0
        var m = [Double](repeating: 0, count: p0.count), v = m
        var params = [[Double]](), ms = [[Double]](), vs = [[Double]]()
        for (index, grad) in grads.enumerated() {
            let t = Double(index + 1)
            for i in 0..<p.count {
                var g = grad[i]
                if h.decoupledWeightDecay {
                    p[i] *= 1 - h.learningRate * h.weightDecay
                } else if h.weightDecay != 0 {
                    g += h.weightDecay * p[i]
                }
                m[i] = h.beta1 * m[i] + (1 - h.beta1) * g
                v[i] = h.beta2 * v[i] + (1 - h.beta2) * g * g
                let mHat = m[i] / (1 - Foundation.pow(h.beta1, t))
                let vHat = v[i] / (1 - Foundation.pow(h.beta2, t))
                p[i] -= h.learningRate * mHat / (vHat.squareRoot() + h.epsilon)
            }
            params.append(p)
            ms.append(m)
            vs.append(v)
        }
        return (params, ms, vs)
    }

    static let adamCases: [(String, AdamHyperparameters)] = [
        ("Adam", AdamHyperparameters(learningRate: 0.01)),
        ("Adam weight decay", AdamHyperparameters(learningRate: 0.01, weightDecay: 0.1)),
        ("AdamW", AdamHyperparameters(learningRate: 0.01, weightDecay: 0.1, decoupledWeightDecay: true)),
        ("Adam betas/eps", AdamHyperparameters(learningRate: 0.003, beta1: 0.8, beta2: 0.99, epsilon: 1e-3)),
        ("AdamW large lr", AdamHyperparameters(learningRate: 0.1, beta1: 0.5, beta2: 0.9, epsilon: 1e-6, weightDecay: 0.5,
                                               decoupledWeightDecay: true)),
    ]

    func testAdamThreeSteps() throws {
        for dtype in [DType.float32, .float64] {
            for (name, h) in Self.adamCases {
                var rng = SplitMix64(seed: 202)
                let p0 = rng.floats(Self.count, -2, 2)
                let grads = (0..<3).map { _ in rng.floats(Self.count, -1, 1) }
                let ref = Self.adamReference(p0, grads, h)
                let param = buffer(p0, dtype: dtype)
                let m = buffer([Double](repeating: 0, count: Self.count), dtype: dtype)
                let v = buffer([Double](repeating: 0, count: Self.count), dtype: dtype)
                let tol = dtype == .float32 ? (1e-5, 1e-6) : (1e-11, 1e-13)
                // Moments are small (v ~ 1e-3 g^2): compare them relatively.
                // (float32 v gets 3e-5: the precise coefficient has its own test.)
                let momentTol = dtype == .float32 ? (3e-5, 1e-8) : (1e-11, 1e-16)
                for step in 1...3 {
                    testBackend.adamStep(param: param, grad: buffer(grads[step - 1], dtype: dtype), m: m, v: v,
                                         count: Self.count, hyper: h, step: step)
                    assertClose(try downloadDoubles(m), ref.ms[step - 1], relTol: momentTol.0, absTol: momentTol.1,
                                "\(name) m step \(step) \(dtype)")
                    assertClose(try downloadDoubles(v), ref.vs[step - 1], relTol: momentTol.0, absTol: momentTol.1,
                                "\(name) v step \(step) \(dtype)")
                    assertClose(try downloadDoubles(param), ref.params[step - 1], relTol: tol.0, absTol: tol.1,
                                "\(name) param step \(step) \(dtype)")
                }
            }
        }
    }

    func testAdamFirstStepMovesByLearningRate() throws {
        // After bias correction the first Adam step is lr * g / (|g| + eps),
        // i.e. about lr * sign(g) whatever the gradient's size.
        let p = floatBuffer([1, 1, 1]), m = floatBuffer([0, 0, 0]), v = floatBuffer([0, 0, 0])
        testBackend.adamStep(param: p, grad: floatBuffer([100, -0.01, 3]), m: m, v: v, count: 3,
                             hyper: AdamHyperparameters(learningRate: 0.1), step: 1)
        assertClose(try download(p, as: Float.self), [0.9, 1.1, 0.9], relTol: 1e-5, absTol: 0)
        assertClose(try download(m, as: Float.self), [10, -0.001, 0.3], relTol: 1e-6, absTol: 0)
    }

    func testAdamMomentCoefficientsKeepPrecision() throws {
        // v = (1 - beta2) g^2 after one step. PyTorch computes 1 - beta2 in
        // float64 and rounds it once (0.001 -> 0.001f); computing it in
        // float32 from Float(0.999) is off by 1.3e-5 relative.
        let p = floatBuffer([1, 1, 1]), m = floatBuffer([0, 0, 0]), v = floatBuffer([0, 0, 0])
        testBackend.adamStep(param: p, grad: floatBuffer([100, -0.01, 3]), m: m, v: v, count: 3,
                             hyper: AdamHyperparameters(learningRate: 0.1), step: 1)
        assertClose(try download(v, as: Float.self), [10, 1e-7, 0.009], relTol: 1e-6, absTol: 0)
        let v2 = floatBuffer([0])
        testBackend.adamStep(param: floatBuffer([1]), grad: floatBuffer([1]), m: floatBuffer([0]), v: v2, count: 1,
                             hyper: AdamHyperparameters(learningRate: 0.1, beta2: 0.9999), step: 1)
        assertClose(try download(v2, as: Float.self), [1e-4], relTol: 1e-6, absTol: 0)
    }
}
