import Foundation
import XCTest
@testable import NN

/// The IDX reader on hand-built files of every element type, on the shared
/// MNIST test set (gzip), and on corrupt files.
final class IDXTests: XCTestCase {
    /// An IDX file: magic, dimensions, then `payload` (already big-endian).
    static func idx(type: UInt8, shape: [Int], payload: [UInt8]) -> [UInt8] {
        var bytes: [UInt8] = [0, 0, type, UInt8(shape.count)]
        for d in shape { bytes += [UInt8(d >> 24 & 0xFF), UInt8(d >> 16 & 0xFF), UInt8(d >> 8 & 0xFF), UInt8(d & 0xFF)] }
        return bytes + payload
    }

    static let small = idx(type: 0x08, shape: [3, 4, 5], payload: (0..<60).map { UInt8($0 * 4) })

    func testEveryElementType() throws {
        let u8 = try IDX.decode(Self.small, file: "small.idx")
        XCTAssertEqual(u8.elementType, .uint8)
        XCTAssertEqual(u8.shape, [3, 4, 5])
        XCTAssertEqual(u8.floats(), (0..<60).map { Float($0 * 4) })
        XCTAssertEqual(u8.int32s(), (0..<60).map { Int32($0 * 4) })

        let i8 = try IDX.decode(Self.idx(type: 0x09, shape: [3], payload: [0xFF, 0x80, 0x7F]))
        XCTAssertEqual(i8.int32s(), [-1, -128, 127])
        let i16 = try IDX.decode(Self.idx(type: 0x0B, shape: [2], payload: [0xFF, 0xFE, 0x01, 0x00]))
        XCTAssertEqual(i16.int32s(), [-2, 256])
        XCTAssertEqual(i16.floats(), [-2, 256])
        let i32 = try IDX.decode(Self.idx(type: 0x0C, shape: [2], payload: [0x80, 0, 0, 0, 0, 0, 1, 2]))
        XCTAssertEqual(i32.int32s(), [Int32.min, 258])
        let f32 = try IDX.decode(Self.idx(type: 0x0D, shape: [1, 2], payload: [0x3F, 0xC0, 0, 0, 0xC0, 0x20, 0, 0]))
        XCTAssertEqual(f32.floats(), [1.5, -2.5])
        XCTAssertNil(f32.int32s())
        let f64 = try IDX.decode(Self.idx(type: 0x0E, shape: [1], payload: [0x3F, 0xF8, 0, 0, 0, 0, 0, 0]))
        XCTAssertEqual(f64.floats(), [1.5])
        let empty = try IDX.decode(Self.idx(type: 0x08, shape: [0, 28], payload: []))
        XCTAssertEqual(empty.count, 0)
    }

    func testMNISTLabels() throws {
        let directory = try DataTestFiles.requireMNIST()
        let labels = try IDX.read(contentsOf: directory.appendingPathComponent("t10k-labels-idx1-ubyte.gz"))
        XCTAssertEqual(labels.elementType, .uint8)
        XCTAssertEqual(labels.shape, [10_000])
        let values = try XCTUnwrap(labels.int32s())
        XCTAssertEqual(Array(values.prefix(10)), [7, 2, 1, 0, 4, 1, 4, 9, 5, 9])
        var counts = [Int](repeating: 0, count: 10)
        for v in values { counts[Int(v)] += 1 }
        XCTAssertEqual(counts, [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009])

        // The same bytes, decompressed first, read as a plain IDX file.
        let plain = try Gzip.decompress(DataTestFiles.bytes(directory.appendingPathComponent("t10k-labels-idx1-ubyte.gz")))
        XCTAssertEqual(try IDX.decode(plain).storage, labels.storage)
    }

    func testMNISTImagesAndDataset() throws {
        let directory = try DataTestFiles.requireMNIST()
        let images = try IDX.read(contentsOf: directory.appendingPathComponent("t10k-images-idx3-ubyte.gz"))
        XCTAssertEqual(images.elementType, .uint8)
        XCTAssertEqual(images.shape, [10_000, 28, 28])
        XCTAssertEqual(images.storage.min(), 0)
        XCTAssertEqual(images.storage.max(), 255)
        XCTAssertEqual(images.storage.reduce(0) { $0 + Int($1) }, 264_923_200)
        XCTAssertEqual(images.storage[0..<784].reduce(0) { $0 + Int($1) }, 18_454)
        XCTAssertEqual(Array(images.storage[7 * 28 + 6..<7 * 28 + 10]), [84, 185, 159, 151])

        let data = try MNIST.load(directory: directory)
        XCTAssertEqual(data.count, 10_000)
        XCTAssertEqual(data.featureShape, [784])
        XCTAssertEqual(data.features.min(), 0)
        XCTAssertEqual(data.features.max(), 1)
        XCTAssertEqual(data.features[7 * 28 + 6], 84 / 255)
        XCTAssertEqual(Array(data.classLabels!.prefix(3)), [7, 2, 1])
        XCTAssertEqual(try MNIST.load(directory: directory, flatten: false).featureShape, [1, 28, 28])
    }

