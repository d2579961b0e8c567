import ArgumentParser
import Foundation
import NN

/// `nntrain predict`: evaluates a checkpoint written by mnist-mlp, mnist-lenet or
/// mnist-resnet (`--save`, or a training `--checkpoint`) on the test set of
/// an MNIST-layout directory, normalized as the checkpoint's metadata says
/// the training data was, and prints the accuracy.
struct Predict: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Evaluate a saved mnist-mlp, mnist-lenet or mnist-resnet checkpoint on the test images of a data directory.")

    @OptionGroup var options: CommonOptions

    @Option(help: "A --save or --checkpoint file of mnist-mlp, mnist-lenet or mnist-resnet.")
    var checkpoint: String

    @Option(help: ArgumentHelp("MNIST-layout directory whose test images (t10k-*, or the last 2,000 of them when there are no "
                               + "train-* files) are evaluated.", valueName: "dir"))
    var data: String = MNISTData.samplePath

    func validate() throws {
        try OptionChecks.readableFile(checkpoint, "--checkpoint")
        try OptionChecks.directory(data, "--data")
    }

    func run() throws {
        let device = try options.selectDevice()
        let url = URL(fileURLWithPath: checkpoint)
        let contents = try Checkpoint.read(from: url, on: .cpu)
        let (program, standardizer) = try MNISTProgram.from(metadata: contents.metadata, file: checkpoint)
        let model = program.makeModel(device)
        try model.load(contents, file: checkpoint)
        let test = try MNIST.unnormalizedSplit(directory: URL(fileURLWithPath: data), flatten: program.flatten).test
        let result = try evaluate(model, on: DataLoader(standardizer.apply(test), batchSize: 500, device: device),
                                  loss: CrossEntropyLoss())
        let accuracy = result.accuracy ?? .nan
        print("\(checkpoint) (\(program.name)): test accuracy \(String(format: "%.2f%%", accuracy * 100))  "
              + "test loss \(String(format: "%.4f", result.loss))  on \(result.count) images of \(data) on \(device)")
        try options.writeJSON(["test_accuracy": accuracy, "test_loss": result.loss, "images": result.count, "backend": device.name])
    }
}
