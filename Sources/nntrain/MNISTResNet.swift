import ArgumentParser
import Foundation
import NN

/// A small ResNet on MNIST: conv 3x3 16 - BatchNorm - ReLU, three stages of
/// one basic block each at 16, 32 and 64 channels (28 -> 14 -> 7), global
/// average pooling, Linear 64-10 (`ResNet`, torchvision's names); SGD with
/// momentum 0.9, lr 0.01 annealed by a cosine, batch 32, 5 epochs, on an
/// MNIST-layout directory (by default the repository's sample).
struct MNISTResNet: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mnist-resnet", abstract: "Train a small ResNet on MNIST (by default on the repository's sample).")

    @OptionGroup var options: CommonOptions
    @OptionGroup var training: MNISTOptions

    static let program = MNISTProgram(name: "mnist-resnet", description: "ResNet 16-32-64, one basic block per stage",
                                      defaultEpochs: 5, defaultBatchSize: 32, flatten: false) { device in
        ResNet(device: device)
    }

    func run() throws {
        try MNISTTraining.run(MNISTResNet.program, common: options, options: training)
    }
}
