import NNBenchKit
import XCTest
@testable import NN

/// Whole networks trained a few steps from the same seed on the CPU backend
/// and on each OpenCL device end with the same parameters. The initial
/// weights are bit-identical (counter-based random fills), so any drift is
/// the accumulated float32 rounding of the steps.
final class NetworkParityTests: XCTestCase {
    /// Trains `steps` SGD-momentum steps of `model` on `device` and returns
    /// the final parameters and the losses.
    /// Returns how far each parameter moved (final - initial): comparing the
    /// updates, not the weights, so a gradient that is off by 1% shows.
    private func train(on device: Device, steps: Int, makeParameters: (Device) -> [Tensor], inputs: (Device) -> (Tensor, Tensor),
                       forward: (Tensor, [Tensor]) -> Tensor) throws -> (parameters: [[Float]], losses: [Float]) {
        Random.manualSeed(1234)
        let params = makeParameters(device).map { $0.requiringGrad() }
        let initial = try params.map { try $0.toArray() }
        let velocity = params.map { $0.zerosLike() }
        let (x, labels) = inputs(device)
        let hyper = SGDHyperparameters(learningRate: 0.05, momentum: 0.9)
        var losses: [Float] = []
        for step in 0..<steps {
            let loss = Tensor.softmaxCrossEntropy(logits: forward(x, params), labels: labels).mean()
            params.forEach { $0.zeroGrad() }
            loss.backward()
            for (p, v) in zip(params, velocity) { p.sgdStep(momentumBuffer: v, hyper: hyper, firstStep: step == 0) }
            losses.append(try loss.scalar())
        }
        let moved = try zip(params, initial).map { p, p0 in zip(try p.toArray(), p0).map { $0 - $1 } }
        return (moved, losses)
    }

    private func assertSameTraining(steps: Int, makeParameters: (Device) -> [Tensor], inputs: (Device) -> (Tensor, Tensor),
                                    forward: (Tensor, [Tensor]) -> Tensor) throws {
        let cpu = try train(on: .cpu, steps: steps, makeParameters: makeParameters, inputs: inputs, forward: forward)
        XCTAssertLessThan(cpu.losses.last!, cpu.losses.first!, "the reference run should learn")
        for backend in try ParityDevices.all() {
            let cl = try train(on: Device(backend), steps: steps, makeParameters: makeParameters, inputs: inputs, forward: forward)
            compare(cl.losses.map(Double.init), cpu.losses.map(Double.init), .elementwise(rel: 1e-4, abs: 1e-5), "losses on \(backend.name)")
            for (i, (a, e)) in zip(cl.parameters, cpu.parameters).enumerated() {
                compare(a.map(Double.init), e.map(Double.init), .norm(rel: 1e-3), "update of parameter \(i) on \(backend.name)")
            }
        }
    }

    func testMLPTrainsIdentically() throws {
        try assertSameTraining(steps: 5, makeParameters: { d in
            [Tensor.uniform([20, 32], low: -0.3, high: 0.3, on: d), Tensor.zeros([32], on: d),
             Tensor.uniform([32, 5], low: -0.3, high: 0.3, on: d), Tensor.zeros([5], on: d)]
        }, inputs: { d in
            (Tensor.normal([16, 20], on: d), Tensor(int32: (0..<16).map { Int32($0 % 5) }, on: d))
        }, forward: { x, p in
            (x.matmul(p[0]) + p[1]).relu().dropout(p: 0.2).matmul(p[2]) + p[3]
        })
    }

    func testCNNTrainsIdentically() throws {
        try assertSameTraining(steps: 4, makeParameters: { d in
            [Tensor.uniform([4, 1, 3, 3], low: -0.3, high: 0.3, on: d), Tensor.zeros([4], on: d),
             Tensor.uniform([4 * 5 * 5, 3], low: -0.2, high: 0.2, on: d), Tensor.zeros([3], on: d)]
        }, inputs: { d in
            (Tensor.normal([6, 1, 10, 10], on: d), Tensor(int32: (0..<6).map { Int32($0 % 3) }, on: d))
        }, forward: { x, p in
            let h = x.conv2d(weight: p[0], bias: p[1], padding: (1, 1)).tanh().maxPool2d(kernel: (2, 2))
            return h.reshaped([6, -1]).matmul(p[2]) + p[3]
        })
    }

    /// A training step downloads nothing until the caller asks for the loss,
    /// and once warm it allocates no new device memory.
    func testTrainingStepTransfersAndAllocations() throws {
        for backend in try ParityDevices.all() {
            let device = Device(backend)
            Random.manualSeed(7)
            let w = Tensor.uniform([50, 10], low: -0.1, high: 0.1, on: device).requiringGrad()
            let x = Tensor.normal([32, 50], on: device), labels = Tensor(int32: (0..<32).map { Int32($0 % 10) }, on: device)
            let velocity = w.zerosLike()
            func step(_ first: Bool) -> Tensor {
                let loss = Tensor.softmaxCrossEntropy(logits: x.matmul(w).relu(), labels: labels).mean()
                w.zeroGrad()
                loss.backward()
                w.sgdStep(momentumBuffer: velocity, hyper: SGDHyperparameters(learningRate: 0.1, momentum: 0.9), firstStep: first)
                return loss
            }
            _ = try step(true).scalar()
            _ = try step(false).scalar()
            let downloads = backend.downloads, uploads = backend.uploads, allocations = backend.driverAllocations
            let loss = step(false)
            XCTAssertEqual(backend.downloads, downloads, "a training step must not read back from \(backend.name)")
            XCTAssertEqual(backend.uploads, uploads, "a training step must not upload to \(backend.name)")
            XCTAssertEqual(backend.driverAllocations, allocations, "a warm training step should allocate from the pool only")
            XCTAssert(try loss.scalar().isFinite)
            XCTAssertEqual(backend.downloads, downloads + 1, "asking for the loss is one download")
        }
    }

    /// Runs last (alphabetically) in this class: a suite that compiled or
    /// loaded no program tested nothing.
    func testZZProgramsWereBuilt() throws {
        for backend in try ParityDevices.all() {
            XCTAssertGreaterThan(backend.programsCompiled + backend.programsLoadedFromCache, 0,
                                 "no OpenCL program was built on \(backend.name): the parity suite tested nothing")
        }
    }
}
