/// The small JSON reader and writer behind the safetensors header: strict
/// (RFC 8259 grammar, UTF-8 checked, duplicate keys rejected, nesting
/// bounded), with the byte offset of every value so that errors can point
/// into the file. Writing follows serde_json's compact form, which is what
/// the Rust safetensors library (and so PyTorch's `save_file`) writes.
enum HeaderJSON {
    struct Failure: Error {
        let message: String
        /// Offset into the parsed bytes.
        let offset: Int
    }

    indirect enum Value {
        case object([(key: String, value: Node)])
        case array([Node])
        case string(String)
        /// The number's text, as written.
        case number(String)
        case bool(Bool)
        case null

        var kind: String {
            switch self {
            case .object: return "an object"
            case .array: return "an array"
            case .string: return "a string"
            case .number: return "a number"
            case .bool: return "a boolean"
            case .null: return "null"
            }
        }
    }

    struct Node {
        let value: Value
        /// Offset of the value's first byte.
        let offset: Int
    }

    static let maxDepth = 64

    /// Parses `bytes` as one JSON value, allowing whitespace around it.
    static func parse(_ bytes: UnsafeRawBufferPointer) throws -> Node {
        if let bad = firstInvalidUTF8(bytes) { throw Failure(message: "header is not valid UTF-8", offset: bad) }
        var parser = Parser(bytes: bytes)
        parser.skipWhitespace()
        let node = try parser.value(depth: 0)
        parser.skipWhitespace()
        guard parser.position == bytes.count else {
            throw Failure(message: "unexpected text after the JSON header", offset: parser.position)
        }
        return node
    }

    /// The offset of the first byte that is not part of well-formed UTF-8
    /// (no overlong forms, surrogates or values above U+10FFFF), or nil.
    static func firstInvalidUTF8(_ bytes: UnsafeRawBufferPointer) -> Int? {
        var i = 0
        let n = bytes.count
        while i < n {
            let b0 = bytes[i]
            if b0 < 0x80 { i += 1; continue }
            let length: Int
            var low: UInt8 = 0x80, high: UInt8 = 0xBF
            switch b0 {
            case 0xC2...0xDF: length = 2
            case 0xE0: length = 3; low = 0xA0
            case 0xE1...0xEC, 0xEE...0xEF: length = 3
            case 0xED: length = 3; high = 0x9F
            case 0xF0: length = 4; low = 0x90
            case 0xF1...0xF3: length = 4
            case 0xF4: length = 4; high = 0x8F
            default: return i
            }
            guard i + length <= n else { return i }
            guard bytes[i + 1] >= low && bytes[i + 1] <= high else { return i }
            for k in 2..<length where bytes[i + k] < 0x80 || bytes[i + k] > 0xBF { return i }
            i += length
        }
        return nil
    }

    private struct Parser {
        let bytes: UnsafeRawBufferPointer
        var position = 0

        init(bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

        mutating func skipWhitespace() {
            while position < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[position]) { position += 1 }
        }

        func fail(_ message: String, at offset: Int? = nil) -> Failure {
            Failure(message: message, offset: offset ?? position)
        }

        mutating func value(depth: Int) throws -> Node {
            guard depth < HeaderJSON.maxDepth else { throw fail("JSON nested deeper than \(HeaderJSON.maxDepth) levels") }
            guard position < bytes.count else { throw fail("JSON header ends early") }
            let start = position
            switch bytes[position] {
            case UInt8(ascii: "{"):
                position += 1
                var members: [(key: String, value: Node)] = []
                var seen = Set<String>()
                skipWhitespace()
                if position < bytes.count && bytes[position] == UInt8(ascii: "}") {
                    position += 1
                    return Node(value: .object(members), offset: start)
                }
                while true {
                    skipWhitespace()
                    let keyOffset = position
                    guard position < bytes.count && bytes[position] == UInt8(ascii: "\"") else {
                        throw fail(position < bytes.count ? "expected a string key in a JSON object" : "JSON header ends early")
                    }
                    let key = try string()
                    guard seen.insert(key).inserted else { throw fail("duplicate key \"\(key)\" in a JSON object", at: keyOffset) }
                    skipWhitespace()
                    try expect(UInt8(ascii: ":"), "':' after an object key")
                    skipWhitespace()
                    members.append((key, try value(depth: depth + 1)))
                    skipWhitespace()
                    guard position < bytes.count else { throw fail("JSON header ends early") }
                    if bytes[position] == UInt8(ascii: ",") { position += 1; continue }
                    try expect(UInt8(ascii: "}"), "',' or '}' in a JSON object")
                    return Node(value: .object(members), offset: start)
                }
            case UInt8(ascii: "["):
                position += 1
                var elements: [Node] = []
                skipWhitespace()
                if position < bytes.count && bytes[position] == UInt8(ascii: "]") {
                    position += 1
                    return Node(value: .array(elements), offset: start)
                }
                while true {
                    skipWhitespace()
                    elements.append(try value(depth: depth + 1))
                    skipWhitespace()
                    guard position < bytes.count else { throw fail("JSON header ends early") }
                    if bytes[position] == UInt8(ascii: ",") { position += 1; continue }
                    try expect(UInt8(ascii: "]"), "',' or ']' in a JSON array")
                    return Node(value: .array(elements), offset: start)
                }
            case UInt8(ascii: "\""):
                return Node(value: .string(try string()), offset: start)
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                return Node(value: .number(try number()), offset: start)
            case UInt8(ascii: "t"): try literal("true"); return Node(value: .bool(true), offset: start)
            case UInt8(ascii: "f"): try literal("false"); return Node(value: .bool(false), offset: start)
            case UInt8(ascii: "n"): try literal("null"); return Node(value: .null, offset: start)
            default:
                throw fail("unexpected character in the JSON header")
            }
        }

