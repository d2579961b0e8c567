import Foundation
import XCTest
@testable import NN

/// The MNIST MLP of `nntrain mnist-mlp`, trained through `Trainer` on a slice
/// of the shared MNIST file: the whole stack (IDX + gzip, standardization,
/// loader, Sequential/Linear/ReLU, cross-entropy, SGD momentum, evaluation)
/// has to work for the accuracy to get there.
final class MNISTMLPTests: XCTestCase {
    func testMLPLearnsOnASliceOfMNIST() throws {
        let directory = try DataTestFiles.requireMNIST()
        let split = try MNIST.trainTestSplit(directory: directory)
        let train = split.train.subset(0..<3000), test = split.test.subset(0..<1000)
        Random.manualSeed(0)
        let model = Sequential(Linear(784, 128, device: .cpu), ReLU(), Linear(128, 10, device: .cpu))
        let optimizer = SGD(model.parameters(), learningRate: 0.01, momentum: 0.9)
        var trainer = Trainer(epochs: 2, validation: DataLoader(test, batchSize: 250, device: .cpu))
        trainer.showProgress = false
        let log = try trainer.fit(model, optimizer: optimizer, loss: CrossEntropyLoss(),
                                  on: DataLoader(train, batchSize: 64, shuffle: true, seed: 1, device: .cpu))
        XCTAssertEqual(log.epochs.count, 2)
        XCTAssertLessThan(log.epochs[1].trainLoss, log.epochs[0].trainLoss, "the training loss falls")
        let result = try evaluate(model, on: DataLoader(test, batchSize: 250, device: .cpu), loss: CrossEntropyLoss())
        XCTAssertEqual(result.count, 1000)
        XCTAssertGreaterThan(result.accuracy ?? 0, 0.88, "3,000 images and 2 epochs reach about 90% here")
        XCTAssertEqual(result.accuracy, log.epochs[1].validationAccuracy, "the trainer's validation is the same evaluation")
    }

    func testNonFiniteLossStopsWithTheStep() throws {
        // Inputs of 1e20 and lr 1e20: the first step's loss is finite, its
        // update pushes the weights past float32's range.
        let data = Dataset(features: [1e20, -1e20, 1e20, -1e20], featureShape: [1], labels: [0, 0, 1, 1])  // not separable
        let model = Sequential(Linear(1, 2, device: .cpu))
        let optimizer = SGD(model.parameters(), learningRate: 1e20)
        var trainer = Trainer(epochs: 3)
        trainer.showProgress = false
        XCTAssertThrowsError(try trainer.fit(model, optimizer: optimizer, loss: CrossEntropyLoss(),
                                             on: DataLoader(data, batchSize: 1, device: .cpu))) { error in
            guard let e = error as? NonFiniteLossError else { return XCTFail("unexpected \(error)") }
            XCTAssertEqual(e.epoch, 1)
            XCTAssertGreaterThan(e.step, 1, "the first step's loss is finite; a later one is not")
            XCTAssert("\(e)".contains("step \(e.step)"))
        }
    }
}
