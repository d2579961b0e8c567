import Foundation
import NN
import XCTest

/// nntrain as a user runs it (issue 10): the main job on the repository's
/// MNIST sample, a run killed at a random moment and resumed with
/// `--resume` ending bit-identical to an uninterrupted one, and `predict`
/// on what it saved.
final class NNTrainResumeTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = try DataTestFiles.temporaryDirectory(for: self)
    }

    private func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    private func json(_ file: String) throws -> [String: Any] {
        try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: file))) as? [String: Any])
    }

    private func weightBits(_ file: String) throws -> [String: [UInt32]] {
        Dictionary(uniqueKeysWithValues: try Checkpoint.read(from: URL(fileURLWithPath: file), on: .cpu).tensors.map {
            ($0.name, try $0.tensor.toArray().map(\.bitPattern))
        })
    }

    /// `nntrain` with no arguments is the main job: LeNet-5 on the sample,
    /// at least 95% test accuracy (about 3 s of training on 2 cores).
    func testMainJobTrainsLeNetOnTheSampleToNinetyFivePercent() throws {
        let result = try ChildProcess.run("nntrain", ["--backend", "cpu", "--json", path("main.json"), "--save", path("main.safetensors")])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssert(result.stdout.contains("Data/mnist-sample (train-* / t10k-*): 2500 train / 500 test"), result.stdout)
        let accuracy = try XCTUnwrap(try json(path("main.json"))["test_accuracy"] as? Double)
        XCTAssertGreaterThanOrEqual(accuracy, 0.95)

        // predict reads the model and the normalization from the file's
        // metadata and finds the same accuracy.
        let metadata = try Checkpoint.read(from: URL(fileURLWithPath: path("main.safetensors")), on: .cpu).metadata
        XCTAssertEqual(metadata["nntrain.model"], "mnist-lenet")
        XCTAssertNotNil(metadata["normalization.mean"].flatMap(Float.init))
        XCTAssertEqual(metadata["input.layout"], "[N, 1, 28, 28] float32")
        let predicted = try ChildProcess.run("nntrain", ["predict", "--backend", "cpu", "--checkpoint", path("main.safetensors"),
                                                         "--json", path("predict.json")])
        XCTAssertEqual(predicted.status, 0, predicted.stderr)
        XCTAssert(predicted.stdout.contains("test accuracy") && predicted.stdout.contains("500 images"), predicted.stdout)
        XCTAssertEqual(try json(path("predict.json"))["test_accuracy"] as? Double, accuracy)
    }

    func testKilledRunResumesBitIdentical() throws {
        let common = ["mnist-lenet", "--backend", "cpu", "--epochs", "4"]
        let straight = try ChildProcess.run("nntrain", common + ["--save", path("straight.safetensors")])
        XCTAssertEqual(straight.status, 0, straight.stderr)

        // Killed at a random moment once its first checkpoint has landed.
        let checkpoint = path("run.safetensors")
        let process = Process()
        process.executableURL = ChildProcess.executable("nntrain")
        process.arguments = common + ["--checkpoint", checkpoint]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(120)
        while !FileManager.default.fileExists(atPath: checkpoint) && process.isRunning && Date() < deadline { usleep(5_000) }
        usleep(UInt32.random(in: 0...700_000))
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        let progress = try TrainingCheckpoint.read(from: URL(fileURLWithPath: checkpoint)).progress
        XCTAssertGreaterThanOrEqual(progress.epoch, 1)

        let resumed = try ChildProcess.run("nntrain", common + ["--resume", checkpoint, "--save", path("resumed.safetensors")])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssert(resumed.stderr.contains("resumed from \(checkpoint) after epoch \(progress.epoch)"), resumed.stderr)
        XCTAssertEqual(try weightBits(path("resumed.safetensors")), try weightBits(path("straight.safetensors")),
                       "killed after epoch \(progress.epoch)")
        XCTAssertEqual(try TrainingCheckpoint.read(from: URL(fileURLWithPath: checkpoint)).progress.epoch, 4)

        // Resuming with another cosine length is refused, not followed.
        let longer = try ChildProcess.run("nntrain", ["mnist-lenet", "--backend", "cpu", "--epochs", "6", "--resume", checkpoint])
        XCTAssertNotEqual(longer.status, 0)
        XCTAssert(longer.stderr.contains("T_max is 4.0, this schedule's 6.0"), longer.stderr)
    }

    func testCharLSTMResumesMidRunBitIdentical() throws {
        let text = directory.appendingPathComponent("text.txt")
        try String(repeating: "the quick brown fox jumps over the lazy dog. ", count: 60).write(to: text, atomically: true, encoding: .utf8)
        let common = ["char-lstm", "--backend", "cpu", "--data", text.path, "--hidden-size", "32", "--embedding-size", "8",
                      "--batch-size", "4", "--seq-len", "12", "--eval-every", "10", "--log-every", "5"]
        let straight = try ChildProcess.run("nntrain", common + ["--steps", "30", "--save", path("a.safetensors")])
        XCTAssertEqual(straight.status, 0, straight.stderr)
        let first = try ChildProcess.run("nntrain", common + ["--steps", "17", "--checkpoint-every", "7", "--checkpoint", path("c.safetensors")])
        XCTAssertEqual(first.status, 0, first.stderr)
        XCTAssertEqual(try TrainingCheckpoint.read(from: URL(fileURLWithPath: path("c.safetensors"))).progress.step, 17)
        let resumed = try ChildProcess.run("nntrain", common + ["--steps", "30", "--resume", path("c.safetensors"),
                                                                "--save", path("b.safetensors")])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssert(resumed.stdout.contains("resumed from"), resumed.stdout)
        XCTAssertEqual(try weightBits(path("b.safetensors")), try weightBits(path("a.safetensors")))
        // The printed validation loss after the last step is the same too.
        let last = { (output: String) in output.split(separator: "\n").last { $0.hasPrefix("step 30/30  validation loss") } }
        XCTAssertNotNil(last(straight.stdout), straight.stdout)
        XCTAssertEqual(last(resumed.stdout), last(straight.stdout))

        let otherBatch = try ChildProcess.run("nntrain", common.map { $0 == "4" ? "5" : $0 } + ["--steps", "30", "--resume", path("c.safetensors")])
        XCTAssertEqual(otherBatch.status, 64)
        XCTAssert(otherBatch.stderr.contains("batch 4") && otherBatch.stderr.contains("batch 5"), otherBatch.stderr)
    }
}
