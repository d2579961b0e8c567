import NN
import NNBenchKit
import XCTest

/// The backend under test.
var testBackend: CPUBackend { CPUBackend.shared }

// MARK: - Buffers

func makeBuffer<T: HostScalar>(_ values: [T]) -> DeviceBuffer {
    testBackend.makeBuffer(values)
}

/// A float32 buffer holding `values` rounded to Float.
func floatBuffer(_ values: [Double]) -> DeviceBuffer {
    testBackend.makeBuffer(values.map { Float($0) })
}

func download<T: HostScalar>(_ buffer: DeviceBuffer, as type: T.Type) throws -> [T] {
    try testBackend.download(buffer, as: type)
}

/// Downloads a float32 or float64 buffer as [Double].
func downloadDoubles(_ buffer: DeviceBuffer) throws -> [Double] {
    try downloadAsDoubles(testBackend, buffer)
}

/// A buffer of `dtype` holding `values` (rounded to the dtype).
func buffer(_ values: [Double], dtype: DType) -> DeviceBuffer {
    switch dtype {
    case .float32: return testBackend.makeBuffer(values.map { Float($0) })
    case .float64: return testBackend.makeBuffer(values)
    case .int32: return testBackend.makeBuffer(values.map { Int32($0) })
    case .int64: return testBackend.makeBuffer(values.map { Int64($0) })
    }
}

/// `values` rounded to what a buffer of `dtype` stores, as Doubles.
func rounded(_ values: [Double], to dtype: DType) -> [Double] {
    switch dtype {
    case .float32: return values.map { Double(Float($0)) }
    case .float64: return values
    case .int32: return values.map { Double(Int32($0)) }
    case .int64: return values.map { Double(Int64($0)) }
    }
}

// MARK: - Host RNG

/// SplitMix64, the seeded generator of test inputs (independent of the
/// Philox code under test), is NNBenchKit's, shared with `nnbench check`.
typealias SplitMix64 = NNBenchKit.SplitMix64

// MARK: - Comparisons

/// Checks |actual[i] - expected[i]| <= absTol + relTol * |expected[i]| for
/// every i (NaN matches NaN, infinities must match exactly) and reports the
/// first mismatching index.
func assertClose(_ actual: [Double], _ expected: [Double], relTol: Double = 1e-5, absTol: Double = 1e-6,
                 _ message: @autoclosure () -> String = "", file: StaticString = #filePath, line: UInt = #line) {
    guard actual.count == expected.count else {
        XCTFail("count \(actual.count) != expected \(expected.count) \(message())", file: file, line: line)
        return
    }
    var mismatches = 0
    var first: Int?
    for i in 0..<actual.count {
        let a = actual[i], e = expected[i]
        let ok: Bool
        if e.isNaN { ok = a.isNaN }
        else if e.isInfinite { ok = a == e }
        else { ok = !a.isNaN && Swift.abs(a - e) <= absTol + relTol * Swift.abs(e) }
        if !ok {
            mismatches += 1
            if first == nil { first = i }
        }
    }
    if let i = first {
        XCTFail("\(mismatches) of \(actual.count) mismatch; first at index \(i): got \(actual[i]), expected \(expected[i]) (relTol \(relTol), absTol \(absTol)) \(message())",
                file: file, line: line)
    }
}

func assertClose(_ actual: [Float], _ expected: [Double], relTol: Double = 1e-5, absTol: Double = 1e-6,
                 _ message: @autoclosure () -> String = "", file: StaticString = #filePath, line: UInt = #line) {
    assertClose(actual.map(Double.init), expected, relTol: relTol, absTol: absTol, message(), file: file, line: line)
}

/// Checks |actual[i] - expected[i]| <= tol * scale[i] for every i: for sums
/// whose round-off grows with the sum of the magnitudes of their terms.
func assertCloseScaled(_ actual: [Double], _ expected: [Double], scale: [Double], tol: Double,
                       _ message: @autoclosure () -> String = "", file: StaticString = #filePath, line: UInt = #line) {
    guard actual.count == expected.count, scale.count == expected.count else {
        XCTFail("count \(actual.count) != expected \(expected.count) \(message())", file: file, line: line)
        return
    }
    for i in 0..<actual.count {
        let a = actual[i], e = expected[i]
        if a.isNaN || !(Swift.abs(a - e) <= tol * Swift.max(scale[i], 1e-30)) {
            let bad = (0..<actual.count).filter { actual[$0].isNaN || !(Swift.abs(actual[$0] - expected[$0]) <= tol * Swift.max(scale[$0], 1e-30)) }.count
            XCTFail("\(bad) of \(actual.count) mismatch; first at index \(i): got \(a), expected \(e), scale \(scale[i]), tol \(tol) \(message())",
                    file: file, line: line)
            return
        }
    }
}

/// Tolerances for results computed in `dtype` from O(1) inputs.
func tolerances(_ dtype: DType) -> (rel: Double, abs: Double) {
    dtype == .float64 ? (1e-12, 1e-13) : (1e-5, 1e-6)
}

// MARK: - Shapes

func product(_ shape: [Int]) -> Int { shape.reduce(1, *) }

func rowMajorStrides(_ shape: [Int]) -> [Int] {
    var strides = [Int](repeating: 1, count: shape.count)
    var running = 1
    for i in stride(from: shape.count - 1, through: 0, by: -1) {
        strides[i] = running
        running *= shape[i]
    }
    return strides
}

/// The multi-index of flat position `flat` in a row-major `shape`.
func unravel(_ flat: Int, _ shape: [Int]) -> [Int] {
    var rest = flat
    var index = [Int](repeating: 0, count: shape.count)
    for i in stride(from: shape.count - 1, through: 0, by: -1) {
        index[i] = rest % shape[i]
        rest /= shape[i]
    }
    return index
}
