import XCTest
@testable import NN

/// torch.nn.init's formulas: gains, fans, and the statistics of each
/// initializer checked against bounds and standard deviations worked out
/// here from the definitions.
final class InitializersTests: XCTestCase {
    func testCalculateGainMatchesPyTorchTable() {
        XCTAssertEqual(Init.calculateGain(.linear), 1)
        XCTAssertEqual(Init.calculateGain(.conv2d), 1)
        XCTAssertEqual(Init.calculateGain(.sigmoid), 1)
        XCTAssertEqual(Init.calculateGain(.tanh), 5.0 / 3, accuracy: 1e-15)
        XCTAssertEqual(Init.calculateGain(.relu), 1.4142135623730951, accuracy: 1e-15)
        // leaky_relu with no param uses slope 0.01: sqrt(2 / 1.0001)
        XCTAssertEqual(Init.calculateGain(.leakyReLU), 1.4141428569978354, accuracy: 1e-15)
        XCTAssertEqual(Init.calculateGain(.leakyReLU, param: 0), 1.4142135623730951, accuracy: 1e-15)
        // sqrt(2 / (1 + 5)) for a = sqrt(5), Linear's default
        XCTAssertEqual(Init.calculateGain(.leakyReLU, param: 5.0.squareRoot()), 0.5773502691896258, accuracy: 1e-15)
        XCTAssertEqual(Init.calculateGain(.selu), 0.75)
    }

    func testFansIncludeTheReceptiveField() {
        XCTAssertTrue(Init.fans([3, 4]) == (4, 3), "Linear [out 3, in 4]")
        XCTAssertTrue(Init.fans([16, 8, 3, 3]) == (72, 144), "Conv2d [16, 8, 3, 3]: 8*9 in, 16*9 out")
        XCTAssertTrue(Init.fans([5, 7, 2]) == (14, 10), "Conv1d [5, 7, 2]")
        XCTAssertTrue(Init.fans([2, 3, 2, 2, 5]) == (60, 40), "Conv3d")
    }

    func testXavierUniformBoundAndStd() throws {
        Random.manualSeed(11)
        let w = try TT.values(Init.xavierUniform([300, 500], gain: 2, on: .cpu))
        let bound = 2 * (6.0 / 800).squareRoot()  // 0.1732...
        XCTAssertLessThanOrEqual(w.map(Swift.abs).max()!, bound * (1 + 1e-6))
        XCTAssertGreaterThan(w.map(Swift.abs).max()!, 0.999 * bound, "the whole range is used")
        let s = MT.stats(w)
        XCTAssertEqual(s.std, bound / 3.0.squareRoot(), accuracy: 0.01 * bound / 3.0.squareRoot())
        XCTAssertEqual(s.mean, 0, accuracy: 5 * s.std / Double(w.count).squareRoot())
    }

    func testXavierNormalStd() throws {
        Random.manualSeed(12)
        let w = try TT.values(Init.xavierNormal([200, 600], dtype: .float64, on: .cpu))
        let std = (2.0 / 800).squareRoot()  // 0.05
        let s = MT.stats(w)
        XCTAssertEqual(s.std, std, accuracy: 0.01 * std)
        XCTAssertEqual(s.mean, 0, accuracy: 5 * std / Double(w.count).squareRoot())
        // A normal, not a uniform: about 4.55% of values beyond 2 std.
        let tail = Double(w.filter { Swift.abs($0) > 2 * std }.count) / Double(w.count)
        XCTAssertEqual(tail, 0.0455, accuracy: 0.003)
    }

    func testKaimingUniformModesAndSlope() throws {
        // Conv weight [32, 16, 5, 5]: fan in 400, fan out 800.
        Random.manualSeed(13)
        let fanIn = try TT.values(Init.kaimingUniform([32, 16, 5, 5], on: .cpu))
        let boundIn = 2.0.squareRoot() * 3.0.squareRoot() / 400.0.squareRoot()  // gain sqrt 2 (a = 0)
        XCTAssertLessThanOrEqual(fanIn.map(Swift.abs).max()!, boundIn * (1 + 1e-6))
        XCTAssertGreaterThan(fanIn.map(Swift.abs).max()!, 0.995 * boundIn)
        XCTAssertEqual(MT.stats(fanIn).std, boundIn / 3.0.squareRoot(), accuracy: 0.015 * boundIn / 3.0.squareRoot())

        let fanOut = try TT.values(Init.kaimingUniform([32, 16, 5, 5], mode: .fanOut, nonlinearity: .relu, on: .cpu))
        let boundOut = (6.0 / 800).squareRoot()
        XCTAssertLessThanOrEqual(fanOut.map(Swift.abs).max()!, boundOut * (1 + 1e-6))
        XCTAssertGreaterThan(fanOut.map(Swift.abs).max()!, 0.995 * boundOut)

        // a = sqrt(5) gives PyTorch Linear's 1 / sqrt(fan_in).
        let linear = try TT.values(Init.kaimingUniform([64, 100], a: 5.0.squareRoot(), on: .cpu))
        XCTAssertLessThanOrEqual(linear.map(Swift.abs).max()!, 0.1 * (1 + 1e-6))
        XCTAssertGreaterThan(linear.map(Swift.abs).max()!, 0.099)
    }

