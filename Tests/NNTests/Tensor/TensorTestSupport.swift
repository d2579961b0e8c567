import XCTest
@testable import NN

/// Helpers for the tensor and autograd tests. Kept in a namespace so they
/// never collide with the backend tests' free functions.
enum TT {
    // MARK: Construction

    /// A float64 CPU tensor.
    static func f64(_ values: [Double], _ shape: [Int]) -> Tensor { Tensor(float64: values, shape: shape, on: .cpu) }

    /// A float32 CPU tensor holding `values` rounded to Float.
    static func f32(_ values: [Double], _ shape: [Int]) -> Tensor { Tensor(values.map { Float($0) }, shape: shape, on: .cpu) }

    /// An int32 CPU tensor.
    static func i32(_ values: [Int], _ shape: [Int]? = nil) -> Tensor {
        Tensor(int32: values.map { Int32($0) }, shape: shape, on: .cpu)
    }

    /// A float64 CPU tensor of the library's seeded uniform values.
    static func uniform(_ shape: [Int], seed: UInt64, low: Double = -1, high: Double = 1) -> Tensor {
        Random.manualSeed(seed)
        return Tensor.uniform(shape, low: low, high: high, dtype: .float64, on: .cpu)
    }

    /// The values of a tensor as Doubles (exact; int64 up to 2^53).
    static func values(_ t: Tensor) throws -> [Double] {
        switch t.dtype {
        case .float32: return try t.toArray(as: Float.self).map(Double.init)
        case .float64: return try t.toArray(as: Double.self)
        case .int32: return try t.toArray(as: Int32.self).map(Double.init)
        case .int64: return try t.toArray(as: Int64.self).map(Double.init)
        }
    }

    // The shape helpers of Backend/TestSupport.swift, under the names
    // these tests use.
    static func count(_ shape: [Int]) -> Int { product(shape) }

    static func strides(_ shape: [Int]) -> [Int] { rowMajorStrides(shape) }

    /// The multi-index of flat position `flat` in row-major `shape`.
    static func unravel(_ flat: Int, _ shape: [Int]) -> [Int] { NNTests.unravel(flat, shape) }

    static func ravel(_ index: [Int], _ shape: [Int]) -> Int {
        zip(index, strides(shape)).map { $0 * $1 }.reduce(0, +)
    }

    // MARK: Host random numbers (SplitMix64 from Backend/TestSupport.swift,
    // independent of the library's Philox)

    /// `count` values uniform in [low, high), each exactly a Float.
    static func random(_ count: Int, seed: UInt64, low: Double = -1, high: Double = 1) -> [Double] {
        var rng = SplitMix64(seed: seed)
        return (0..<count).map { _ in Double(Float(low + (high - low) * rng.unit())) }
    }

    /// Values with magnitude in [lo, hi] and random signs (for ops with a
    /// kink or pole at zero).
    static func awayFromZero(_ count: Int, seed: UInt64, lo: Double = 0.2, hi: Double = 1.2) -> [Double] {
        var rng = SplitMix64(seed: seed)
        return (0..<count).map { _ in
            let m = lo + (hi - lo) * rng.unit()
            return Double(Float(rng.next() & 1 == 0 ? m : -m))
        }
    }

    /// `count` distinct values spaced `spacing` apart, shuffled (for max,
    /// min and max-pool, whose gradients need unique winners).
    static func distinct(_ count: Int, seed: UInt64, spacing: Double = 0.0625) -> [Double] {
        var v = (0..<count).map { Double($0 - count / 2) * spacing }
        var rng = SplitMix64(seed: seed)
        for i in stride(from: count - 1, to: 0, by: -1) {
            let j = Int(rng.next() % UInt64(i + 1))
            v.swapAt(i, j)
        }
        return v
    }

    // MARK: Reference broadcasting

    static func broadcastShape(_ a: [Int], _ b: [Int]) -> [Int] {
        let r = max(a.count, b.count)
        let pa = [Int](repeating: 1, count: r - a.count) + a, pb = [Int](repeating: 1, count: r - b.count) + b
        return (0..<r).map { max(pa[$0], pb[$0]) }
    }

    /// The element of `values` (shape `shape`) that output index `index`
    /// reads under broadcasting.
    static func broadcastRead(_ values: [Double], _ shape: [Int], _ index: [Int]) -> Double {
        let lead = index.count - shape.count
        var flat = 0
        let s = strides(shape)
        for i in 0..<shape.count where shape[i] != 1 { flat += index[lead + i] * s[i] }
        return values[flat]
    }

    /// op applied elementwise with NumPy broadcasting, in Double.
    static func broadcastOp(_ a: [Double], _ aShape: [Int], _ b: [Double], _ bShape: [Int],
                            _ op: (Double, Double) -> Double) -> (values: [Double], shape: [Int]) {
        let out = broadcastShape(aShape, bShape)
        let values = (0..<count(out)).map { flat -> Double in
            let idx = unravel(flat, out)
            return op(broadcastRead(a, aShape, idx), broadcastRead(b, bShape, idx))
        }
        return (values, out)
    }
}

// MARK: - Assertions

/// |actual - expected| <= abs + rel * |expected| elementwise.
func assertTensorValues(_ actual: [Double], _ expected: [Double], abs absTol: Double = 1e-12, rel: Double = 1e-12,
                        _ message: @autoclosure () -> String = "", file: StaticString = #filePath, line: UInt = #line) {
    guard actual.count == expected.count else {
        XCTFail("got \(actual.count) values, expected \(expected.count) \(message())", file: file, line: line)
        return
    }
    var bad = 0, first = -1
    for i in 0..<actual.count {
        let ok = expected[i].isNaN ? actual[i].isNaN
            : (expected[i].isInfinite ? actual[i] == expected[i]
               : Swift.abs(actual[i] - expected[i]) <= absTol + rel * Swift.abs(expected[i]))
        if !ok {
            bad += 1
            if first < 0 { first = i }
        }
    }
    if first >= 0 {
        XCTFail("\(bad) of \(actual.count) values differ; first at \(first): got \(actual[first]), expected \(expected[first]) "
                + "(abs \(absTol), rel \(rel)) \(message())", file: file, line: line)
    }
}

/// Runs the library's gradient checker and asserts it passed over every
/// float element of `inputs`.
@discardableResult
func assertGradientCheck(_ inputs: [Tensor], epsilon: Double = 1e-6, tolerance: Double = 1e-5,
                         _ message: @autoclosure () -> String = "", file: StaticString = #filePath, line: UInt = #line,
                         _ f: ([Tensor]) -> Tensor) -> GradientCheck.Result? {
    do {
        let result = try GradientCheck.check(inputs, epsilon: epsilon, tolerance: tolerance, f)
        XCTAssertTrue(result.passed, "\(result) \(message())", file: file, line: line)
        let floats = inputs.filter { $0.dtype.isFloatingPoint }.map(\.count).reduce(0, +)
        XCTAssertEqual(result.checkedElements, floats, "checked elements \(message())", file: file, line: line)
        XCTAssertTrue(result.maxRelativeError.isFinite, "non-finite error \(message())", file: file, line: line)
        return result
    } catch {
        XCTFail("gradient check threw \(error) \(message())", file: file, line: line)
        return nil
    }
}
