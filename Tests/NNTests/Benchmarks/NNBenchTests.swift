import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import NN
import NNBenchKit
import XCTest

/// nnbench end to end at tiny sizes: every suite on the CPU backend and the
/// first OpenCL device (when there is one), two timed repeats, then the JSON
/// a user would save and the SVG chart, checked as a consumer would read
/// them. Timings are not checked (speed is nnbench's output, never a test).
///
/// About 0.3 s once PoCL's kernel cache is warm; on a cold cache
/// (POCL_CACHE_DIR empty) PoCL first compiles each kernel for its launch
/// sizes, about 10 s on 2 cores.
final class NNBenchTests: XCTestCase {
    /// One tiny run shared by the tests of this class.
    private static let run: Result<(report: BenchmarkReport, failures: [String], devices: [String]), Error> = Result {
        var specs = ["cpu"]
        if let first = try? OpenCLDevices.all().first { specs.append(first.spec) }
        let plan = BenchmarkPlan(suites: Suite.allCases, targets: try DeviceSelection.targets(specs), scale: .tiny,
                                 timing: .fixed(2), timingLabel: "2 repeats per case", pytorch: .off)
        let runner = BenchmarkRunner(plan: plan)
        let report = try runner.run()
        return (report, runner.failures, specs)
    }

    private func tinyRun() throws -> (report: BenchmarkReport, failures: [String], devices: [String]) {
        try Self.run.get()
    }

    func testJSONHasMachineAndEveryResult() throws {
        let (report, failures, devices) = try tinyRun()
        XCTAssertEqual(failures, [], "every tiny case runs on every device")
        let root = try XCTUnwrap(JSONSerialization.jsonObject(with: try report.jsonData()) as? [String: Any])

        let machine = try XCTUnwrap(root["machine"] as? [String: Any], "a machine object")
        XCTAssertGreaterThan(try XCTUnwrap(machine["cores"] as? Int), 0)
        XCTAssertNotNil(ISO8601DateFormatter().date(from: try XCTUnwrap(machine["date"] as? String)), "ISO 8601 date")
        XCTAssertFalse(try XCTUnwrap(machine["cpu"] as? String).isEmpty)
        let described = try XCTUnwrap(machine["devices"] as? [[String: Any]]).compactMap { $0["label"] as? String }
        XCTAssertEqual(Set(described), Set(devices + ["openblas"]))

        let results = try XCTUnwrap(root["results"] as? [[String: Any]], "a results array")
        var seen = Set<String>()
        for row in results {
            let suite = try XCTUnwrap(row["suite"] as? String), name = try XCTUnwrap(row["case"] as? String)
            let device = try XCTUnwrap(row["device"] as? String)
            let what = "\(suite) \(name) on \(device)"
            XCTAssertNotNil(Suite(rawValue: suite), what)
            XCTAssertFalse(name.isEmpty)
            XCTAssert(devices.contains(device) || (device == "openblas" && suite == "gemm"), "unexpected device in \(what)")
            let median = try XCTUnwrap(row["median_ms"] as? Double, what)
            let low = try XCTUnwrap(row["min_ms"] as? Double, what), high = try XCTUnwrap(row["max_ms"] as? Double, what)
            XCTAssert(low > 0 && low <= median && median <= high, "min <= median <= max in \(what): \(low) \(median) \(high)")
            XCTAssertEqual(row["repeats"] as? Int, 2, what)
            switch suite {
            case "gemm", "conv":
                XCTAssertGreaterThan(try XCTUnwrap(row["gflops"] as? Double, "gflops in \(what)"), 0)
                XCTAssertNil(row["gbps"], what)
            case "elementwise", "softmax":
                XCTAssertGreaterThan(try XCTUnwrap(row["gbps"] as? Double, "gbps in \(what)"), 0)
                XCTAssertNil(row["gflops"], what)
            default:
                XCTAssertNil(row["gflops"], what)
                XCTAssertNil(row["gbps"], what)
            }
            XCTAssert(seen.insert("\(suite)/\(name)/\(device)").inserted, "one row per case and device: \(what)")
        }
        // Every case of every suite on every device, and raw OpenBLAS beside
        // each GEMM case.
        for suite in Suite.allCases {
            for benchCase in suite.cases(.tiny) {
                for device in devices {
                    XCTAssert(seen.contains("\(suite.rawValue)/\(benchCase.name)/\(device)"), "\(suite) \(benchCase.name) on \(device)")
                }
                XCTAssertEqual(seen.contains("\(suite.rawValue)/\(benchCase.name)/openblas"), suite == .gemm,
                               "openblas rows exactly for gemm: \(benchCase.name)")
            }
        }
    }