    func testKaimingNormalStd() throws {
        Random.manualSeed(14)
        let w = try TT.values(Init.kaimingNormal([400, 250], mode: .fanOut, nonlinearity: .tanh, on: .cpu))
        let std = (5.0 / 3) / 400.0.squareRoot()
        XCTAssertEqual(MT.stats(w).std, std, accuracy: 0.01 * std)
        let wIn = try TT.values(Init.kaimingNormal([400, 250], on: .cpu))
        let stdIn = 2.0.squareRoot() / 250.0.squareRoot()
        XCTAssertEqual(MT.stats(wIn).std, stdIn, accuracy: 0.01 * stdIn)
    }

    func testConstantsAndIdentity() throws {
        XCTAssertEqual(try TT.values(Init.zeros([2, 3], on: .cpu)), [Double](repeating: 0, count: 6))
        XCTAssertEqual(try TT.values(Init.ones([4], dtype: .float64, on: .cpu)), [1, 1, 1, 1])
        XCTAssertEqual(try TT.values(Init.constant([3], 0.25, on: .cpu)), [0.25, 0.25, 0.25])
        let wide = Init.identity([3, 5], dtype: .float64, on: .cpu)
        XCTAssertEqual(wide.dtype, .float64)
        XCTAssertEqual(try TT.values(wide), [1, 0, 0, 0, 0,
                                             0, 1, 0, 0, 0,
                                             0, 0, 1, 0, 0])
        XCTAssertEqual(try TT.values(Init.identity([4, 2], on: .cpu)), [1, 0, 0, 1, 0, 0, 0, 0])
    }

    func testSameSeedSameValuesAndStreamsAdvance() throws {
        Random.manualSeed(99)
        let a = try TT.values(Init.xavierUniform([8, 8], on: .cpu))
        let b = try TT.values(Init.xavierUniform([8, 8], on: .cpu))
        Random.manualSeed(99)
        let a2 = try TT.values(Init.xavierUniform([8, 8], on: .cpu))
        XCTAssertEqual(a, a2)
        XCTAssertNotEqual(a, b, "each initializer call takes a new random stream")
    }

    func testInPlaceFormKeepsTheParameterObject() throws {
        let p = Parameter(Tensor.zeros([6, 10], dtype: .float64, on: .cpu))
        let before = ObjectIdentifier(p)
        Random.manualSeed(5)
        Init.xavierUniform(p, gain: 0.5)
        Random.manualSeed(5)
        let expected = try TT.values(Init.xavierUniform([6, 10], gain: 0.5, dtype: .float64, on: .cpu))
        XCTAssertEqual(ObjectIdentifier(p), before)
        XCTAssertEqual(try MT.values(p), expected)
        XCTAssertTrue(p.value.requiresGrad && p.value.isLeaf, "a trainable parameter stays a gradient leaf")
        Init.identity(p)
        XCTAssertEqual(try MT.values(p)[0..<12], [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1])
        Init.constant(p, -2)
        XCTAssertEqual(Set(try MT.values(p)), [-2])
    }

    /// The counter-based generator gives the same initial weights on every
    /// backend, bit for bit.
    func testSameValuesOnEveryBackend() throws {
        for backend in try ParityDevices.all() {
            let device = Device(backend)
            Random.manualSeed(21)
            let cpu = try Init.kaimingNormal([37, 19], on: .cpu).toArray(as: Float.self)
            Random.manualSeed(21)
            let other = try Init.kaimingNormal([37, 19], on: device).toArray(as: Float.self)
            XCTAssertEqual(cpu, other, "\(backend.name)")
            Random.manualSeed(22)
            let l1 = Linear(13, 7, device: .cpu)
            Random.manualSeed(22)
            let l2 = Linear(13, 7, device: device)
            XCTAssertEqual(try l1.weight.value.toArray(as: Float.self), try l2.weight.value.toArray(as: Float.self))
            XCTAssertEqual(try l1.bias!.value.toArray(as: Float.self), try l2.bias!.value.toArray(as: Float.self))
        }
    }
}
