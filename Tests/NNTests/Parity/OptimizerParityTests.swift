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

    func testAdagradThreeSteps() throws {
        let variants = [AdagradHyperparameters(learningRate: 0.1),
                        AdagradHyperparameters(learningRate: 0.05, learningRateDecay: 0.3, weightDecay: 0.01,
                                               initialAccumulatorValue: 0.2, epsilon: 1e-6)]
        for hyper in variants {
            try assertParity("adagrad \(hyper)", [.random(1009, seed: 7), .random(1009, seed: 8), .random(1009, seed: 9)],
                             .elementwise(rel: 1e-6, abs: 1e-7)) { backend, x in
                let sum = backend.makeBuffer(count: 1009, dtype: .float32)
                backend.fill(sum, value: hyper.initialAccumulatorValue, offset: 0, count: 1009)
                for step in 1...3 {
                    backend.adagradStep(param: x[0], grad: step == 2 ? x[2] : x[1], sum: sum, count: 1009, hyper: hyper, step: step)
                }
                return [x[0], sum]
            }
        }
    }

    func testRMSpropVariantsThreeSteps() throws {
        for centered in [false, true] {
            for momentum in [0, 0.9] {
                let hyper = RMSpropHyperparameters(learningRate: 1e-2, alpha: 0.9, weightDecay: 0.01, momentum: momentum,
                                                   centered: centered)
                try assertParity("rmsprop centered \(centered) momentum \(momentum)",
                                 [.random(997, seed: 10), .random(997, seed: 11), .random(997, seed: 12)],
                                 .elementwise(rel: 1e-5, abs: 1e-7)) { backend, x in
                    func zeros() -> DeviceBuffer {
                        let b = backend.makeBuffer(count: 997, dtype: .float32)
                        backend.fill(b, value: 0, offset: 0, count: 997)
                        return b
                    }
                    let sq = zeros(), ga = centered ? zeros() : nil, buf = momentum != 0 ? zeros() : nil
                    for step in 1...3 {
                        backend.rmspropStep(param: x[0], grad: step == 2 ? x[2] : x[1], squareAvg: sq, gradAvg: ga,
                                            momentumBuffer: buf, count: 997, hyper: hyper)
                    }
                    return [x[0], sq] + (ga.map { [$0] } ?? []) + (buf.map { [$0] } ?? [])
                }
            }
        }
    }

    func testNewStepsInFloat64() throws {
        // Where the device has float64, the double kernels agree to 1e-12.
        try assertParity("adagrad/rmsprop float64",
                         [.random(101, seed: 13, dtype: .float64), .random(101, seed: 14, dtype: .float64),
                          .random(101, seed: 15, dtype: .float64)],
                         .elementwise(rel: 1e-12, abs: 1e-14), dtype: .float64) { backend, x in
            let sum = backend.makeBuffer(count: 101, dtype: .float64), sq = backend.makeBuffer(count: 101, dtype: .float64)
            let ga = backend.makeBuffer(count: 101, dtype: .float64), buf = backend.makeBuffer(count: 101, dtype: .float64)
            for b in [sum, sq, ga, buf] { backend.fill(b, value: 0, offset: 0, count: 101) }
            let p2 = backend.makeBuffer(count: 101, dtype: .float64)
            backend.copy(x[0], srcOffset: 0, to: p2, dstOffset: 0, count: 101)
            for step in 1...3 {
                backend.adagradStep(param: x[0], grad: x[1], sum: sum, count: 101,
                                    hyper: AdagradHyperparameters(learningRate: 0.1, learningRateDecay: 0.1), step: step)
                backend.rmspropStep(param: p2, grad: x[2], squareAvg: sq, gradAvg: ga, momentumBuffer: buf, count: 101,
                                    hyper: RMSpropHyperparameters(momentum: 0.5, centered: true))
            }
            return [x[0], sum, p2, sq, ga, buf]
        }
    }
}
