import NNBenchKit
import XCTest
@testable import NN

/// The CNN blocks (Conv2d, MaxPool2d, AvgPool2d, AdaptiveAvgPool2d,
/// BatchNorm2d) on every OpenCL device against the CPU backend: output,
/// input gradient and every parameter gradient (and BatchNorm2d's running
/// statistics). Weights come from the counter-based streams, so both sides
/// start bit-identical.
final class CNNModuleParityTests: XCTestCase {
    /// Output, input gradient, parameter gradients and buffers of `make`'s
    /// module on `device`, from loss = sum(output * r) with fixed r.
    private func run(_ make: (Device) -> Module, inputShape: [Int], distinct: Bool, on device: Device) throws -> [(String, [Double])] {
        Random.manualSeed(91)
        let module = make(device)
        let count = inputShape.reduce(1, *)
        let values = distinct ? TT.distinct(count, seed: 92) : TT.random(count, seed: 92, low: -2, high: 2)
        let x = Tensor(values.map { Float($0) }, shape: inputShape, on: device).requiringGrad()
        let y = module(x)
        let r = Tensor(TT.random(y.count, seed: 93).map { Float($0) }, shape: y.shape, on: device)
        (y * r).sum().backward()
        var results = [("output", try TT.values(y)), ("input gradient", try TT.values(try XCTUnwrap(x.grad)))]
        for (name, p) in module.namedParameters() { results.append(("d\(name)", try TT.values(try XCTUnwrap(p.grad)))) }
        for (name, p) in module.namedState() where !p.trainable { results.append((name, try TT.values(p.value))) }
        return results
    }

    /// Compares the forward and backward of `make`'s module: outputs and
    /// input gradients with `tolerance`, GEMM-made gradients with `sums`.
    private func assertParity(_ name: String, inputShape: [Int], distinct: Bool = false, _ tolerance: Tolerance,
                              sums: Tolerance = .norm(rel: 1e-5), file: StaticString = #filePath, line: UInt = #line,
                              _ make: (Device) -> Module) throws {
        let expected = try run(make, inputShape: inputShape, distinct: distinct, on: .cpu)
        for backend in try ParityDevices.all(file: file, line: line) {
            let actual = try run(make, inputShape: inputShape, distinct: distinct, on: Device(backend))
            XCTAssertEqual(actual.map(\.0), expected.map(\.0), file: file, line: line)
            for ((what, a), (_, e)) in zip(actual, expected) {
                let t = what.hasPrefix("d") ? sums : tolerance
                compare(a, e, t, "\(name) \(what) on \(backend.name)", file: file, line: line)
            }
        }
    }

    func testConv2d() throws {
        // LeNet's first layer, and a strided, padded, dilated, non-square one
        // with prime sizes.
        try assertParity("Conv2d 1->6 5x5 pad 2", inputShape: [3, 1, 28, 28], .norm(rel: 1e-5)) {
            Conv2d(1, 6, kernelSize: 5, padding: 2, device: $0)
        }
        try assertParity("Conv2d 3->5 (3, 2) stride (2, 1) pad (1, 2) dil (2, 1)", inputShape: [2, 3, 11, 7], .norm(rel: 1e-5)) {
            Conv2d(3, 5, kernelSize: [3, 2], stride: [2, 1], padding: [1, 2], dilation: [2, 1], device: $0)
        }
        try assertParity("Conv2d no bias, one image", inputShape: [4, 9, 13], .norm(rel: 1e-5)) {
            Conv2d(4, 7, kernelSize: 3, stride: 2, bias: false, device: $0)
        }
    }

    func testMaxPool2d() throws {
        // Distinct inputs: a tie would let the backends pick different argmaxes.
        try assertParity("MaxPool2d 2", inputShape: [2, 3, 28, 28], distinct: true, .elementwise(rel: 1e-5, abs: 1e-6)) { _ in
            MaxPool2d(2)
        }
        try assertParity("MaxPool2d (3, 2) stride (2, 1) pad 1", inputShape: [2, 2, 13, 11], distinct: true,
                         .elementwise(rel: 1e-5, abs: 1e-6)) { _ in
            MaxPool2d([3, 2], stride: [2, 1], padding: 1)
        }
    }

    func testAvgPool2d() throws {
        for include in [true, false] {
            try assertParity("AvgPool2d 3 stride 2 pad 1 countIncludePad \(include)", inputShape: [2, 3, 13, 11],
                             .elementwise(rel: 1e-5, abs: 1e-6)) { _ in
                AvgPool2d(3, stride: 2, padding: 1, countIncludePad: include)
            }
        }
    }

    func testAdaptiveAvgPool2d() throws {
        // Divisible (average pooling), non-divisible (two GEMMs), global.
        for (input, output) in [([2, 3, 12, 8], IntOrPair(3, 4)), ([2, 3, 5, 7], IntOrPair(3, 2)), ([3, 5, 7, 7], IntOrPair(1))] {
            try assertParity("AdaptiveAvgPool2d \(input) -> \(output)", inputShape: input, .elementwise(rel: 1e-5, abs: 1e-6)) { _ in
                AdaptiveAvgPool2d(output)
            }
        }
    }

    func testBatchNorm2d() throws {
        // Training (batch statistics, running statistics updated) ...
        try assertParity("BatchNorm2d train", inputShape: [4, 3, 7, 5], .elementwise(rel: 1e-4, abs: 1e-5)) {
            BatchNorm2d(3, device: $0)
        }
        // ... and evaluation, after one training batch.
        try assertParity("BatchNorm2d eval", inputShape: [2, 3, 5, 7], .elementwise(rel: 1e-4, abs: 1e-5)) { device in
            let bn = BatchNorm2d(3, device: device)
            _ = bn(Tensor(TT.random(3 * 3 * 4 * 4, seed: 94, low: -1, high: 3).map { Float($0) }, shape: [3, 3, 4, 4], on: device))
            bn.eval()
            return bn
        }
    }
}
