import Foundation
import XCTest
@testable import NN

/// Corrupt and hostile safetensors files: every truncation and header byte
/// flipped must throw an error naming the file (never trap), and a module
/// loading such a file keeps its parameters.
final class SafeTensorsCorruptionTests: XCTestCase {
    private var good: [UInt8] { SafeTensorsTests.mlpGolden }
    private var headerEnd: Int { 8 + (Int(good[0]) | Int(good[1]) << 8) }

    /// A file with `header` (unpadded) and `data`.
    private func file(_ header: String, _ data: [UInt8] = []) -> [UInt8] {
        let h = Array(header.utf8)
        return withUnsafeBytes(of: UInt64(h.count).littleEndian, Array.init) + h + data
    }

    private func decode(_ bytes: [UInt8]) throws -> SafeTensorsContents {
        try SafeTensors.decode(bytes, file: "bad.safetensors", on: .cpu)
    }

    func testEveryTruncationThrows() {
        for length in 0..<good.count {
            XCTAssertThrowsError(try decode(Array(good[..<length])), "cut to \(length)") { error in
                XCTAssertTrue(error is CheckpointError && "\(error)".hasPrefix("bad.safetensors: "), "\(error)")
            }
        }
    }

    func testEveryHeaderByteFlipThrows() {
        for index in 0..<headerEnd {
            var bad = good
            bad[index] ^= 0xFF
            XCTAssertThrowsError(try decode(bad), "byte \(index) ^ 0xff")
        }
    }

