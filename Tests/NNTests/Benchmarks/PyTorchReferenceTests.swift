import Foundation
import NNBenchKit
import XCTest

/// nnbench times PyTorch beside the train suite (issue 11): the plumbing,
/// with a stand-in interpreter that answers like train_suite.py (CI has no
/// torch), and what a user without torch sees.
final class PyTorchReferenceTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("nnbench-pytorch-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }

    /// A "python" that reports torch 9.9.9 and times every case at 1, 2 and 3
    /// ms, after recording its arguments.
    private func standIn() throws -> String {
        let path = directory.appendingPathComponent("python").path
        let log = directory.appendingPathComponent("calls.txt").path
        try """
        #!/bin/sh
        echo "$@" >> \(log)
        if [ "$1" = "-c" ]; then echo 9.9.9; exit 0; fi
        echo '{"samples_ms": [3.0, 1.0, 2.0], "torch": "9.9.9", "threads": 2}'
        """.write(toFile: path, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
        return path
    }

    private func plan(_ mode: PyTorchReference.Mode, python: String) throws -> BenchmarkPlan {
        BenchmarkPlan(suites: [.train], targets: try DeviceSelection.targets(["cpu"]), scale: .tiny, timing: .fixed(1),
                      timingLabel: "1 repeat per case", pytorch: mode, python: python)
    }

    func testPyTorchRowsAreMeasuredBesideEachTrainCase() throws {
        var lines: [String] = []
        let report = try BenchmarkRunner(plan: try plan(.on, python: try standIn())) { lines.append($0) }.run()
        let pytorch = report.results.filter { $0.device == "pytorch" }
        XCTAssertEqual(pytorch.map(\.case), Suite.train.cases(.tiny).map(\.name))
        for row in pytorch {
            XCTAssertEqual(row.medianMs, 2)
            XCTAssertEqual(row.repeats, 3)
            XCTAssertEqual(row.torchVersion, "9.9.9")
            XCTAssertEqual(row.threads, 2, "the threads PyTorch reports")
        }
        XCTAssert(report.references.isEmpty, "nothing quoted")
        XCTAssert(report.machine.devices.contains { $0.label == "pytorch" && $0.description.contains("PyTorch 9.9.9") })
        XCTAssert(lines.contains { $0.contains("pytorch: torch 9.9.9") }, "\(lines)")

        // The script got each case's model and the run's timing rule.
        let calls = try String(contentsOf: directory.appendingPathComponent("calls.txt"), encoding: .utf8).split(separator: "\n")
        XCTAssert(calls.contains { $0.contains("train_suite.py --model mlp --sizes 20,16,5 --batch 8") && $0.contains("--min-repeats 1 --max-repeats 1") },
                  "\(calls)")
        XCTAssert(calls.contains { $0.contains("--model charlstm --vocab 7 --embedding 4 --hidden 8 --batch 2 --steps 3") })

        // The JSON names the version and threads; the table compares with PyTorch.
        let rows = try XCTUnwrap((try JSONSerialization.jsonObject(with: try report.jsonData()) as? [String: Any])?["results"] as? [[String: Any]])
        XCTAssert(rows.contains { $0["device"] as? String == "pytorch" && $0["torch_version"] as? String == "9.9.9" })
        let table = ResultTable.render(report)
        XCTAssert(table.contains("vs pytorch") && table.contains("  pytorch  "), table)
        XCTAssertFalse(table.contains("quoted"), table)
    }

    func testWithoutTorchItSaysSoAndShowsTheLibraryAlone() throws {
        var lines: [String] = []
        let missing = directory.appendingPathComponent("no-such-python").path
        let report = try BenchmarkRunner(plan: try plan(.auto, python: missing)) { lines.append($0) }.run()
        XCTAssertFalse(report.results.contains { $0.device == "pytorch" })
        XCTAssertEqual(report.results.count, Suite.train.cases(.tiny).count)
        XCTAssert(lines.contains { $0.contains("pytorch: not measured") && $0.contains("import torch") }, "\(lines)")

        XCTAssertThrowsError(try BenchmarkRunner(plan: try plan(.on, python: missing)).run()) { error in
            XCTAssert("\(error)".contains("PyTorch is not available") && "\(error)".contains("NN_PYTHON"), "\(error)")
        }
        // --no-pytorch does not even look.
        let off = try BenchmarkRunner(plan: try plan(.off, python: missing)) { lines.append($0) }.run()
        XCTAssertFalse(off.results.contains { $0.device == "pytorch" })
    }
}
