import XCTest
@testable import NN

final class OptimizerParityTests: XCTestCase {
    func testSGDVariantsThreeSteps() throws {
        let variants = [SGDHyperparameters(learningRate: 0.1),
                        SGDHyperparameters(learningRate: 0.05, momentum: 0.9, dampening: 0.1, weightDecay: 1e-2),
                        SGDHyperparameters(learningRate: 0.05, momentum: 0.9, weightDecay: 1e-3, nesterov: true)]
        for hyper in variants {
            try assertParity("sgd \(hyper)", [.random(1003, seed: 1), .random(1003, seed: 2), .random(1003, seed: 3)],
                             .elementwise(rel: 1e-6, abs: 1e-7)) { backend, x in
                let momentum = hyper.momentum == 0 ? nil : backend.makeBuffer(count: 1003, dtype: .float32)
                for step in 0..<3 {
                    backend.sgdStep(param: x[0], grad: step == 1 ? x[2] : x[1], momentumBuffer: momentum, count: 1003,
                                    hyper: hyper, firstStep: step == 0)
                }
                return [x[0]] + (momentum.map { [$0] } ?? [])
            }
        }
    }

    func testAdamAndAdamWThreeSteps() throws {
        for decoupled in [false, true] {
            let hyper = AdamHyperparameters(learningRate: 1e-2, weightDecay: 0.01, decoupledWeightDecay: decoupled)
            try assertParity("adam decoupled \(decoupled)", [.random(777, seed: 4), .random(777, seed: 5), .random(777, seed: 6)],
                             .elementwise(rel: 1e-5, abs: 1e-7)) { backend, x in
                let m = backend.makeBuffer(count: 777, dtype: .float32), v = backend.makeBuffer(count: 777, dtype: .float32)
                backend.fill(m, value: 0, offset: 0, count: 777)
                backend.fill(v, value: 0, offset: 0, count: 777)
                for step in 1...3 {
                    backend.adamStep(param: x[0], grad: step == 2 ? x[2] : x[1], m: m, v: v, count: 777, hyper: hyper, step: step)
                }
                return [x[0], m, v]
            }
        }
    }
}