        mutating func expect(_ byte: UInt8, _ what: String) throws {
            guard position < bytes.count else { throw fail("JSON header ends early") }
            guard bytes[position] == byte else { throw fail("expected \(what)") }
            position += 1
        }

        mutating func literal(_ word: String) throws {
            for expected in word.utf8 {
                guard position < bytes.count && bytes[position] == expected else { throw fail("invalid JSON literal (expected \(word))") }
                position += 1
            }
        }

        mutating func number() throws -> String {
            let start = position
            func digits() -> Int {
                let from = position
                while position < bytes.count && bytes[position] >= 0x30 && bytes[position] <= 0x39 { position += 1 }
                return position - from
            }
            if bytes[position] == UInt8(ascii: "-") { position += 1 }
            let integerStart = position
            let count = digits()
            guard count > 0 else { throw fail("invalid JSON number") }
            guard count == 1 || bytes[integerStart] != UInt8(ascii: "0") else { throw fail("JSON number with a leading zero", at: start) }
            if position < bytes.count && bytes[position] == UInt8(ascii: ".") {
                position += 1
                guard digits() > 0 else { throw fail("invalid JSON number") }
            }
            if position < bytes.count && (bytes[position] | 0x20) == UInt8(ascii: "e") {
                position += 1
                if position < bytes.count && (bytes[position] == UInt8(ascii: "+") || bytes[position] == UInt8(ascii: "-")) { position += 1 }
                guard digits() > 0 else { throw fail("invalid JSON number") }
            }
            return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self)
        }

        /// A string starting at the opening quote.
        mutating func string() throws -> String {
            position += 1
            var scalars = String.UnicodeScalarView()
            var runStart = position
            func flushRun() {
                if position > runStart {
                    scalars.append(contentsOf: String(decoding: UnsafeRawBufferPointer(rebasing: bytes[runStart..<position]), as: UTF8.self).unicodeScalars)
                }
            }
            while true {
                guard position < bytes.count else { throw fail("unterminated JSON string") }
                let byte = bytes[position]
                if byte == UInt8(ascii: "\"") {
                    flushRun()
                    position += 1
                    return String(scalars)
                }
                if byte < 0x20 { throw fail("control character in a JSON string (must be escaped)") }
                if byte != UInt8(ascii: "\\") { position += 1; continue }
                flushRun()
                let escapeStart = position
                position += 1
                guard position < bytes.count else { throw fail("unterminated JSON string") }
                let escaped = bytes[position]
                position += 1
                switch escaped {
                case UInt8(ascii: "\""): scalars.append("\"")
                case UInt8(ascii: "\\"): scalars.append("\\")
                case UInt8(ascii: "/"): scalars.append("/")
                case UInt8(ascii: "b"): scalars.append("\u{08}")
                case UInt8(ascii: "f"): scalars.append("\u{0C}")
                case UInt8(ascii: "n"): scalars.append("\n")
                case UInt8(ascii: "r"): scalars.append("\r")
                case UInt8(ascii: "t"): scalars.append("\t")
                case UInt8(ascii: "u"):
                    var code = try hex4(escapeStart)
                    if code >= 0xD800 && code < 0xDC00 {
                        guard position + 1 < bytes.count && bytes[position] == UInt8(ascii: "\\") && bytes[position + 1] == UInt8(ascii: "u") else {
                            throw fail("unpaired surrogate in a JSON \\u escape", at: escapeStart)
                        }
                        position += 2
                        let low = try hex4(escapeStart)
                        guard low >= 0xDC00 && low < 0xE000 else { throw fail("unpaired surrogate in a JSON \\u escape", at: escapeStart) }
                        code = 0x10000 + (code - 0xD800) << 10 + (low - 0xDC00)
                    } else if code >= 0xDC00 && code < 0xE000 {
                        throw fail("unpaired surrogate in a JSON \\u escape", at: escapeStart)
                    }
                    scalars.append(Unicode.Scalar(code)!)
                default:
                    throw fail("invalid escape in a JSON string", at: escapeStart)
                }
                runStart = position
            }
        }

        mutating func hex4(_ escapeStart: Int) throws -> UInt32 {
            guard position + 4 <= bytes.count else { throw fail("unterminated JSON string") }
            var value: UInt32 = 0
            for _ in 0..<4 {
                let b = bytes[position] | 0x20
                let digit: UInt8
                switch b {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = b - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = b - UInt8(ascii: "a") + 10
                default: throw fail("invalid \\u escape in a JSON string", at: escapeStart)
                }
                value = value << 4 | UInt32(digit)
                position += 1
            }
            return value
        }
    }

    // MARK: Writing

    /// `text` as a JSON string literal, escaped as serde_json does.
    static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}
