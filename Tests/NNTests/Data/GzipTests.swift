import Foundation
import XCTest
@testable import NN

/// gzip and raw deflate decoding (the wrapper here, the deflate data through
/// zlib): Python-made vectors for every block type and header feature,
/// hand-built streams for the edge cases, and corrupt input (every
/// truncation, every byte flipped) that must throw with zlib's reason and the
/// offset, never trap or return wrong data.
final class GzipTests: XCTestCase {
    private struct Vector: Decodable { let size: Int; let crc32: UInt32 }

    private func vectors() throws -> [String: Vector] {
        try JSONDecoder().decode([String: Vector].self, from: Data(contentsOf: DataTestFiles.fixture("gzip_vectors.json")))
    }

    func testCRC32KnownValues() {
        XCTAssertEqual(Gzip.crc32(Array("123456789".utf8)), 0xCBF4_3926)
        XCTAssertEqual(Gzip.crc32([]), 0)
        let text = Array("The quick brown fox jumps over the lazy dog".utf8)
        XCTAssertEqual(Gzip.crc32(text), 0x414F_A339)
        XCTAssertEqual(Gzip.crc32(Array(text[10...]), continuing: Gzip.crc32(Array(text[..<10]))), 0x414F_A339)
    }

    func testPythonVectorsDecode() throws {
        let expected = try vectors()
        XCTAssertEqual(expected.count, 7)
        for (name, vector) in expected {
            let compressed = try DataTestFiles.bytes(DataTestFiles.fixture(name))
            XCTAssertTrue(Gzip.isGzip(compressed), name)
            let output = try Gzip.decompress(compressed, file: name)
            XCTAssertEqual(output.count, vector.size, name)
            XCTAssertEqual(Gzip.crc32(output), vector.crc32, name)
        }
    }

    func testBlockTypesOfTheVectors() throws {
        // First block header bits (after the 10-byte header): BFINAL, then BTYPE.
        for (name, type) in [("gzip_stored.gz", 0), ("gzip_fixed.gz", 1), ("gzip_dynamic.gz", 2), ("gzip_long_codes.gz", 2)] {
            let bytes = try DataTestFiles.bytes(DataTestFiles.fixture(name))
            XCTAssertEqual(Int(bytes[10] >> 1) & 3, type, name)
        }
        let text = String(decoding: try Gzip.decompress(DataTestFiles.bytes(DataTestFiles.fixture("gzip_dynamic.gz"))), as: UTF8.self)
        XCTAssertTrue(text.hasPrefix("the ") || text.contains("tensor"), text.prefix(40).description)
    }

    func testHeaderFieldsAndMultipleMembers() throws {
        let hello = String(repeating: "Hello, gzip! ", count: 3) + "\n"
        let withFields = try Gzip.decompress(DataTestFiles.bytes(DataTestFiles.fixture("gzip_header_fields.gz")))
        XCTAssertEqual(String(decoding: withFields, as: UTF8.self), hello)
        let two = try Gzip.decompress(DataTestFiles.bytes(DataTestFiles.fixture("gzip_multimember.gz")))
        XCTAssertEqual(String(decoding: two.prefix(hello.utf8.count), as: UTF8.self), hello)
        XCTAssertEqual(two.count, hello.utf8.count + 500)
        XCTAssertEqual(try Gzip.decompress(DataTestFiles.bytes(DataTestFiles.fixture("gzip_empty.gz"))), [])
    }

    // MARK: Hand-built deflate streams

    private func inflate(_ bytes: [UInt8]) throws -> [UInt8] {
        try bytes.withUnsafeBufferPointer { try Inflate.decompress($0, from: 0).output }
    }

    private func assertInflateFails(_ bytes: [UInt8], _ fragment: String, line: UInt = #line) {
        XCTAssertThrowsError(try inflate(bytes), line: line) { error in
            XCTAssertTrue("\((error as? Inflate.Failure)?.message ?? "\(error)")".contains(fragment),
                          "'\(error)' does not mention '\(fragment)'", line: line)
        }
    }

