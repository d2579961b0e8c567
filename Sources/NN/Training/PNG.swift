import CZlib
import Foundation

/// 8-bit grayscale PNG files (the diagnostics' filter images), compressed
/// with zlib: the signature, IHDR, one IDAT of deflated rows (each behind
/// filter byte 0), IEND, every chunk with its CRC-32.
public enum PNG {
    /// The file bytes of a `width` x `height` image, `pixels` row by row.
    public static func grayscale(width: Int, height: Int, pixels: [UInt8]) -> [UInt8] {
        require(width >= 1 && height >= 1 && pixels.count == width * height,
                "PNG.grayscale: \(pixels.count) pixels for \(width) x \(height)")
        var rows = [UInt8]()
        rows.reserveCapacity((width + 1) * height)
        for y in 0..<height {
            rows.append(0)  // filter: none
            rows += pixels[y * width..<(y + 1) * width]
        }
        var out: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        var header = bigEndian(UInt32(width)) + bigEndian(UInt32(height))
        header += [8, 0, 0, 0, 0]  // bit depth 8, grayscale, deflate, adaptive filtering, no interlace
        appendChunk("IHDR", header, to: &out)
        appendChunk("IDAT", deflate(rows), to: &out)
        appendChunk("IEND", [], to: &out)
        return out
    }

    /// Writes the image atomically.
    public static func writeGrayscale(width: Int, height: Int, pixels: [UInt8], to url: URL) throws {
        try Data(grayscale(width: width, height: height, pixels: pixels)).write(to: url, options: .atomic)
    }

    /// A zlib stream of `bytes` (compress2 at level 9).
    static func deflate(_ bytes: [UInt8]) -> [UInt8] {
        var size = compressBound(uLong(bytes.count))
        var out = [UInt8](repeating: 0, count: Int(size))
        let status = out.withUnsafeMutableBufferPointer { o in
            bytes.withUnsafeBufferPointer { i in compress2(o.baseAddress, &size, i.baseAddress, uLong(bytes.count), 9) }
        }
        // compressBound is an upper bound, and the buffers are ours: only
        // a broken zlib could fail here.
        require(status == Z_OK, "PNG: zlib compress2 failed with status \(status)")
        return Array(out.prefix(Int(size)))
    }

    /// CRC-32 (zlib's) of `bytes`.
    static func crc(_ bytes: [UInt8]) -> UInt32 {
        UInt32(bytes.withUnsafeBufferPointer { crc32(0, $0.baseAddress, uInt($0.count)) })
    }

    private static func appendChunk(_ type: String, _ data: [UInt8], to out: inout [UInt8]) {
        let typed = Array(type.utf8) + data
        out += bigEndian(UInt32(data.count)) + typed + bigEndian(crc(typed))
    }

    private static func bigEndian(_ value: UInt32) -> [UInt8] {
        [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)]
    }
}
