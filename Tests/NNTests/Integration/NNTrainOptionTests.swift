import Foundation
import XCTest

/// What a user of nntrain sees for a bad option: exit status 64 and a line
/// naming the option, before any training (each case would otherwise trap,
/// train for nothing, or fail only after training: issue 10).
final class NNTrainOptionTests: XCTestCase {
    func testBadOptionsStopBeforeTrainingAndNameTheOption() throws {
        let missing = "/nonexistent-\(UUID().uuidString)"
        let tiny = FileManager.default.temporaryDirectory.appendingPathComponent("nntrain-tiny-\(UUID().uuidString).txt")
        try "0123456789".write(to: tiny, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: tiny) }
        let cases: [([String], [String])] = [
            (["xor", "--steps", "0"], ["--steps 0", "at least 1"]),
            (["xor", "--hidden", "0"], ["--hidden 0"]),
            (["xor", "--lr=-1"], ["--lr -1.0", "positive"]),
            (["xor", "--json", "\(missing)/out.json"], ["--json", "does not exist"]),
            (["mnist-mlp", "--batch-size", "0"], ["--batch-size 0"]),
            (["mnist-mlp", "--epochs", "0"], ["--epochs 0"]),
            (["mnist-mlp", "--epochs=-1"], ["--epochs -1"]),
            (["mnist-lenet", "--lr", "nan"], ["--lr nan"]),
            (["mnist-lenet", "--momentum", "1.5"], ["--momentum 1.5"]),
            (["mnist-mlp", "--save", "\(missing)/w.safetensors"], ["--save", "does not exist"]),
            (["mnist-mlp", "--data", missing], ["--data", "no such directory"]),
            (["char-lstm", "--data", missing], ["--data", "no readable file"]),
            (["char-lstm", "--data", tiny.path], ["--seq-len 64", "10 characters"]),
            (["char-lstm", "--clip=-1"], ["--clip -1.0"]),
            (["mnist-lenet", "--resume", "\(missing)/c.safetensors"], ["--resume", "no readable file"]),
            (["mnist-mlp", "--checkpoint", "\(missing)/c.safetensors"], ["--checkpoint", "does not exist"]),
            (["char-lstm", "--checkpoint-every", "0"], ["--checkpoint-every 0"]),
            (["predict", "--checkpoint", "\(missing)/w.safetensors"], ["--checkpoint", "no readable file"]),
        ]
        for (arguments, pieces) in cases {
            let result = try ChildProcess.run("nntrain", arguments + ["--backend", "cpu"])
            let text = result.stderr + result.stdout
            XCTAssertEqual(result.status, 64, "\(arguments): \(text.prefix(400))")
            for piece in pieces { XCTAssert(text.contains(piece), "\(arguments): '\(piece)' missing from: \(text.prefix(400))") }
            XCTAssertFalse(result.stdout.contains("step "), "\(arguments) trained before stopping: \(result.stdout.prefix(300))")
        }
    }

    /// A loss that stops being a number ends the run with the step and
    /// exit status 1 (before, char-lstm printed "validation loss -nan" and
    /// exited 0).
    func testNonFiniteLossStopsWithTheStep() throws {
        let text = FileManager.default.temporaryDirectory.appendingPathComponent("nntrain-text-\(UUID().uuidString).txt")
        try String(repeating: "the quick brown fox jumps over the lazy dog. ", count: 60).write(to: text, atomically: true,
                                                                                               encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: text) }
        let result = try ChildProcess.run("nntrain", ["char-lstm", "--backend", "cpu", "--data", text.path, "--lr", "1e30",
                                                      "--clip", "0", "--steps", "4", "--log-every", "2", "--seq-len", "16",
                                                      "--batch-size", "4", "--hidden-size", "16", "--embedding-size", "8"])
        XCTAssertEqual(result.status, 1, result.stderr + result.stdout)
        XCTAssert(result.stderr.contains("the training loss became"), result.stderr)
        XCTAssert(result.stderr.contains("at step 2") || result.stderr.contains("at step 4"), result.stderr)
    }
}