    func testSmallHeaderChangesNeverTrapOrHalfLoad() throws {
        let directory = try DataTestFiles.temporaryDirectory(for: self)
        let model = SafeTensorsTests.mlp()
        let before = try model.stateDict().map { try $0.tensor.toArray() }
        let saved = Dictionary(uniqueKeysWithValues: try model.stateDict().map { ($0.name, try $0.tensor.to(.cpu)) })
        let url = directory.appendingPathComponent("m.safetensors")
        let metadataValue = 8 + 17..<8 + 30  // in {"__metadata__":{"format":"pt"},...
        XCTAssertEqual(String(decoding: good[metadataValue], as: UTF8.self), #""format":"pt""#)
        var loads = 0
        for index in 0..<headerEnd {
            for delta: UInt8 in [1, 255, 0x20] {
                var bad = good
                bad[index] &+= delta
                _ = try? decode(bad)
                try Data(bad).write(to: url)
                do {
                    try model.load(checkpoint: url)
                    // Only the metadata entry may change without the model noticing.
                    XCTAssertTrue(metadataValue.contains(index), "byte \(index) + \(delta) loaded")
                    XCTAssertEqual(try model.stateDict().map { try $0.tensor.toArray() },
                                   try SafeTensorsTests.mlpState().map { try $0.tensor.toArray() })
                    loads += 1
                    try model.loadStateDict(saved)
                } catch {
                    XCTAssertTrue(error is CheckpointError, "\(error)")
                    XCTAssertEqual(try model.stateDict().map { try $0.tensor.toArray() }, before, "byte \(index) + \(delta) changed the model")
                }
            }
        }
        XCTAssertGreaterThan(loads, 0)
    }

    func testTruncatedFilesLeaveTheModelUnchanged() throws {
        let directory = try DataTestFiles.temporaryDirectory(for: self)
        let url = directory.appendingPathComponent("m.safetensors")
        let model = SafeTensorsTests.mlp()
        let before = try model.stateDict().map { try $0.tensor.toArray() }
        for length in stride(from: 0, to: good.count, by: 5) {
            try Data(good[..<length]).write(to: url)
            assertThrowsDescribing([url.path]) { try model.load(checkpoint: url) }
        }
        XCTAssertEqual(try model.stateDict().map { try $0.tensor.toArray() }, before)
    }

    func testEachProblemIsNamedWithItsOffset() {
        let entry = #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#
        let eight = [UInt8](repeating: 0, count: 8)
        XCTAssertEqual(try decode(file(entry, eight)).dictionary["a"]?.shape, [2])

        assertThrowsDescribing(["bad.safetensors", "too short", "8-byte header length"]) { try decode([1, 0, 0]) }
        var huge = good
        huge[4] = 0x10  // 2^36 + ...
        assertThrowsDescribing(["exceeds the limit of 100000000 bytes", "at byte 0"]) { try decode(huge) }
        var long = good
        long[0] = 0xFF; long[1] = 0x0F
        assertThrowsDescribing(["header length 4095 runs past the end of the file (380 bytes"]) { try decode(long) }
        assertThrowsDescribing(["does not start with '{'", "at byte 8"]) { try decode(file("[1,2]")) }
        var latin1 = file(#"{"a":"xy"}"#)
        latin1[14] = 0xE9  // 'x' as Latin-1 'é', not UTF-8
        assertThrowsDescribing(["not valid UTF-8", "at byte 14"]) { try decode(latin1) }
        assertThrowsDescribing(["expected ',' or '}'", "at byte 60"]) {
            try decode(file(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]]}"#, eight))
        }
        assertThrowsDescribing(["unexpected text after the JSON header"]) { try decode(file("{} x")) }
        assertThrowsDescribing(["entry for tensor 'a' is an array, not an object", "at byte 13"]) { try decode(file(#"{"a":[1]}"#)) }
        assertThrowsDescribing(["tensor 'a' has no \"shape\""]) { try decode(file(#"{"a":{"dtype":"F32","data_offsets":[0,0]}}"#)) }
        assertThrowsDescribing(["unknown dtype \"F31\""]) {
            try decode(file(#"{"a":{"dtype":"F31","shape":[2],"data_offsets":[0,8]}}"#, eight))
        }
        assertThrowsDescribing(["dtype U8", "reads F32, F64, I32, I64"]) {
            try decode(file(#"{"a":{"dtype":"U8","shape":[8],"data_offsets":[0,8]}}"#, eight))
        }
        assertThrowsDescribing(["shape [3] and dtype F32 needs 12 bytes", "span 8"]) {
            try decode(file(#"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, eight))
        }
        assertThrowsDescribing(["needs 562949953421312 bytes"]) {
            try decode(file(#"{"a":{"dtype":"F64","shape":[70368744177664],"data_offsets":[0,8]}}"#, eight))
        }
        for shape in ["[4294967296,4294967296]", "[0,4294967296,4294967296]"] {
            assertThrowsDescribing(["is too large", "at byte 36"]) {
                try decode(file(#"{"a":{"dtype":"F64","shape":"# + shape + #","data_offsets":[0,0]}}"#))
            }
        }
        assertThrowsDescribing(["not a non-negative integer"]) {
            try decode(file(#"{"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}"#, eight))
        }
        assertThrowsDescribing(["not a non-negative integer"]) {
            try decode(file(#"{"a":{"dtype":"F32","shape":[2.0],"data_offsets":[0,8]}}"#, eight))
        }
        assertThrowsDescribing(["has 3 values, not 2"]) {
            try decode(file(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8,8]}}"#, eight))
        }
        assertThrowsDescribing(["end before they begin"]) {
            try decode(file(#"{"a":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}}"#, eight))
        }
        let two = #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#
        let twoHeader = Array(two.utf8).count
        assertThrowsDescribing(["tensor 'b' [4, 12) overlaps tensor 'a' [0, 8)", "at byte \(8 + twoHeader + 4)"]) {
            try decode(file(two, [UInt8](repeating: 0, count: 12)))
        }
        let gap = #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#
        assertThrowsDescribing(["4 bytes before tensor 'a' belong to no tensor"]) { try decode(file(gap, eight)) }
        assertThrowsDescribing(["3 bytes after the last tensor's data", "trailing garbage", "at byte \(good.count)"]) {
            try decode(good + [1, 2, 3])
        }
        assertThrowsDescribing(["runs past the end of the file (the data section has 6 bytes"]) {
            try decode(file(entry, [0, 0, 0, 0, 0, 0]))
        }
        assertThrowsDescribing(["duplicate key \"a\""]) {
            try decode(file(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, eight))
        }
        assertThrowsDescribing(["__metadata__ value of \"k\" is a number, not a string"]) { try decode(file(#"{"__metadata__":{"k":1}}"#)) }
        assertThrowsDescribing(["__metadata__ is an array"]) { try decode(file(#"{"__metadata__":[]}"#)) }
        // I64 beyond the int32 range is no problem: it loads as int64.
        let wide = #"{"n":{"dtype":"I64","shape":[2],"data_offsets":[0,16]}}"#
        XCTAssertEqual(try decode(file(wide, [5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x80, 0, 0, 0, 0])).tensors[0].tensor
            .toArray(as: Int64.self), [5, 1 << 31])
        // Deep nesting is an error, not a stack overflow.
        assertThrowsDescribing(["nested deeper than 64"]) {
            try decode(file("{\"a\":" + String(repeating: "[", count: 100_000) + "}"))
        }
        assertThrowsDescribing(["unpaired surrogate"]) { try decode(file(#"{"\ud800":{}}"#)) }
        assertThrowsDescribing(["control character"]) { try decode(file("{\"a\u{1}\":{}}")) }
    }

    func testEmptyAndMetadataOnlyFilesAreValid() throws {
        let empty = try decode(file("{}"))
        XCTAssertTrue(empty.tensors.isEmpty)
        let escaped = try decode(file(#"{"__metadata__":{"k\u00e9\n":"v\/\"\ud83d\ude00"}}"#))
        XCTAssertEqual(escaped.metadata, ["ké\n": "v/\"😀"])
        XCTAssertEqual(try SafeTensors.encode([]), file("{}      "))
    }
}
