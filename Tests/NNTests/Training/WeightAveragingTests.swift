import Foundation
import XCTest
@testable import NN

/// Ensembles and weight averaging (issue 12): averaged probabilities,
/// SWA and EMA averages, and BatchNorm statistics recomputed for averaged
/// weights.
final class WeightAveragingTests: XCTestCase {
    /// A "model" that returns the same logits for every input row.
    private final class Constant: Module, @unchecked Sendable {
        let logits: [Double]
        init(_ logits: [Double]) {
            self.logits = logits
            super.init()
        }
        override func forward(_ input: Tensor) -> Tensor {
            Tensor(float64: (0..<input.shape[0]).flatMap { _ in logits }, shape: [input.shape[0], logits.count], on: .cpu)
        }
    }

    private func softmax(_ z: [Double]) -> [Double] {
        let e = z.map { exp($0 - z.max()!) }, s = e.reduce(0, +)
        return e.map { $0 / s }
    }

    func testEnsembleAveragesProbabilities() throws {
        let a = [2.0, 0, -1], b = [0.0, 3, 0.5]
        let ensemble = Ensemble([Constant(a), Constant(b)])
        let out = try TT.values(ensemble(Tensor.zeros([2, 4], dtype: .float64, on: .cpu)))
        let expected = zip(softmax(a), softmax(b)).map { log(($0 + $1) / 2) }
        assertClose(out, expected + expected, relTol: 1e-12, absTol: 1e-12)
        // Confidently opposed members: finite log-probabilities, log(1/2) for each favourite.
        let opposed = try TT.values(Ensemble([Constant([1000, 0]), Constant([0, 1000])])(Tensor.zeros([1, 1], dtype: .float64, on: .cpu)))
        assertClose(opposed, [log(0.5), log(0.5)], relTol: 1e-12, absTol: 1e-12)
        XCTAssertEqual(Ensemble([Linear(2, 3, device: .cpu), Linear(2, 3, device: .cpu)]).stateDict().map(\.name),
                       ["0.weight", "0.bias", "1.weight", "1.bias"])
    }

    func testEnsembleFromCheckpoints() throws {
        let directory = try DataTestFiles.temporaryDirectory(for: self)
        let models = (0..<3).map { _ in Linear(2, 3, device: .cpu) }
        let urls = try models.enumerated().map { i, model -> URL in
            let url = directory.appendingPathComponent("m\(i).safetensors")
            try model.save(checkpoint: url)
            return url
        }
        let ensemble = try Ensemble(checkpoints: urls) { Linear(2, 3, device: .cpu) }
        let x = Tensor([0.5, -1, 2, 0.25], shape: [2, 2], on: .cpu)
        let direct = try Ensemble(models)(x).toArray()
        XCTAssertEqual(try ensemble(x).toArray(), direct)
    }

    func testEqualAndExponentialAverages() throws {
        func linear(_ w: [Float], _ b: Float) -> Linear {
            let l = Linear(2, 1, device: .cpu)
            l.weight.value = Tensor(w, shape: [1, 2], on: .cpu)
            l.bias!.value = Tensor([b], shape: [1], on: .cpu)
            return l
        }
        let steps = [linear([1, 2], 3), linear([4, 8], 6), linear([7, 2], 0)]
        let swa = AveragedModel(steps[0], copy: Linear(2, 1, device: .cpu))
        XCTAssertEqual(swa.averagedCount, 0)
        for model in steps { try swa.update(from: model) }
        XCTAssertEqual(swa.averagedCount, 3)
        XCTAssertEqual(try swa.module.stateDict()[0].tensor.toArray(), [4, 4])
        XCTAssertEqual(try swa.module.stateDict()[1].tensor.toArray(), [3])
        XCTAssertEqual(swa.stateDict().map(\.name), ["n_averaged", "module.weight", "module.bias"])
        XCTAssertEqual(try swa.stateDict()[0].tensor.toArray(as: Int32.self), [3])
        // A state dict loaded into a new average carries on counting: the
        // fourth update folds in with weight 1/4.
        let resumed = AveragedModel(steps[0], copy: Linear(2, 1, device: .cpu))
        try resumed.loadStateDict(Dictionary(uniqueKeysWithValues: swa.stateDict().map { ($0.name, $0.tensor) }))
        XCTAssertEqual(resumed.averagedCount, 3)
        try resumed.update(from: linear([8, 0], 7))
        XCTAssertEqual(try resumed.module.stateDict()[0].tensor.toArray(), [5, 3])

        let ema = AveragedModel(steps[0], copy: Linear(2, 1, device: .cpu), strategy: .exponential(decay: 0.75))
        for model in steps { try ema.update(from: model) }
        // w1 = [1, 2]; 0.75 w1 + 0.25 [4, 8] = [1.75, 3.5]; 0.75 that + 0.25 [7, 2] = [3.0625, 3.125]
        XCTAssertEqual(try ema.module.stateDict()[0].tensor.toArray(), [3.0625, 3.125])
        XCTAssertEqual(try ema(Tensor([1, 1], shape: [1, 2], on: .cpu)).toArray(), [3.0625 + 3.125 + (0.75 * (0.75 * 3 + 0.25 * 6))])
    }

    func testUpdateBatchNormRecomputesTheStatistics() throws {
        let norm = BatchNorm1d(1, device: .cpu)
        let model = Sequential(norm)
        model.eval()
        norm.runningMean!.value = Tensor([42], shape: [1], on: .cpu)
        // Batches [1, 3] (mean 2, unbiased variance 2) and [5, 9] (7, 8):
        // the cumulative average over the two is mean 4.5, variance 5.
        let data = Dataset(features: [1, 3, 5, 9], featureShape: [1], labels: [0, 0, 0, 0])
        try updateBatchNorm(model, on: DataLoader(data, batchSize: 2, device: .cpu))
        XCTAssertEqual(try norm.runningMean!.value.toArray(), [4.5])
        XCTAssertEqual(try norm.runningVar!.value.toArray(), [5])
        XCTAssertEqual(try norm.numBatchesTracked!.value.toArray(as: Int32.self), [2])
        XCTAssertEqual(norm.momentum, 0.1, "the momentum is put back")
        XCTAssertFalse(model.isTraining, "the mode is put back")
    }
}
