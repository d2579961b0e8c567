import XCTest
@testable import NN

/// Data movement is exact.
final class LayoutParityTests: XCTestCase {
    func testTransposeSliceConcatenateBroadcast() throws {
        let shape = [3, 5, 7, 2]
        try assertParity("layout", [.random(210, seed: 1), .random(3 * 4 * 7 * 2, seed: 2), .random(5 * 1 * 2, seed: 3)], .exact) { backend, x in
            let t = backend.makeBuffer(count: 210, dtype: .float32)
            backend.transpose(x[0], shape: shape, permutation: [2, 0, 3, 1], out: t)
            let s = backend.makeBuffer(count: 3 * 2 * 3 * 2, dtype: .float32)
            backend.slice(x[0], shape: shape, starts: [0, 1, 4, 0], sizes: [3, 2, 3, 2], out: s)
            let c = backend.makeBuffer(count: 3 * 9 * 7 * 2, dtype: .float32)
            backend.concatenate([(x[0], shape), (x[1], [3, 4, 7, 2])], axis: 1, out: c, outShape: [3, 9, 7, 2])
            let b = backend.makeBuffer(count: 4 * 5 * 3 * 2, dtype: .float32)
            backend.copyStrided(x[2], StridedView(strides: [0, 2, 0, 1]), to: b, .contiguous([4, 5, 3, 2]), shape: [4, 5, 3, 2],
                                accumulate: false)
            // Accumulating unslice into a copy of x[0].
            let acc = backend.makeBuffer(count: 210, dtype: .float32)
            backend.copy(x[0], srcOffset: 0, to: acc, dstOffset: 0, count: 210)
            backend.unslice(s, sizes: [3, 2, 3, 2], into: acc, shape: shape, starts: [0, 1, 4, 0], accumulate: true)
            return [t, s, c, b, acc]
        }
    }

    func testCopyFillConvert() throws {
        try assertParity("copy/fill/convert", [.random(100, seed: 4, low: -50, high: 50), .labels(33, classes: 9, seed: 2)], .exact) { backend, x in
            let copied = backend.makeBuffer(count: 120, dtype: .float32)
            backend.fill(copied, value: -2.5, offset: 0, count: 120)
            backend.copy(x[0], srcOffset: 10, to: copied, dstOffset: 15, count: 80)
            let asInt = backend.makeBuffer(count: 100, dtype: .int32)
            backend.convert(x[0], to: asInt, count: 100)
            let asFloat = backend.makeBuffer(count: 33, dtype: .float32)
            backend.convert(x[1], to: asFloat, count: 33)
            let ints = backend.makeBuffer(count: 7, dtype: .int32)
            backend.fill(ints, value: 3, offset: 0, count: 7)
            return [copied, asInt, asFloat, ints]
        }
    }

    func testFloat64Conversions() throws {
        try assertParity("convert f64", [.random(50, seed: 5)], .exact, dtype: .float64) { backend, x in
            let d = backend.makeBuffer(count: 50, dtype: .float64), tripled = backend.makeBuffer(count: 50, dtype: .float64)
            let f = backend.makeBuffer(count: 50, dtype: .float32)
            backend.convert(x[0], to: d, count: 50)
            backend.unary(.multiplyScalar(3), d, out: tripled, count: 50)
            backend.convert(tripled, to: f, count: 50)
            return [d, f]
        }
    }
}
