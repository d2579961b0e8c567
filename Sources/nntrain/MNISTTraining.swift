import ArgumentParser
import Foundation
import NN

/// The options the MNIST programs share: the data, SGD with momentum, and
/// where to write the results and the checkpoints.
struct MNISTOptions: ParsableArguments {
    @Option(help: ArgumentHelp("MNIST-layout directory: train-* files train and t10k-* test when both exist, otherwise the "
                               + "t10k images split 8,000/2,000; 'synthetic' for digits drawn in code.",
                               valueName: "dir"))
    var data: String = MNISTData.samplePath

    @Option(help: "Training epochs (default: 5 for mnist-mlp and mnist-resnet, 10 for mnist-lenet).")
    var epochs: Int?

    @Option(name: .customLong("batch-size"), help: "Mini-batch size (default: 64 for mnist-mlp, 32 for mnist-lenet and mnist-resnet).")
    var batchSize: Int?

    @Option(help: "Learning rate.")
    var lr: Double = 0.01

    @Option(help: "SGD momentum.")
    var momentum: Double = 0.9

    @Option(name: .customLong("lr-schedule"),
            help: "Learning-rate schedule over the epochs: cosine (annealed to 0 at the last epoch) or none.")
    var lrSchedule: LRScheduleOption = .cosine

    @Option(help: "Save the trained weights (safetensors, PyTorch state-dict names, with the input normalization in the metadata).")
    var save: String?

    @Option(help: "Write a training checkpoint (weights, optimizer state, epoch, data order) here after every epoch.")
    var checkpoint: String?

    @Option(help: ArgumentHelp("Resume from this training checkpoint and run to --epochs (keeps writing --checkpoint, or this "
                               + "file without it). Give the options of the first run: the learning rate and momentum come "
                               + "from the checkpoint, and with the cosine schedule --epochs must be the same."))
    var resume: String?

    @Option(help: ArgumentHelp("Write training diagnostics here every epoch: update/weight ratios, activation and gradient "
                               + "histograms (CSV, SVG), dead or saturated units, first-layer filters (PNG).", valueName: "dir"))
    var diagnostics: String?

    @Option(help: "Train this many models (seeds --seed, --seed + 1, ...) and report each one's and their ensemble's test accuracy.")
    var ensemble: Int = 1

    @Option(name: .customLong("metrics-csv"), help: "Write per-epoch metrics as CSV.")
    var metricsCSV: String?

    @Option(help: "Write the loss/accuracy curves as SVG.")
    var svg: String?

    @OptionGroup var parallel: DistributedOptions

    func validate() throws {
        if data != MNISTData.synthetic { try OptionChecks.directory(data, "--data") }
        if let epochs { try OptionChecks.atLeastOne(epochs, "--epochs") }
        if let batchSize { try OptionChecks.atLeastOne(batchSize, "--batch-size") }
        try OptionChecks.positive(lr, "--lr")
        try OptionChecks.inUnitInterval(momentum, "--momentum")
        try OptionChecks.writableFile(save, "--save")
        try OptionChecks.checkpointFiles(checkpoint: checkpoint, resume: resume)
        try OptionChecks.atLeastOne(ensemble, "--ensemble")
        if let diagnostics { try OptionChecks.creatableDirectory(diagnostics, "--diagnostics") }
        if ensemble > 1, let option = [("--save", save), ("--checkpoint", checkpoint), ("--resume", resume),
                                       ("--diagnostics", diagnostics), ("--metrics-csv", metricsCSV),
                                       ("--svg", svg)].first(where: { $0.1 != nil }) {
            throw ValidationError("\(option.0) does not go with --ensemble \(ensemble): it is for a run of one model")
        }
        try OptionChecks.writableFile(metricsCSV, "--metrics-csv")
        try OptionChecks.writableFile(svg, "--svg")
        if ensemble > 1 && parallel.distributed {
            throw ValidationError("--ensemble \(ensemble) does not go with --distributed: each member is trained in one process")
        }
    }
}

enum LRScheduleOption: String, ExpressibleByArgument, CaseIterable {
    case cosine, none

    /// The schedule for `optimizer` over `epochs`.
    func schedule(_ optimizer: any Optimizer, epochs: Int) -> Trainer.Schedule? {
        self == .cosine ? .everyEpoch(CosineAnnealingLR(optimizer, tMax: epochs)) : nil
    }
}

/// One MNIST training run, shared by mnist-mlp, mnist-lenet and
/// mnist-resnet: the data (`MNISTData`), SGD with momentum and
/// cross-entropy; the test accuracy printed and written as JSON; resumable
/// checkpoints, diagnostics, or an ensemble of seeds.
enum MNISTTraining {
    static func run(_ program: MNISTProgram, common: CommonOptions, options: MNISTOptions) throws {
        if options.ensemble > 1 { return try runEnsemble(program, common: common, options: options) }
        try TrainingRank.run(options.parallel) { rank in try train(program, common: common, options: options, rank: rank) }
    }

