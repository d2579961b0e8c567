import NNBenchKit
import XCTest
@testable import NN

/// Every loss and its input gradient on each OpenCL device against the CPU
/// backend (float32), so the composed ops and the one-hot mask work on the
/// device too. Skips without OpenCL (fails with CI=true, as the parity suite).
final class LossDeviceTests: XCTestCase {
    private typealias Case = (name: String, input: [Double], shape: [Int], target: Tensor, loss: (Tensor, Tensor) -> Tensor)

    private func cases(on device: Device) -> [Case] {
        let n = 7, c = 5
        let logits = TT.random(n * c, seed: 71, low: -3, high: 3)
        let labels = Tensor(int32: (0..<n).map { Int32(($0 * 3) % c) }, on: device)
        let probs = TT.random(n * c, seed: 72, low: 0.02, high: 0.98)
        let targets = Tensor(TT.random(n * c, seed: 73, low: 0, high: 1).map { Float($0) }, shape: [n, c], on: device)
        let weight = Tensor([0.5, 1, 2, 1.5, 0.25], on: device)
        return [
            ("MSE", logits, [n, c], targets, { MSELoss()($0, $1) }),
            ("L1", logits, [n, c], targets, { L1Loss(reduction: .sum)($0, $1) }),
            ("CE", logits, [n, c], labels, { CrossEntropyLoss(labelSmoothing: 0.1)($0, $1) }),
            ("weighted CE", logits, [n, c], labels, { CrossEntropyLoss(weight: weight, labelSmoothing: 0.1)($0, $1) }),
            ("NLL", logits, [n, c], labels, { NLLLoss(weight: weight)($0.logSoftmax(axis: 1), $1) }),
            ("BCE", probs, [n, c], targets, { BCELoss()($0, $1) }),
            ("BCEWithLogits", logits, [n, c], targets, {
                BCEWithLogitsLoss(posWeight: weight)($0, $1)
            }),
            ("MultiMargin", logits, [n, c], labels, { MultiMarginLoss(p: 2, weight: weight)($0, $1) }),
        ]
    }

    private func run(_ c: Case, on device: Device) throws -> (loss: Double, grad: [Double]) {
        let x = Tensor(c.input.map { Float($0) }, shape: c.shape, on: device).requiringGrad()
        let loss = c.loss(x, c.target)
        loss.backward()
        return (try loss.scalarDouble(), try x.grad!.toArray().map(Double.init))
    }

    func testLossesMatchTheCPUOnEveryOpenCLDevice() throws {
        for backend in try ParityDevices.all() {
            let device = Device(backend)
            for (cpuCase, deviceCase) in zip(cases(on: .cpu), cases(on: device)) {
                let expected = try run(cpuCase, on: .cpu), got = try run(deviceCase, on: device)
                XCTAssertEqual(got.loss, expected.loss, accuracy: 1e-5 * Swift.max(1, Swift.abs(expected.loss)),
                               "\(cpuCase.name) loss on \(backend.name)")
                compare(got.grad, expected.grad, .elementwise(rel: 1e-4, abs: 1e-6), "\(cpuCase.name) gradient on \(backend.name)")
            }
        }
    }
}
