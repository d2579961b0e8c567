import Foundation

/// Writes deflate bit streams: header fields least significant bit
/// first, Huffman codes most significant bit first.
struct DeflateBitWriter {
    var bytes: [UInt8] = []
    var bitCount = 0

    mutating func bits(_ value: Int, _ count: Int) {
        for i in 0..<count { bit((value >> i) & 1) }
    }

    mutating func code(_ value: Int, _ length: Int) {
        for i in (0..<length).reversed() { bit((value >> i) & 1) }
    }

    mutating func bit(_ b: Int) {
        if bitCount % 8 == 0 { bytes.append(0) }
        bytes[bytes.count - 1] |= UInt8(b) << UInt8(bitCount % 8)
        bitCount += 1
    }

    /// A literal/length symbol in the fixed code.
    mutating func fixedSymbol(_ s: Int) {
        switch s {
        case 0..<144: code(0x30 + s, 8)
        case 144..<256: code(0x190 + s - 144, 9)
        case 256..<280: code(s - 256, 7)
        default: code(0xC0 + s - 280, 8)
        }
    }

    mutating func alignToByte() { bitCount = bytes.count * 8 }
}

extension DeflateBitWriter {
    /// A gzip file whose one fixed-Huffman block holds `prefix` as literals
    /// and then `zeros` more zero bytes as back-references of length 258 at
    /// distance 1 (13 bits each, so about 2,500 times smaller than its
    /// output): a decompression bomb behind an arbitrary first few bytes.
    /// `prefix` must end with a zero byte. The trailer is left zero.
    static func gzipBomb(prefix: [UInt8], zeros: Int) -> [UInt8] {
        precondition(prefix.last == 0, "gzipBomb: the prefix must end with a zero byte (the references copy it)")
        var w = DeflateBitWriter()
        w.bits(1, 1); w.bits(1, 2)  // BFINAL, fixed Huffman
        for byte in prefix { w.fixedSymbol(Int(byte)) }
        func reference(_ w: inout DeflateBitWriter) { w.fixedSymbol(285); w.code(0, 5) }  // length 258, distance 1
        // Up to a byte boundary one reference at a time, then 8 references
        // (104 bits, 13 bytes) copied as bytes.
        var remaining = zeros / 258
        while w.bitCount % 8 != 0 { reference(&w); remaining -= 1 }
        var eight = DeflateBitWriter()
        for _ in 0..<8 { reference(&eight) }
        var bytes = [0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 3] + w.bytes
        bytes.reserveCapacity(bytes.count + remaining / 8 * 13 + 16)
        for _ in 0..<(remaining / 8) { bytes += eight.bytes }
        var tail = DeflateBitWriter()
        for _ in 0..<(remaining % 8) { reference(&tail) }
        tail.fixedSymbol(256)
        return bytes + tail.bytes + [UInt8](repeating: 0, count: 8)
    }
}
