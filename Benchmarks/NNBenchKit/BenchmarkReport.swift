import Foundation

/// One case timed on one target: the rows of the table and of `--json`.
public struct BenchmarkResult: Codable, Equatable, Sendable {
    public var suite: String
    public var `case`: String
    /// "cpu", "opencl:<platform>:<device>" or "openblas".
    public var device: String
    public var medianMs: Double
    public var minMs: Double
    public var maxMs: Double
    public var repeats: Int
    /// From the exact operation count (GEMM, convolution); absent elsewhere.
    public var gflops: Double?
    /// From the bytes read and written (elementwise, softmax); absent
    /// elsewhere.
    public var gbps: Double?
    /// For the "pytorch" rows: torch.__version__ and its thread count.
    public var torchVersion: String?
    public var threads: Int?

    enum CodingKeys: String, CodingKey {
        case suite, `case`, device, repeats, gflops, gbps, threads
        case medianMs = "median_ms", minMs = "min_ms", maxMs = "max_ms", torchVersion = "torch_version"
    }

    public init(suite: String, case name: String, device: String, measurement: Measurement, work: Work) {
        self.suite = suite
        self.case = name
        self.device = device
        medianMs = measurement.median
        minMs = measurement.min
        maxMs = measurement.max
        repeats = measurement.samples.count
        switch work {
        case .flops(let f): gflops = f / (measurement.median * 1e-3) / 1e9
        case .bytes(let b): gbps = b / (measurement.median * 1e-3) / 1e9
        case .none: break
        }
    }
}

/// A timing not measured by this run but quoted for comparison; the table
/// shows it beside the measured rows. (Reports before 2026-12-02 quoted
/// PyTorch this way; PyTorch is now measured in the run, as "pytorch" rows.)
public struct ReferenceTiming: Codable, Equatable, Sendable {
    public var suite: String
    public var `case`: String
    public var device: String
    public var medianMs: Double
    public var source: String

    enum CodingKeys: String, CodingKey {
        case suite, `case`, device, source
        case medianMs = "median_ms"
    }
}

/// Everything one `nnbench run` produced: the `--json` file.
public struct BenchmarkReport: Codable, Sendable {
    public var machine: MachineInfo
    public var results: [BenchmarkResult]
    public var references: [ReferenceTiming]

    public init(machine: MachineInfo, results: [BenchmarkResult], references: [ReferenceTiming]) {
        self.machine = machine
        self.results = results
        self.references = references
    }

    public func jsonData() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(self)
    }

    /// Reads a file written by `nnbench run --json`.
    public static func load(path: String) throws -> BenchmarkReport {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw BenchmarkError.unreadableReport(path: path, reason: error.localizedDescription)
        }
        do {
            return try JSONDecoder().decode(BenchmarkReport.self, from: data)
        } catch let DecodingError.keyNotFound(key, context) {
            let at = context.codingPath.map(\.stringValue).joined(separator: ".")
            throw BenchmarkError.unreadableReport(path: path, reason: "missing \"\(key.stringValue)\"\(at.isEmpty ? "" : " in \(at)")")
        } catch {
            throw BenchmarkError.unreadableReport(path: path, reason: "\(error)")
        }
    }

    /// Writes `data` to `path` through a temporary file and a rename, so an
    /// interrupted run never leaves half a file behind.
    static func write(_ data: Data, to path: String) throws {
        do {
            try data.write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw BenchmarkError.unwritableFile(path: path, reason: error.localizedDescription)
        }
    }

    public func writeJSON(to path: String) throws {
        try Self.write(try jsonData(), to: path)
    }

    /// The measured row for (suite, case, device), if any.
    func result(suite: String, case name: String, device: String) -> BenchmarkResult? {
        results.first { $0.suite == suite && $0.case == name && $0.device == device }
    }
}
