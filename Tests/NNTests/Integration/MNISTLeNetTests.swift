import Foundation
import XCTest
@testable import NN

/// LeNet-5 as `nntrain mnist-lenet` builds it, trained through `Trainer` on
/// a slice of the shared MNIST file: Conv2d, MaxPool2d, Flatten and the
/// [N, 1, 28, 28] data path have to work together for it to learn.
final class MNISTLeNetTests: XCTestCase {
    static func leNet(device: Device) -> Sequential {
        Sequential(
            Conv2d(1, 6, kernelSize: 5, padding: 2, device: device), ReLU(), MaxPool2d(2),
            Conv2d(6, 16, kernelSize: 5, device: device), ReLU(), MaxPool2d(2),
            Flatten(),
            Linear(400, 120, device: device), ReLU(),
            Linear(120, 84, device: device), ReLU(),
            Linear(84, 10, device: device))
    }

    /// The names and shapes of PyTorch's `nn.Sequential` of the same layers.
    func testStateDictMatchesPyTorch() {
        let model = Self.leNet(device: .cpu)
        let expected: [(String, [Int])] = [
            ("0.weight", [6, 1, 5, 5]), ("0.bias", [6]), ("3.weight", [16, 6, 5, 5]), ("3.bias", [16]),
            ("7.weight", [120, 400]), ("7.bias", [120]), ("9.weight", [84, 120]), ("9.bias", [84]),
            ("11.weight", [10, 84]), ("11.bias", [10]),
        ]
        XCTAssertEqual(model.stateDict().map(\.name), expected.map(\.0))
        XCTAssertEqual(model.stateDict().map(\.tensor.shape), expected.map(\.1))
        XCTAssertEqual(model.parameterCount, 61_706, "LeNet-5's parameter count in PyTorch")
        XCTAssertEqual(model(Tensor.zeros([2, 1, 28, 28], on: .cpu)).shape, [2, 10])
    }

    func testLeNetLearnsOnASliceOfMNIST() throws {
        let directory = try DataTestFiles.requireMNIST()
        let split = try MNIST.trainTestSplit(directory: directory, flatten: false)
        XCTAssertEqual(split.train.featureShape, [1, 28, 28])
        let train = split.train.subset(0..<4000), test = split.test.subset(0..<1000)
        Random.manualSeed(0)
        let model = Self.leNet(device: .cpu)
        let optimizer = SGD(model.parameters(), learningRate: 0.01, momentum: 0.9)
        var trainer = Trainer(epochs: 3, validation: DataLoader(test, batchSize: 250, device: .cpu))
        trainer.showProgress = false
        let before = try evaluate(model, on: DataLoader(test, batchSize: 250, device: .cpu), loss: CrossEntropyLoss())
        let log = try trainer.fit(model, optimizer: optimizer, loss: CrossEntropyLoss(),
                                  on: DataLoader(train, batchSize: 64, shuffle: true, seed: 1, device: .cpu))
        XCTAssertEqual(log.epochs.count, 3)
        let after = try XCTUnwrap(log.epochs.last)
        XCTAssertGreaterThan(before.loss, 2.2, "an untrained 10-way classifier starts near ln 10 = 2.30")
        XCTAssertLessThan(after.trainLoss, 0.5 * log.epochs[0].trainLoss, "the training loss falls clearly")
        XCTAssertLessThan(try XCTUnwrap(after.validationLoss), 0.5 * before.loss, "so does the test loss")
        XCTAssertGreaterThan(try XCTUnwrap(after.validationAccuracy), 0.9, "chance is 0.10; about 0.96 here")
    }
}
