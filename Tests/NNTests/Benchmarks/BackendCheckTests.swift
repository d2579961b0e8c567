@testable import NN
import NNBenchKit
@testable import NNOpenCL
import XCTest

/// The harness behind `nnbench check` and the parity suite: a device that
/// computes something else must fail, with a message that says where, and
/// the reported error must be the one measured.
final class BackendCheckTests: XCTestCase {
    /// A case whose first run (the reference) writes `reference` and whose
    /// second (the device under test) writes `device`: the CPU backend plays
    /// both, so no OpenCL device is needed.
    private func twoRuns(_ tolerance: Tolerance, reference: [Float], device: [Float]) -> CheckOutcome {
        var runs = 0
        let check = CheckCase("probe", "n=\(reference.count)", [], tolerance) { backend, _ in
            runs += 1
            return [backend.makeBuffer(runs == 1 ? reference : device)]
        }
        let outcomes = BackendCheck.run(check, on: CPUBackend.shared)
        XCTAssertEqual(runs, 2)
        XCTAssertEqual(outcomes.count, 1)
        return outcomes[0]
    }

    func testElementwiseMeasuresTheWorstElement() throws {
        let tolerance = Tolerance.elementwise(rel: 1e-5, abs: 1e-6)
        // |a - b| = 2^-17 (7.6e-6) at element 1, allowed 1e-6 + 1e-5 * 1 = 1.1e-5.
        let close = twoRuns(tolerance, reference: [0, 1, -2], device: [0, 1 + 0x1p-17, -2])
        XCTAssert(close.passed)
        let agreement = try XCTUnwrap(close.agreement)
        XCTAssertEqual(agreement.error, 0x1p-17)
        XCTAssertEqual(agreement.usage, 0x1p-17 / 1.1e-5, accuracy: 1e-9)

        let far = twoRuns(tolerance, reference: [0, 1, -2], device: [0, 1, -2.001])
        XCTAssertFalse(far.passed)
        XCTAssertEqual(try XCTUnwrap(far.agreement).error, Double(Float(2.001)) - 2, accuracy: 1e-9)
        XCTAssert(try XCTUnwrap(far.message).contains("element 2"), far.message ?? "")
    }

    func testNaNMustMatchNaN() {
        let tolerance = Tolerance.elementwise(rel: 1e-5, abs: 1e-6)
        XCTAssert(twoRuns(tolerance, reference: [.nan, 1], device: [.nan, 1]).passed)
        XCTAssertFalse(twoRuns(tolerance, reference: [.nan, 1], device: [0, 1]).passed)
        XCTAssertFalse(twoRuns(tolerance, reference: [0, 1], device: [.nan, 1]).passed)
        XCTAssertFalse(twoRuns(tolerance, reference: [.infinity], device: [-.infinity]).passed)
        XCTAssertFalse(twoRuns(.norm(rel: 1e-5), reference: [1, 2], device: [1, .nan]).passed)
    }

    func testExactCountsDifferingElements() throws {
        let oneULP = twoRuns(.exact, reference: [1, 2, 3], device: [1, Float(2).nextUp, Float(3).nextUp])
        XCTAssertFalse(oneULP.passed)
        XCTAssertEqual(try XCTUnwrap(oneULP.agreement).error, 2)
        XCTAssert(try XCTUnwrap(oneULP.message).contains("2 of 3 differ"), oneULP.message ?? "")
        // -0 and +0 differ in their bits.
        XCTAssertFalse(twoRuns(.exact, reference: [0], device: [-0.0]).passed)
        XCTAssert(twoRuns(.exact, reference: [1, 2], device: [1, 2]).passed)
    }

    func testNormIsRelativeToTheWholeOutput() throws {
        // ||(0, 0.003)|| / ||(3, 4)|| = 6e-4.
        let outcome = twoRuns(.norm(rel: 1e-3), reference: [3, 4], device: [3, 4.003])
        XCTAssert(outcome.passed)
        XCTAssertEqual(try XCTUnwrap(outcome.agreement).error, Double(Float(4.003) - 4) / 5, accuracy: 1e-9)
        XCTAssertFalse(twoRuns(.norm(rel: 1e-4), reference: [3, 4], device: [3, 4.003]).passed)
    }

    func testAMissingOutputFails() {
        var runs = 0
        let check = CheckCase("probe", "", [], .exact) { backend, _ in
            runs += 1
            return runs == 1 ? [backend.makeBuffer([Float(1)])] : []
        }
        let outcome = BackendCheck.run(check, on: CPUBackend.shared)[0]
        XCTAssertFalse(outcome.passed)
        XCTAssertEqual(outcome.message, "0 outputs, expected 1")
    }

    /// The worst output of a case decides, and a summary keeps the worst
    /// case of its op, its failures, and renders them.
    func testSummaryAndReport() throws {
        let good = twoRuns(.exact, reference: [1], device: [1])
        let bad = twoRuns(.elementwise(rel: 0, abs: 0.5), reference: [1, 1], device: [1, 3])
        let summaries = CheckSummary.summarize([good, bad])
        XCTAssertEqual(summaries.count, 1)
        let summary = summaries[0]
        XCTAssertEqual(summary.cases, 2)
        XCTAssertFalse(summary.passed)
        XCTAssertEqual(summary.failed.count, 1)
        XCTAssertEqual(try XCTUnwrap(summary.worst?.agreement).error, 2)
        let text = CheckReport.render(summaries, device: "test device")
        XCTAssert(text.hasPrefix("test device: FAIL, 1 of 2 runs agree with the CPU backend"), text)
        XCTAssert(text.contains("probe n=2: output 0: element 1 is 3.0, expected 1.0"), text)
        XCTAssert(text.contains("400%"), "usage of the worst case: 2 / 0.5\n\(text)")
    }

    /// On the CPU backend (against itself) every catalog case agrees: the
    /// cases are well formed (inputs and outputs match in count and dtype)
    /// and deterministic.
    func testCatalogIsWellFormedOnTheCPU() {
        for scale in CheckScale.allCases {
            let outcomes = BackendCheck.run(CheckCatalog.cases(scale), on: CPUBackend.shared)
            XCTAssertGreaterThan(outcomes.count, 200)
            for outcome in outcomes where !outcome.passed {
                XCTFail("\(CheckReport.caseName(outcome)): \(outcome.message ?? "no result")")
            }
        }
    }

    /// A device error (one recorded by an op, as a failed launch or
    /// allocation is) fails the case with the error, and the other cases
    /// still run.
    func testADeviceErrorFailsItsCase() throws {
        struct LaunchFailed: Error, CustomStringConvertible { var description: String { "clEnqueueNDRangeKernel failed" } }
        for shared in try ParityDevices.all() {
            let backend = try OpenCLBackend(device: shared.info, cache: false)
            let failing = CheckCase("failing", "", [.float([1])], .exact) { b, x in
                (b as? OpenCLBackend)?.record(LaunchFailed())
                return [x[0]]
            }
            let fine = CheckCase("copy", "", [.float([1, 2, 3])], .exact) { _, x in [x[0]] }
            let outcomes = BackendCheck.run([failing, fine], on: backend)
            XCTAssertEqual(outcomes.map(\.passed), [false, true])
            XCTAssertEqual(outcomes[0].message, "clEnqueueNDRangeKernel failed")
        }
    }
}
