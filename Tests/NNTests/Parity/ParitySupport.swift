import Foundation
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

    /// The backends, or a skip (locally) / failure (CI) when there are none.
    static func all(file: StaticString = #filePath, line: UInt = #line) throws -> [OpenCLBackend] {
        switch backends {
        case .success(let list) where !list.isEmpty:
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

/// Host data for one operand, uploaded identically to every backend.
enum HostArray {
    case float([Float])
    case double([Double])
    case int([Int32])

    func upload(to backend: any Backend) -> DeviceBuffer {
        switch self {
        case .float(let v): return backend.makeBuffer(v)
        case .double(let v): return backend.makeBuffer(v)
        case .int(let v): return backend.makeBuffer(v)
        }
    }

    static func random(_ count: Int, seed: UInt64, low: Double = -1, high: Double = 1, dtype: DType = .float32) -> HostArray {
        var rng = SplitMix64(seed: seed &+ 0x9E37_79B9_7F4A_7C15)
        let values = (0..<count).map { _ in rng.uniform(low, high) }
        return dtype == .float64 ? .double(values) : .float(values.map { Float($0) })
    }

    static func labels(_ count: Int, classes: Int, seed: UInt64) -> HostArray {
        .int((0..<count).map { Int32((UInt64($0) &* 2_654_435_761 &+ seed) % UInt64(classes)) })
    }
}

/// How two results must agree.
enum Tolerance: CustomStringConvertible {
    /// Bit for bit.
    case exact
    /// Each element: |a - b| <= abs + rel * |b|.
    case elementwise(rel: Double, abs: Double)
    /// ||a - b|| <= rel * ||b|| over the whole output (GEMM-style sums).
    case norm(rel: Double)

    var description: String {
        switch self {
        case .exact: return "exact"
        case .elementwise(let rel, let abs): return "rel \(rel), abs \(abs)"
        case .norm(let rel): return "norm rel \(rel)"
        }
    }
}

func downloadAsDoubles(_ backend: any Backend, _ buffer: DeviceBuffer) throws -> [Double] {
    switch buffer.dtype {
    case .float32: return try backend.download(buffer, as: Float.self).map(Double.init)
    case .float64: return try backend.download(buffer, as: Double.self)
    case .int32: return try backend.download(buffer, as: Int32.self).map(Double.init)
    }
}

/// Runs `body` on the CPU backend and on every OpenCL device with the same
/// inputs and compares every output buffer it returns.
func assertParity(_ name: String, _ inputs: [HostArray], _ tolerance: Tolerance, dtype: DType = .float32,
                  file: StaticString = #filePath, line: UInt = #line,
                  _ body: (any Backend, [DeviceBuffer]) -> [DeviceBuffer]) throws {
    let cpu = CPUBackend.shared
    let expected = try body(cpu, inputs.map { $0.upload(to: cpu) }).map { try downloadAsDoubles(cpu, $0) }
    for backend in try ParityDevices.all(file: file, line: line) {
        if dtype == .float64 && !backend.supportsFloat64 { continue }
        let actual = try body(backend, inputs.map { $0.upload(to: backend) }).map { try downloadAsDoubles(backend, $0) }
        XCTAssertEqual(actual.count, expected.count, file: file, line: line)
        for (o, (a, e)) in zip(actual, expected).enumerated() {
            compare(a, e, tolerance, "\(name) output \(o) on \(backend.name)", file: file, line: line)
        }
    }
}

func compare(_ actual: [Double], _ expected: [Double], _ tolerance: Tolerance, _ what: String,
             file: StaticString = #filePath, line: UInt = #line) {
    guard actual.count == expected.count else {
        return XCTFail("\(what): \(actual.count) values, expected \(expected.count)", file: file, line: line)
    }
    switch tolerance {
    case .exact:
        if let i = actual.indices.first(where: { actual[$0].bitPattern != expected[$0].bitPattern }) {
            XCTFail("\(what): element \(i) is \(actual[i]), expected exactly \(expected[i])", file: file, line: line)
        }
    case .elementwise(let rel, let abs):
        if let i = actual.indices.first(where: { i in
            let (a, e) = (actual[i], expected[i])
            if a.isNaN || e.isNaN { return a.isNaN != e.isNaN }
            if a.isInfinite || e.isInfinite { return a != e }
            return Swift.abs(a - e) > abs + rel * Swift.abs(e)
        }) {
            XCTFail("\(what): element \(i) is \(actual[i]), expected \(expected[i]) (\(tolerance))", file: file, line: line)
        }
    case .norm(let rel):
        let diff = zip(actual, expected).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }.squareRoot()
        let norm = expected.reduce(0) { $0 + $1 * $1 }.squareRoot()
        XCTAssert(diff <= rel * Swift.max(norm, 1e-30), "\(what): ||diff|| \(diff) > \(rel) * ||expected|| \(norm)",
                  file: file, line: line)
    }
}
