import Foundation
import NN
import XCTest

/// A save killed at any moment leaves the target a complete old or new
/// file, and the next save removes the temporary file the dead process
/// left (before, 200 kills left 56 of them, 906 MB: issue 10).
final class KilledSaveTests: XCTestCase {
    func testKilledSavesLeaveACompleteFileAndNoLitter() throws {
        let helper = ChildProcess.executable("nn-save-loop")
        guard FileManager.default.isExecutableFile(atPath: helper.path) else {
            throw XCTSkip("\(helper.path) is not built (swift build --build-tests builds it)")
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("nn-killed-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let target = directory.appendingPathComponent("model.safetensors")
        var generator = SystemRandomNumberGenerator()
        var completeSaves = Set<Float>()
        for round in 0..<50 {
            let process = Process()
            process.executableURL = helper
            process.arguments = [target.path]
            process.standardOutput = FileHandle.nullDevice
            try process.run()
            // The first round waits for a save to land; later ones kill at
            // any moment, often mid-write.
            usleep(round == 0 ? 500_000 : UInt32.random(in: 1_000...60_000, using: &generator))
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            XCTAssertEqual(process.terminationReason, .uncaughtSignal, "round \(round): the saver stopped on its own")

            if FileManager.default.fileExists(atPath: target.path) {
                let tensors = try Checkpoint.load(from: target, on: .cpu)
                let weight = try XCTUnwrap(tensors["weight"], "round \(round)")
                let values = try weight.toArray()
                XCTAssertEqual(values.count, 1024 * 1024, "round \(round)")
                let first = try XCTUnwrap(values.first)
                XCTAssert(first == 1 || first == 2, "round \(round): \(first)")
                XCTAssert(values.allSatisfy { $0 == first }, "round \(round): a mixed file")
                completeSaves.insert(first)
            } else {
                XCTAssertEqual(round, 0, "round \(round): the target disappeared")
            }
            let temporaries = try FileManager.default.contentsOfDirectory(atPath: directory.path)
                .filter { $0.hasPrefix(".model.safetensors.tmp-") }
            XCTAssertLessThanOrEqual(temporaries.count, 1, "round \(round): \(temporaries)")
        }
        XCTAssertEqual(completeSaves, [1, 2], "both contents should have landed at some kill")
    }
}