    func testJSONRoundTripsThroughAFile() throws {
        let (report, _, _) = try tinyRun()
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("nnbench-\(UUID().uuidString).json").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try report.writeJSON(to: path)
        let loaded = try BenchmarkReport.load(path: path)
        XCTAssertEqual(loaded.results, report.results)
        XCTAssertEqual(loaded.machine, report.machine)
        // Compared with itself, every ratio is 1.
        let comparison = RunComparison.render(loaded, report)
        XCTAssertFalse(comparison.contains("no (suite, case, device) in common"))
        let ratioCells = comparison.split(separator: "\n").filter { $0.hasPrefix("gemm ") }.map { $0.split(separator: " ").last! }
        XCTAssertFalse(ratioCells.isEmpty)
        XCTAssert(ratioCells.allSatisfy { $0 == "1.00x" }, "\(ratioCells)")
    }

    func testSVGIsWellFormedWithABarPerResult() throws {
        let (report, _, _) = try tinyRun()
        let svg = SVGChart.render(report)
        let parser = XMLParser(data: Data(svg.utf8))
        let counter = BarCounter()
        parser.delegate = counter
        XCTAssert(parser.parse(), "well-formed XML: \(String(describing: parser.parserError))")
        XCTAssertEqual(counter.root, "svg")
        XCTAssertEqual(counter.bars.count, report.results.count, "one bar per result")
        let expected = Set(report.results.map { "\($0.suite)/\($0.case)/\($0.device)" })
        XCTAssertEqual(Set(counter.bars.map { "\($0["data-suite"] ?? "")/\($0["data-case"] ?? "")/\($0["data-device"] ?? "")" }), expected)
        for bar in counter.bars {
            XCTAssertGreaterThan(Double(bar["width"] ?? "") ?? 0, 0)
            XCTAssertGreaterThan(Double(bar["data-ratio"] ?? "") ?? 0, 0)
            if bar["data-device"] == "cpu" { XCTAssertEqual(bar["data-ratio"], "1.0000", "cpu is the baseline") }
        }
    }

    func testTableHasARowPerResult() throws {
        let (report, _, devices) = try tinyRun()
        let table = ResultTable.render(report)
        for suite in Suite.allCases { XCTAssert(table.contains("\(suite.rawValue): "), "a \(suite) section") }
        for device in devices + ["openblas"] {
            XCTAssertEqual(table.split(separator: "\n").filter { $0.contains("  \(device)  ") }.count,
                           report.results.filter { $0.device == device }.count, "\(device) rows")
        }
    }

    func testUnusableNamesThrowActionableErrors() {
        XCTAssertThrowsError(try DeviceSelection.targets(["tpu"])) { error in
            let message = "\(error)"
            XCTAssert(message.contains("'tpu'") && message.contains("cpu"), "names the bad device and the available ones: \(message)")
        }
        XCTAssertThrowsError(try DeviceSelection.targets(["opencl:99:0"])) { error in
            XCTAssert("\(error)".contains("opencl:99:0"), "\(error)")
        }
        XCTAssertThrowsError(try Suite.parse(list: "gemm,lstm")) { error in
            XCTAssert("\(error)".contains("'lstm'") && "\(error)".contains("rnn"), "\(error)")
        }
        XCTAssertEqual(try Suite.parse(list: "conv, gemm,conv"), [.conv, .gemm])
    }
}

/// Collects the root element and the attributes of every `<rect class="bar">`.
private final class BarCounter: NSObject, XMLParserDelegate {
    var root: String?
    var bars: [[String: String]] = []

    func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?, qualifiedName: String?,
                attributes: [String: String] = [:]) {
        if root == nil { root = elementName }
        if elementName == "rect" && attributes["class"] == "bar" { bars.append(attributes) }
    }
}
