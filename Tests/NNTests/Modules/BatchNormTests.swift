import XCTest
@testable import NN

final class BatchNormTests: XCTestCase {
    // Two batches of [N, 2], worked by hand:
    // batch 1, channel 0: 1 2 3 6     mean 3,   squared deviations 4 1 0 9 = 14: var 3.5 (biased), 14/3 (unbiased)
    //          channel 1: -1 .5 2 4.5 mean 1.5, squared deviations 6.25 1 .25 9 = 16.5: var 4.125, 5.5
    // batch 2, channel 0: 0 4 5       mean 3,   9 1 4 = 14: var 14/3, 7
    //          channel 1: 2 2 -1      mean 1,   1 1 4 = 6: var 2, 3
    private let batch1: [Double] = [1, -1, 2, 0.5, 3, 2, 6, 4.5]
    private let batch2: [Double] = [0, 2, 4, 2, 5, -1]

    private func normalized(_ x: [Double], channels: Int, mean: [Double], variance: [Double], eps: Double = 1e-5,
                            weight: [Double] = [1, 1], bias: [Double] = [0, 0]) -> [Double] {
        x.enumerated().map { i, v in
            let c = i % channels
            return (v - mean[c]) / (variance[c] + eps).squareRoot() * weight[c] + bias[c]
        }
    }

