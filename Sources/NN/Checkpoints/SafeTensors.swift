/// The tensors and metadata of a safetensors file.
public struct SafeTensorsContents: Sendable {
    /// The tensors in the order of their data in the file.
    public let tensors: [(name: String, tensor: Tensor)]
    /// The `__metadata__` string map (empty when absent).
    public let metadata: [String: String]

    /// The tensors by name (what `Module.loadStateDict` takes).
    public var dictionary: [String: Tensor] {
        Dictionary(uniqueKeysWithValues: tensors.map { ($0.name, $0.tensor) })
    }
}

/// The safetensors format (https://github.com/huggingface/safetensors), as
/// PyTorch's `safetensors.torch.save_file` / `load_file` write and read it:
///
///     8 bytes      N, the header length, unsigned little-endian
///     N bytes      JSON: {"__metadata__": {string: string}?,
///                         name: {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ...}
///                  padded with spaces to a multiple of 8
///     the rest     the tensors' bytes, little-endian, row-major; offsets are
///                  relative to the start of this section, and the tensors
///                  cover it exactly, without gaps or overlaps
///
/// Writing matches the Rust library byte for byte (tensors sorted by dtype
/// alignment, largest first, then by name; metadata keys sorted, where the
/// Rust library's order is arbitrary). Reading accepts F32, F64, I32 and I64
/// (PyTorch's `num_batches_tracked`, labels, indices) as such, and converts
/// F16/BF16 to float32; it validates everything and reports what is wrong
/// with the byte offset.
public enum SafeTensors {
    /// The largest header read (as the Rust library: 100 MB).
    public static let maxHeaderSize = 100_000_000

    // MARK: Writing

    /// The file bytes for `tensors` (downloaded from their devices) and
    /// `metadata`. Names must be unique and not "__metadata__".
    public static func encode(_ tensors: [(name: String, tensor: Tensor)], metadata: [String: String] = [:]) throws -> [UInt8] {
        var names = Set<String>()
        for (name, _) in tensors {
            require(name != "__metadata__", "SafeTensors.encode: '__metadata__' is reserved and cannot name a tensor")
            require(names.insert(name).inserted, "SafeTensors.encode: duplicate tensor name '\(name)'")
        }
        // The Rust library's order: its Dtype enum's, descending (I64 > F64 > F32 > I32).
        func rank(_ dtype: DType) -> Int {
            switch dtype {
            case .int64: return 3
            case .float64: return 2
            case .float32: return 1
            case .int32: return 0
            }
        }
        let ordered = tensors.sorted { a, b in
            let ra = rank(a.tensor.dtype), rb = rank(b.tensor.dtype)
            if ra != rb { return ra > rb }
            return a.name.utf8.lexicographicallyPrecedes(b.name.utf8)
        }

        var header = "{"
        var entries: [String] = []
        if !metadata.isEmpty {
            let pairs = metadata.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
                .map { HeaderJSON.quoted($0.key) + ":" + HeaderJSON.quoted($0.value) }
            entries.append("\"__metadata__\":{" + pairs.joined(separator: ",") + "}")
        }
        var offset = 0
        for (name, tensor) in ordered {
            let size = tensor.count * tensor.dtype.byteSize
            let shape = tensor.shape.map(String.init).joined(separator: ",")
            entries.append(HeaderJSON.quoted(name) + ":{\"dtype\":\"\(fileDType(tensor.dtype))\",\"shape\":[\(shape)],\"data_offsets\":[\(offset),\(offset + size)]}")
            offset += size
        }
        header += entries.joined(separator: ",") + "}"
        var headerBytes = Array(header.utf8)
        headerBytes += [UInt8](repeating: 0x20, count: (8 - headerBytes.count % 8) % 8)

        var out = [UInt8]()
        out.reserveCapacity(8 + headerBytes.count + offset)
        withUnsafeBytes(of: UInt64(headerBytes.count).littleEndian) { out += $0 }
        out += headerBytes
        for (_, tensor) in ordered {
            switch tensor.dtype {
            case .float32: appendLittleEndian(try tensor.toArray(as: Float.self).map(\.bitPattern), to: &out)
            case .float64: appendLittleEndian(try tensor.toArray(as: Double.self).map(\.bitPattern), to: &out)
            case .int32: appendLittleEndian(try tensor.toArray(as: Int32.self).map { UInt32(bitPattern: $0) }, to: &out)
            case .int64: appendLittleEndian(try tensor.toArray(as: Int64.self).map { UInt64(bitPattern: $0) }, to: &out)
            }
        }
        return out
    }