    func testProjectSplitConvention() throws {
        let directory = try DataTestFiles.requireMNIST()
        let (train, test, standardizer) = try MNIST.trainTestSplit(directory: directory)
        XCTAssertEqual(train.count, 8000)
        XCTAssertEqual(test.count, 2000)
        XCTAssertFalse(standardizer.isPerFeature)
        // numpy on the first 8,000 images / 255: mean 0.130088..., std 0.307748...
        XCTAssertEqual(Double(standardizer.mean[0]), 0.13008843599939976, accuracy: 1e-6)
        XCTAssertEqual(Double(standardizer.std[0]), 0.30774881136516014, accuracy: 1e-6)
        let trainMean = train.features.reduce(0.0) { $0 + Double($1) } / Double(train.features.count)
        XCTAssertEqual(trainMean, 0, accuracy: 1e-4)
        // The test part uses the training statistics (its own mean is 0.14222).
        let testMean = test.features.reduce(0.0) { $0 + Double($1) } / Double(test.features.count)
        XCTAssertEqual(testMean, (0.1422192852140856 - 0.13008843599939976) / 0.30774881136516014, accuracy: 1e-4)
    }

    /// `--data DIR` takes the standard layout: train-* train and t10k-*
    /// test when both are there; t10k alone is split at trainCount.
    func testStandardLayoutUsesTheTrainFilesWhenPresent() throws {
        let directory = try DataTestFiles.temporaryDirectory(for: self)
        func write(_ set: String, pixels: [UInt8], labels: [UInt8]) throws {
            try Data(Self.idx(type: 0x08, shape: [labels.count, 1, 2], payload: pixels))
                .write(to: directory.appendingPathComponent("\(set)-images-idx3-ubyte"))
            try Data(Self.idx(type: 0x08, shape: [labels.count], payload: labels))
                .write(to: directory.appendingPathComponent("\(set)-labels-idx1-ubyte"))
        }
        try write("t10k", pixels: [0, 255, 255, 255, 0, 0, 51, 51], labels: [1, 2, 3, 4])
        XCTAssertFalse(MNIST.hasSet("train", in: directory))
        let split = try MNIST.unnormalizedSplit(directory: directory, trainCount: 3)
        XCTAssertEqual(split.train.classLabels, [1, 2, 3])
        XCTAssertEqual(split.test.classLabels, [4])

        try write("train", pixels: [0, 255, 255, 0, 0, 255], labels: [7, 8, 9])
        XCTAssertTrue(MNIST.hasSet("train", in: directory))
        let standard = try MNIST.unnormalizedSplit(directory: directory, trainCount: 3)
        XCTAssertEqual(standard.train.classLabels, [7, 8, 9])
        XCTAssertEqual(standard.test.classLabels, [1, 2, 3, 4])
        // Normalized with the train files' statistics: mean 0.5, std 0.5.
        let normalized = try MNIST.trainTestSplit(directory: directory)
        XCTAssertEqual(normalized.standardizer.mean, [0.5])
        XCTAssertEqual(normalized.standardizer.std, [0.5])
        XCTAssertEqual(normalized.test.features.prefix(2), [-1, 1])
    }

    func testMNISTLoaderRejectsMismatchedFiles() throws {
        let directory = try DataTestFiles.temporaryDirectory(for: self)
        let images = directory.appendingPathComponent("t10k-images-idx3-ubyte")
        let labels = directory.appendingPathComponent("t10k-labels-idx1-ubyte")
        try Data(Self.idx(type: 0x08, shape: [2, 2, 2], payload: [UInt8](repeating: 9, count: 8))).write(to: images)
        try Data(Self.idx(type: 0x08, shape: [3], payload: [1, 2, 3])).write(to: labels)
        assertThrowsDescribing([labels.path, "3 labels for the 2 images"]) { try MNIST.load(directory: directory) }
        try Data(Self.idx(type: 0x08, shape: [2], payload: [1, 12])).write(to: labels)
        assertThrowsDescribing([labels.path, "label 12 of image 1", "at byte 9"]) { try MNIST.load(directory: directory) }
        try Data(Self.idx(type: 0x08, shape: [2], payload: [1, 2])).write(to: labels)
        let data = try MNIST.load(directory: directory)
        XCTAssertEqual(data.features, [Float](repeating: 9 / 255, count: 8))
        try FileManager.default.removeItem(at: images)
        assertThrowsDescribing(["no MNIST images file"]) { try MNIST.load(directory: directory) }
    }

