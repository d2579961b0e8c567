import Foundation
import XCTest

/// Runs `mpirun` (Open MPI) with the package's executables, for the
/// distributed tests: output to files (an MPI job's output can be large),
/// and a time limit after which the job is killed and reported as hung.
enum MPIJob {
    struct Result {
        let status: Int32
        let output: String
        let seconds: Double
        let timedOut: Bool
    }

    /// mpirun, or a skip (a failure with CI=true: CI installs Open MPI).
    static func mpirun() throws -> URL {
        for directory in ["/usr/bin", "/usr/local/bin"] {
            let url = URL(fileURLWithPath: directory).appendingPathComponent("mpirun")
            if FileManager.default.isExecutableFile(atPath: url.path) { return url }
        }
        let message = "mpirun not found: scripts/install-deps installs Open MPI (openmpi-bin)"
        if ProcessInfo.processInfo.environment["CI"] == "true" {
            XCTFail(message)
        }
        throw XCTSkip(message)
    }

    /// The environment of every rank: root allowed (CI runs as root), one
    /// OpenBLAS thread per rank, no Swift backtracer.
    static let environment = ["OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
                              "OPENBLAS_NUM_THREADS": "1", "SWIFT_BACKTRACE": "enable=no"]

    /// `mpirun --oversubscribe arguments...` (the executables named by
    /// their product names), killed after `timeout` seconds.
    static func run(_ arguments: [String], environment extra: [String: String] = [:], timeout: Double = 120) throws -> Result {
        let mpirun = try mpirun()
        let products = ChildProcess.executable("nntrain").deletingLastPathComponent()
        let resolved = arguments.map { argument in
            ["nntrain", "nn-distributed-check"].contains(argument) ? products.appendingPathComponent(argument).path : argument
        }
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("mpijob-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: log) }
        let handle = try FileHandle(forWritingTo: log)
        let process = Process()
        process.executableURL = mpirun
        process.arguments = ["--oversubscribe"] + resolved
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }.merging(extra) { $1 }
        process.standardOutput = handle
        process.standardError = handle
        let start = Date()
        try process.run()
        var timedOut = false
        while process.isRunning {
            if Date().timeIntervalSince(start) > timeout {
                timedOut = true
                process.terminate()
                usleep(500_000)
                if process.isRunning { kill(process.processIdentifier, SIGKILL) }
                break
            }
            usleep(20_000)
        }
        process.waitUntilExit()
        try handle.close()
        let output = String(decoding: (try? Data(contentsOf: log)) ?? Data(), as: UTF8.self)
        return Result(status: process.terminationStatus, output: output, seconds: Date().timeIntervalSince(start), timedOut: timedOut)
    }
}
