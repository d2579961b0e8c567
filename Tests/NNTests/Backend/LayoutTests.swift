import XCTest
import NN
@testable import NNBackend

final class LayoutTests: XCTestCase {
    /// The two-operand collapse (strided copies, broadcast binary ops) is
    /// the general one's walk for two stride sets: the same on shapes with
    /// size-1 axes, dense runs, broadcast (stride 0) and transposed axes.
    func testTwoOperandCollapseAgreesWithTheGeneralOne() {
        var rng = SplitMix64(seed: 61)
        for _ in 0..<2_000 {
            let rank = rng.int(0..<6)
            let shape = (0..<rank).map { _ in [1, 1, 2, 3, 5][rng.int(0..<5)] }
            func strides() -> [Int] {
                switch rng.int(0..<3) {
                case 0: return StridedView.contiguous(shape).strides
                case 1: return broadcastStrides(shape.map { rng.int(0..<2) == 0 ? 1 : $0 }, to: shape)!
                default: return StridedView.contiguous(shape.reversed()).strides.reversed()
                }
            }
            let a = strides(), b = strides()
            let two = collapsedAxes(shape, a, b), general = collapsedAxes(shape, [a, b])
            XCTAssertEqual(two.shape, general.shape, "\(shape) \(a) \(b)")
            XCTAssertEqual([two.a, two.b], general.strides, "\(shape) \(a) \(b)")
        }
    }

    func testCopyStridedBlockIntoStridedDestination() throws {
        // src is a [3, 4] matrix; copy its [2, 3] block at (1, 1) into a
        // 12-element dst as a transposed [2, 3] (strides (1, 2)) at offset 5.
        let src = (0..<12).map(Double.init)
        for dtype in [DType.float32, .float64, .int32] {
            let dst = buffer([Double](repeating: -1, count: 12), dtype: dtype)
            testBackend.copyStrided(buffer(src, dtype: dtype), StridedView(offset: 5, strides: [4, 1]), to: dst,
                                    StridedView(offset: 5, strides: [1, 2]), shape: [2, 3], accumulate: false)
            var expected = [Double](repeating: -1, count: 12)
            for i in 0..<2 { for j in 0..<3 { expected[5 + i + 2 * j] = src[5 + 4 * i + j] } }
            XCTAssertEqual(try downloadDoubles(dst), expected, "\(dtype)")
        }
    }

    func testCopyStridedBroadcastAndAccumulate() throws {
        // A stride-0 source axis broadcasts a row; accumulate adds into dst.
        let row: [Double] = [1, 2, 3]
        let initial = (0..<12).map { Double($0) * 10 }
        for dtype in [DType.float32, .float64] {
            let dst = buffer(initial, dtype: dtype)
            testBackend.copyStrided(buffer(row, dtype: dtype), StridedView(strides: [0, 1]), to: dst, .contiguous([4, 3]),
                                    shape: [4, 3], accumulate: true)
            XCTAssertEqual(try downloadDoubles(dst), (0..<12).map { Double($0) * 10 + row[$0 % 3] }, "\(dtype)")
            testBackend.copyStrided(buffer(row, dtype: dtype), StridedView(strides: [0, 1]), to: dst, .contiguous([4, 3]),
                                    shape: [4, 3], accumulate: false)
            XCTAssertEqual(try downloadDoubles(dst), (0..<12).map { row[$0 % 3] }, "\(dtype)")
        }
    }

    func testCopyStridedRank4AndLarge() throws {
        // A 4-D permuted copy big enough for any parallel split.
        let shape = [5, 7, 11, 13]
        var rng = SplitMix64(seed: 4)
        let x = rng.floats(product(shape))
        let strides = rowMajorStrides(shape)
        let perm = [3, 1, 0, 2]
        let outShape = perm.map { shape[$0] }
        let out = testBackend.makeBuffer(count: x.count, dtype: .float32)
        testBackend.copyStrided(floatBuffer(x), StridedView(strides: perm.map { strides[$0] }), to: out,
                                .contiguous(outShape), shape: outShape, accumulate: false)
        var expected = [Double](repeating: 0, count: x.count)
        for flat in 0..<x.count {
            let idx = unravel(flat, outShape)
            var src = 0
            for k in 0..<4 { src += idx[k] * strides[perm[k]] }
            expected[flat] = x[src]
        }
        XCTAssertEqual(try download(out, as: Float.self).map(Double.init), expected)
    }

