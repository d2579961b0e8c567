import ArgumentParser
import Foundation
import NN

/// The course's MNIST multilayer perceptron: 784-512-256-10 with ReLU, SGD
/// with momentum 0.9, lr 0.01, batch 64, on the project's MNIST split (first
/// 8,000 images train, last 2,000 test) or, without --data, on synthetic
/// digits generated in code.
struct MNISTMLP: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mnist-mlp", abstract: "Train the 784-512-256-10 ReLU MLP on MNIST (or synthetic digits).")

    @OptionGroup var options: CommonOptions

    @Option(help: "Directory with t10k-images-idx3-ubyte(.gz) and t10k-labels-idx1-ubyte(.gz); default: synthetic digits.")
    var data: String?

    @Option(help: "Training epochs.")
    var epochs: Int = 5

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

    func run() throws {
        let device = try options.selectDevice()
        Random.manualSeed(options.seed)
        let start = Date()

        let (train, test) = try loadData()
        let source = data.map { "MNIST from \($0)" } ?? "synthetic digits"
        print("\(source): \(train.count) train / \(test.count) test images on \(device)")

        let model = Sequential(Linear(784, 512, device: device), ReLU(), Linear(512, 256, device: device), ReLU(),
                               Linear(256, 10, device: device))
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
            try model.save(checkpoint: URL(fileURLWithPath: save), metadata: ["model": "mnist-mlp 784-512-256-10"])
            print("saved \(save)")
        }
        try options.writeJSON(["test_accuracy": accuracy, "test_loss": result.loss, "epochs": epochs, "seconds": seconds,
                               "backend": device.name])
    }

    private func loadData() throws -> (Dataset, Dataset) {
        if let data {
            let split = try MNIST.trainTestSplit(directory: URL(fileURLWithPath: data))
            return (split.train, split.test)
        }
        let generated = SyntheticDigits.make(count: 10_000, seed: options.seed)
        let all = Dataset(features: generated.pixels, featureShape: [784], labels: generated.labels)
        let (train, test) = all.split(at: 8000)
        let standardizer = Standardizer.fit(train, perFeature: false)
        return (standardizer.apply(train), standardizer.apply(test))
    }
}
