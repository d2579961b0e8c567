import ArgumentParser
import Foundation
import NN

/// LeNet-5 on MNIST, the course's convolutional network: conv 6@5x5 pad 2,
/// ReLU, max-pool 2; conv 16@5x5, ReLU, max-pool 2; Linear 400-120-84-10
/// with ReLU; SGD with momentum 0.9, lr 0.01, batch 64, on the project's
/// MNIST split (first 8,000 images train, last 2,000 test) or, without
/// --data, on synthetic digits generated in code. The images reach the
/// model as [N, 1, 28, 28] (the data sets' sample shape is [1, 28, 28]).
struct MNISTLeNet: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mnist-lenet", abstract: "Train LeNet-5 on MNIST (or synthetic digits).")

    @OptionGroup var options: CommonOptions

    @Option(help: "Directory with t10k-images-idx3-ubyte(.gz) and t10k-labels-idx1-ubyte(.gz); default: synthetic digits.")
    var data: String?

    @Option(help: "Training epochs.")
    var epochs: Int = 8

    @Option(name: .customLong("batch-size"), help: "Mini-batch size.")
    var batchSize: Int = 64

    @Option(help: "Learning rate.")
    var lr: Double = 0.01

    @Option(help: "SGD momentum.")
    var momentum: Double = 0.9

    @Option(help: "Save the trained weights (safetensors, PyTorch state-dict names).")
    var save: String?

    @Option(name: .customLong("metrics-csv"), help: "Write per-epoch metrics as CSV.")
    var metricsCSV: String?

    @Option(help: "Write the loss/accuracy curves as SVG.")
    var svg: String?

    /// LeNet-5 as a Sequential, so its state dict reads `0.weight` [6, 1, 5, 5],
    /// `0.bias`, `3.weight` [16, 6, 5, 5], `3.bias`, `7.weight` [120, 400], ...
    /// exactly as the same `nn.Sequential` in PyTorch.
    static func makeModel(device: Device) -> Sequential {
        Sequential(
            Conv2d(1, 6, kernelSize: 5, padding: 2, device: device), ReLU(), MaxPool2d(2),
            Conv2d(6, 16, kernelSize: 5, device: device), ReLU(), MaxPool2d(2),
            Flatten(),
            Linear(16 * 5 * 5, 120, device: device), ReLU(),
            Linear(120, 84, device: device), ReLU(),
            Linear(84, 10, device: device))
    }

    func run() throws {
        let device = try options.selectDevice()
        Random.manualSeed(options.seed)
        let start = Date()

        let (train, test) = try loadData()
        let source = data.map { "MNIST from \($0)" } ?? "synthetic digits"
        print("\(source): \(train.count) train / \(test.count) test images on \(device)")

        let model = MNISTLeNet.makeModel(device: device)
        let optimizer = SGD(model.parameters(), learningRate: lr, momentum: momentum)
        let loss = CrossEntropyLoss()
        let trainLoader = DataLoader(train, batchSize: batchSize, shuffle: true, seed: options.seed, device: device)
        let testLoader = DataLoader(test, batchSize: 500, device: device)

        var trainer = Trainer(epochs: epochs, validation: testLoader)
        trainer.metricsCSV = metricsCSV
        trainer.metricsSVG = svg
        try trainer.fit(model, optimizer: optimizer, loss: loss, on: trainLoader)

        let result = try evaluate(model, on: testLoader, loss: loss)
        let seconds = Date().timeIntervalSince(start)
        let accuracy = result.accuracy ?? .nan
        print("test accuracy \(String(format: "%.2f%%", accuracy * 100))  test loss \(String(format: "%.4f", result.loss))"
              + "  \(epochs) epochs  \(String(format: "%.1f", seconds)) s on \(device)")
        if let save {
            try model.save(checkpoint: URL(fileURLWithPath: save), metadata: ["model": "mnist-lenet LeNet-5"])
            print("saved \(save)")
        }
        try options.writeJSON(["test_accuracy": accuracy, "test_loss": result.loss, "epochs": epochs, "seconds": seconds,
                               "backend": device.name])
    }

    /// Train and test sets of [1, 28, 28] images.
    private func loadData() throws -> (Dataset, Dataset) {
        if let data {
            let split = try MNIST.trainTestSplit(directory: URL(fileURLWithPath: data), flatten: false)
            return (split.train, split.test)
        }
        let generated = SyntheticDigits.make(count: 10_000, seed: options.seed)
        let all = Dataset(features: generated.pixels, featureShape: [1, 28, 28], labels: generated.labels)
        let (train, test) = all.split(at: 8000)
        let standardizer = Standardizer.fit(train, perFeature: false)
        return (standardizer.apply(train), standardizer.apply(test))
    }
}
