import Foundation
import NN
import XCTest

/// Which library runs the CPU backend's float32 products (`NN_CPU_GEMM`):
/// oneDNN when installed, OpenBLAS otherwise or when asked, and a stop
/// that says why when oneDNN is demanded and cannot be had. A child
/// process per choice, since a process chooses once.
final class CPUGEMMLibraryTests: XCTestCase {
    /// CI installs Debian's libdnnl2 (scripts/install-deps), so there the
    /// products must run on it; elsewhere the fallback must say why.
    func testThisProcessUsesOneDNNWhenInstalled() throws {
        if ProcessInfo.processInfo.environment["NN_CPU_GEMM"] == nil {
            if CPUGEMMLibrary.current == .openBLAS {
                let reason = try XCTUnwrap(CPUGEMMLibrary.fallbackReason, "auto fell back without a reason")
                XCTAssert(reason.hasPrefix("oneDNN not used: "), reason)
                XCTAssertNotEqual(ProcessInfo.processInfo.environment["CI"], "true",
                                  "CI installs libdnnl2, yet oneDNN was not used: \(reason)")
            } else {
                XCTAssertNil(CPUGEMMLibrary.fallbackReason)
                XCTAssert(CPUGEMMLibrary.description.hasPrefix("oneDNN "), CPUGEMMLibrary.description)
            }
        }
    }

    func testOpenBLASOnRequest() throws {
        let result = try ChildProcess.run("nnbench", ["devices"], environment: ["NN_CPU_GEMM": "openblas"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssert(result.stdout.contains("GEMM: OpenBLAS "), result.stdout)
        XCTAssertFalse(result.stdout.contains("oneDNN"), result.stdout)
    }

    func testAutoFallsBackToOpenBLASAndSaysWhy() throws {
        let result = try ChildProcess.run("nnbench", ["devices"],
                                          environment: ["NN_CPU_GEMM": "auto", "NN_ONEDNN_LIBRARY": "/nonexistent/libdnnl.so.2"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssert(result.stdout.contains("GEMM: OpenBLAS "), result.stdout)
        XCTAssert(result.stdout.contains("(oneDNN not used: /nonexistent/libdnnl.so.2"), result.stdout)
    }

    func testDemandedOneDNNThatCannotBeOpenedStops() throws {
        let result = try ChildProcess.run("nntrain", ["xor", "--steps", "20", "--backend", "cpu"],
                                          environment: ["NN_CPU_GEMM": "onednn", "NN_ONEDNN_LIBRARY": "/nonexistent/libdnnl.so.2"])
        XCTAssertNotEqual(result.status, 0, result.stdout)
        XCTAssert(result.stderr.contains("NN_CPU_GEMM=onednn: oneDNN could not be used: /nonexistent/libdnnl.so.2"), result.stderr)
        XCTAssert(result.stderr.contains("NN_CPU_GEMM=openblas"), "the message names the way out: \(result.stderr)")
    }

    func testAnUnknownChoiceStops() throws {
        let result = try ChildProcess.run("nntrain", ["xor", "--steps", "20", "--backend", "cpu"], environment: ["NN_CPU_GEMM": "mkl"])
        XCTAssertNotEqual(result.status, 0, result.stdout)
        XCTAssert(result.stderr.contains("NN_CPU_GEMM=mkl: expected auto, onednn or openblas"), result.stderr)
    }

    /// One epoch of the MNIST MLP (products of 64 x 784 x 512 and down:
    /// oneDNN's, cut over the threads) ends at the same test loss on both
    /// libraries up to rounding: the choice changes speed, not results.
    func testBothLibrariesTrainTheMNISTMLPAlike() throws {
        var losses: [String: Double] = [:]
        for library in ["openblas", "onednn"] {
            let json = FileManager.default.temporaryDirectory.appendingPathComponent("gemm-\(library)-\(getpid()).json")
            defer { try? FileManager.default.removeItem(at: json) }
            let result = try ChildProcess.run("nntrain", ["mnist-mlp", "--backend", "cpu", "--epochs", "1", "--json", json.path],
                                              environment: ["NN_CPU_GEMM": library])
            if library == "onednn" && result.stderr.contains("oneDNN could not be used")
                && ProcessInfo.processInfo.environment["CI"] != "true" {
                throw XCTSkip("oneDNN is not installed here")
            }
            XCTAssertEqual(result.status, 0, "\(library): \(result.stderr)")
            let metrics = try JSONSerialization.jsonObject(with: Data(contentsOf: json)) as? [String: Any]
            losses[library] = try XCTUnwrap(metrics?["test_loss"] as? Double, "\(library): \(String(describing: metrics))")
        }
        XCTAssertEqual(losses["openblas"]!, losses["onednn"]!, accuracy: 1e-3, "\(losses)")
        XCTAssertLessThan(losses["onednn"]!, 1.5, "and it trained: \(losses)")
    }
}
