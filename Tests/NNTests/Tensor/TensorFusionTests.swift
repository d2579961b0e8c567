import XCTest
@testable import NN

/// Fused elementwise chains (`FusedElementwise`): the fused kernel and its
/// gradient give the same bits as the chain run op by op, on the CPU and on
/// every OpenCL device (a broadcast input's gradient to rounding: it is
/// summed over the broadcast once); the layers that fuse (Sequential's Linear +
/// activation, the BCE losses, PReLU) launch fewer kernels for the same
/// result.
final class TensorFusionTests: XCTestCase {
    /// The CPU, then each OpenCL device (none on a machine without OpenCL,
    /// except under CI, where the parity suite's rule fails the run).
    func devices() throws -> [Device] {
        let opencl: [Device]
        do {
            opencl = try ParityDevices.all().map { Device($0) }
        } catch is XCTSkip {
            opencl = []
        }
        return [.cpu] + opencl
    }

    /// Runs `f` and its backward (seeded by fixed random weights) on
    /// `inputs`, giving the output and each input's gradient.
    func evaluate(_ inputs: [Tensor], _ f: ([Tensor]) -> Tensor) throws -> [[Float]] {
        let leaves = inputs.map { $0.requiringGrad() }
        let y = f(leaves)
        Random.manualSeed(7)
        let weights = Tensor.normal(y.shape, on: y.device)
        (y * weights).sum().backward()
        return try [y.toArray()] + leaves.map { try XCTUnwrap($0.grad, "no gradient").toArray() }
    }

    func inputs(_ shapes: [[Int]], on device: Device, seed: UInt64 = 1) -> [Tensor] {
        Random.manualSeed(seed)
        return shapes.map { Tensor.uniform($0, low: -2, high: 2, on: device) }
    }

    func assertFusedMatchesUnfused(_ f: FusedElementwise, _ shapes: [[Int]], file: StaticString = #filePath,
                                   line: UInt = #line) throws {
        for device in try devices() {
            let xs = inputs(shapes, on: device)
            let fused = try evaluate(xs) { f($0) }
            let unfused = try evaluate(xs) { f.unfused($0) }
            let outputShape = shapes.dropFirst().reduce(shapes[0]) { BroadcastLayout.outputShape($0, $1)! }
            XCTAssertEqual(fused[0], unfused[0], "\(f.name) \(shapes) on \(device.name): outputs differ", file: file, line: line)
            for (k, shape) in shapes.enumerated() {
                let what = "\(f.name) \(shapes) on \(device.name): gradient of input \(k)"
                if shape == outputShape {
                    XCTAssertEqual(fused[k + 1], unfused[k + 1], "\(what) differs", file: file, line: line)
                } else {
                    // Summed over the broadcast once, not after each op.
                    for (a, b) in zip(fused[k + 1], unfused[k + 1]) {
                        XCTAssertEqual(a, b, accuracy: 1e-6 * max(1, abs(b)), what, file: file, line: line)
                    }
                }
            }
        }
    }

    func testChainsMatchTheirOpsBitForBit() throws {
        // A value used twice, a row broadcast, a channel broadcast, a scalar
        // tensor, scalars on both sides of - and /, three inputs.
        try assertFusedMatchesUnfused(FusedElementwise("swish") { x in x * x.sigmoid() }, [[5, 7]])
        try assertFusedMatchesUnfused(FusedElementwise("bias+relu") { x, b in (x + b).relu() }, [[6, 10], [10]])
        try assertFusedMatchesUnfused(FusedElementwise("prelu") { x, a in x.relu() - a * (-x).relu() }, [[2, 3, 4, 5], [3, 1, 1]])
        try assertFusedMatchesUnfused(FusedElementwise("scaled") { x, s in (x * s).tanh() / 2 }, [[4, 3], []])
        try assertFusedMatchesUnfused(FusedElementwise("three") { x, y, z in (2 - x) / (y.abs() + 1) * z.exp() - 1 / (z.square() + 1) },
                                      [[3, 4], [3, 4], [4]])
        try assertFusedMatchesUnfused(FusedElementwise("both ways") { a, b in FusedValue.maximum(a, b).softplus() * a.elu() },
                                      [[3, 1], [1, 4]])
    }

    /// A broadcast that collapses to more axes than the kernels walk runs
    /// op by op, with the same result.
    func testLayoutsBeyondThreeAxesRunUnfused() throws {
        XCTAssertNil(FusedLayout(output: [2, 3, 4, 5], inputs: [[2, 3, 4, 5], [2, 1, 4, 1]]))
        XCTAssertEqual(FusedLayout(output: [2, 3, 4, 5], inputs: [[2, 3, 4, 5], [3, 1, 1]])?.shape, [2, 3, 20])
        try assertFusedMatchesUnfused(FusedElementwise { x, y in (x * y).sigmoid() }, [[2, 3, 4, 5], [2, 1, 4, 1]])
    }

