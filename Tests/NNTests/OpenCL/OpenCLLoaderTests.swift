import Foundation
import XCTest

/// The OpenCL loader is opened at run time (issue 14): with none present the
/// binaries start, `auto` trains on the CPU and says why, and an explicit
/// `opencl` stops with what was tried. A child process per case, since a
/// process opens its loader once.
final class OpenCLLoaderTests: XCTestCase {
    private let noLoader = ["NN_OPENCL_LIBRARY": "/nonexistent/libOpenCL.so.1", "NN_BACKEND": "auto"]

    func testNoLoaderMeansAutoPicksTheCPUAndSaysWhy() throws {
        let result = try ChildProcess.run("nnbench", ["devices"], environment: noLoader)
        XCTAssertEqual(result.status, 0, result.stderr + result.stdout)
        XCTAssert(result.stdout.hasPrefix("cpu\n"), result.stdout)
        XCTAssert(result.stdout.contains("auto (NN_BACKEND unset or auto): cpu, OpenCL loader not found (tried "
                                         + "/nonexistent/libOpenCL.so.1 (NN_OPENCL_LIBRARY)"), result.stdout)
        XCTAssertFalse(result.stdout.contains("opencl:0:0"), result.stdout)
    }

    func testNoLoaderStillTrainsOnTheCPU() throws {
        let result = try ChildProcess.run("nntrain", ["xor", "--steps", "50"], environment: noLoader)
        XCTAssertEqual(result.status, 0, result.stderr + result.stdout)
        XCTAssert(result.stdout.contains("cpu") || result.stderr.contains("cpu"), result.stdout)
    }

    func testExplicitOpenCLWithoutALoaderSaysWhatWasTried() throws {
        let result = try ChildProcess.run("nntrain", ["xor", "--steps", "50", "--backend", "opencl"], environment: noLoader)
        XCTAssertNotEqual(result.status, 0, result.stdout)
        XCTAssert(result.stderr.contains("OpenCL loader not found (tried /nonexistent/libOpenCL.so.1 (NN_OPENCL_LIBRARY): "),
                  result.stderr)
        XCTAssertFalse(result.stdout.contains("step "), "trained anyway: \(result.stdout.prefix(300))")
    }

    /// The same with `NN_BACKEND=opencl` and no flag: the library throws, it
    /// never falls back to the CPU.
    func testBackendVariableWithoutALoaderStops() throws {
        var environment = noLoader
        environment["NN_BACKEND"] = "opencl"
        let result = try ChildProcess.run("nntrain", ["xor", "--steps", "50"], environment: environment)
        XCTAssertNotEqual(result.status, 0, result.stdout)
        XCTAssert(result.stderr.contains("OpenCL loader not found (tried /nonexistent/libOpenCL.so.1"), result.stderr)
    }

    /// Nothing the programs load at start names libOpenCL: `ldd` lists
    /// every shared library the dynamic linker would map, transitively.
    func testBinariesDoNotLinkTheOpenCLLoader() throws {
        for name in ["nntrain", "nnbench"] {
            let binary = ChildProcess.executable(name)
            guard FileManager.default.isExecutableFile(atPath: binary.path) else { throw XCTSkip("\(name) is not built") }
            let ldd = Process()
            ldd.executableURL = URL(fileURLWithPath: "/usr/bin/ldd")
            ldd.arguments = [binary.path]
            let out = Pipe()
            ldd.standardOutput = out
            try ldd.run()
            let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            ldd.waitUntilExit()
            XCTAssertEqual(ldd.terminationStatus, 0, text)
            XCTAssert(text.contains("libopenblas"), "ldd printed no dependency list for \(name): \(text)")
            XCTAssertFalse(text.lowercased().contains("libopencl"), "\(name) links the OpenCL loader:\n\(text)")
        }
    }
}
