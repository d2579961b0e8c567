import Foundation
import XCTest

/// Programmer mistakes stop with a message naming the operation and the
/// shapes in the build users run: each case runs in a child process (the
/// nn-mistakes helper, built with the tests in the same configuration) and
/// its stderr must hold the message. Swift's `precondition` printed
/// nothing there under -O; the library's `require` goes through
/// `fatalError`, which always does.
final class ReleaseMessageTests: XCTestCase {
    /// (case, pieces its message must contain).
    static let cases: [(String, [String])] = [
        ("matmul", ["matmul", "[2, 3]", "[4, 5]"]),
        ("add", ["add", "[2, 3]", "[4]"]),
        ("sum-axis", ["sum", "axis 5", "[2, 3]"]),
        ("reshape", ["reshape", "[2, 3]", "[7]"]),
        ("softmax-axis", ["softmax", "axis 3", "[2, 5]"]),
        ("slice", ["slice", "0..<9", "[2, 5]"]),
        ("concatenate", ["concatenate", "[2, 3]", "[2, 4]"]),
        ("transpose", ["transpose", "4", "[2, 3]"]),
        ("conv2d-channels", ["Conv2d", "[2, 3, 28, 28]", "3 channels, expected 1"]),
        ("linear", ["Linear", "[2, 100]", "784"]),
        ("lstm-input", ["LSTM", "[7, 3, 4]", "5"]),
        ("maxpool-kernel", ["MaxPool2d", "[1, 1, 2, 2]"]),
        ("cross-entropy-labels", ["softmaxCrossEntropy", "[4, 10]", "[3]"]),
        ("dataloader-batch", ["DataLoader", "batchSize", "0"]),
        ("backward-twice", ["backward", "second time", "retainGraph: true"]),
    ]

    private func run(_ name: String) throws -> ChildProcess.Result { try ChildProcess.run("nn-mistakes", [name]) }

    func testEveryMistakeStopsWithItsMessage() throws {
        XCTAssertGreaterThanOrEqual(Self.cases.count, 12)
        for (name, pieces) in Self.cases {
            let result = try run(name)
            XCTAssertNotEqual(result.status, 0, "\(name) must stop the program; stdout: \(result.stdout)")
            XCTAssertFalse(result.stdout.contains("did not stop"), name)
            XCTAssert(result.stderr.contains("Fatal error: "), "\(name): no message on stderr: \(result.stderr.prefix(500))")
            for piece in pieces {
                XCTAssert(result.stderr.contains(piece), "\(name): '\(piece)' missing from stderr: \(result.stderr.prefix(500))")
            }
        }
    }

    func testTheHelperRejectsAnUnknownCase() throws {
        let result = try run("no-such-case")
        XCTAssertEqual(result.status, 64)
        XCTAssert(result.stdout.contains("matmul"), result.stdout)
    }
}