    func testTranspose3D() throws {
        let shape = [2, 3, 4]
        let x = (0..<24).map(Double.init)
        for dtype in [DType.float32, .float64, .int32] {
            let out = testBackend.makeBuffer(count: 24, dtype: dtype)
            // out axis i = x axis perm[i]: out shape [4, 2, 3], out[i, j, k] = x[j, k, i].
            testBackend.transpose(buffer(x, dtype: dtype), shape: shape, permutation: [2, 0, 1], out: out)
            var expected = [Double]()
            for i in 0..<4 { for j in 0..<2 { for k in 0..<3 { expected.append(x[(j * 3 + k) * 4 + i]) } } }
            XCTAssertEqual(try downloadDoubles(out), expected, "\(dtype)")
        }
        // 2-D hand-worked.
        let out = testBackend.makeBuffer(count: 6, dtype: .float32)
        testBackend.transpose(floatBuffer([1, 2, 3, 4, 5, 6]), shape: [2, 3], permutation: [1, 0], out: out)
        XCTAssertEqual(try download(out, as: Float.self), [1, 4, 2, 5, 3, 6])
    }

    func testSlice() throws {
        let shape = [4, 5, 6]
        let x = (0..<120).map(Double.init)
        let starts = [1, 2, 3], sizes = [2, 3, 2]
        let out = testBackend.makeBuffer(count: 12, dtype: .float32)
        testBackend.slice(floatBuffer(x), shape: shape, starts: starts, sizes: sizes, out: out)
        var expected = [Double]()
        for i in 0..<2 { for j in 0..<3 { for k in 0..<2 { expected.append(x[((1 + i) * 5 + 2 + j) * 6 + 3 + k]) } } }
        XCTAssertEqual(try download(out, as: Float.self).map(Double.init), expected)
        // Hand-worked 2-D: rows 1..<3, columns 0..<2 of a [3, 3].
        let small = testBackend.makeBuffer(count: 4, dtype: .float32)
        testBackend.slice(floatBuffer([1, 2, 3, 4, 5, 6, 7, 8, 9]), shape: [3, 3], starts: [1, 0], sizes: [2, 2], out: small)
        XCTAssertEqual(try download(small, as: Float.self), [4, 5, 7, 8])
    }

    func testUnslice() throws {
        let shape = [3, 4]
        let initial = (0..<12).map { Double($0) }
        let src: [Double] = [100, 200, 300, 400]  // [2, 2] at (1, 2)
        for accumulate in [false, true] {
            let out = floatBuffer(initial)
            testBackend.unslice(floatBuffer(src), sizes: [2, 2], into: out, shape: shape, starts: [1, 2], accumulate: accumulate)
            var expected = initial
            for i in 0..<2 {
                for j in 0..<2 {
                    let o = (1 + i) * 4 + 2 + j
                    expected[o] = (accumulate ? expected[o] : 0) + src[i * 2 + j]
                }
            }
            XCTAssertEqual(try download(out, as: Float.self).map(Double.init), expected, "accumulate \(accumulate)")
        }
    }

