import Foundation
import XCTest

/// Runs one of the package's executables (built next to the test bundle in
/// .build/<configuration>/) as a child process, for tests of what a user
/// sees: exit status, stderr and stdout.
enum ChildProcess {
    struct Result {
        let status: Int32
        let stderr: String
        let stdout: String
    }

    static func executable(_ name: String) -> URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent(name)
    }

    /// Skips the test when the executable is not built.
    static func run(_ name: String, _ arguments: [String], environment: [String: String] = [:]) throws -> Result {
        let url = executable(name)
        guard FileManager.default.isExecutableFile(atPath: url.path) else {
            throw XCTSkip("\(url.path) is not built (swift build --build-tests builds it)")
        }
        let process = Process()
        process.executableURL = url
        process.arguments = arguments
        // No backtracer: only the message matters, and it is faster.
        process.environment = ProcessInfo.processInfo.environment.merging(["SWIFT_BACKTRACE": "enable=no"]) { $1 }
            .merging(environment) { $1 }
        let err = Pipe(), out = Pipe()
        process.standardError = err
        process.standardOutput = out
        try process.run()
        let errData = err.fileHandleForReading.readDataToEndOfFile(), outData = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, stderr: String(decoding: errData, as: UTF8.self),
                      stdout: String(decoding: outData, as: UTF8.self))
    }
}
