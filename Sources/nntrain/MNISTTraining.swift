import ArgumentParser
import Foundation
import NN

/// The options the MNIST programs share: the data, SGD with momentum, and
/// where to write the results.
struct MNISTOptions: ParsableArguments {
    @Option(help: "Directory with t10k-images-idx3-ubyte(.gz) and t10k-labels-idx1-ubyte(.gz); default: synthetic digits.")
    var data: String?

    @Option(help: "Training epochs (default: 5 for mnist-mlp, 8 for mnist-lenet).")
    var epochs: Int?

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

    func validate() throws {
        try OptionChecks.directory(data, "--data")
        if let epochs { try OptionChecks.atLeastOne(epochs, "--epochs") }
        try OptionChecks.atLeastOne(batchSize, "--batch-size")
        try OptionChecks.positive(lr, "--lr")
        try OptionChecks.inUnitInterval(momentum, "--momentum")
        try OptionChecks.writableFile(save, "--save")
        try OptionChecks.writableFile(metricsCSV, "--metrics-csv")
        try OptionChecks.writableFile(svg, "--svg")
    }
}

/// One MNIST training run, shared by mnist-mlp and mnist-lenet: the
/// project's split (first 8,000 images train, last 2,000 test) or, without
/// --data, synthetic digits drawn in code; SGD with momentum and
/// cross-entropy; the test accuracy printed and written as JSON.
enum MNISTTraining {
    /// - imageShape: one sample's shape as the model takes it ([784] or
    ///   [1, 28, 28]).
    static func run(_ name: String, common: CommonOptions, options: MNISTOptions, defaultEpochs: Int, imageShape: [Int],
                    makeModel: (Device) -> Module) throws {
        let device = try common.selectDevice()
        Random.manualSeed(common.seed)
        let start = Date()
        let epochs = options.epochs ?? defaultEpochs

        let (train, test) = try loadData(options.data, imageShape: imageShape, seed: common.seed)
        let source = options.data.map { "MNIST from \($0)" } ?? "synthetic digits"
        print("\(source): \(train.count) train / \(test.count) test images on \(device)")

        let model = makeModel(device)
        let optimizer = SGD(model.parameters(), learningRate: options.lr, momentum: options.momentum)
        let loss = CrossEntropyLoss()
        let trainLoader = DataLoader(train, batchSize: options.batchSize, shuffle: true, seed: common.seed, device: device)
        let testLoader = DataLoader(test, batchSize: 500, device: device)

        var trainer = Trainer(epochs: epochs, validation: testLoader)
        trainer.metricsCSV = options.metricsCSV
        trainer.metricsSVG = options.svg
        try trainer.fit(model, optimizer: optimizer, loss: loss, on: trainLoader)

        let result = try evaluate(model, on: testLoader, loss: loss)
        let seconds = Date().timeIntervalSince(start)
        let accuracy = result.accuracy ?? .nan
        print("test accuracy \(String(format: "%.2f%%", accuracy * 100))  test loss \(String(format: "%.4f", result.loss))"
              + "  \(epochs) epochs  \(String(format: "%.1f", seconds)) s on \(device)")
        if let save = options.save {
            try model.save(checkpoint: URL(fileURLWithPath: save), metadata: ["model": name])
            print("saved \(save)")
        }
        try common.writeJSON(["test_accuracy": accuracy, "test_loss": result.loss, "epochs": epochs, "seconds": seconds,
                              "backend": device.name])
    }

    /// Train and test sets of `imageShape` samples, standardized with the
    /// training part's statistics.
    private static func loadData(_ data: String?, imageShape: [Int], seed: UInt64) throws -> (Dataset, Dataset) {
        if let data {
            let split = try MNIST.trainTestSplit(directory: URL(fileURLWithPath: data), flatten: imageShape.count == 1)
            return (split.train, split.test)
        }
        let generated = SyntheticDigits.make(count: 10_000, seed: seed)
        let all = Dataset(features: generated.pixels, featureShape: imageShape, labels: generated.labels)
        let (train, test) = all.split(at: 8000)
        let standardizer = Standardizer.fit(train, perFeature: false)
        return (standardizer.apply(train), standardizer.apply(test))
    }
}
