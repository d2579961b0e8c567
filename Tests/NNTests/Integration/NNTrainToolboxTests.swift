import Foundation
import XCTest

/// The toolbox commands of nntrain as a user runs them (issue 12): an
/// ensemble of seeds and the small ResNet, on small slices.
final class NNTrainToolboxTests: XCTestCase {
    private func json(_ url: URL) throws -> [String: Any] {
        try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
    }

    func testEnsembleReportsEachMemberAndTheEnsemble() throws {
        let directory = try DataTestFiles.temporaryDirectory(for: self)
        let output = directory.appendingPathComponent("ensemble.json")
        let result = try ChildProcess.run("nntrain", ["mnist-mlp", "--backend", "cpu", "--epochs", "1", "--ensemble", "3",
                                                      "--json", output.path])
        XCTAssertEqual(result.status, 0, result.stderr)
        for k in 1...3 { XCTAssert(result.stdout.contains("member \(k) (seed \(k - 1)): test accuracy"), result.stdout) }
        XCTAssert(result.stdout.contains("ensemble of 3: test accuracy"), result.stdout)
        let metrics = try json(output)
        let members = try XCTUnwrap(metrics["member_accuracies"] as? [Double])
        XCTAssertEqual(members.count, 3)
        XCTAssertEqual(Set(members).count, 3, "three different seeds train three different models: \(members)")
        let accuracy = try XCTUnwrap(metrics["test_accuracy"] as? Double)
        XCTAssertGreaterThan(accuracy, 0.6, "one epoch of 2,500 images")

        let refused = try ChildProcess.run("nntrain", ["mnist-mlp", "--ensemble", "2", "--save", directory.appendingPathComponent("w").path])
        XCTAssertEqual(refused.status, 64)
        XCTAssert(refused.stderr.contains("--save does not go with --ensemble 2"), refused.stderr)
    }

    func testResNetTrainsAndPredictReadsItBack() throws {
        let directory = try DataTestFiles.temporaryDirectory(for: self)
        let weights = directory.appendingPathComponent("resnet.safetensors")
        let result = try ChildProcess.run("nntrain", ["mnist-resnet", "--backend", "cpu", "--epochs", "1", "--batch-size", "64",
                                                      "--save", weights.path, "--json", directory.appendingPathComponent("r.json").path])
        XCTAssertEqual(result.status, 0, result.stderr)
        let accuracy = try XCTUnwrap(try json(directory.appendingPathComponent("r.json"))["test_accuracy"] as? Double)
        XCTAssertGreaterThan(accuracy, 0.3, "one epoch of 2,500 images")
        let predicted = try ChildProcess.run("nntrain", ["predict", "--backend", "cpu", "--checkpoint", weights.path,
                                                         "--json", directory.appendingPathComponent("p.json").path])
        XCTAssertEqual(predicted.status, 0, predicted.stderr)
        XCTAssert(predicted.stdout.contains("(mnist-resnet)"), predicted.stdout)
        XCTAssertEqual(try json(directory.appendingPathComponent("p.json"))["test_accuracy"] as? Double, accuracy)
    }

    func testSearchWritesRankedTrialsCoarseToFine() throws {
        let directory = try DataTestFiles.temporaryDirectory(for: self)
        let out = directory.appendingPathComponent("search/nested")
        let arguments = ["search", "mnist-mlp", "--backend", "cpu", "--trials", "3", "--rounds", "2", "--epochs", "1",
                         "--dropout", "0...0.5", "--out", out.path]
        let result = try ChildProcess.run("nntrain", arguments)
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssert(result.stdout.contains("trial 6/6"), result.stdout)
        let csv = try String(contentsOf: out.appendingPathComponent("search.csv"), encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(csv.first, "rank,round,trial,lr,dropout,val_accuracy,val_loss")
        XCTAssertEqual(csv.count, 7)
        let accuracies = csv.dropFirst().map { Double($0.split(separator: ",")[5])! }
        XCTAssertEqual(accuracies, accuracies.sorted(by: >))
        XCTAssert(FileManager.default.fileExists(atPath: out.appendingPathComponent("search.svg").path))
        // Reproducible: the same seed gives the same table.
        let again = try ChildProcess.run("nntrain", arguments.map { $0 == out.path ? directory.appendingPathComponent("again").path : $0 })
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertEqual(try String(contentsOf: directory.appendingPathComponent("again/search.csv"), encoding: .utf8),
                       csv.joined(separator: "\n") + "\n")

        let bad = try ChildProcess.run("nntrain", ["search", "mnist-lenet", "--lr", "0...1e-1:log"])
        XCTAssertEqual(bad.status, 64)
        XCTAssert(bad.stderr.contains("--lr '0...1e-1:log': a log range needs positive bounds"), bad.stderr)
    }

    func testDiagnosticsDirectory() throws {
        let directory = try DataTestFiles.temporaryDirectory(for: self).appendingPathComponent("diagnostics")
        let result = try ChildProcess.run("nntrain", ["mnist-mlp", "--backend", "cpu", "--epochs", "1", "--lr", "0.5", "--lr-schedule", "none",
                                                      "--diagnostics", directory.path])
        // lr 0.5 with momentum 0.9 is far too high here: the ratio warning names the layers.
        XCTAssert(result.stderr.contains("layer 0.weight: update/weight ratio stayed above 0.01: learning rate too high?"), result.stderr)
        for name in ["update_ratios.csv", "histograms.csv", "units.csv", "histograms-epoch-1.svg", "filters-epoch-1.png"] {
            XCTAssert(FileManager.default.fileExists(atPath: directory.appendingPathComponent(name).path), "\(name): \(result.stderr)")
        }
        let units = try String(contentsOf: directory.appendingPathComponent("units.csv"), encoding: .utf8)
        XCTAssert(units.contains("1,1 ReLU,dead ReLU,") && units.contains("1,3 ReLU,dead ReLU,"), units)
        // 100 of the 512 units as 28 x 28 tiles, 10 x 10 of them scaled 1x with 1-pixel gaps.
        let png = try [UInt8](Data(contentsOf: directory.appendingPathComponent("filters-epoch-1.png")))
        XCTAssertEqual(Array(png[16..<24]), [0, 0, 1, 35, 0, 0, 1, 35])
    }
}
