import ArgumentParser
import Foundation
import NN

/// `nntrain search mnist-mlp|mnist-lenet`: random search of the learning
/// rate, weight decay, dropout and momentum (`RandomSearch`), coarse to fine
/// with `--rounds`, each trial trained on 90% of the training set and scored
/// on the held-out 10% (the test set is never looked at). Writes the trials
/// best first as CSV and JSON, and an SVG of validation accuracy against
/// each hyperparameter.
struct Search: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Random search of hyperparameters for mnist-mlp or mnist-lenet, coarse to fine.")

    enum Model: String, ExpressibleByArgument, CaseIterable {
        case mnistMLP = "mnist-mlp", mnistLeNet = "mnist-lenet"
        var program: MNISTProgram { self == .mnistMLP ? MNISTMLP.program : MNISTLeNet.program }
    }

    @Argument(help: "The model to tune: mnist-mlp or mnist-lenet.")
    var model: Model

    @OptionGroup var options: CommonOptions

    @Option(help: ArgumentHelp("MNIST-layout directory (as for mnist-mlp); 'synthetic' for drawn digits.", valueName: "dir"))
    var data: String = MNISTData.samplePath

    @Option(help: "Trials per round.")
    var trials: Int = 10

    @Option(help: "Rounds: each after the first samples inside the span of the best quarter of the trials so far.")
    var rounds: Int = 1

    @Option(help: "Training epochs per trial.")
    var epochs: Int = 2

    @Option(name: .customLong("batch-size"), help: "Mini-batch size (default: the model's).")
    var batchSize: Int?

    @Option(help: "Learning-rate range, LOW...HIGH[:log].")
    var lr: String = "1e-4...1e-1:log"

    @Option(name: .customLong("weight-decay"), help: "Weight-decay range (searched only when given), e.g. 1e-6...1e-2:log.")
    var weightDecay: String?

    @Option(help: "Dropout range (searched only when given), e.g. 0...0.5.")
    var dropout: String?

    @Option(help: "Momentum range (searched only when given; 0.9 otherwise), e.g. 0.5...0.99.")
    var momentum: String?

    @Option(help: "Directory for search.csv, search.json and search.svg (created if missing).")
    var out: String = "out/search"

    func ranges() throws -> [SearchRange] {
        let given: [(String, String, String?)] = [("lr", "--lr", lr), ("weight_decay", "--weight-decay", weightDecay),
                                                   ("dropout", "--dropout", dropout), ("momentum", "--momentum", momentum)]
        return try given.compactMap { name, option, text in
            guard let text else { return nil }
            do {
                return try SearchRange(name, parsing: text)
            } catch {
                throw ValidationError("\(option) \(error)")
            }
        }
    }

    func validate() throws {
        for (value, option) in [(trials, "--trials"), (rounds, "--rounds"), (epochs, "--epochs")] {
            try OptionChecks.atLeastOne(value, option)
        }
        if let batchSize { try OptionChecks.atLeastOne(batchSize, "--batch-size") }
        if data != MNISTData.synthetic { try OptionChecks.directory(data, "--data") }
        for range in try ranges() {
            switch range.name {
            case "lr" where range.low <= 0: throw ValidationError("--lr \(lr): learning rates must be positive")
            case "dropout" where range.low < 0 || range.high >= 1: throw ValidationError("--dropout \(dropout!): must lie in [0, 1)")
            case "momentum" where range.low < 0 || range.high >= 1: throw ValidationError("--momentum \(momentum!): must lie in [0, 1)")
            case "weight_decay" where range.low < 0: throw ValidationError("--weight-decay \(weightDecay!): must be zero or more")
            default: break
            }
        }
        try OptionChecks.creatableDirectory(out, "--out")
    }

    func run() throws {
        let device = try options.selectDevice()
        let program = model.program
        let loaded = try MNISTData.load(data, flatten: program.flatten, seed: options.seed)
        let (train, validation) = loaded.train.split(validationFraction: 0.1, seed: options.seed)
        let ranges = try ranges()
        print("\(loaded.source): searching \(ranges.map(\.description).joined(separator: ", ")) for \(program.name) on "
              + "\(train.count) train / \(validation.count) validation images, \(trials) trials x \(rounds) round(s), "
              + "\(epochs) epoch(s) each, on \(device)")
        let batch = batchSize ?? program.defaultBatchSize
        let validationLoader = DataLoader(validation, batchSize: 500, device: device)
        let search = RandomSearch(ranges: ranges, trials: trials, rounds: rounds, seed: options.seed)
        let start = Date()
        var count = 0
        let results = try search.run { values in
            count += 1
            Random.manualSeed(options.seed)
            let p = values["dropout"] ?? 0
            let net = p > 0 ? program.makeModelWithDropout!(device, p) : program.makeModel(device)
            let optimizer = SGD(net.parameters(), learningRate: values["lr"]!, momentum: values["momentum"] ?? 0.9,
                                weightDecay: values["weight_decay"] ?? 0)
            var trainer = Trainer(epochs: epochs, schedule: .everyEpoch(CosineAnnealingLR(optimizer, tMax: epochs)))
            trainer.showProgress = false
            let score: SearchTrial.Score
            do {
                try trainer.fit(net, optimizer: optimizer, loss: CrossEntropyLoss(),
                                on: DataLoader(train, batchSize: batch, shuffle: true, seed: options.seed, device: device))
                let result = try evaluate(net, on: validationLoader, loss: CrossEntropyLoss())
                score = SearchTrial.Score(validationAccuracy: result.accuracy ?? .nan, validationLoss: result.loss)
            } catch let error as NonFiniteLossError {
                print("  (diverged: \(error))")
                score = SearchTrial.Score(validationAccuracy: .nan, validationLoss: .nan)
            }
            let shown = ranges.map { "\($0.name) \(String(format: "%.3g", values[$0.name]!))" }.joined(separator: "  ")
            print("trial \(count)/\(trials * rounds): \(shown)  val acc \(String(format: "%.2f%%", score.validationAccuracy * 100))  "
                  + "val loss \(String(format: "%.4f", score.validationLoss))")
            return score
        }

        let directory = URL(fileURLWithPath: out)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let names = ranges.map(\.name)
        try Data(RandomSearch.csv(results, names: names).utf8).write(to: directory.appendingPathComponent("search.csv"), options: .atomic)
        try RandomSearch.json(results).write(to: directory.appendingPathComponent("search.json"), options: .atomic)
        try Data(RandomSearch.svg(results, ranges: ranges).utf8).write(to: directory.appendingPathComponent("search.svg"), options: .atomic)
        print("best \(min(5, results.count)) of \(results.count) (\(String(format: "%.1f", Date().timeIntervalSince(start))) s):")
        for (rank, t) in results.prefix(5).enumerated() {
            let shown = names.map { "\($0) \(String(format: "%.3g", t.values[$0]!))" }.joined(separator: "  ")
            print("  \(rank + 1). \(shown)  val acc \(String(format: "%.2f%%", t.score.validationAccuracy * 100)) (round \(t.round))")
        }
        print("wrote \(out)/search.csv, search.json, search.svg")
        if let best = results.first {
            try options.writeJSON(["best": best.values, "best_val_accuracy": best.score.validationAccuracy, "trials": results.count,
                                   "backend": device.name])
        }
    }
}
