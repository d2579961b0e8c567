import Foundation
import XCTest
import NN

final class RandomTests: XCTestCase {
    func assertBlock(_ got: Philox.Block, _ expected: Philox.Block, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual([got.0, got.1, got.2, got.3], [expected.0, expected.1, expected.2, expected.3],
                       file: file, line: line)
    }

    /// Random123's kat_vectors for philox4x32_10.
    func testPhiloxKnownAnswers() {
        assertBlock(Philox.block(counter: (0, 0, 0, 0), key: (0, 0)),
                    (0x6627_e8d5, 0xe169_c58d, 0xbc57_ac4c, 0x9b00_dbd8))
        assertBlock(Philox.block(counter: (0xffff_ffff, 0xffff_ffff, 0xffff_ffff, 0xffff_ffff), key: (0xffff_ffff, 0xffff_ffff)),
                    (0x408f_276d, 0x41c8_3b0e, 0xa20b_c7c6, 0x6d54_51fd))
        assertBlock(Philox.block(counter: (0x243f_6a88, 0x85a3_08d3, 0x1319_8a2e, 0x0370_7344), key: (0xa409_3822, 0x299f_31d0)),
                    (0xd16c_fe09, 0x94fd_cceb, 0x5001_e420, 0x2412_6ea1))
    }

    /// The documented mapping from (seed, stream, i) to a counter and key,
    /// built here by hand.
    static func word(_ i: Int, seed: UInt64, stream: UInt64) -> UInt32 {
        let j = UInt64(i / 4)
        let b = Philox.block(counter: (UInt32(j & 0xffff_ffff), UInt32(j >> 32),
                                       UInt32(stream & 0xffff_ffff), UInt32(stream >> 32)),
                             key: (UInt32(seed & 0xffff_ffff), UInt32(seed >> 32)))
        return [b.0, b.1, b.2, b.3][i % 4]
    }

    func testPhiloxUniformAndNormalFollowTheDocumentedMapping() {
        for (seed, stream) in [(UInt64(0), UInt64(0)), (12345, 7), (0x1234_5678_9abc_def0, 0xfedc_ba98_7654_3210)] {
            for i in [0, 1, 2, 3, 4, 5, 6, 7, 1001, 99_999] {
                XCTAssertEqual(Philox.uniform(i, seed: seed, stream: stream),
                               Float(Self.word(i, seed: seed, stream: stream) >> 8) * 0x1p-24)
                // Box-Muller in float64 on the same words.
                let pairBase = (i / 2) * 2
                let u1 = (Double(Self.word(pairBase, seed: seed, stream: stream) >> 8) + 1) * 0x1p-24
                let u2 = Double(Self.word(pairBase + 1, seed: seed, stream: stream) >> 8) * 0x1p-24
                let r = (-2 * Foundation.log(u1)).squareRoot()
                let expected = i % 2 == 0 ? r * Foundation.cos(2 * Double.pi * u2) : r * Foundation.sin(2 * Double.pi * u2)
                XCTAssertEqual(Double(Philox.normal(i, seed: seed, stream: stream)), expected, accuracy: 2e-6 * Swift.max(1, r),
                               "normal(\(i), seed \(seed), stream \(stream))")
            }
        }
    }

    func fill(_ count: Int, dtype: DType = .float32, _ body: (DeviceBuffer) -> Void) throws -> [Double] {
        let b = testBackend.makeBuffer(count: count, dtype: dtype)
        body(b)
        return try downloadDoubles(b)
    }