    func testGradientsPassTheGradientCheck() throws {
        let f = FusedElementwise { x, b, c in (x + b).tanh() * c.sigmoid() + (x / (c.square() + 1)).softplus() }
        let inputs = [TT.uniform([4, 5], seed: 1), TT.uniform([5], seed: 2), TT.uniform([4, 5], seed: 3)]
        let result = try GradientCheck.check(inputs) { f($0) }
        XCTAssertTrue(result.passed, "\(result)")
    }

    /// The gradient program shares nodes (the bias and the product of x + b
    /// have one gradient) and leaves out what no output needs.
    func testGradientProgramsShareAndPrune() throws {
        let biasReLU = FusedElementwise { x, b in (x + b).relu() }.program
        XCTAssertEqual(biasReLU.nodes.count, 4)
        let both = try XCTUnwrap(biasReLU.gradient(needs: [true, true]))
        XCTAssertEqual(both.program.outputs.count, 1, "\(both.program)")
        XCTAssertEqual(both.outputOf, [0, 0])
        let onlyBias = try XCTUnwrap(biasReLU.gradient(needs: [false, true]))
        XCTAssertEqual(onlyBias.outputOf, [nil, 0])
        // x * 2 of a constant input: nothing reaches the output from b.
        let unused = FusedElementwise { x, _ in x * 2 }.program
        XCTAssertNil(unused.gradient(needs: [false, true]))
        // A node traced twice is one node.
        XCTAssertEqual(FusedElementwise { x in x.exp() + x.exp() }.program.nodes.count, 3)
    }

    /// Sequential runs Linear + activation as the GEMM and one fused kernel:
    /// the same bits as the layers applied one by one, and one launch fewer
    /// per pair forward (binary_add and unary_relu become one chain).
    func testSequentialFusesLinearAndActivation() throws {
        for device in try devices() {
            Random.manualSeed(3)
            let model = Sequential(Linear(12, 16, device: device), ReLU(), Linear(16, 8, device: device), Tanh(),
                                   Linear(8, 3, device: device))
            let x = inputs([[5, 12]], on: device)[0]
            func run(_ forward: (Tensor) -> Tensor) throws -> [[Float]] {
                model.zeroGrad()
                let y = forward(x)
                y.square().sum().backward()
                return try [y.toArray()] + model.parameters().map { try XCTUnwrap($0.grad).toArray() }
            }
            let fused = try run { model($0) }
            let apart = try run { x in model.layers.reduce(x) { $1($0) } }
            XCTAssertEqual(fused, apart, "on \(device.name)")
            if let backend = device.backend as? OpenCLBackend {
                let before = backend.launches
                _ = withNoGrad { model.layers.reduce(x) { $1($0) } }
                let unfusedLaunches = backend.launches - before
                _ = withNoGrad { model(x) }
                XCTAssertEqual(backend.launches - before - unfusedLaunches, unfusedLaunches - 2, "launches on \(device.name)")
            }
        }
    }

    /// The losses and layers built on fused chains still match their
    /// formulas (hand-computed here at one point each).
    func testFusedLossesAndLayersKeepTheirValues() throws {
        let x = TT.f64([0.2, 0.9], [2]), y = TT.f64([0, 1], [2])
        let bce = try BCELoss(reduction: .none)(x, y).toArray(as: Double.self)
        XCTAssertEqual(bce[0], -Foundation.log(0.8), accuracy: 1e-15)
        XCTAssertEqual(bce[1], -Foundation.log(0.9), accuracy: 1e-15)
        let logits = TT.f64([-1, 3], [2])
        let withLogits = try BCEWithLogitsLoss(reduction: .none)(logits, y).toArray(as: Double.self)
        XCTAssertEqual(withLogits[0], Foundation.log(1 + Foundation.exp(-1)), accuracy: 1e-15)
        XCTAssertEqual(withLogits[1], Foundation.log(1 + Foundation.exp(-3)), accuracy: 1e-15)
        XCTAssertEqual(try MSELoss()(x, y).scalarDouble(), (0.04 + 0.01) / 2, accuracy: 1e-15)
        XCTAssertEqual(try L1Loss()(x, y).scalarDouble(), (0.2 + 0.1) / 2, accuracy: 1e-15)
        let prelu = PReLU(init: 0.25, dtype: .float64, device: .cpu)
        XCTAssertEqual(try prelu(TT.f64([-2, 3], [2])).toArray(as: Double.self), [-0.5, 3])
    }
}
