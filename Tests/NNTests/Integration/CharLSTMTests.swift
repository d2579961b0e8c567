import XCTest
@testable import NN

/// The char-LSTM recipe (Embedding, LSTM, Linear; Adam; gradient clipping)
/// on a slice of tinyshakespeare, scaled down to run in seconds: the
/// validation loss must fall far below where it starts.
final class CharLSTMTests: XCTestCase {
    func testLossFallsOnShakespeareSlice() throws {
        let text = try String(contentsOf: DataTestFiles.requireShakespeare(), encoding: .utf8)
        let corpus = CharacterCorpus(text: String(text.prefix(60_000)))
        let (train, validation) = corpus.split(trainFraction: 0.9)
        let V = corpus.vocabulary.count
        Random.manualSeed(0)
        let embedding = Embedding(V, 16, device: .cpu), lstm = LSTM(16, 64, device: .cpu), decoder = Linear(64, V, device: .cpu)
        let parameters = embedding.parameters() + lstm.parameters() + decoder.parameters()
        let optimizer = Adam(parameters, learningRate: 1e-2)
        func loss(_ batch: (inputs: Tensor, targets: Tensor)) -> Tensor {
            let out = lstm(embedding(batch.inputs))
            let logits = decoder(out.reshaped([out.shape[0] * out.shape[1], 64]))
            return Tensor.softmaxCrossEntropy(logits: logits, labels: batch.targets).mean()
        }
        let validationBatch = SequenceBatches(tokens: validation, sequenceLength: 32, batchSize: 64).sequential(on: .cpu)[0]
        let before = try withNoGrad { try loss(validationBatch).scalarDouble() }
        let batches = SequenceBatches(tokens: train, sequenceLength: 32, batchSize: 16)
        for step in 0..<150 {
            let l = loss(batches.random(step: step, seed: 0, on: .cpu))
            optimizer.zeroGrad()
            l.backward()
            _ = clipGradNorm(parameters, maxNorm: 5)
            optimizer.step()
        }
        let after = try withNoGrad { try loss(validationBatch).scalarDouble() }
        XCTAssertEqual(before, log(Double(V)), accuracy: 0.3, "an untrained model is close to uniform")
        XCTAssertLessThan(after, 2.6, "validation loss after 150 steps (from \(before))")
    }
}
