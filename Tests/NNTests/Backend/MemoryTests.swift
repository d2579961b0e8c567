import XCTest
import NN

final class MemoryTests: XCTestCase {
    func testDeviceProperties() {
        XCTAssertEqual(testBackend.name, "cpu")
        XCTAssertTrue(testBackend.supportsFloat64)
        let b = testBackend.makeBuffer(count: 5, dtype: .float64)
        XCTAssertEqual(b.count, 5)
        XCTAssertEqual(b.dtype, .float64)
        XCTAssertEqual(b.byteCount, 40)
        XCTAssertEqual(testBackend.makeBuffer(count: 3, dtype: .int32).byteCount, 12)
    }

    func testRoundTripEveryDType() throws {
        let f: [Float] = [1.5, -0, .infinity, -3.25e-20, .greatestFiniteMagnitude]
        XCTAssertEqual(try download(makeBuffer(f), as: Float.self), f)
        let d: [Double] = [0.1, -1e300, .leastNonzeroMagnitude, 42]
        XCTAssertEqual(try download(makeBuffer(d), as: Double.self), d)
        let i: [Int32] = [.min, -1, 0, 1, .max]
        XCTAssertEqual(try download(makeBuffer(i), as: Int32.self), i)
        let nan = try download(makeBuffer([Float.nan]), as: Float.self)
        XCTAssertTrue(nan[0].isNaN)
        try testBackend.synchronize()
    }

    func testUploadAndDownloadWithOffsets() throws {
        let b = makeBuffer([Float](repeating: 0, count: 10))
        let part: [Float] = [7, 8, 9]
        part.withUnsafeBytes { testBackend.upload($0, to: b, offset: 4) }
        XCTAssertEqual(try download(b, as: Float.self), [0, 0, 0, 0, 7, 8, 9, 0, 0, 0])
        // Upload to the very end.
        [Float(5), 6].withUnsafeBytes { testBackend.upload($0, to: b, offset: 8) }
        var window = [Float](repeating: -1, count: 4)
        try window.withUnsafeMutableBytes { try testBackend.download(b, offset: 5, into: $0) }
        XCTAssertEqual(window, [8, 9, 0, 5])

        let d = makeBuffer((0..<6).map(Double.init))
        var tail = [Double](repeating: 0, count: 2)
        try tail.withUnsafeMutableBytes { try testBackend.download(d, offset: 4, into: $0) }
        XCTAssertEqual(tail, [4, 5])
        [Double(-1)].withUnsafeBytes { testBackend.upload($0, to: d, offset: 1) }
        XCTAssertEqual(try download(d, as: Double.self), [0, -1, 2, 3, 4, 5])

        let ints = makeBuffer([Int32](repeating: 0, count: 4))
        [Int32(3), 4].withUnsafeBytes { testBackend.upload($0, to: ints, offset: 2) }
        XCTAssertEqual(try download(ints, as: Int32.self), [0, 0, 3, 4])
    }

    func testEmptyBuffers() throws {
        for dtype in DType.allCases {
            let b = testBackend.makeBuffer(count: 0, dtype: dtype)
            XCTAssertEqual(b.count, 0)
            XCTAssertEqual(b.dtype, dtype)
            XCTAssertEqual(b.byteCount, 0)
            XCTAssertEqual(try downloadDoubles(b), [])
        }
        let empty = makeBuffer([Float]())
        XCTAssertEqual(empty.count, 0)
        XCTAssertEqual(try download(empty, as: Float.self), [])
        // Zero-length transfers at offset 0 are fine.
        [Float]().withUnsafeBytes { testBackend.upload($0, to: empty, offset: 0) }
    }

    func testBuffersAreFreedWhenReleased() {
        weak var weakBuffer: DeviceBuffer?
        weak var weakEmpty: DeviceBuffer?
        do {
            let b = testBackend.makeBuffer(count: 1 << 20, dtype: .float32)
            let e = testBackend.makeBuffer(count: 0, dtype: .int32)
            testBackend.fill(b, value: 1, offset: 0, count: b.count)
            weakBuffer = b
            weakEmpty = e
            XCTAssertNotNil(weakBuffer)
            XCTAssertNotNil(weakEmpty)
        }
        XCTAssertNil(weakBuffer, "a released buffer must deinitialize")
        XCTAssertNil(weakEmpty, "a released buffer must deinitialize")

        // Buffers passed through ops are not retained by the backend either.
        weak var weakOperand: DeviceBuffer?
        do {
            let x = makeBuffer([Float](repeating: 2, count: 16))
            let y = testBackend.makeBuffer(count: 16, dtype: .float32)
            testBackend.unary(.square, x, out: y, count: 16)
            testBackend.copy(x, srcOffset: 0, to: y, dstOffset: 0, count: 16)
            weakOperand = x
        }
        XCTAssertNil(weakOperand, "an op's operand must not be kept alive by the backend")
    }
}