    func testStateDictNamesShapesAndInitialValues() throws {
        let bn = BatchNorm1d(3, device: .cpu)
        XCTAssertEqual(bn.stateDict().map(\.name), ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"])
        XCTAssertEqual(bn.stateDict().map(\.tensor.shape), [[3], [3], [3], [3], []])
        XCTAssertEqual(bn.stateDict().map(\.tensor.dtype), [.float32, .float32, .float32, .float32, .int32])
        XCTAssertEqual(bn.namedParameters().map(\.name), ["weight", "bias"], "buffers are not trainable")
        XCTAssertEqual(try MT.values(bn.weight!), [1, 1, 1])
        XCTAssertEqual(try MT.values(bn.bias!), [0, 0, 0])
        XCTAssertEqual(try MT.values(bn.runningMean!), [0, 0, 0])
        XCTAssertEqual(try MT.values(bn.runningVar!), [1, 1, 1])
        XCTAssertEqual(try MT.values(bn.numBatchesTracked!), [0])
        XCTAssertEqual(bn.eps, 1e-5)
        XCTAssertEqual(bn.momentum, 0.1)

        let plain = BatchNorm1d(3, affine: false, trackRunningStats: false, device: .cpu)
        XCTAssertTrue(plain.stateDict().isEmpty)
        XCTAssertEqual(BatchNorm1d(3, affine: false, device: .cpu).stateDict().map(\.name),
                       ["running_mean", "running_var", "num_batches_tracked"])
        XCTAssertEqual(BatchNorm1d(3, trackRunningStats: false, device: .cpu).stateDict().map(\.name), ["weight", "bias"])
    }

    /// Running statistics after two batches (momentum 0.1, unbiased
    /// variance), the training outputs (batch statistics, biased variance)
    /// and the evaluation output (running statistics).
    func testTrainThenEvalAfterTwoBatches() throws {
        let bn = BatchNorm1d(2, dtype: .float64, device: .cpu)
        let w = [1.5, -0.5], b = [0.25, 2]
        MT.set(bn.weight!, w)
        MT.set(bn.bias!, b)

        let y1 = bn(TT.f64(batch1, [4, 2]))
        assertTensorValues(try TT.values(y1), normalized(batch1, channels: 2, mean: [3, 1.5], variance: [3.5, 4.125], weight: w, bias: b))
        assertTensorValues(try MT.values(bn.runningMean!), [0.3, 0.15], abs: 1e-15)
        assertTensorValues(try MT.values(bn.runningVar!), [0.9 + 0.1 * 14 / 3, 0.9 + 0.55], abs: 1e-15)
        XCTAssertEqual(try MT.values(bn.numBatchesTracked!), [1])

        let y2 = bn(TT.f64(batch2, [3, 2]))
        assertTensorValues(try TT.values(y2), normalized(batch2, channels: 2, mean: [3, 1], variance: [14.0 / 3, 2], weight: w, bias: b))
        // 0.9 * 0.3 + 0.1 * 3, 0.9 * 0.15 + 0.1 * 1; 0.9 * (0.9 + 14/30) + 0.7, 0.9 * 1.45 + 0.3
        assertTensorValues(try MT.values(bn.runningMean!), [0.57, 0.235], abs: 1e-15)
        assertTensorValues(try MT.values(bn.runningVar!), [1.93, 1.605], abs: 1e-14)
        XCTAssertEqual(try MT.values(bn.numBatchesTracked!), [2])

        bn.eval()
        let probe = [0.5, -2, 3, 1]
        let yEval = bn(TT.f64(probe, [2, 2]))
        assertTensorValues(try TT.values(yEval), normalized(probe, channels: 2, mean: [0.57, 0.235], variance: [1.93, 1.605], weight: w, bias: b))
        XCTAssertEqual(try MT.values(bn.numBatchesTracked!), [2], "evaluation leaves the statistics alone")
        assertTensorValues(try MT.values(bn.runningMean!), [0.57, 0.235], abs: 1e-15)
        // The same batch in train mode would normalize with its own statistics.
        bn.train()
        XCTAssertNotEqual(try TT.values(bn(TT.f64(probe, [2, 2]))), try TT.values(yEval))
    }

    func testFloat32MatchesHandValues() throws {
        let bn = BatchNorm1d(2, device: .cpu)
        _ = bn(TT.f32(batch1, [4, 2]))
        let y = bn(TT.f32(batch2, [3, 2]))
        assertTensorValues(try TT.values(y), normalized(batch2, channels: 2, mean: [3, 1], variance: [14.0 / 3, 2]), abs: 1e-6, rel: 1e-5)
        assertTensorValues(try MT.values(bn.runningMean!), [0.57, 0.235], abs: 1e-6, rel: 1e-6)
        assertTensorValues(try MT.values(bn.runningVar!), [1.93, 1.605], abs: 1e-6, rel: 1e-6)
    }

    /// momentum nil: the cumulative average of the batch statistics.
    func testCumulativeAverageWithoutMomentum() throws {
        let bn = BatchNorm1d(2, momentum: nil, dtype: .float64, device: .cpu)
        _ = bn(TT.f64(batch1, [4, 2]))
        assertTensorValues(try MT.values(bn.runningMean!), [3, 1.5], abs: 1e-15)
        assertTensorValues(try MT.values(bn.runningVar!), [14.0 / 3, 5.5], abs: 1e-14)
        _ = bn(TT.f64(batch2, [3, 2]))
        assertTensorValues(try MT.values(bn.runningMean!), [3, 1.25], abs: 1e-15)
        assertTensorValues(try MT.values(bn.runningVar!), [(14.0 / 3 + 7) / 2, 4.25], abs: 1e-14)
    }

    /// A loaded num_batches_tracked is where counting resumes (the layer's
    /// host copy of the counter must notice the load).
    func testCountingResumesFromLoadedState() throws {
        let bn = BatchNorm1d(2, momentum: nil, dtype: .float64, device: .cpu)
        _ = bn(TT.f64(batch1, [4, 2]))
        try bn.loadStateDict([
            "weight": TT.f64([1, 1], [2]), "bias": TT.f64([0, 0], [2]),
            "running_mean": TT.f64([1, 2], [2]), "running_var": TT.f64([3, 4], [2]),
            "num_batches_tracked": Tensor(int32: [3], shape: [], on: .cpu),
        ])
        _ = bn(TT.f64(batch2, [3, 2]))
        XCTAssertEqual(try MT.values(bn.numBatchesTracked!), [4])
        // factor 1/4: 0.75 * [1, 2] + 0.25 * [3, 1]; 0.75 * [3, 4] + 0.25 * [7, 3]
        assertTensorValues(try MT.values(bn.runningMean!), [1.5, 1.75], abs: 1e-15)
        assertTensorValues(try MT.values(bn.runningVar!), [4, 3.75], abs: 1e-14)
    }

    /// [N, C, L]: statistics over N and L for each channel.
    func testThreeDimensionalInput() throws {
        let bn = BatchNorm1d(2, dtype: .float64, device: .cpu)
        let x = TT.random(12, seed: 51, low: -2, high: 3)  // [2, 2, 3]
        var mean = [0.0, 0.0], biased = [0.0, 0.0], unbiased = [0.0, 0.0]
        for c in 0..<2 {
            let v = (0..<2).flatMap { n in (0..<3).map { l in x[n * 6 + c * 3 + l] } }
            mean[c] = v.reduce(0, +) / 6
            let ss = v.map { ($0 - mean[c]) * ($0 - mean[c]) }.reduce(0, +)
            biased[c] = ss / 6
            unbiased[c] = ss / 5
        }
        let y = try TT.values(bn(TT.f64(x, [2, 2, 3])))
        let expected = x.enumerated().map { i, v in
            let c = (i / 3) % 2
            return (v - mean[c]) / (biased[c] + 1e-5).squareRoot()
        }
        assertTensorValues(y, expected)
        assertTensorValues(try MT.values(bn.runningMean!), mean.map { 0.1 * $0 }, abs: 1e-15)
        assertTensorValues(try MT.values(bn.runningVar!), unbiased.map { 0.9 + 0.1 * $0 }, abs: 1e-15)
    }

    func testWithoutRunningStatsEvalUsesBatchStatistics() throws {
        let bn = BatchNorm1d(2, affine: false, trackRunningStats: false, dtype: .float64, device: .cpu)
        bn.eval()
        let y = try TT.values(bn(TT.f64(batch1, [4, 2])))
        assertTensorValues(y, normalized(batch1, channels: 2, mean: [3, 1.5], variance: [3.5, 4.125]))
    }

    func testGradientCheckTrainMode() {
        let bn = BatchNorm1d(3, dtype: .float64, device: .cpu)
        MT.set(bn.weight!, [0.8, -1.2, 1.5])
        MT.set(bn.bias!, [0.1, 0.2, -0.3])
        XCTAssertTrue(bn.isTraining)
        assertModuleGradientCheck(bn, input: TT.f64(TT.random(18, seed: 52), [6, 3]), "[N, C]")
        assertModuleGradientCheck(bn, input: TT.f64(TT.random(24, seed: 53), [2, 3, 4]), "[N, C, L]")
        let plain = BatchNorm1d(3, affine: false, dtype: .float64, device: .cpu)
        assertModuleGradientCheck(plain, input: TT.f64(TT.random(12, seed: 54), [4, 3]), "affine false")
    }

    func testGradientCheckEvalMode() {
        let bn = BatchNorm1d(3, dtype: .float64, device: .cpu)
        _ = bn(TT.f64(TT.random(15, seed: 55, low: -3, high: 2), [5, 3]))
        bn.eval()
        MT.set(bn.weight!, [0.8, -1.2, 1.5])
        assertModuleGradientCheck(bn, input: TT.f64(TT.random(6, seed: 56), [2, 3]), "eval")
    }
}