    func testFillUniformMatchesPhilox() throws {
        let n = 1003
        let seed: UInt64 = 0x1234_5678_9abc_def0, stream: UInt64 = 0x1_0000_0003
        // [0, 1): bit for bit.
        let unit = try fill(n) { testBackend.fillUniform($0, count: n, low: 0, high: 1, seed: seed, stream: stream) }
        for i in 0..<n where unit[i] != Double(Philox.uniform(i, seed: seed, stream: stream)) {
            XCTFail("uniform[\(i)] = \(unit[i]), Philox gives \(Philox.uniform(i, seed: seed, stream: stream))")
            break
        }
        // [-2, 3): low + (high - low) u up to float32 rounding.
        let scaled = try fill(n) { testBackend.fillUniform($0, count: n, low: -2, high: 3, seed: seed, stream: stream) }
        let expected = (0..<n).map { -2 + 5 * Double(Philox.uniform($0, seed: seed, stream: stream)) }
        assertClose(scaled, expected, relTol: 0, absTol: 1e-6)
        XCTAssertTrue(scaled.allSatisfy { $0 >= -2 && $0 < 3 })
    }

    func testFillUniformStatistics() throws {
        let n = 100_000
        let x = try fill(n) { testBackend.fillUniform($0, count: n, low: -1, high: 3, seed: 77, stream: 0) }
        let mean = x.reduce(0, +) / Double(n)
        let variance = x.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(n)
        // mean 1, variance 16/12; 5 sigma bounds.
        XCTAssertEqual(mean, 1, accuracy: 5 * (16.0 / 12 / Double(n)).squareRoot())
        XCTAssertEqual(variance, 16.0 / 12, accuracy: 0.02)
        XCTAssertTrue(x.allSatisfy { $0 >= -1 && $0 < 3 })
        // Each quarter of the range gets about a quarter of the values.
        for q in 0..<4 {
            let inQuarter = x.filter { $0 >= -1 + Double(q) && $0 < Double(q) }.count
            XCTAssertEqual(Double(inQuarter) / Double(n), 0.25, accuracy: 0.007, "quarter \(q)")
        }
    }

    func testFillNormalMatchesPhiloxAndStatistics() throws {
        let n = 100_000
        let x = try fill(n) { testBackend.fillNormal($0, count: n, mean: 0, std: 1, seed: 2024, stream: 3) }
        for i in 0..<n where x[i] != Double(Philox.normal(i, seed: 2024, stream: 3)) {
            XCTFail("normal[\(i)] = \(x[i]), Philox gives \(Philox.normal(i, seed: 2024, stream: 3))")
            break
        }
        let mean = x.reduce(0, +) / Double(n)
        let std = (x.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(n)).squareRoot()
        XCTAssertEqual(mean, 0, accuracy: 0.016)
        XCTAssertEqual(std, 1, accuracy: 0.015)
        XCTAssertEqual(Double(x.filter { Swift.abs($0) < 1 }.count) / Double(n), 0.6827, accuracy: 0.008)
        XCTAssertEqual(Double(x.filter { Swift.abs($0) < 2 }.count) / Double(n), 0.9545, accuracy: 0.004)
        XCTAssertTrue(x.allSatisfy { $0.isFinite })

        // mean 2, std 0.5: an affine map of the same values.
        let y = try fill(1000) { testBackend.fillNormal($0, count: 1000, mean: 2, std: 0.5, seed: 2024, stream: 3) }
        assertClose(y, (0..<1000).map { 2 + 0.5 * Double(Philox.normal($0, seed: 2024, stream: 3)) }, relTol: 0, absTol: 1e-6)
    }

    func testFillDropoutMask() throws {
        let n = 100_000
        for p in [0.3, 0.5, 0.9] {
            let mask = try fill(n) { testBackend.fillDropoutMask($0, count: n, p: p, seed: 5, stream: 1) }
            let kept = mask.filter { $0 != 0 }
            XCTAssertEqual(Double(kept.count) / Double(n), 1 - p, accuracy: 0.008, "p \(p)")
            let scale = 1 / (1 - p)
            XCTAssertTrue(kept.allSatisfy { Swift.abs($0 - scale) <= 1e-6 * scale }, "p \(p): kept values \(Set(kept)) != \(scale)")
        }
        let all = try fill(1000) { testBackend.fillDropoutMask($0, count: 1000, p: 0, seed: 5, stream: 1) }
        XCTAssertEqual(all, [Double](repeating: 1, count: 1000))
    }