    private static func fileDType(_ dtype: DType) -> String {
        switch dtype {
        case .float32: return "F32"
        case .float64: return "F64"
        case .int32: return "I32"
        case .int64: return "I64"
        }
    }

    private static func appendLittleEndian<T: FixedWidthInteger>(_ values: [T], to out: inout [UInt8]) {
        if T(1).littleEndian == T(1) {
            values.withUnsafeBytes { out += $0 }
        } else {
            values.map(\.littleEndian).withUnsafeBytes { out += $0 }
        }
    }

    // MARK: Reading

    /// The element types a safetensors file may declare, with their sizes.
    private static let knownDTypes: [String: Int] = [
        "BOOL": 1, "U8": 1, "I8": 1, "F8_E5M2": 1, "F8_E4M3": 1, "F8_E8M0": 1,
        "I16": 2, "U16": 2, "F16": 2, "BF16": 2,
        "I32": 4, "U32": 4, "F32": 4,
        "I64": 8, "U64": 8, "F64": 8,
    ]
    private static let readableDTypes: Set<String> = ["F32", "F64", "I32", "I64", "F16", "BF16"]

    /// Decodes a whole safetensors file held in `bytes`, uploading the
    /// tensors to `device`. `file` names the source in errors.
    public static func decode(_ bytes: [UInt8], file: String = "<safetensors data>", on device: Device = .default) throws -> SafeTensorsContents {
        try bytes.withUnsafeBytes { try decode($0, file: file, on: device) }
    }

    private struct Entry {
        let name: String
        let dtype: String
        let shape: [Int]
        let begin: Int
        let end: Int
        /// Offset of the entry's value in the file.
        let fileOffset: Int
    }

