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
        /// The first value of the target, nil while it is missing.
        func firstValue() throws -> Float? {
            guard FileManager.default.fileExists(atPath: target.path) else { return nil }
            return try Checkpoint.load(from: target, on: .cpu)["weight"]?.toArray().first
        }
        for round in 0..<50 {
            // Each saver starts with the other content; the first two rounds
            // wait until their first save has landed (however loaded the
            // machine), the others kill at a random moment, often mid-write.
            let first = round % 2 + 1
            let process = Process()
            process.executableURL = helper
            process.arguments = [target.path, String(first)]
            process.standardOutput = FileHandle.nullDevice
            try process.run()
            if round < 2 {
                let deadline = Date().addingTimeInterval(60)
                while try firstValue() != Float(first) && Date() < deadline { usleep(20_000) }
            } else {
                usleep(UInt32.random(in: 1_000...60_000, using: &generator))
            }
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            XCTAssertEqual(process.terminationReason, .uncaughtSignal, "round \(round): the saver stopped on its own")

            if FileManager.default.fileExists(atPath: target.path) {
                let tensors = try Checkpoint.load(from: target, on: .cpu)
                let weight = try XCTUnwrap(tensors["weight"], "round \(round)")
                let values = try weight.toArray()
                XCTAssertEqual(values.count, 1024 * 1024, "round \(round)")
                let value = try XCTUnwrap(values.first)
                XCTAssert(value == 1 || value == 2, "round \(round): \(value)")
                XCTAssert(values.allSatisfy { $0 == value }, "round \(round): a mixed file")
                completeSaves.insert(value)
            } else {
                XCTFail("round \(round): the target is missing")
            }
            let temporaries = try FileManager.default.contentsOfDirectory(atPath: directory.path)
                .filter { $0.hasPrefix(".model.safetensors.tmp-") }
            XCTAssertLessThanOrEqual(temporaries.count, 1, "round \(round): \(temporaries)")
        }
        XCTAssertEqual(completeSaves, [1, 2], "the first two rounds' saves should have landed")
    }
}
