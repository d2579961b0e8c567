import XCTest
@testable import NN

final class BatchNorm2dTests: XCTestCase {
    /// Per-channel mean, biased and unbiased variance of [N, C, H, W] values
    /// (statistics over N, H and W).
    private func channelStats(_ x: [Double], _ shape: [Int]) -> (mean: [Double], biased: [Double], unbiased: [Double]) {
        let (n, c, plane) = (shape[0], shape[1], shape[2] * shape[3])
        var mean = [Double](repeating: 0, count: c), biased = mean, unbiased = mean
        for ch in 0..<c {
            let v = (0..<n).flatMap { i in (0..<plane).map { x[(i * c + ch) * plane + $0] } }
            mean[ch] = v.reduce(0, +) / Double(v.count)
            let ss = v.map { ($0 - mean[ch]) * ($0 - mean[ch]) }.reduce(0, +)
            biased[ch] = ss / Double(v.count)
            unbiased[ch] = ss / Double(v.count - 1)
        }
        return (mean, biased, unbiased)
    }

    private func normalized(_ x: [Double], _ shape: [Int], mean: [Double], variance: [Double], weight: [Double],
                            bias: [Double]) -> [Double] {
        let (c, plane) = (shape[1], shape[2] * shape[3])
        return x.enumerated().map { i, v in
            let ch = (i / plane) % c
            return (v - mean[ch]) / (variance[ch] + 1e-5).squareRoot() * weight[ch] + bias[ch]
        }
    }

    func testStateDictIsPyTorchs() {
        let bn = BatchNorm2d(6, device: .cpu)
        XCTAssertEqual(bn.stateDict().map(\.name), ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"])
        XCTAssertEqual(bn.stateDict().map(\.tensor.shape), [[6], [6], [6], [6], []])
        XCTAssertEqual(bn.namedParameters().map(\.name), ["weight", "bias"])
    }

    /// A channel worked by hand: one image, 2x2 plane [1, 2, 3, 6] in
    /// channel 0 and [0, 0, 4, 4] in channel 1. Means 3 and 2, biased
    /// variances 14/4 = 3.5 and 4, unbiased 14/3 and 16/3.
    func testHandWorkedChannels() throws {
        let bn = BatchNorm2d(2, dtype: .float64, device: .cpu)
        let x: [Double] = [1, 2, 3, 6, 0, 0, 4, 4]
        let y = try TT.values(bn(TT.f64(x, [1, 2, 2, 2])))
        let s0 = (3.5 + 1e-5).squareRoot(), s1 = (4 + 1e-5).squareRoot()
        assertTensorValues(y, [-2 / s0, -1 / s0, 0, 3 / s0, -2 / s1, -2 / s1, 2 / s1, 2 / s1])
        assertTensorValues(try MT.values(bn.runningMean!), [0.3, 0.2], abs: 1e-15)
        assertTensorValues(try MT.values(bn.runningVar!), [0.9 + 0.1 * 14 / 3, 0.9 + 0.1 * 16 / 3], abs: 1e-15)
    }

    /// Two training batches, then evaluation with the running statistics.
    func testTrainThenEval() throws {
        let bn = BatchNorm2d(3, dtype: .float64, device: .cpu)
        let w = [1.5, -0.5, 2], b = [0.25, 2, -1]
        MT.set(bn.weight!, w)
        MT.set(bn.bias!, b)
        let shape1 = [2, 3, 3, 4], shape2 = [3, 3, 2, 2]
        let x1 = TT.random(72, seed: 41, low: -2, high: 3), x2 = TT.random(36, seed: 42, low: -1, high: 4)
        let s1 = channelStats(x1, shape1), s2 = channelStats(x2, shape2)

        assertTensorValues(try TT.values(bn(TT.f64(x1, shape1))),
                           normalized(x1, shape1, mean: s1.mean, variance: s1.biased, weight: w, bias: b))
        assertTensorValues(try TT.values(bn(TT.f64(x2, shape2))),
                           normalized(x2, shape2, mean: s2.mean, variance: s2.biased, weight: w, bias: b))
        let runningMean = (0..<3).map { 0.9 * (0.1 * s1.mean[$0]) + 0.1 * s2.mean[$0] }
        let runningVar = (0..<3).map { 0.9 * (0.9 + 0.1 * s1.unbiased[$0]) + 0.1 * s2.unbiased[$0] }
        assertTensorValues(try MT.values(bn.runningMean!), runningMean, abs: 1e-14)
        assertTensorValues(try MT.values(bn.runningVar!), runningVar, abs: 1e-14)
        XCTAssertEqual(try MT.values(bn.numBatchesTracked!), [2])

        bn.eval()
        let probe = TT.random(24, seed: 43)
        assertTensorValues(try TT.values(bn(TT.f64(probe, [2, 3, 2, 2]))),
                           normalized(probe, [2, 3, 2, 2], mean: runningMean, variance: runningVar, weight: w, bias: b))
        XCTAssertEqual(try MT.values(bn.numBatchesTracked!), [2], "evaluation leaves the statistics alone")
    }

    func testGradientCheckTrainAndEval() {
        let bn = BatchNorm2d(3, dtype: .float64, device: .cpu)
        MT.set(bn.weight!, [0.8, -1.2, 1.5])
        MT.set(bn.bias!, [0.1, 0.2, -0.3])
        assertModuleGradientCheck(bn, input: TT.f64(TT.random(2 * 3 * 3 * 2, seed: 44), [2, 3, 3, 2]), "train")
        _ = bn(TT.f64(TT.random(2 * 3 * 2 * 2, seed: 45, low: -3, high: 2), [2, 3, 2, 2]))
        bn.eval()
        assertModuleGradientCheck(bn, input: TT.f64(TT.random(1 * 3 * 2 * 3, seed: 46), [1, 3, 2, 3]), "eval")
    }

    func testRankMessage() {
        XCTAssertNil(BatchNorm2d.rankProblem([2, 3, 4, 4]))
        for shape in [[2, 3], [2, 3, 4], [1, 2, 3, 4, 5]] {
            let message = BatchNorm2d.rankProblem(shape) ?? ""
            for part in ["BatchNorm2d", "4D input [N, C, H, W]", "\(shape)"] {
                XCTAssertTrue(message.contains(part), "'\(message)' does not mention '\(part)'")
            }
        }
    }
}
