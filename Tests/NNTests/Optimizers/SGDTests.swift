import XCTest
@testable import NN

/// SGD's first three updates against the arithmetic done by hand, and
/// against the course notes' momentum form.
final class SGDTests: XCTestCase {
    func testPlainSGD() throws {
        // loss = sum(c p), g = c = (0.5, -2): p -= 0.1 c each step.
        let p = OptimTest.parameter([1, 1])
        let got = try OptimTest.linear(SGD([p], learningRate: 0.1), p, [0.5, -2])
        assertSteps(got, [[0.95, 1.2], [0.9, 1.4], [0.85, 1.6]], tol: 1e-15)
    }

    func testMomentumByHand() throws {
        // lr 0.1, momentum 0.9, loss p^2 / 2 so g = p; p0 = 1.
        // step 1: g 1,    buf 1,                      p = 1 - 0.1         = 0.9
        // step 2: g 0.9,  buf 0.9 * 1 + 0.9 = 1.8,    p = 0.9 - 0.18      = 0.72
        // step 3: g 0.72, buf 0.9 * 1.8 + 0.72 = 2.34, p = 0.72 - 0.234   = 0.486
        let p = OptimTest.parameter([1])
        let sgd = SGD([p], learningRate: 0.1, momentum: 0.9)
        assertSteps(try OptimTest.quadratic(sgd, p), [[0.9], [0.72], [0.486]], tol: 1e-15)
        assertTensorValues(try TT.values(sgd.momentumBuffer(of: p)!), [2.34], abs: 1e-15, rel: 1e-15)
    }

    func testMomentumMatchesTheCourseNotesForm() throws {
        // The notes: v = mu v - lr dx; p += v (v starts at 0). With
        // dampening 0 this is PyTorch's buf = mu buf + g, p -= lr buf, with
        // v = -lr buf. Check it by hand first (p0 = 1, g = p, lr 0.1, mu 0.9):
        // v = -0.1,  p = 0.9;  v = -0.09 - 0.09 = -0.18, p = 0.72;
        // v = -0.162 - 0.072 = -0.234, p = 0.486 — the numbers above.
        var v = 0.0, x = 1.0, notes: [[Double]] = []
        for _ in 0..<3 {
            v = 0.9 * v - 0.1 * x
            x += v
            notes.append([x])
        }
        assertSteps(notes, [[0.9], [0.72], [0.486]], tol: 1e-15)

        // Then on many weights and steps with arbitrary gradients.
        let count = 17, steps = 10, lr = 0.05, mu = 0.8
        let p0 = TT.random(count, seed: 21)
        let grads = (0..<steps).map { TT.random(count, seed: 100 + UInt64($0)) }
        let p = OptimTest.parameter(p0)
        let sgd = SGD([p], learningRate: lr, momentum: mu)
        var pv = p0, vel = [Double](repeating: 0, count: count)
        for s in 0..<steps {
            OptimTest.setGrad(p, grads[s])
            sgd.step()
            for i in 0..<count {
                vel[i] = mu * vel[i] - lr * grads[s][i]
                pv[i] += vel[i]
            }
            assertTensorValues(try TT.values(p.value), pv, abs: 1e-14, rel: 1e-14, "course-notes momentum step \(s + 1)")
        }
    }

    func testNesterovByHand() throws {
        // lr 0.1, mu 0.9, g = p, p0 = 1; d = g + mu buf:
        // 1: buf 1,                      d 1 + 0.9 = 1.9,           p = 0.81
        // 2: buf 0.9 + 0.81 = 1.71,      d 0.81 + 1.539 = 2.349,    p = 0.5751
        // 3: buf 1.539 + 0.5751 = 2.1141, d 0.5751 + 1.90269 = 2.47779, p = 0.327321
        let p = OptimTest.parameter([1])
        let got = try OptimTest.quadratic(SGD([p], learningRate: 0.1, momentum: 0.9, nesterov: true), p)
        assertSteps(got, [[0.81], [0.5751], [0.327321]], tol: 1e-14)
    }