    func testSameSeedAndStreamReproduceDifferentOnesDiffer() throws {
        let n = 4099
        func uniform(_ seed: UInt64, _ stream: UInt64) throws -> [Double] {
            try fill(n) { testBackend.fillUniform($0, count: n, low: 0, high: 1, seed: seed, stream: stream) }
        }
        func normal(_ seed: UInt64, _ stream: UInt64) throws -> [Double] {
            try fill(n) { testBackend.fillNormal($0, count: n, mean: 0, std: 1, seed: seed, stream: stream) }
        }
        func dropout(_ seed: UInt64, _ stream: UInt64) throws -> [Double] {
            try fill(n) { testBackend.fillDropoutMask($0, count: n, p: 0.5, seed: seed, stream: stream) }
        }
        for f in [uniform, normal, dropout] {
            let base = try f(1, 0)
            XCTAssertEqual(base, try f(1, 0), "same (seed, stream) must reproduce exactly")
            for other in [try f(1, 1), try f(2, 0), try f(1, 1 << 32), try f(1 << 32, 0)] {
                let same = zip(base, other).filter { $0 == $1 }.count
                XCTAssertLessThan(same, n * 6 / 10, "different (seed, stream) gave \(same) of \(n) equal values")
            }
        }
    }

    func testFillIsAPrefixOfALongerFill() throws {
        for (n, k) in [(1, 3), (5, 1), (1001, 36), (4096, 1)] {
            let short = try fill(n) { testBackend.fillUniform($0, count: n, low: -1, high: 1, seed: 9, stream: 4) }
            let long = try fill(n + k) { testBackend.fillUniform($0, count: n + k, low: -1, high: 1, seed: 9, stream: 4) }
            XCTAssertEqual(short, Array(long[..<n]), "uniform \(n) vs \(n + k)")
            let shortN = try fill(n) { testBackend.fillNormal($0, count: n, mean: 0, std: 1, seed: 9, stream: 4) }
            let longN = try fill(n + k) { testBackend.fillNormal($0, count: n + k, mean: 0, std: 1, seed: 9, stream: 4) }
            XCTAssertEqual(shortN, Array(longN[..<n]), "normal \(n) vs \(n + k)")
            let shortD = try fill(n) { testBackend.fillDropoutMask($0, count: n, p: 0.4, seed: 9, stream: 4) }
            let longD = try fill(n + k) { testBackend.fillDropoutMask($0, count: n + k, p: 0.4, seed: 9, stream: 4) }
            XCTAssertEqual(shortD, Array(longD[..<n]), "dropout \(n) vs \(n + k)")
        }
    }

    func testFillWritesOnlyCountElements() throws {
        let b = floatBuffer([Double](repeating: 42, count: 10))
        testBackend.fillUniform(b, count: 7, low: 0, high: 1, seed: 1, stream: 1)
        let got = try download(b, as: Float.self)
        XCTAssertEqual(Array(got[7...]), [42, 42, 42])
        XCTAssertTrue(got[..<7].allSatisfy { $0 >= 0 && $0 < 1 })
    }

    func testFloat64FillsStoreTheFloat32Values() throws {
        let n = 257
        let f32 = try fill(n) { testBackend.fillNormal($0, count: n, mean: 0, std: 1, seed: 3, stream: 8) }
        let f64 = try fill(n, dtype: .float64) { testBackend.fillNormal($0, count: n, mean: 0, std: 1, seed: 3, stream: 8) }
        XCTAssertEqual(f64, f32)
        let u32 = try fill(n) { testBackend.fillUniform($0, count: n, low: 0, high: 1, seed: 3, stream: 8) }
        let u64 = try fill(n, dtype: .float64) { testBackend.fillUniform($0, count: n, low: 0, high: 1, seed: 3, stream: 8) }
        XCTAssertEqual(u64, u32)
    }
}