    // MARK: Corrupt files

    func testSpecificCorruptions() {
        var bad = Self.small
        bad[0] = 1
        assertThrowsDescribing(["bad.idx", "not an IDX file", "at byte 0"]) { try IDX.decode(bad, file: "bad.idx") }
        bad = Self.small
        bad[2] = 0x0A
        assertThrowsDescribing(["unknown IDX element type 0a", "at byte 2"]) { try IDX.decode(bad, file: "bad.idx") }
        bad = Self.small
        bad[3] = 0
        assertThrowsDescribing(["0 dimensions"]) { try IDX.decode(bad, file: "bad.idx") }
        assertThrowsDescribing(["truncated", "[3, 4, 5]", "needs 60 bytes", "has 59"]) { try IDX.decode(Array(Self.small.dropLast()), file: "bad.idx") }
        assertThrowsDescribing(["1 bytes of trailing data", "at byte 76"]) { try IDX.decode(Self.small + [0], file: "bad.idx") }
        // Dimensions whose product overflows.
        let big = Self.idx(type: 0x0E, shape: [0x10_0000, 0x10_0000], payload: [1, 2, 3])
        assertThrowsDescribing(["truncated", "more bytes than any file holds"]) { try IDX.decode(big, file: "bad.idx") }
        // Too large even with a zero dimension that makes the data empty.
        for shape in [[0xFFFF_FFFF, 0xFFFF_FFFF, 0xFFFF_FFFF], [0, 0xFFFF_FFFF, 0xFFFF_FFFF]] {
            assertThrowsDescribing(["are too large"]) { try IDX.decode(Self.idx(type: 0x08, shape: shape, payload: []), file: "bad.idx") }
        }
        assertThrowsDescribing(["missing.idx", "cannot read"]) { try IDX.read(contentsOf: URL(fileURLWithPath: "/nonexistent/missing.idx")) }
    }

    func testEveryTruncationAndHeaderFlipThrows() {
        for length in 0..<Self.small.count {
            XCTAssertThrowsError(try IDX.decode(Array(Self.small[..<length]), file: "small.idx"), "cut to \(length)") { error in
                XCTAssertTrue("\(error)".hasPrefix("small.idx"), "\(error)")
            }
        }
        for index in 0..<16 {
            for mask: UInt8 in [0xFF, 0x01, 0x10] {
                var bad = Self.small
                bad[index] ^= mask
                // Byte 2 ^ 0x01 turns u8 (08) into i8 (09), the one valid change.
                if index == 2 && mask == 0x01 { XCTAssertEqual(try IDX.decode(bad).elementType, .int8); continue }
                XCTAssertThrowsError(try IDX.decode(bad, file: "small.idx"), "byte \(index) ^ \(mask)")
            }
        }
    }

    /// A gzip bomb behind an IDX header is rejected after inflating what the
    /// header declares (before: a 14 MB bomb took 26 s and 3.4-5.2 GiB, the
    /// whole stream inflated before the header was read). Here 2 GiB of
    /// zeros in 13 MB; the old reader needs over 2 GiB for it.
    func testGzipBombIsRejectedFromItsHeader() throws {
        let header: [UInt8] = [0, 0, 8, 1, 0, 0, 0, 10] + [UInt8](repeating: 0, count: 10)  // ten u8 values
        for (prefix, message) in [(header, "trailing data"), ([7, 7, 7, 0], "not an IDX file")] {
            let bomb = DeflateBitWriter.gzipBomb(prefix: prefix, zeros: 2 << 30)
            XCTAssertLessThan(bomb.count, 16 << 20)
            let start = Date()
            assertThrowsDescribing([message, "bomb.idx.gz"]) { try IDX.decode(bomb, file: "bomb.idx.gz") }
            XCTAssertLessThan(Date().timeIntervalSince(start), 1, "\(message): took too long, so it inflated the stream")
        }
    }

    func testTruncatedGzipIDXThrows() throws {
        let directory = try DataTestFiles.requireMNIST()
        let good = try DataTestFiles.bytes(directory.appendingPathComponent("t10k-labels-idx1-ubyte.gz"))
        for length in 0..<good.count {
            XCTAssertThrowsError(try IDX.decode(Array(good[..<length]), file: "labels.gz"), "cut to \(length)")
        }
    }
}
