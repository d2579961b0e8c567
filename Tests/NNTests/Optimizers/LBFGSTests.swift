import Foundation
import XCTest
@testable import NN

/// L-BFGS (issue 12): PyTorch's iterates on Rosenbrock (fixture from
/// torch.optim.LBFGS, see make_lbfgs_fixture.py), convergence, and far
/// fewer iterations than gradient descent on logistic regression.
final class LBFGSTests: XCTestCase {
    private struct Fixture: Decodable {
        struct Case: Decodable {
            struct Options: Decodable {
                let lr: Double
                let max_iter: Int
                let max_eval: Int?
                let history_size: Int
                let line_search_fn: String?
            }
            let options: Options
            let iterates: [[Double]]
            let losses: [Double]
            let func_evals: Int
            let n_iter: Int
        }
        let torch: String
        let cases: [String: Case]
    }

    private static func rosenbrock(_ p: Tensor) -> Tensor {
        let x = p.slice(axis: 0, 0..<1), y = p.slice(axis: 0, 1..<2)
        return ((1 - x).square() + (y - x.square()).square() * 100).sum()
    }

    /// An LBFGS on a float64 Rosenbrock point at (-1.5, 2) and its closure.
    private func rosenbrockProblem(_ make: ([Parameter]) -> LBFGS) -> (Parameter, LBFGS, () throws -> Tensor) {
        let p = Parameter(Tensor(float64: [-1.5, 2], shape: [2], on: .cpu))
        let lbfgs = make([p])
        return (p, lbfgs, {
            lbfgs.zeroGrad()
            let loss = LBFGSTests.rosenbrock(p.value)
            loss.backward()
            return loss
        })
    }

    func testIteratesMatchPyTorch() throws {
        let data = try Data(contentsOf: DataTestFiles.fixture("lbfgs_rosenbrock.json"))
        let fixture = try JSONDecoder().decode(Fixture.self, from: data)
        XCTAssertEqual(fixture.cases.count, 4)
        for (name, expected) in fixture.cases.sorted(by: { $0.key < $1.key }) {
            let o = expected.options
            let (p, lbfgs, closure) = rosenbrockProblem {
                LBFGS($0, learningRate: o.lr, maxIterations: o.max_iter, maxEvaluations: o.max_eval, historySize: o.history_size,
                      lineSearch: o.line_search_fn == "strong_wolfe" ? .strongWolfe : nil)
            }
            for (step, (iterate, loss)) in zip(expected.iterates, expected.losses).enumerated() {
                let returned = try lbfgs.step(closure).scalarDouble()
                XCTAssertEqual(returned, loss, accuracy: 1e-12 * max(1, abs(loss)), "\(name) step \(step + 1): loss")
                assertClose(try p.value.toArray(as: Double.self), iterate, relTol: 1e-10, absTol: 1e-12, "\(name) step \(step + 1)")
            }
            XCTAssertEqual(lbfgs.functionEvaluations, expected.func_evals, "\(name): closure calls")
            XCTAssertEqual(lbfgs.iterations, expected.n_iter, "\(name): iterations")
        }
    }

    func testRosenbrockConvergesToTheMinimum() throws {
        // PyTorch's tolerances stop at 0.99998 (the loss changes by < 1e-9);
        // tighter ones go on to the minimum.
        let (p, lbfgs, closure) = rosenbrockProblem { LBFGS($0, historySize: 10, lineSearch: .strongWolfe) }
        for _ in 0..<10 { try lbfgs.step(closure) }
        assertClose(try p.value.toArray(as: Double.self), [1, 1], relTol: 0, absTol: 1e-4)
        let (q, tight, tightClosure) = rosenbrockProblem {
            LBFGS($0, toleranceGrad: 1e-12, toleranceChange: 1e-15, historySize: 10, lineSearch: .strongWolfe)
        }
        for _ in 0..<10 { try tight.step(tightClosure) }
        assertClose(try q.value.toArray(as: Double.self), [1, 1], relTol: 0, absTol: 1e-8)
    }

    func testCubicInterpolationFindsTheMinimizerOfACubic() {
        // f(x) = x^3 - 3x on [0, 2]: f' = 3x^2 - 3, minimum at x = 1.
        let f = { (x: Double) in x * x * x - 3 * x }, g = { (x: Double) in 3 * x * x - 3 }
        XCTAssertEqual(LBFGS.cubicInterpolate(0, f(0), g(0), 2, f(2), g(2)), 1, accuracy: 1e-12)
        XCTAssertEqual(LBFGS.cubicInterpolate(2, f(2), g(2), 0, f(0), g(0)), 1, accuracy: 1e-12)
        // Clamped to the bounds given.
        XCTAssertEqual(LBFGS.cubicInterpolate(0, f(0), g(0), 2, f(2), g(2), bounds: (1.5, 3)), 1.5)
    }

    // MARK: Logistic regression

    /// 200 samples in 5 features with labels from a noisy linear rule.
    private static let features: [Double] = (0..<1000).map { Double(Philox.uniform($0, seed: 21, stream: 0)) * 4 - 2 }
    private static let labels: [Double] = (0..<200).map { i in
        let x = features[i * 5..<i * 5 + 5].map { $0 }
        let z = 1.5 * x[0] - 2 * x[1] + 0.5 * x[2] + 0.25 + Double(Philox.uniform(i, seed: 21, stream: 1)) * 2 - 1
        return z > 0 ? 1 : 0
    }
    private static let lambda = 0.01

    /// mean(softplus(z) - y z) + lambda / 2 |w|^2 with z = X w + b.
    private static func logisticLoss(_ w: Tensor, _ b: Tensor, x: Tensor, y: Tensor) -> Tensor {
        let z = x.matmul(w).reshaped([200]) + b
        return (z.softplus() - y * z).mean() + (w * w).sum() * (lambda / 2)
    }

