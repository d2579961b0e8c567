import XCTest
@testable import NN

/// Random tensors and dropout: reproducibility under Random.manualSeed,
/// ranges and moments, dropout's mask statistics, scale and gradient.
final class TensorRandomTests: XCTestCase {
    func testManualSeedReproducesUniformExactly() throws {
        Random.manualSeed(1234)
        let a = try Tensor.uniform([1000], on: .cpu).toArray(as: Float.self)
        let a2 = try Tensor.uniform([1000], on: .cpu).toArray(as: Float.self)
        Random.manualSeed(1234)
        let b = try Tensor.uniform([1000], on: .cpu).toArray(as: Float.self)
        let b2 = try Tensor.uniform([1000], on: .cpu).toArray(as: Float.self)
        XCTAssertEqual(a, b)
        XCTAssertEqual(a2, b2)
        XCTAssertNotEqual(a, a2, "successive calls use different streams")
        Random.manualSeed(1235)
        XCTAssertNotEqual(try Tensor.uniform([1000], on: .cpu).toArray(as: Float.self), a, "another seed, other values")
        // Same after any number of draws: only (seed, stream, index) matter.
        Random.manualSeed(1234)
        let prefix = try Tensor.uniform([7], on: .cpu).toArray(as: Float.self)
        XCTAssertEqual(prefix, Array(a[0..<7]))
    }

    func testUniformRangeAndMoments() throws {
        Random.manualSeed(7)
        let v = try TT.values(Tensor.uniform([100_000], low: -2, high: 3, dtype: .float64, on: .cpu))
        XCTAssertTrue(v.allSatisfy { $0 >= -2 && $0 < 3 })
        let mean = v.reduce(0, +) / Double(v.count)
        let variance = v.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(v.count)
        XCTAssertEqual(mean, 0.5, accuracy: 0.02)  // sd of mean ~ 0.0046
        XCTAssertEqual(variance, 25.0 / 12, accuracy: 0.05)
        XCTAssertGreaterThan(Set(v).count, 99_000, "values are not stuck or repeated")
    }

    func testNormalMoments() throws {
        Random.manualSeed(8)
        let v = try TT.values(Tensor.normal([100_000], mean: 1.5, std: 0.5, on: .cpu))
        let mean = v.reduce(0, +) / Double(v.count)
        let variance = v.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(v.count)
        XCTAssertEqual(mean, 1.5, accuracy: 0.01)  // sd of mean ~ 0.0016
        XCTAssertEqual(variance.squareRoot(), 0.5, accuracy: 0.01)
        Random.manualSeed(8)
        XCTAssertEqual(try TT.values(Tensor.normal([100_000], mean: 1.5, std: 0.5, on: .cpu)), v)
    }

    func testDropoutAtEvalIsIdentity() throws {
        let v = TT.random(1000, seed: 601)
        let x = TT.f32(v, [10, 100])
        XCTAssertEqual(try TT.values(x.dropout(p: 0.5, training: false)), v.map { Double(Float($0)) })
        XCTAssertEqual(try TT.values(x.dropout(p: 0)), v.map { Double(Float($0)) })
        XCTAssertEqual(x.dropout(p: 0.3, training: false).shape, [10, 100])
    }

    func testDropoutTrainingStatisticsAndExactScale() throws {
        let n = 100_000
        let v = TT.random(n, seed: 602, low: 0.5, high: 1.5)  // never zero
        for p in [0.5, 0.25, 0.1, 0.7] {
            Random.manualSeed(99)
            let y = try TT.values(TT.f32(v, [n]).dropout(p: p))
            let scale = Float(1 / (1 - p))
            var zeros = 0, wrong = 0
            for i in 0..<n {
                if y[i] == 0 { zeros += 1 } else if Float(y[i]) != Float(v[i]) * scale { wrong += 1 }
            }
            // Binomial sd of the fraction: sqrt(p (1-p) / n) <= 0.0016.
            XCTAssertEqual(Double(zeros) / Double(n), p, accuracy: 0.01, "p \(p)")
            XCTAssertEqual(wrong, 0, "p \(p): kept elements must be scaled by exactly 1/(1-p)")
        }
        // p = 1 drops everything.
        XCTAssertEqual(try TT.values(TT.f32([1, 2, 3], [3]).dropout(p: 1)), [0, 0, 0])
    }

    func testDropoutFloat64ScaleIsExactForDyadicP() throws {
        let n = 10_000
        Random.manualSeed(5)
        let y = try TT.values(Tensor.ones([n], dtype: .float64, on: .cpu).dropout(p: 0.5))
        XCTAssertTrue(y.allSatisfy { $0 == 0 || $0 == 2 }, "\(Set(y))")
        XCTAssertEqual(Double(y.filter { $0 == 0 }.count) / Double(n), 0.5, accuracy: 0.03)
    }

    func testDropoutIsReproducibleAndVaries() throws {
        let x = Tensor.ones([1000], on: .cpu)
        Random.manualSeed(3)
        let a = try x.dropout(p: 0.5).toArray(), b = try x.dropout(p: 0.5).toArray()
        Random.manualSeed(3)
        XCTAssertEqual(try x.dropout(p: 0.5).toArray(), a)
        XCTAssertNotEqual(a, b, "each call draws a new mask")
    }

    func testDropoutGradient() throws {
        let x = TT.uniform([4, 5], seed: 611)
        // The checker evaluates f many times: seed inside so every
        // evaluation uses the same mask.
        assertGradientCheck([x], "dropout") { xs in
            Random.manualSeed(42)
            return xs[0].dropout(p: 0.4)
        }
        // The gradient is the mask: zero where dropped, 1/(1-p) elsewhere.
        let leaf = Tensor.ones([1000], dtype: .float64, on: .cpu).requiringGrad()
        Random.manualSeed(43)
        let y = leaf.dropout(p: 0.5)
        y.sum().backward()
        XCTAssertEqual(try TT.values(try XCTUnwrap(leaf.grad)), try TT.values(y))
    }
}