    /// One run, in this process alone or as one rank of a distributed job.
    private static func train(_ program: MNISTProgram, common: CommonOptions, options: MNISTOptions, rank: TrainingRank) throws {
        let device = try common.selectDevice()
        Random.manualSeed(common.seed)
        let start = Date()
        let epochs = options.epochs ?? program.defaultEpochs
        let batchSize = options.batchSize ?? program.defaultBatchSize

        let data = try MNISTData.load(options.data, flatten: program.flatten, seed: common.seed)
        rank.say("\(data.source): \(data.train.count) train / \(data.test.count) test images on \(device)"
                 + (rank.size > 1 ? " (each of \(rank.size) ranks: batch \(batchSize), its shard of every epoch)" : ""))

        let model = program.makeModel(device)
        let parallel = try rank.dataParallel(model)
        let optimizer = SGD(model.parameters(), learningRate: options.lr, momentum: options.momentum)
        let loss = CrossEntropyLoss()
        let trainLoader = DataLoader(data.train, batchSize: batchSize, shuffle: true, seed: common.seed,
                                     shard: rank.shard(padded: true), device: device)
        let testLoader = DataLoader(data.test, batchSize: 500, shard: rank.shard(padded: false), device: device)

        var trainer = Trainer(epochs: epochs, validation: testLoader, schedule: options.lrSchedule.schedule(optimizer, epochs: epochs))
        trainer.dataParallel = parallel
        trainer.metricsCSV = options.metricsCSV
        trainer.metricsSVG = options.svg
        let metadata = program.metadata(normalization: data.standardizer)
        trainer.checkpointMetadata = metadata
        if let directory = options.diagnostics, rank.isPrimary {
            // The probe: the first 256 training images, the same every epoch.
            let probe = data.train.batch(Array(0..<min(256, data.train.count)), on: device).inputs
            trainer.monitor = try TrainingDiagnostics(directory: URL(fileURLWithPath: directory), probe: probe)
        }
        let checkpoint = (options.checkpoint ?? options.resume).map { URL(fileURLWithPath: $0) }
        let log = try trainer.fit(model, optimizer: optimizer, loss: loss, on: trainLoader, checkpoint: checkpoint,
                                  resumeFrom: options.resume.map { URL(fileURLWithPath: $0) })

        let result = try evaluate(model, on: testLoader, loss: loss, across: parallel)
        let seconds = Date().timeIntervalSince(start)
        // Every rank's samples, padding included, over the epochs' time.
        let samples = Double(log.epochs.count * trainLoader.sampleCount * rank.size)
        let perSecond = rank.jsonFields(samples: samples, seconds: log.epochs.map(\.seconds).reduce(0, +))
        let accuracy = result.accuracy ?? .nan
        rank.say("test accuracy \(String(format: "%.2f%%", accuracy * 100))  test loss \(String(format: "%.4f", result.loss))"
                 + "  \(epochs) epochs  \(String(format: "%.1f", seconds)) s on \(device)"
                 + (rank.size > 1 ? " x \(rank.size) ranks, \(String(format: "%.0f", perSecond["samples_per_second"] as! Double)) samples/s" : ""))
        guard rank.isPrimary else { return }
        if let save = options.save {
            try model.save(checkpoint: URL(fileURLWithPath: save), metadata: metadata)
            print("saved \(save)")
        }
        if let checkpoint { print("training checkpoint \(checkpoint.path)") }
        if let svg = options.svg { print("loss and accuracy curves \(svg)") }
        if let diagnostics = options.diagnostics {
            print("diagnostics in \(diagnostics): update_ratios.csv, histograms.csv, units.csv, histograms-epoch-*.svg, filters-epoch-*.png")
        }
        try common.writeJSON(["test_accuracy": accuracy, "test_loss": result.loss, "epochs": epochs, "seconds": seconds,
                              "backend": device.name].merging(perSecond) { $1 })
    }
}

