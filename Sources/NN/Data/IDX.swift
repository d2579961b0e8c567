import Foundation

/// An array read from an IDX file (the format of MNIST and its relatives):
/// element type, shape, and the values, big-endian as stored.
///
/// Layout: two zero bytes, a type code (08 u8, 09 i8, 0B i16, 0C i32,
/// 0D f32, 0E f64), the number of dimensions, each dimension as a
/// big-endian u32, then the values in row-major order, big-endian. The file
/// must hold exactly that many bytes.
public struct IDXArray: Sendable {
    public enum ElementType: UInt8, CaseIterable, Sendable {
        case uint8 = 0x08, int8 = 0x09, int16 = 0x0B, int32 = 0x0C, float32 = 0x0D, float64 = 0x0E

        public var byteSize: Int {
            switch self {
            case .uint8, .int8: return 1
            case .int16: return 2
            case .int32, .float32: return 4
            case .float64: return 8
            }
        }
    }

    public let elementType: ElementType
    public let shape: [Int]
    /// The values as stored (big-endian).
    public let storage: [UInt8]

    public var count: Int { shape.reduce(1, *) }

    /// The values converted to Float (exact for the integer types but i32
    /// beyond 2^24).
    public func floats() -> [Float] {
        storage.withUnsafeBufferPointer { raw in
            let n = count
            switch elementType {
            case .uint8: return raw.map { Float($0) }
            case .int8: return raw.map { Float(Int8(bitPattern: $0)) }
            case .int16: return (0..<n).map { Float(Int16(bitPattern: UInt16(raw[2 * $0]) << 8 | UInt16(raw[2 * $0 + 1]))) }
            case .int32: return (0..<n).map { Float(Int32(bitPattern: IDXArray.word(raw, 4 * $0))) }
            case .float32: return (0..<n).map { Float(bitPattern: IDXArray.word(raw, 4 * $0)) }
            case .float64:
                return (0..<n).map { Float(Double(bitPattern: UInt64(IDXArray.word(raw, 8 * $0)) << 32
                                                    | UInt64(IDXArray.word(raw, 8 * $0 + 4)))) }
            }
        }
    }

    /// The values as Int32, for integer element types (nil for floats).
    public func int32s() -> [Int32]? {
        storage.withUnsafeBufferPointer { raw in
            switch elementType {
            case .uint8: return raw.map { Int32($0) }
            case .int8: return raw.map { Int32(Int8(bitPattern: $0)) }
            case .int16: return (0..<count).map { Int32(Int16(bitPattern: UInt16(raw[2 * $0]) << 8 | UInt16(raw[2 * $0 + 1]))) }
            case .int32: return (0..<count).map { Int32(bitPattern: IDXArray.word(raw, 4 * $0)) }
            case .float32, .float64: return nil
            }
        }
    }

    @inline(__always)
    private static func word(_ raw: UnsafeBufferPointer<UInt8>, _ at: Int) -> UInt32 {
        UInt32(raw[at]) << 24 | UInt32(raw[at + 1]) << 16 | UInt32(raw[at + 2]) << 8 | UInt32(raw[at + 3])
    }
}

/// Reads IDX files, plain or gzip-compressed (recognized by their content,
/// not their name).
public enum IDX {
    /// The array in the IDX file at `url` (`.gz` or plain).
    public static func read(contentsOf url: URL) throws -> IDXArray {
        try decode(DataFiles.read(url), file: url.path)
    }

    /// The array in `bytes` (an IDX file, plain or gzip-compressed); `file`
    /// names the source in errors.
    /// A gzip file is inflated twice over at most: first the largest header
    /// an IDX file can have, then exactly the size that header declares plus
    /// one byte (to see trailing data), so a decompression bomb costs what
    /// its header claims, never what its stream would expand to.
    public static func decode(_ bytes: [UInt8], file: String = "<IDX data>") throws -> IDXArray {
        let compressed = Gzip.isGzip(bytes)
        var data = bytes
        if compressed {
            let header = try Gzip.decompressPrefix(bytes, count: 4 + 4 * 255, file: file)
            // A header that does not parse fails here with its own message.
            let declared = (try? parse(header, file: "\(file) (decompressed)", headerOnly: true))?.size ?? header.count
            data = try Gzip.decompressPrefix(bytes, count: declared + 1, file: file)
        }
        return try parse(data, file: compressed ? "\(file) (decompressed)" : file, headerOnly: false).array!
    }

    /// Checks `data` as an IDX file. `headerOnly`: `data` may be just the
    /// first bytes; returns the file size its header declares. Otherwise
    /// the whole file, returned as an array.
    private static func parse(_ data: [UInt8], file name: String, headerOnly: Bool) throws -> (size: Int, array: IDXArray?) {
        func fail(_ message: String, _ offset: Int) -> DataFileError {
            DataFileError(file: name, location: .byte(offset), message: message)
        }
        guard data.count >= 4 else {
            throw fail("\(data.count) bytes is too short for an IDX header (4-byte magic number)", data.count)
        }
        guard data[0] == 0 && data[1] == 0 else {
            throw fail(String(format: "not an IDX file: magic number starts %02x %02x, expected 00 00", data[0], data[1]), 0)
        }
        guard let type = IDXArray.ElementType(rawValue: data[2]) else {
            throw fail(String(format: "unknown IDX element type %02x (expected 08, 09, 0b, 0c, 0d or 0e)", data[2]), 2)
        }
        let rank = Int(data[3])
        guard rank >= 1 else { throw fail("IDX file declares 0 dimensions", 3) }
        let headerSize = 4 + 4 * rank
        guard data.count >= headerSize else {
            throw fail("the header declares \(rank) dimensions (\(headerSize) bytes) but the data has only \(data.count) bytes", data.count)
        }
        var shape: [Int] = []
        var elements = 1
        for axis in 0..<rank {
            let at = 4 + 4 * axis
            let size = Int(data[at]) << 24 | Int(data[at + 1]) << 16 | Int(data[at + 2]) << 8 | Int(data[at + 3])
            shape.append(size)
            // Dimensions are < 2^32 each; stop once the product passes what any file could hold.
            elements = elements.multipliedReportingOverflow(by: size).overflow ? Int.max : elements * size
            if elements > Int(Int32.max) * 8 { elements = Int.max }
        }
        // Even with a zero dimension, the others must multiply to a sane size
        // (code that computes strides multiplies them).
        var extent = 1
        for size in shape where size > 0 {
            let (product, o) = extent.multipliedReportingOverflow(by: size)
            guard !o && product <= 1 << 48 else {
                throw fail("dimensions \(shape) are too large (their product passes 2^48)", 4)
            }
            extent = product
        }
        let available = data.count - headerSize
        let (needed, overflow) = elements.multipliedReportingOverflow(by: type.byteSize)
        if headerOnly && !overflow && elements != .max { return (headerSize + needed, nil) }
        if overflow || elements == .max || needed > available {
            let neededText = overflow || elements == .max ? "more bytes than any file holds" : "\(needed) bytes"
            throw fail("truncated: shape \(shape) of \(type) needs \(neededText) after the \(headerSize)-byte header, the file has \(available)",
                       data.count)
        }
        guard needed == available else {
            throw fail("\(available - needed) bytes of trailing data after the \(needed) bytes of values of shape \(shape)",
                       headerSize + needed)
        }
        return (data.count, IDXArray(elementType: type, shape: shape, storage: Array(data[headerSize...])))
    }
}