    func testConcatenate() throws {
        // Axis 0: [2, 3] + [1, 3] + [3, 3] -> [6, 3].
        let a = (0..<6).map(Double.init), b = [100.0, 101, 102], c = (0..<9).map { 200 + Double($0) }
        let out0 = testBackend.makeBuffer(count: 18, dtype: .float32)
        testBackend.concatenate([(floatBuffer(a), [2, 3]), (floatBuffer(b), [1, 3]), (floatBuffer(c), [3, 3])], axis: 0,
                                out: out0, outShape: [6, 3])
        XCTAssertEqual(try download(out0, as: Float.self).map(Double.init), a + b + c)

        // Axis 1: [2, 3] + [2, 1] + [2, 2] -> [2, 6].
        let d = [50.0, 51], e = [60.0, 61, 62, 63]
        let out1 = testBackend.makeBuffer(count: 12, dtype: .float32)
        testBackend.concatenate([(floatBuffer(a), [2, 3]), (floatBuffer(d), [2, 1]), (floatBuffer(e), [2, 2])], axis: 1,
                                out: out1, outShape: [2, 6])
        XCTAssertEqual(try download(out1, as: Float.self), [0, 1, 2, 50, 60, 61, 3, 4, 5, 51, 62, 63])

        // Middle axis of 3-D: [2, 1, 2] + [2, 2, 2] -> [2, 3, 2].
        let f = [1.0, 2, 3, 4], g = (0..<8).map { 10 + Double($0) }
        let out2 = testBackend.makeBuffer(count: 12, dtype: .float64)
        testBackend.concatenate([(makeBuffer(f), [2, 1, 2]), (makeBuffer(g), [2, 2, 2])], axis: 1, out: out2, outShape: [2, 3, 2])
        XCTAssertEqual(try download(out2, as: Double.self), [1, 2, 10, 11, 12, 13, 3, 4, 14, 15, 16, 17])
    }

    func testCopyWithOffsets() throws {
        for dtype in [DType.float32, .float64, .int32] {
            let src = buffer((0..<10).map(Double.init), dtype: dtype)
            let dst = buffer([Double](repeating: -1, count: 8), dtype: dtype)
            testBackend.copy(src, srcOffset: 3, to: dst, dstOffset: 2, count: 5)
            XCTAssertEqual(try downloadDoubles(dst), [-1, -1, 3, 4, 5, 6, 7, -1], "\(dtype)")
        }
    }

    func testFill() throws {
        for dtype in [DType.float32, .float64, .int32] {
            let b = buffer([Double](repeating: 1, count: 6), dtype: dtype)
            testBackend.fill(b, value: -7, offset: 2, count: 3)
            XCTAssertEqual(try downloadDoubles(b), [1, 1, -7, -7, -7, 1], "\(dtype)")
        }
        let f = testBackend.makeBuffer(count: 3, dtype: .float64)
        testBackend.fill(f, value: 0.1, offset: 0, count: 3)
        XCTAssertEqual(try download(f, as: Double.self), [0.1, 0.1, 0.1])
        let s = testBackend.makeBuffer(count: 1000, dtype: .float32)
        testBackend.fill(s, value: 0.1, offset: 0, count: 1000)
        XCTAssertEqual(try download(s, as: Float.self), [Float](repeating: 0.1, count: 1000))
    }

    func testConvert() throws {
        let values: [Double] = [0.1, -2.7, 2.7, 1e-3, -0.5, 123456.789, 3, -1e10]
        func convert(_ v: [Double], _ from: DType, _ to: DType) throws -> [Double] {
            let dst = testBackend.makeBuffer(count: v.count, dtype: to)
            testBackend.convert(buffer(v, dtype: from), to: dst, count: v.count)
            return try downloadDoubles(dst)
        }
        XCTAssertEqual(try convert(values, .float64, .float32), values.map { Double(Float($0)) })
        XCTAssertEqual(try convert(values, .float32, .float64), values.map { Double(Float($0)) })
        let small = Array(values.dropLast())  // in int32 range
        XCTAssertEqual(try convert(small, .float32, .int32), [0, -2, 2, 0, 0, 123456, 3])  // truncation toward zero
        XCTAssertEqual(try convert(small, .float64, .int32), [0, -2, 2, 0, 0, 123456, 3])
        let ints: [Double] = [0, -5, 7, 16_777_217, -2_147_483_648]
        XCTAssertEqual(try convert(ints, .int32, .float64), ints)
        XCTAssertEqual(try convert(ints, .int32, .float32), ints.map { Double(Float($0)) })
        // count limits the conversion.
        let dst = buffer([9, 9, 9], dtype: .float64)
        testBackend.convert(floatBuffer([1, 2, 3]), to: dst, count: 2)
        XCTAssertEqual(try download(dst, as: Double.self), [1, 2, 9])
    }
}
