import Foundation
import XCTest
@testable import NN

/// Resumable training (issue 10): `Trainer.fit(..., checkpoint:, resume:)`
/// stopped after epoch k and resumed ends with bit-identical weights to an
/// uninterrupted run, on the CPU backend, with every kind of state in play
/// (momentum, Adam moments and steps, a schedule, early stopping, dropout's
/// random streams, shuffled epochs).
final class ResumeTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = try DataTestFiles.temporaryDirectory(for: self)
    }

    /// 96 samples of a 3-class problem in 8 features.
    private func data() -> Dataset {
        let n = 96
        let features = (0..<(n * 8)).map { Float(Philox.uniform($0, seed: 7, stream: 1)) * 2 - 1 }
        let labels = (0..<n).map { i -> Int32 in
            let x = features[i * 8..<i * 8 + 3].map { $0 }
            let first: Int32 = x[0] + x[1] > 0 ? 1 : 0
            return first + (x[2] > 0.5 ? 1 : 0)
        }
        return Dataset(features: features, featureShape: [8], labels: labels)
    }

    private func makeModel() -> Sequential {
        Sequential(Linear(8, 16, device: .cpu), ReLU(), Dropout(p: 0.25), Linear(16, 3, device: .cpu))
    }

    private struct Run {
        let model: Sequential
        let optimizer: any Optimizer
        var trainer: Trainer
        let loader: DataLoader
    }

    /// A fresh run seeded the same way every time, as a restarted program
    /// would make it.
    private func makeRun(_ kind: String, epochs: Int) -> Run {
        Random.manualSeed(3)
        let model = makeModel()
        let all = data()
        let (train, validation) = all.split(at: 72)
        let loader = DataLoader(train, batchSize: 10, shuffle: true, seed: 11, device: .cpu)
        var trainer = Trainer(epochs: epochs, validation: DataLoader(validation, batchSize: 24, device: .cpu))
        trainer.showProgress = false
        let optimizer: any Optimizer
        switch kind {
        case "sgd":
            let sgd = SGD(model.parameters(), learningRate: 0.1, momentum: 0.9, weightDecay: 1e-3)
            trainer.schedule = .everyEpoch(StepLR(sgd, stepSize: 2, gamma: 0.5))
            optimizer = sgd
        default:
            let adam = Adam(model.parameters(), learningRate: 0.01)
            trainer.schedule = .onPlateau(ReduceLROnPlateau(adam, factor: 0.5, patience: 0))
            trainer.earlyStopping = EarlyStopping(patience: 3)
            optimizer = adam
        }
        return Run(model: model, optimizer: optimizer, trainer: trainer, loader: loader)
    }

    private func bits(_ model: Module) throws -> [String: [UInt32]] {
        Dictionary(uniqueKeysWithValues: try model.stateDict().map { ($0.name, try $0.tensor.toArray().map(\.bitPattern)) })
    }

    func testResumedRunEndsBitIdenticalToAnUninterruptedOne() throws {
        for kind in ["sgd", "adam"] {
            let straight = makeRun(kind, epochs: 5)
            let fullLog = try straight.trainer.fit(straight.model, optimizer: straight.optimizer, loss: CrossEntropyLoss(), on: straight.loader)

            // The same run stopped after epoch 2 (neither schedule depends
            // on the number of epochs, so a 2-epoch run is the first two
            // epochs of the 5-epoch one), then a new process's objects resumed.
            let checkpoint = directory.appendingPathComponent("\(kind).safetensors")
            let stopped = makeRun(kind, epochs: 2)
            try stopped.trainer.fit(stopped.model, optimizer: stopped.optimizer, loss: CrossEntropyLoss(), on: stopped.loader,
                                    checkpoint: checkpoint)
            Random.manualSeed(999)  // the new process draws differently until the resume restores the streams
            let resumed = makeRun(kind, epochs: 5)
            let log = try resumed.trainer.fit(resumed.model, optimizer: resumed.optimizer, loss: CrossEntropyLoss(), on: resumed.loader,
                                              checkpoint: checkpoint, resume: true)

            XCTAssertEqual(try bits(resumed.model), try bits(straight.model), kind)
            XCTAssertEqual(resumed.optimizer.learningRate, straight.optimizer.learningRate, kind)
            XCTAssertEqual(log.epochs.map(\.epoch), fullLog.epochs.map(\.epoch), "\(kind): the log holds every epoch")
            XCTAssertEqual(log.epochs.map(\.trainLoss), fullLog.epochs.map(\.trainLoss), kind)
            XCTAssertEqual(log.epochs.map(\.validationLoss), fullLog.epochs.map(\.validationLoss), kind)
        }
    }

    /// What the file holds, under the names the issue asks for.
    func testCheckpointLayout() throws {
        let run = makeRun("adam", epochs: 2)
        let url = directory.appendingPathComponent("layout.safetensors")
        try run.trainer.fit(run.model, optimizer: run.optimizer, loss: CrossEntropyLoss(), on: run.loader, checkpoint: url)
        let contents = try Checkpoint.read(from: url, on: .cpu)
        let names = Set(contents.tensors.map(\.name))
        for name in ["model.0.weight", "model.3.bias", "optimizer.state.0.exp_avg", "optimizer.state.0.exp_avg_sq",
                     "optimizer.state.3.step", "early_stopping.0.weight"] {
            XCTAssert(names.contains(name), "\(name) missing from \(names.sorted())")
        }
        XCTAssertEqual(contents.metadata["format"], TrainingCheckpoint.format)
        XCTAssertEqual(contents.metadata["optimizer"], "Adam")
        let progress = try TrainingCheckpoint.read(from: url).progress
        XCTAssertEqual(progress.epoch, 2)
        XCTAssertEqual(progress.step, 2 * 8)
        XCTAssertEqual(progress.data?.seed, "11")
        XCTAssertEqual(progress.scheduleType, "ReduceLROnPlateau")
        XCTAssertEqual(progress.metrics.count, 2)

        // The weights load into a plain model as from a weights-only file.
        let model = makeModel()
        try model.load(checkpoint: url)
        XCTAssertEqual(try bits(model), try bits(run.model))
    }

    func testResumeRefusesAnotherRunsCheckpoint() throws {
        let run = makeRun("sgd", epochs: 1)
        let url = directory.appendingPathComponent("other.safetensors")
        try run.trainer.fit(run.model, optimizer: run.optimizer, loss: CrossEntropyLoss(), on: run.loader, checkpoint: url)

        let other = makeRun("sgd", epochs: 3)
        let reshuffled = DataLoader(other.loader.dataset, batchSize: 10, shuffle: true, seed: 12, device: .cpu)
        assertThrowsDescribing([url.path, "training data loader differs", "seed 11", "seed 12"]) {
            try other.trainer.fit(other.model, optimizer: other.optimizer, loss: CrossEntropyLoss(), on: reshuffled,
                                  checkpoint: url, resume: true)
        }
        let adam = makeRun("adam", epochs: 3)
        assertThrowsDescribing([url.path, "schedule StepLR", "ReduceLROnPlateau"]) {
            try adam.trainer.fit(adam.model, optimizer: adam.optimizer, loss: CrossEntropyLoss(), on: adam.loader,
                                 checkpoint: url, resume: true)
        }
        var wider = makeRun("sgd", epochs: 3)
        wider.trainer.schedule = .everyEpoch(StepLR(wider.optimizer, stepSize: 3, gamma: 0.5))
        let untouched = try bits(wider.model), randomBefore = Random.state
        assertThrowsDescribing(["StepLR", "step_size is 2.0, this schedule's 3.0"]) {
            try wider.trainer.fit(wider.model, optimizer: wider.optimizer, loss: CrossEntropyLoss(), on: wider.loader,
                                  checkpoint: url, resume: true)
        }
        // The weights, optimizer and random streams were loaded before the
        // schedule refused: all put back.
        XCTAssertEqual(try bits(wider.model), untouched)
        XCTAssertTrue(wider.optimizer.stateDict().tensors.isEmpty, "no momentum buffers left from the checkpoint")
        XCTAssertEqual(wider.optimizer.learningRate, 0.1)
        XCTAssert(Random.state == randomBefore)
        let weightsOnly = directory.appendingPathComponent("weights.safetensors")
        try run.model.save(checkpoint: weightsOnly)
        assertThrowsDescribing([weightsOnly.path, "is not a training checkpoint"]) {
            try other.trainer.fit(other.model, optimizer: other.optimizer, loss: CrossEntropyLoss(), on: other.loader,
                                  resumeFrom: weightsOnly)
        }
    }
}