    func testDampeningByHand() throws {
        // mu 0.9, dampening 0.5, lr 0.1, g = p, p0 = 1. The first step sets
        // buf = g undampened (PyTorch):
        // 1: buf 1,                     p = 0.9
        // 2: buf 0.9 + 0.5 * 0.9 = 1.35, p = 0.9 - 0.135 = 0.765
        // 3: buf 1.215 + 0.3825 = 1.5975, p = 0.765 - 0.15975 = 0.60525
        let p = OptimTest.parameter([1])
        let got = try OptimTest.quadratic(SGD([p], learningRate: 0.1, momentum: 0.9, dampening: 0.5), p)
        assertSteps(got, [[0.9], [0.765], [0.60525]], tol: 1e-14)
    }

    func testWeightDecayByHand() throws {
        // g = 0.5 constant, wd 0.1, lr 0.1, p0 = 1: d = 0.5 + 0.1 p
        // 1: d 0.6,     p = 0.94
        // 2: d 0.594,   p = 0.8806
        // 3: d 0.58806, p = 0.821794
        let p = OptimTest.parameter([1])
        let got = try OptimTest.linear(SGD([p], learningRate: 0.1, weightDecay: 0.1), p, [0.5])
        assertSteps(got, [[0.94], [0.8806], [0.821794]], tol: 1e-14)
        // Weight decay wd is the gradient of l2Penalty with lambda wd / 2.
        let q = OptimTest.parameter([1]), sgd = SGD([q], learningRate: 0.1)
        var viaPenalty: [[Double]] = []
        for _ in 0..<3 {
            sgd.zeroGrad()
            ((q.value * TT.f64([0.5], [1])).sum() + l2Penalty([q], lambda: 0.05)).backward()
            sgd.step()
            viaPenalty.append(try TT.values(q.value))
        }
        assertSteps(viaPenalty, got, tol: 1e-14)
    }

    func testSkipsParametersWithoutGradients() throws {
        let used = OptimTest.parameter([1]), unused = OptimTest.parameter([5])
        let frozen = Parameter(TT.f64([2], [1]), trainable: false)
        let sgd = SGD([used, unused, frozen], learningRate: 0.1, momentum: 0.9)
        _ = try OptimTest.quadratic(sgd, used, steps: 1)
        XCTAssertEqual(try TT.values(unused.value), [5])
        XCTAssertEqual(try TT.values(frozen.value), [2])
        XCTAssertNil(sgd.momentumBuffer(of: unused))
        assertTensorValues(try TT.values(used.value), [0.9], abs: 1e-15, rel: 0)
    }

    func testZeroGradClearsEveryGradient() throws {
        let a = OptimTest.parameter([1, 2]), b = OptimTest.parameter([3])
        let sgd = SGD([a, b], learningRate: 0.1)
        ((a.value.sum() + b.value.sum()) * 2).backward()
        XCTAssertNotNil(a.grad)
        sgd.zeroGrad()
        XCTAssertNil(a.grad)
        XCTAssertNil(b.grad)
    }

    func testLearningRateIsSettable() throws {
        let p = OptimTest.parameter([1])
        let sgd = SGD([p], learningRate: 0.1)
        sgd.learningRate = 0.5
        XCTAssertEqual(sgd.hyper.learningRate, 0.5)
        assertSteps(try OptimTest.linear(sgd, p, [1], steps: 1), [[0.5]])
    }

    func testFloat32ModuleTraining() throws {
        // A float32 two-parameter linear fit on the default device path.
        let w = Parameter(Tensor([0.0], shape: [1, 1], on: .cpu)), b = Parameter(Tensor([0.0], shape: [1], on: .cpu))
        let x = Tensor([1, 2, 3, 4], shape: [4, 1], on: .cpu), y = Tensor([3, 5, 7, 9], shape: [4, 1], on: .cpu)
        let sgd = SGD([w, b], learningRate: 0.05, momentum: 0.9)
        var last: Float = .infinity
        for _ in 0..<300 {
            sgd.zeroGrad()
            let loss = MSELoss()(x.matmul(w.value) + b.value, y)
            loss.backward()
            sgd.step()
            last = try loss.scalar()
        }
        XCTAssertLessThan(last, 1e-6)
        XCTAssertEqual(try w.value.toArray()[0], 2, accuracy: 1e-3)
        XCTAssertEqual(try b.value.toArray()[0], 1, accuracy: 1e-3)
    }
}
