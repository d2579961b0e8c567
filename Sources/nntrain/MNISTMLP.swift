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
    @OptionGroup var training: MNISTOptions

    func run() throws {
        try MNISTTraining.run("mnist-mlp 784-512-256-10", common: options, options: training, defaultEpochs: 5,
                              imageShape: [784]) { device in
            Sequential(Linear(784, 512, device: device), ReLU(), Linear(512, 256, device: device), ReLU(),
                       Linear(256, 10, device: device))
        }
    }
}