    /// The optimum by Newton's method in Double, written out independently
    /// of the library.
    private static func newtonOptimum() -> Double {
        var theta = [Double](repeating: 0, count: 6)  // w (5), b
        func row(_ i: Int) -> [Double] { features[i * 5..<i * 5 + 5].map { $0 } + [1] }
        func loss(_ t: [Double]) -> Double {
            var sum = 0.0
            for i in 0..<200 {
                let z = zip(row(i), t).map(*).reduce(0, +)
                sum += log(1 + exp(z)) - labels[i] * z
            }
            return sum / 200 + lambda / 2 * t[0..<5].map { $0 * $0 }.reduce(0, +)
        }
        for _ in 0..<30 {
            var g = [Double](repeating: 0, count: 6), h = [[Double]](repeating: [Double](repeating: 0, count: 6), count: 6)
            for i in 0..<200 {
                let r = row(i), z = zip(r, theta).map(*).reduce(0, +), s = 1 / (1 + exp(-z))
                for a in 0..<6 {
                    g[a] += (s - labels[i]) * r[a] / 200
                    for c in 0..<6 { h[a][c] += s * (1 - s) * r[a] * r[c] / 200 }
                }
            }
            for a in 0..<5 { g[a] += lambda * theta[a]; h[a][a] += lambda }
            // Solve h step = g by Gaussian elimination (h is positive definite).
            var m = h, v = g
            for k in 0..<6 {
                for i in k + 1..<6 {
                    let f = m[i][k] / m[k][k]
                    for j in k..<6 { m[i][j] -= f * m[k][j] }
                    v[i] -= f * v[k]
                }
            }
            var step = [Double](repeating: 0, count: 6)
            for i in (0..<6).reversed() { step[i] = (v[i] - (i + 1..<6).map { m[i][$0] * step[$0] }.reduce(0, +)) / m[i][i] }
            theta = zip(theta, step).map(-)
        }
        return loss(theta)
    }

    /// Steps until the loss is within 1e-6 of the optimum (or `limit`).
    private static func stepsToOptimum(on device: Device, dtype: DType, limit: Int, optimum: Double,
                                       _ step: ([Parameter], () throws -> Tensor) throws -> Void) throws -> (steps: Int, loss: Double) {
        let x = Tensor(float64: features, shape: [200, 5], on: .cpu).to(dtype: dtype)
        let y = Tensor(float64: labels, shape: [200], on: .cpu).to(dtype: dtype)
        let (xd, yd) = (try x.to(device), try y.to(device))
        let w = Parameter(try Tensor.zeros([5, 1], dtype: dtype, on: .cpu).to(device))
        let b = Parameter(try Tensor.zeros([1], dtype: dtype, on: .cpu).to(device))
        let parameters = [w, b]
        let closure = {
            parameters.forEach { $0.zeroGrad() }
            let loss = logisticLoss(w.value, b.value, x: xd, y: yd)
            loss.backward()
            return loss
        }
        for n in 1...limit {
            try step(parameters, closure)
            let loss = try withNoGrad { try logisticLoss(w.value, b.value, x: xd, y: yd).scalarDouble() }
            if loss <= optimum + 1e-6 { return (n, loss) }
        }
        return (limit, try withNoGrad { try logisticLoss(w.value, b.value, x: xd, y: yd).scalarDouble() })
    }

    func testLogisticRegressionInFarFewerIterationsThanGradientDescent() throws {
        let optimum = LBFGSTests.newtonOptimum()
        var lbfgs: LBFGS?
        let fast = try LBFGSTests.stepsToOptimum(on: .cpu, dtype: .float64, limit: 50, optimum: optimum) { parameters, closure in
            if lbfgs == nil { lbfgs = LBFGS(parameters, maxIterations: 1, maxEvaluations: 25, lineSearch: .strongWolfe) }
            try lbfgs!.step(closure)
        }
        XCTAssertLessThanOrEqual(fast.loss, optimum + 1e-6, "L-BFGS did not reach the optimum \(optimum) in 50 iterations")
        XCTAssertLessThanOrEqual(fast.steps, 25)

        // Gradient descent with a good fixed step (the loss is 1/4-smooth
        // in each feature direction up to the feature scale): 10 times the
        // iterations still leave it short.
        var sgd: SGD?
        let slow = try LBFGSTests.stepsToOptimum(on: .cpu, dtype: .float64, limit: fast.steps * 10, optimum: optimum) { parameters, closure in
            if sgd == nil { sgd = SGD(parameters, learningRate: 0.5) }
            _ = try closure()
            sgd!.step()
        }
        XCTAssertGreaterThan(slow.loss, optimum + 1e-6, "gradient descent reached the optimum in \(slow.steps) steps")
    }

    /// The same run on every OpenCL device ends at the CPU's loss (float32:
    /// the flat vectors, dot products and steps stay on the device).
    func testLogisticRegressionOnOpenCLMatchesTheCPU() throws {
        let optimum = LBFGSTests.newtonOptimum()
        func run(_ device: Device) throws -> Double {
            var lbfgs: LBFGS?
            return try LBFGSTests.stepsToOptimum(on: device, dtype: .float32, limit: 8, optimum: -1) { parameters, closure in
                if lbfgs == nil { lbfgs = LBFGS(parameters, maxIterations: 1, maxEvaluations: 25, lineSearch: .strongWolfe) }
                try lbfgs!.step(closure)
            }.loss
        }
        let cpu = try run(.cpu)
        XCTAssertLessThan(cpu, optimum + 1e-3)
        for backend in try ParityDevices.all() {
            XCTAssertEqual(try run(Device(backend)), cpu, accuracy: 1e-5, "\(Device(backend))")
        }
    }
}
