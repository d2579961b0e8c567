import ArgumentParser
import Foundation
import NN

/// The course's MNIST multilayer perceptron: 784-512-256-10 with ReLU, SGD
/// with momentum 0.9, lr 0.01 annealed by a cosine, batch 64, 5 epochs, on
/// an MNIST-layout directory (by
/// default the repository's sample) or on synthetic digits drawn in code
/// (`--data synthetic`).
struct MNISTMLP: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mnist-mlp", abstract: "Train the 784-512-256-10 ReLU MLP on MNIST (by default on the repository's sample).")

    @OptionGroup var options: CommonOptions
    @OptionGroup var training: MNISTOptions

    /// 784-512-256-10 with ReLU; with `dropout` > 0, a Dropout after each
    /// hidden ReLU.
    static func makeModel(device: Device, dropout: Double = 0) -> Sequential {
        let hidden: [Module] = dropout > 0 ? [ReLU(), Dropout(p: dropout)] : [ReLU()]
        return Sequential([Linear(784, 512, device: device)] + hidden + [Linear(512, 256, device: device)] + hidden
                          + [Linear(256, 10, device: device)])
    }

    static let program = MNISTProgram(name: "mnist-mlp", description: "MLP 784-512-256-10", defaultEpochs: 5, defaultBatchSize: 64,
                                      flatten: true, makeModel: { MNISTMLP.makeModel(device: $0) },
                                      makeModelWithDropout: { MNISTMLP.makeModel(device: $0, dropout: $1) })

    func run() throws {
        try MNISTTraining.run(MNISTMLP.program, common: options, options: training)
    }
}
