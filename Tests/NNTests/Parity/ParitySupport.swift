import Foundation
import NNBenchKit
import XCTest
@testable import NN

/// The OpenCL devices the parity suite compares against the CPU backend.
///
/// With CI=true a machine with no OpenCL platform fails the suite instead of
/// skipping it, so a broken PoCL install cannot pass CI by testing nothing.
enum ParityDevices {
    static let isCI = ProcessInfo.processInfo.environment["CI"] == "true"

    static let backends: Result<[OpenCLBackend], Error> = Result {
        try OpenCLDevices.all().map { info in
            guard let backend = try Device.opencl(info).backend as? OpenCLBackend else {
                preconditionFailure("Device.opencl returned a non-OpenCL backend")
            }
            return backend
        }
    }

    /// NN_PARITY_PLATFORM (set by scripts/check-opencl-sim to "Oclgrind"):
    /// every device compared must belong to a platform of that name, so a
    /// run meant for the simulator cannot pass on another driver.
    static let requiredPlatform = ProcessInfo.processInfo.environment["NN_PARITY_PLATFORM"]

    /// The backends, or a skip (locally) / failure (CI) when there are none.
    static func all(file: StaticString = #filePath, line: UInt = #line) throws -> [OpenCLBackend] {
        switch backends {
        case .success(let list) where !list.isEmpty:
            if let platform = requiredPlatform, let other = list.first(where: { !$0.info.platformName.contains(platform) }) {
                XCTFail("NN_PARITY_PLATFORM=\(platform) but \(other.name) is on platform \(other.info.platformName)",
                        file: file, line: line)
                return []
            }
            return list
        case .success:
            return try unavailable("no OpenCL device", file: file, line: line)
        case .failure(let error):
            return try unavailable("\(error)", file: file, line: line)
        }
    }

    private static func unavailable(_ why: String, file: StaticString, line: UInt) throws -> [OpenCLBackend] {
        if isCI {
            XCTFail("CI=true but OpenCL is unusable: \(why)", file: file, line: line)
            return []
        }
        throw XCTSkip("no OpenCL: \(why)")
    }
}

/// The harness is NNBenchKit's (CheckInput, Tolerance, BackendCheck), so
/// the parity suite and `nnbench check` compare devices the same way.
typealias HostArray = CheckInput

extension ParityDevices {
    /// The shapes the suite runs: NN_PARITY_SCALE=small (set by
    /// scripts/check-opencl-sim) keeps every kernel path at sizes an OpenCL
    /// simulator runs in seconds; the default adds the large ones.
    static let scale: CheckScale = {
        guard let raw = ProcessInfo.processInfo.environment["NN_PARITY_SCALE"] else { return .standard }
        guard let scale = CheckScale(rawValue: raw) else {
            fatalError("NN_PARITY_SCALE=\(raw): use \(CheckScale.allCases.map(\.rawValue).joined(separator: " or "))")
        }
        return scale
    }()
}

/// Runs `cases` on every OpenCL device against the CPU backend (GEMM cases
/// with every GEMM kernel) and fails once per case that disagrees.
func assertParity(_ cases: [CheckCase], file: StaticString = #filePath, line: UInt = #line) throws {
    XCTAssertFalse(cases.isEmpty, "no cases", file: file, line: line)
    for backend in try ParityDevices.all(file: file, line: line) {
        for outcome in BackendCheck.run(cases, on: backend) where !outcome.passed {
            XCTFail("\(CheckReport.caseName(outcome)) on \(backend.name): \(outcome.message ?? "no result")", file: file, line: line)
        }
    }
}

/// Runs `body` on the CPU backend and on every OpenCL device with the same
/// inputs and compares every output buffer it returns.
func assertParity(_ name: String, _ inputs: [HostArray], _ tolerance: Tolerance, dtype: DType = .float32, usesGEMM: Bool = false,
                  file: StaticString = #filePath, line: UInt = #line,
                  _ body: @escaping (any Backend, [DeviceBuffer]) -> [DeviceBuffer]) throws {
    try assertParity([CheckCase(name, "", inputs, tolerance, dtype: dtype, usesGEMM: usesGEMM, body)], file: file, line: line)
}

func compare(_ actual: [Double], _ expected: [Double], _ tolerance: Tolerance, _ what: String,
             file: StaticString = #filePath, line: UInt = #line) {
    let agreement = tolerance.agreement(actual, expected)
    if !agreement.passed { XCTFail("\(what): \(agreement.detail ?? "disagrees")", file: file, line: line) }
}