extension MNISTTraining {
    /// --ensemble K: K models trained alike from seeds seed, seed + 1, ...
    /// (initialization and shuffling), each one's test accuracy, and the
    /// accuracy of their averaged probabilities (`Ensemble`).
    static func runEnsemble(_ program: MNISTProgram, common: CommonOptions, options: MNISTOptions) throws {
        let device = try common.selectDevice()
        let start = Date()
        let epochs = options.epochs ?? program.defaultEpochs
        let data = try MNISTData.load(options.data, flatten: program.flatten, seed: common.seed)
        print("\(data.source): \(data.train.count) train / \(data.test.count) test images on \(device); "
              + "an ensemble of \(options.ensemble) \(program.name) models")
        let loss = CrossEntropyLoss()
        let testLoader = DataLoader(data.test, batchSize: 500, device: device)
        var members: [Module] = [], accuracies: [Double] = []
        for k in 0..<options.ensemble {
            let seed = common.seed + UInt64(k)
            Random.manualSeed(seed)
            let model = program.makeModel(device)
            let optimizer = SGD(model.parameters(), learningRate: options.lr, momentum: options.momentum)
            var trainer = Trainer(epochs: epochs, schedule: options.lrSchedule.schedule(optimizer, epochs: epochs))
            trainer.showProgress = false
            let loader = DataLoader(data.train, batchSize: options.batchSize ?? program.defaultBatchSize, shuffle: true, seed: seed,
                                    device: device)
            try trainer.fit(model, optimizer: optimizer, loss: loss, on: loader)
            let accuracy = try evaluate(model, on: testLoader, loss: loss).accuracy ?? .nan
            print("member \(k + 1) (seed \(seed)): test accuracy \(String(format: "%.2f%%", accuracy * 100))")
            members.append(model)
            accuracies.append(accuracy)
        }
        let ensemble = try evaluate(Ensemble(members), on: testLoader, loss: loss)
        let accuracy = ensemble.accuracy ?? .nan, mean = accuracies.reduce(0, +) / Double(accuracies.count)
        print("ensemble of \(members.count): test accuracy \(String(format: "%.2f%%", accuracy * 100)) (members: mean "
              + "\(String(format: "%.2f%%", mean * 100)), best \(String(format: "%.2f%%", (accuracies.max() ?? .nan) * 100)))  "
              + "test loss \(String(format: "%.4f", ensemble.loss))  \(String(format: "%.1f", Date().timeIntervalSince(start))) s on \(device)")
        try common.writeJSON(["test_accuracy": accuracy, "test_loss": ensemble.loss, "member_accuracies": accuracies,
                              "member_mean_accuracy": mean, "epochs": epochs, "backend": device.name])
    }
}

/// The MNIST models, as `nntrain predict` finds them again from a
/// checkpoint's metadata.
struct MNISTProgram: Sendable {
    /// The subcommand, recorded as the checkpoint's "nntrain.model".
    let name: String
    let description: String
    let defaultEpochs: Int
    let defaultBatchSize: Int
    /// [N, 784] inputs rather than [N, 1, 28, 28].
    let flatten: Bool
    let makeModel: @Sendable (Device) -> Module
    /// The same model with dropout of probability p before each hidden
    /// fully connected layer's successor (for `nntrain search --dropout`);
    /// nil where the model has no such place.
    var makeModelWithDropout: (@Sendable (Device, Double) -> Module)? = nil

    static let all = [MNISTMLP.program, MNISTLeNet.program, MNISTResNet.program]

    /// What a later user of the weights needs: the model, the input layout
    /// and the normalization of the training data.
    func metadata(normalization: Standardizer) -> [String: String] {
        ["nntrain.model": name, "model": description,
         "input.layout": flatten ? "[N, 784] float32" : "[N, 1, 28, 28] float32",
         "input.normalization": "pixels / 255, then (x - mean) / std",
         "normalization.mean": "\(normalization.mean[0])", "normalization.std": "\(normalization.std[0])"]
    }

    /// The program and normalization recorded in a checkpoint's metadata.
    static func from(metadata: [String: String], file: String) throws -> (MNISTProgram, Standardizer) {
        guard let name = metadata["nntrain.model"], let program = all.first(where: { $0.name == name }) else {
            throw ValidationError("--checkpoint \(file): not written by nntrain mnist-mlp, mnist-lenet or mnist-resnet "
                                  + "(metadata 'nntrain.model' is \(metadata["nntrain.model"] ?? "absent"))")
        }
        guard let mean = metadata["normalization.mean"].flatMap(Float.init), let std = metadata["normalization.std"].flatMap(Float.init),
              std > 0 && std.isFinite && mean.isFinite else {
            throw ValidationError("--checkpoint \(file): no valid normalization.mean and normalization.std in its metadata")
        }
        return (program, Standardizer(mean: [mean], std: [std]))
    }
}

/// Where the MNIST programs' images come from.
enum MNISTData {
    static let synthetic = "synthetic"

    /// The sample kept in the repository (Data/mnist-sample), found from
    /// this source file's place in the checkout.
    static var samplePath: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Data/mnist-sample").path
    }

    /// Train and test sets, normalized with the training set's statistics.
    static func load(_ data: String, flatten: Bool, seed: UInt64)
        throws -> (train: Dataset, test: Dataset, standardizer: Standardizer, source: String) {
        let shape = flatten ? [784] : [1, 28, 28]
        if data == synthetic {
            let generated = SyntheticDigits.make(count: 10_000, seed: seed)
            let all = Dataset(features: generated.pixels, featureShape: shape, labels: generated.labels)
            let (train, test) = all.split(at: 8000)
            let standardizer = Standardizer.fit(train, perFeature: false)
            return (standardizer.apply(train), standardizer.apply(test), standardizer, "synthetic digits")
        }
        let directory = URL(fileURLWithPath: data)
        let split = try MNIST.trainTestSplit(directory: directory, flatten: flatten)
        let layout = MNIST.hasSet("train", in: directory) ? "train-* / t10k-*" : "t10k split 8,000 / 2,000"
        return (split.train, split.test, split.standardizer, "MNIST from \(data) (\(layout))")
    }
}