    static func decode(_ bytes: UnsafeRawBufferPointer, file: String, on device: Device) throws -> SafeTensorsContents {
        func fail(_ message: String, _ offset: Int?) -> CheckpointError {
            CheckpointError(file: file, message: message, byteOffset: offset)
        }
        guard bytes.count >= 8 else {
            throw fail("file of \(bytes.count) bytes is too short for a safetensors file (8-byte header length)", bytes.count)
        }
        var rawLength: UInt64 = 0
        for i in (0..<8).reversed() { rawLength = rawLength << 8 | UInt64(bytes[i]) }
        guard rawLength <= UInt64(maxHeaderSize) else {
            throw fail("header length \(rawLength) exceeds the limit of \(maxHeaderSize) bytes (not a safetensors file, or corrupt)", 0)
        }
        let headerLength = Int(rawLength)
        guard 8 + headerLength <= bytes.count else {
            throw fail("header length \(headerLength) runs past the end of the file (\(bytes.count) bytes; truncated?)", 0)
        }
        guard headerLength >= 2 else { throw fail("header length \(headerLength) is too short for a JSON object", 0) }
        let headerBytes = UnsafeRawBufferPointer(rebasing: bytes[8..<8 + headerLength])
        guard headerBytes[0] == UInt8(ascii: "{") else { throw fail("header does not start with '{'", 8) }

        let root: HeaderJSON.Node
        do {
            root = try HeaderJSON.parse(headerBytes)
        } catch let failure as HeaderJSON.Failure {
            throw fail(failure.message, 8 + failure.offset)
        }
        guard case .object(let members) = root.value else { throw fail("header is not a JSON object", 8) }

        // Parse every entry.
        var metadata: [String: String] = [:]
        var entries: [Entry] = []
        for (key, node) in members {
            let at = 8 + node.offset
            if key == "__metadata__" {
                guard case .object(let pairs) = node.value else { throw fail("__metadata__ is \(node.value.kind), not an object of strings", at) }
                for (k, v) in pairs {
                    guard case .string(let text) = v.value else {
                        throw fail("__metadata__ value of \"\(k)\" is \(v.value.kind), not a string", 8 + v.offset)
                    }
                    metadata[k] = text
                }
                continue
            }
            guard case .object(let fields) = node.value else { throw fail("entry for tensor '\(key)' is \(node.value.kind), not an object", at) }
            func field(_ name: String) throws -> HeaderJSON.Node {
                guard let found = fields.first(where: { $0.key == name }) else {
                    throw fail("tensor '\(key)' has no \"\(name)\"", at)
                }
                return found.value
            }
            func integers(_ name: String) throws -> [Int] {
                let node = try field(name)
                guard case .array(let elements) = node.value else {
                    throw fail("\"\(name)\" of tensor '\(key)' is \(node.value.kind), not an array", 8 + node.offset)
                }
                return try elements.map { element in
                    guard case .number(let text) = element.value, let value = Int(text), value >= 0 else {
                        throw fail("\"\(name)\" of tensor '\(key)' holds \(element.value.kind == "a number" ? "a value" : element.value.kind) that is not a non-negative integer", 8 + element.offset)
                    }
                    return value
                }
            }
            let dtypeNode = try field("dtype")
            guard case .string(let dtype) = dtypeNode.value else {
                throw fail("\"dtype\" of tensor '\(key)' is \(dtypeNode.value.kind), not a string", 8 + dtypeNode.offset)
            }
            guard let elementSize = knownDTypes[dtype] else {
                throw fail("tensor '\(key)' has unknown dtype \"\(dtype)\"", 8 + dtypeNode.offset)
            }
            let shape = try integers("shape")
            let offsets = try integers("data_offsets")
            let offsetsNode = try field("data_offsets")
            guard offsets.count == 2 else {
                throw fail("\"data_offsets\" of tensor '\(key)' has \(offsets.count) values, not 2", 8 + offsetsNode.offset)
            }
            guard offsets[0] <= offsets[1] else {
                throw fail("data_offsets [\(offsets[0]), \(offsets[1])] of tensor '\(key)' end before they begin", 8 + offsetsNode.offset)
            }
            // Even with a zero dimension, the others must multiply to a sane size
            // (code that computes strides multiplies them).
            var extent = 1
            for size in shape where size > 0 {
                let (product, o) = extent.multipliedReportingOverflow(by: size)
                guard !o && product <= 1 << 48 else {
                    throw fail("shape \(shape) of tensor '\(key)' is too large (its dimensions multiply past 2^48)",
                               8 + (try field("shape")).offset)
                }
                extent = product
            }
            var elements = 1
            var overflow = false
            for size in shape {
                let (product, o) = elements.multipliedReportingOverflow(by: size)
                elements = product
                overflow = overflow || o
            }
            let (byteCount, o2) = elements.multipliedReportingOverflow(by: elementSize)
            guard !overflow && !o2 && byteCount == offsets[1] - offsets[0] else {
                let needed = overflow || o2 ? "more bytes than any file holds" : "\(byteCount) bytes"
                throw fail("tensor '\(key)' of shape \(shape) and dtype \(dtype) needs \(needed), but its data_offsets [\(offsets[0]), \(offsets[1])] span \(offsets[1] - offsets[0])",
                           8 + offsetsNode.offset)
            }
            entries.append(Entry(name: key, dtype: dtype, shape: shape, begin: offsets[0], end: offsets[1], fileOffset: at))
        }

        // The tensors must tile the data section exactly.
        let dataStart = 8 + headerLength
        let dataLength = bytes.count - dataStart
        let byPosition = entries.sorted { ($0.begin, $0.end) < ($1.begin, $1.end) }
        var expected = 0
        var previous: Entry?
        for entry in byPosition {
            guard entry.end <= dataLength else {
                throw fail("data of tensor '\(entry.name)' [\(entry.begin), \(entry.end)) runs past the end of the file (the data section has \(dataLength) bytes; truncated?)",
                           dataStart + min(entry.begin, dataLength))
            }
            if entry.begin < expected {
                throw fail("data of tensor '\(entry.name)' [\(entry.begin), \(entry.end)) overlaps tensor '\(previous!.name)' [\(previous!.begin), \(previous!.end))",
                           dataStart + entry.begin)
            }
            if entry.begin > expected {
                throw fail("\(entry.begin - expected) bytes before tensor '\(entry.name)' belong to no tensor (data_offsets leave a gap)",
                           dataStart + expected)
            }
            expected = entry.end
            previous = entry
        }
        guard expected == dataLength else {
            throw fail("\(dataLength - expected) bytes after the last tensor's data belong to no tensor (trailing garbage)",
                       dataStart + expected)
        }

        // Convert (all checks passed above).
        var tensors: [(name: String, tensor: Tensor)] = []
        for entry in byPosition {
            guard readableDTypes.contains(entry.dtype) else {
                throw fail("tensor '\(entry.name)' has dtype \(entry.dtype); this library reads F32, F64, I32, I64, F16 and BF16 (as float32)",
                           entry.fileOffset)
            }
            let data = UnsafeRawBufferPointer(rebasing: bytes[dataStart + entry.begin..<dataStart + entry.end])
            let tensor: Tensor
            switch entry.dtype {
            case "F32":
                tensor = Tensor(read(data, as: UInt32.self).map(Float.init(bitPattern:)), shape: entry.shape, on: device)
            case "F64":
                tensor = Tensor(float64: read(data, as: UInt64.self).map(Double.init(bitPattern:)), shape: entry.shape, on: device)
            case "I32":
                tensor = Tensor(int32: read(data, as: UInt32.self).map { Int32(bitPattern: $0) }, shape: entry.shape, on: device)
            case "I64":
                tensor = Tensor(int64: read(data, as: UInt64.self).map { Int64(bitPattern: $0) }, shape: entry.shape, on: device)
            case "BF16":
                tensor = Tensor(read(data, as: UInt16.self).map { Float(bitPattern: UInt32($0) << 16) }, shape: entry.shape, on: device)
            default:  // F16
                tensor = Tensor(read(data, as: UInt16.self).map(floatFromHalf), shape: entry.shape, on: device)
            }
            tensors.append((entry.name, tensor))
        }
        return SafeTensorsContents(tensors: tensors, metadata: metadata)
    }

    private static func read<T: FixedWidthInteger>(_ data: UnsafeRawBufferPointer, as type: T.Type) -> [T] {
        let n = data.count / MemoryLayout<T>.size
        return [T](unsafeUninitializedCapacity: n) { buffer, initialized in
            if n > 0 { UnsafeMutableRawBufferPointer(buffer).copyMemory(from: data) }
            if T(1).littleEndian != T(1) {
                for i in 0..<n { buffer[i] = T(littleEndian: buffer[i]) }
            }
            initialized = n
        }
    }

    /// IEEE binary16 to Float (exact).
    static func floatFromHalf(_ h: UInt16) -> Float {
        let sign = UInt32(h >> 15) << 31
        let exponent = Int(h >> 10) & 0x1F
        let mantissa = UInt32(h & 0x3FF)
        if exponent == 0x1F { return Float(bitPattern: sign | 0x7F80_0000 | mantissa << 13) }
        if exponent == 0 {
            let magnitude = Float(mantissa) * 0x1p-24
            return sign != 0 ? -magnitude : magnitude
        }
        return Float(bitPattern: sign | UInt32(exponent - 15 + 127) << 23 | mantissa << 13)
    }
}
