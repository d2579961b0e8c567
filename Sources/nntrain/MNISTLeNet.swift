import ArgumentParser
import Foundation
import NN

/// LeNet-5 on MNIST, the course's convolutional network: conv 6@5x5 pad 2,
/// ReLU, max-pool 2; conv 16@5x5, ReLU, max-pool 2; Linear 400-120-84-10
/// with ReLU; SGD with momentum 0.9, lr 0.01 annealed by a cosine over 10
/// epochs, batch 32, on an MNIST-layout
/// directory (by default the repository's 2,500/500 sample: the main job)
/// or on synthetic digits drawn in code (`--data synthetic`). The images
/// reach the model as [N, 1, 28, 28] (the data sets' sample shape is
/// [1, 28, 28]).
struct MNISTLeNet: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mnist-lenet", abstract: "Train LeNet-5 on MNIST (the main job; by default on the repository's sample).")

    @OptionGroup var options: CommonOptions
    @OptionGroup var training: MNISTOptions

    /// LeNet-5 as a Sequential, so its state dict reads `0.weight` [6, 1, 5, 5],
    /// `0.bias`, `3.weight` [16, 6, 5, 5], `3.bias`, `7.weight` [120, 400], ...
    /// exactly as the same `nn.Sequential` in PyTorch. With `dropout` > 0,
    /// a Dropout follows each hidden fully connected layer's ReLU (and the
    /// indices after it shift).
    static func makeModel(device: Device, dropout: Double = 0) -> Sequential {
        let hidden: [Module] = dropout > 0 ? [ReLU(), Dropout(p: dropout)] : [ReLU()]
        return Sequential([
            Conv2d(1, 6, kernelSize: 5, padding: 2, device: device), ReLU(), MaxPool2d(2),
            Conv2d(6, 16, kernelSize: 5, device: device), ReLU(), MaxPool2d(2),
            Flatten(), Linear(16 * 5 * 5, 120, device: device)] + hidden
            + [Linear(120, 84, device: device)] + hidden + [Linear(84, 10, device: device)])
    }

    static let program = MNISTProgram(name: "mnist-lenet", description: "LeNet-5", defaultEpochs: 10, defaultBatchSize: 32, flatten: false,
                                      makeModel: { MNISTLeNet.makeModel(device: $0) },
                                      makeModelWithDropout: { MNISTLeNet.makeModel(device: $0, dropout: $1) })

    func run() throws {
        try MNISTTraining.run(MNISTLeNet.program, common: options, options: training)
    }
}
