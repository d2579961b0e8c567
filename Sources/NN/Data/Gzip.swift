import CZlib
import Foundation

/// gzip decompression (RFC 1952): the member headers and trailers are read
/// here, so every error names the file and byte offset, and the deflate data
/// between them goes through zlib (`Inflate`). Foundation on Linux has no
/// gzip API.
///
/// Every member of a multi-member file is decoded and concatenated (as
/// `gzip -d` does); each member's CRC-32 and length (ISIZE) are checked, as
/// is the optional header CRC. Anything after the last member that is not
/// another member is an error.
public enum Gzip {
    /// Whether `bytes` start with the gzip magic number 1f 8b.
    public static func isGzip(_ bytes: [UInt8]) -> Bool {
        bytes.count >= 2 && bytes[0] == 0x1F && bytes[1] == 0x8B
    }

    /// The decompressed contents of a gzip file. `file` names the source in
    /// errors; `limit` bounds the output (a guard against decompression
    /// bombs), 4 GiB by default.
    public static func decompress(_ bytes: [UInt8], file: String = "<gzip data>", limit: Int = 1 << 32) throws -> [UInt8] {
        try bytes.withUnsafeBufferPointer { try decompress($0, file: file, limit: limit) }
    }

    /// The first `count` bytes of a gzip file's contents (all of them when
    /// it holds fewer), inflating no more than that: what a reader needs to
    /// check a header before it decides how much to decompress. The stream
    /// is checked as far as it is read (the trailer CRC only when the data
    /// ends before `count`).
    public static func decompressPrefix(_ bytes: [UInt8], count: Int, file: String = "<gzip data>") throws -> [UInt8] {
        try bytes.withUnsafeBufferPointer { try decompress($0, file: file, limit: count, stopAtLimit: true) }
    }

    static func decompress(_ input: UnsafeBufferPointer<UInt8>, file: String, limit: Int, stopAtLimit: Bool = false) throws -> [UInt8] {
        func fail(_ message: String, _ offset: Int) -> DataFileError {
            DataFileError(file: file, location: .byte(offset), message: message)
        }
        var result: [UInt8] = []
        var position = 0
        repeat {
            let memberStart = position
            let hasMagic = input.count - position >= 2 && input[position] == 0x1F && input[position + 1] == 0x8B
            if !hasMagic && position > 0 {
                throw fail("\(input.count - position) bytes of trailing garbage after the gzip data", position)
            }
            guard hasMagic else {
                if input.count < 2 { throw fail("file of \(input.count) bytes is too short for a gzip header (10 bytes)", input.count) }
                throw fail(String(format: "not a gzip file: magic bytes %02x %02x, expected 1f 8b", input[0], input[1]), 0)
            }
            guard input.count - position >= 10 else {
                throw fail(position == 0 ? "file of \(input.count) bytes is too short for a gzip header (10 bytes)"
                                         : "gzip member header ends early (truncated data)", input.count)
            }
            guard input[position + 2] == 8 else {
                throw fail("compression method \(input[position + 2]) is not deflate (8)", position + 2)
            }
            let flags = input[position + 3]
            guard flags & 0xE0 == 0 else {
                throw fail(String(format: "reserved header flag bits are set (flags %02x)", flags), position + 3)
            }
            position += 10
            if flags & 0x04 != 0 {  // FEXTRA
                guard position + 2 <= input.count else { throw fail("gzip extra field length ends early (truncated data)", input.count) }
                let extraLength = Int(input[position]) | Int(input[position + 1]) << 8
                position += 2
                guard position + extraLength <= input.count else {
                    throw fail("gzip extra field of \(extraLength) bytes runs past the end of the file (truncated data)", position)
                }
                position += extraLength
            }
            for (flag, what) in [(UInt8(0x08), "file name"), (UInt8(0x10), "comment")] where flags & flag != 0 {
                var end = position
                while end < input.count && input[end] != 0 { end += 1 }
                guard end < input.count else {
                    throw fail("gzip \(what) field has no terminating zero byte (truncated data)", position)
                }
                position = end + 1
            }
            if flags & 0x02 != 0 {  // FHCRC
                guard position + 2 <= input.count else { throw fail("gzip header CRC ends early (truncated data)", input.count) }
                let stored = UInt32(input[position]) | UInt32(input[position + 1]) << 8
                let computed = crc32(UnsafeBufferPointer(rebasing: input[memberStart..<position])) & 0xFFFF
                guard stored == computed else {
                    throw fail(String(format: "gzip header CRC %04x does not match the header (%04x)", stored, computed), position)
                }
                position += 2
            }

            // The last member's ISIZE sizes the output buffer (bounded, as it
            // may be corrupt).
            let hint = input.count >= 4
                ? Int(readUInt32(input, input.count - 4)) : 0
            let data: [UInt8], streamEnd: Int?
            do {
                (data, streamEnd) = try Inflate.decompress(input, from: position, sizeHint: min(hint, 16 * input.count + 1024),
                                                           limit: limit - result.count, stopAtLimit: stopAtLimit)
            } catch let failure as Inflate.Failure {
                throw fail(failure.message, failure.byteOffset)
            }
            guard let end = streamEnd else { return result + data }  // stopped at the limit
            guard end + 8 <= input.count else {
                throw fail("gzip trailer (CRC-32 and length, 8 bytes) ends early (truncated data)", input.count)
            }
            let storedCRC = readUInt32(input, end)
            let storedSize = readUInt32(input, end + 4)
            let computedCRC = data.withUnsafeBufferPointer { crc32($0) }
            guard storedCRC == computedCRC else {
                throw fail(String(format: "CRC-32 mismatch: the trailer says %08x, the data gives %08x (corrupt data)",
                                  storedCRC, computedCRC), end)
            }
            guard storedSize == UInt32(truncatingIfNeeded: data.count) else {
                throw fail("length mismatch: the trailer says \(storedSize) bytes (mod 2^32), the data has \(data.count)", end + 4)
            }
            if result.isEmpty { result = data } else { result += data }
            position = end + 8
        } while position < input.count
        return result
    }

    private static func readUInt32(_ input: UnsafeBufferPointer<UInt8>, _ at: Int) -> UInt32 {
        UInt32(input[at]) | UInt32(input[at + 1]) << 8 | UInt32(input[at + 2]) << 16 | UInt32(input[at + 3]) << 24
    }

    // MARK: CRC-32

    /// The CRC-32 (ISO 3309, as gzip and zlib use) of `bytes`, continuing
    /// from `crc` (the CRC of the bytes before).
    public static func crc32(_ bytes: [UInt8], continuing crc: UInt32 = 0) -> UInt32 {
        bytes.withUnsafeBufferPointer { crc32($0, continuing: crc) }
    }

    static func crc32(_ bytes: UnsafeBufferPointer<UInt8>, continuing crc: UInt32 = 0) -> UInt32 {
        // zlib takes 32-bit lengths: larger buffers go in pieces.
        var c = UInt(crc)
        var offset = 0
        repeat {
            let count = min(bytes.count - offset, Int(UInt32.max))
            c = CZlib.crc32(c, bytes.baseAddress.map { $0 + offset }, uInt(count))
            offset += count
        } while offset < bytes.count
        return UInt32(c)
    }
}