    func testFixedHuffmanLiteralsAndOverlappingMatch() throws {
        var w = DeflateBitWriter()
        w.bits(1, 1); w.bits(1, 2)  // final, fixed
        for c in "ab".utf8 { w.fixedSymbol(Int(c)) }
        w.fixedSymbol(258); w.code(1, 5)  // length 4, distance 2: "abab" from an overlapping copy
        w.fixedSymbol(200)  // a 9-bit literal
        w.fixedSymbol(256)
        XCTAssertEqual(try inflate(w.bytes), Array("ababab".utf8) + [200])
    }

    func testLongestMatchAtTheFarthestDistanceAcrossBlocks() throws {
        let prefix = (0..<33_000).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 >> 8) }
        var w = DeflateBitWriter()
        w.bits(0, 1); w.bits(0, 2)  // stored, not final
        w.alignToByte()
        w.bytes += [UInt8(prefix.count & 0xFF), UInt8(prefix.count >> 8), UInt8(~prefix.count & 0xFF), UInt8((~prefix.count >> 8) & 0xFF)]
        w.bytes += prefix
        w.alignToByte()
        w.bits(1, 1); w.bits(1, 2)  // final, fixed
        w.fixedSymbol(285)  // length 258
        w.code(29, 5); w.bits(32_768 - 24_577, 13)  // distance 32768
        w.fixedSymbol(256)
        let out = try inflate(w.bytes)
        XCTAssertEqual(out.count, 33_000 + 258)
        let start = 33_000 - 32_768
        XCTAssertEqual(Array(out[33_000...]), Array(prefix[start..<start + 258]))
    }

    func testMalformedStreamsThrow() {
        var w = DeflateBitWriter()
        w.bits(1, 1); w.bits(3, 2)
        assertInflateFails(w.bytes, "corrupt deflate data: invalid block type")

        w = DeflateBitWriter()
        w.bits(1, 1); w.bits(1, 2); w.fixedSymbol(97); w.fixedSymbol(257); w.code(1, 5); w.fixedSymbol(256)
        assertInflateFails(w.bytes, "invalid distance too far back")

        w = DeflateBitWriter()
        w.bits(1, 1); w.bits(1, 2); w.fixedSymbol(97); w.fixedSymbol(286); w.fixedSymbol(256)
        assertInflateFails(w.bytes, "invalid literal/length code")

        w = DeflateBitWriter()
        w.bits(1, 1); w.bits(1, 2); w.fixedSymbol(97); w.fixedSymbol(257); w.code(30, 5); w.fixedSymbol(256)
        assertInflateFails(w.bytes, "invalid distance code")

        // Stored block whose length does not match its complement.
        assertInflateFails([0x01, 0x05, 0x00, 0xFA, 0xFE] + Array("hello".utf8), "invalid stored block lengths")
        assertInflateFails([0x01, 0x05, 0x00, 0xFA, 0xFF] + Array("hell".utf8), "ends early (truncated data)")

        // Dynamic block declaring 287 literal/length codes.
        w = DeflateBitWriter()
        w.bits(1, 1); w.bits(2, 2); w.bits(30, 5); w.bits(0, 5); w.bits(0, 4)
        w.bits(0, 32)
        assertInflateFails(w.bytes, "too many length or distance symbols")

        // Over-subscribed code-length code: 19 codes of length 1.
        w = DeflateBitWriter()
        w.bits(1, 1); w.bits(2, 2); w.bits(0, 5); w.bits(0, 5); w.bits(15, 4)
        for _ in 0..<19 { w.bits(1, 3) }
        assertInflateFails(w.bytes, "invalid code lengths set")

        // Empty input, and a final block that never ends.
        assertInflateFails([], "ends early")
        w = DeflateBitWriter()
        w.bits(1, 1); w.bits(1, 2); w.fixedSymbol(97)
        assertInflateFails(w.bytes, "ends early")
    }

    func testOutputLimit() throws {
        let compressed = try DataTestFiles.bytes(DataTestFiles.fixture("gzip_dynamic.gz"))
        assertThrowsDescribing(["limit of 100 bytes"]) { try Gzip.decompress(compressed, file: "x.gz", limit: 100) }
        XCTAssertEqual(try Gzip.decompress(compressed, limit: 6000).count, 6000)
    }

    // MARK: The gzip wrapper

    func testWrapperErrorsNameTheFileAndOffset() throws {
        let good = try DataTestFiles.bytes(DataTestFiles.fixture("gzip_fixed.gz"))
        var bad = good
        bad[0] = 0x1E
        assertThrowsDescribing(["f.gz", "not a gzip file", "at byte 0"]) { try Gzip.decompress(bad, file: "f.gz") }
        bad = good
        bad[2] = 7
        assertThrowsDescribing(["compression method 7", "at byte 2"]) { try Gzip.decompress(bad, file: "f.gz") }
        bad = good
        bad[3] = 0x20
        assertThrowsDescribing(["reserved header flag"]) { try Gzip.decompress(bad, file: "f.gz") }
        bad = good
        bad[bad.count - 8] ^= 1
        assertThrowsDescribing(["CRC-32 mismatch", "at byte \(good.count - 8)"]) { try Gzip.decompress(bad, file: "f.gz") }
        bad = good
        bad[bad.count - 4] ^= 1
        assertThrowsDescribing(["length mismatch", "at byte \(good.count - 4)"]) { try Gzip.decompress(bad, file: "f.gz") }
        assertThrowsDescribing(["3 bytes of trailing garbage", "at byte \(good.count)"]) {
            try Gzip.decompress(good + [0, 1, 2], file: "f.gz")
        }
        assertThrowsDescribing(["too short"]) { try Gzip.decompress([0x1F, 0x8B, 8], file: "f.gz") }
        // Deflate data zlib refuses: the first block's type set to 3.
        bad = good
        bad[10] |= 0b110
        assertThrowsDescribing(["f.gz", "corrupt deflate data: invalid block type", "at byte 10"]) {
            try Gzip.decompress(bad, file: "f.gz")
        }

        let fields = try DataTestFiles.bytes(DataTestFiles.fixture("gzip_header_fields.gz"))
        // The header CRC covers the file name: change one of its letters.
        bad = fields
        let nameAt = fields.firstIndex(of: UInt8(ascii: "h"))!
        bad[nameAt] = UInt8(ascii: "j")
        assertThrowsDescribing(["header CRC"]) { try Gzip.decompress(bad, file: "f.gz") }
    }

    func testEveryTruncationThrows() throws {
        for name in ["gzip_fixed.gz", "gzip_dynamic.gz", "gzip_header_fields.gz", "gzip_multimember.gz", "gzip_empty.gz"] {
            let good = try DataTestFiles.bytes(DataTestFiles.fixture(name))
            let full = try Gzip.decompress(good)
            var validPrefixes = 0
            for length in 0..<good.count {
                do {
                    let output = try Gzip.decompress(Array(good[..<length]), file: name)
                    // Only a cut between two members is itself a valid file.
                    XCTAssertEqual(name, "gzip_multimember.gz", "\(name) cut to \(length) bytes did not throw")
                    XCTAssertEqual(output, Array(full.prefix(output.count)))
                    validPrefixes += 1
                } catch {
                    XCTAssertTrue("\(error)".hasPrefix(name + ":"), "\(error)")
                }
            }
            XCTAssertEqual(validPrefixes, name == "gzip_multimember.gz" ? 1 : 0, name)
        }
    }

    func testFlippedBytesThrowOrDecodeTheSameData() throws {
        for name in ["gzip_fixed.gz", "gzip_dynamic.gz", "gzip_header_fields.gz", "gzip_stored.gz"] {
            let good = try DataTestFiles.bytes(DataTestFiles.fixture(name))
            let expected = try Gzip.decompress(good)
            var thrown = 0, total = 0
            for index in 0..<good.count {
                for mask: UInt8 in [0xFF, 0x01, 0x80] {
                    var bad = good
                    bad[index] ^= mask
                    total += 1
                    do {
                        let output = try Gzip.decompress(bad, file: name)
                        // Only fields no check covers may change: MTIME, XFL, OS
                        // (bytes 4-9), and the FEXTRA payload.
                        XCTAssertEqual(output, expected, "\(name): byte \(index) ^ \(mask) gave other data without an error")
                    } catch {
                        thrown += 1
                    }
                }
            }
            XCTAssertGreaterThan(Double(thrown), 0.9 * Double(total), name)
        }
    }
}
