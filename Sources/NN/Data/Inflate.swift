/// Raw DEFLATE decompression (RFC 1951): stored, fixed-Huffman and
/// dynamic-Huffman blocks, with every malformed stream reported as a thrown
/// `Inflate.Failure` (the byte offset where decoding stopped), never a trap.
///
/// Huffman codes are decoded through a 2^10-entry table indexed by the next
/// ten input bits; longer codes (up to 15 bits) fall back to a canonical
/// decode bit by bit, as in Mark Adler's puff.c.
struct Inflate {
    struct Failure: Error {
        let message: String
        let byteOffset: Int
    }

    /// Decompresses the raw deflate stream that starts at `input[start]`.
    /// Returns the output and the offset of the first byte after the stream
    /// (the last block's final byte, padding bits discarded). Throws when the
    /// output would exceed `limit` bytes; with `stopAtLimit`, returns the
    /// first `limit` bytes instead and `end` nil (the stream goes on).
    static func decompress(_ input: UnsafeBufferPointer<UInt8>, from start: Int, sizeHint: Int = 0,
                           limit: Int = .max, stopAtLimit: Bool = false) throws -> (output: [UInt8], end: Int?) {
        var inflater = Inflate(input: input, start: start, limit: limit, stopAtLimit: stopAtLimit)
        inflater.output.reserveCapacity(max(0, min(sizeHint, limit)))
        do {
            try inflater.run()
        } catch is LimitReached {
            return (inflater.output, nil)
        }
        return (inflater.output, (inflater.consumedBits + 7) / 8)
    }

    /// Thrown inside a `stopAtLimit` decode once the output is full.
    private struct LimitReached: Error {}

    private let input: UnsafeBufferPointer<UInt8>
    /// The next input byte to load into `bitBuffer`; runs past the end when
    /// the decoder looks ahead (those bytes read as zero; consuming any of
    /// their bits is an error).
    private var next: Int
    private var bitBuffer: UInt64 = 0
    private var bitCount = 0
    private var output: [UInt8] = []
    private let limit: Int
    private let stopAtLimit: Bool

    private init(input: UnsafeBufferPointer<UInt8>, start: Int, limit: Int, stopAtLimit: Bool) {
        self.input = input
        self.next = start
        self.limit = limit
        self.stopAtLimit = stopAtLimit
    }

    /// How many of `count` more output bytes fit: all of them, or (with
    /// stopAtLimit) those up to the limit; past the limit otherwise, throws.
    private func room(for count: Int) throws -> Int {
        guard output.count + count > limit else { return count }
        guard stopAtLimit else { throw failure("decompressed data exceeds the limit of \(limit) bytes") }
        return limit - output.count
    }

    private var consumedBits: Int { next * 8 - bitCount }

    private func failure(_ message: String) -> Failure {
        Failure(message: message, byteOffset: min(consumedBits / 8, input.count))
    }

    // MARK: Bits

    /// Fills the bit buffer to at least 57 bits.
    @inline(__always)
    private mutating func refill() {
        while bitCount <= 56 {
            let byte: UInt64 = next < input.count ? UInt64(input[next]) : 0
            bitBuffer |= byte << UInt64(bitCount)
            bitCount += 8
            next += 1
        }
    }

    @inline(__always)
    private mutating func consume(_ n: Int) throws {
        bitBuffer >>= UInt64(n)
        bitCount -= n
        if next > input.count && consumedBits > input.count * 8 {
            throw Failure(message: "the deflate stream ends early (truncated data)", byteOffset: input.count)
        }
    }

    /// The next `n` (<= 16) bits, least significant first.
    @inline(__always)
    private mutating func bits(_ n: Int) throws -> Int {
        refill()
        let value = Int(truncatingIfNeeded: bitBuffer & ((1 << UInt64(n)) - 1))
        try consume(n)
        return value
    }

    // MARK: Blocks

    private mutating func run() throws {
        var last = false
        while !last {
            last = try bits(1) == 1
            switch try bits(2) {
            case 0: try storedBlock()
            case 1: try codesBlock(literals: Inflate.fixedLiterals, distances: Inflate.fixedDistances)
            case 2:
                let (literals, distances) = try dynamicTables()
                try codesBlock(literals: literals, distances: distances)
            default: throw failure("invalid block type 3")
            }
        }
    }

    private mutating func storedBlock() throws {
        // Skip to the byte boundary; whole bytes left in the buffer go back.
        let partial = bitCount & 7
        bitBuffer >>= UInt64(partial)
        bitCount -= partial
        var position = next - bitCount / 8
        bitBuffer = 0
        bitCount = 0
        next = position
        guard position + 4 <= input.count else {
            throw Failure(message: "the stored block header ends early (truncated data)", byteOffset: input.count)
        }
        let length = Int(input[position]) | Int(input[position + 1]) << 8
        let complement = Int(input[position + 2]) | Int(input[position + 3]) << 8
        guard length == ~complement & 0xFFFF else {
            throw Failure(message: "stored block length \(length) does not match its complement \(complement)",
                          byteOffset: position)
        }
        position += 4
        guard position + length <= input.count else {
            throw Failure(message: "stored block of \(length) bytes runs past the end of the data (truncated data)",
                          byteOffset: position)
        }
        let fits = try room(for: length)
        output.append(contentsOf: UnsafeBufferPointer(rebasing: input[position..<position + fits]))
        if fits < length { throw LimitReached() }
        next = position + length
    }

    private static let lengthBase: [Int] = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31,
                                            35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258]
    private static let lengthExtra: [Int] = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2,
                                             3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0]
    private static let distanceBase: [Int] = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193,
                                              257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145,
                                              8193, 12289, 16385, 24577]
    private static let distanceExtra: [Int] = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6,
                                               7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13]

    private mutating func codesBlock(literals: Huffman, distances: Huffman) throws {
        let lengthBase = Inflate.lengthBase, lengthExtra = Inflate.lengthExtra
        let distanceBase = Inflate.distanceBase, distanceExtra = Inflate.distanceExtra
        while true {
            let symbol = try decode(literals)
            if symbol < 256 {
                guard try room(for: 1) == 1 else { throw LimitReached() }
                output.append(UInt8(truncatingIfNeeded: symbol))
            } else if symbol == 256 {
                return
            } else {
                let lengthIndex = symbol - 257
                guard lengthIndex < 29 else { throw failure("invalid length symbol \(symbol)") }
                let length = lengthBase[lengthIndex] + (try bits(lengthExtra[lengthIndex]))
                let distanceSymbol = try decode(distances)
                guard distanceSymbol < 30 else { throw failure("invalid distance symbol \(distanceSymbol)") }
                let distance = distanceBase[distanceSymbol] + (try bits(distanceExtra[distanceSymbol]))
                guard distance <= output.count else {
                    throw failure("back-reference distance \(distance) reaches before the start of the data (\(output.count) bytes written)")
                }
                let fits = try room(for: length)
                var from = output.count - distance
                for _ in 0..<fits {
                    output.append(output[from])
                    from += 1
                }
                if fits < length { throw LimitReached() }
            }
        }
    }

    private static let codeLengthOrder = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]

    private mutating func dynamicTables() throws -> (Huffman, Huffman) {
        let literalCount = try bits(5) + 257
        let distanceCount = try bits(5) + 1
        let codeLengthCount = try bits(4) + 4
        guard literalCount <= 286 else { throw failure("dynamic block declares \(literalCount) literal/length codes (at most 286)") }
        guard distanceCount <= 30 else { throw failure("dynamic block declares \(distanceCount) distance codes (at most 30)") }

        var lengths = [UInt8](repeating: 0, count: 19)
        for i in 0..<codeLengthCount { lengths[Inflate.codeLengthOrder[i]] = UInt8(try bits(3)) }
        let codeLengths = Huffman(lengths: lengths[...])
        guard codeLengths.unassigned == 0 else {
            throw failure("dynamic block's code-length code is \(codeLengths.unassigned < 0 ? "over-subscribed" : "incomplete")")
        }

        let total = literalCount + distanceCount
        lengths = [UInt8](repeating: 0, count: total)
        var index = 0
        while index < total {
            let symbol = try decode(codeLengths)
            if symbol < 16 {
                lengths[index] = UInt8(symbol)
                index += 1
                continue
            }
            var value: UInt8 = 0
            let repeats: Int
            switch symbol {
            case 16:
                guard index > 0 else { throw failure("dynamic block repeats a code length before the first one") }
                value = lengths[index - 1]
                repeats = 3 + (try bits(2))
            case 17: repeats = 3 + (try bits(3))
            default: repeats = 11 + (try bits(7))
            }
            guard index + repeats <= total else { throw failure("dynamic block's code lengths overrun the declared count \(total)") }
            for k in index..<index + repeats { lengths[k] = value }
            index += repeats
        }
        guard lengths[256] != 0 else { throw failure("dynamic block has no end-of-block code") }

        let literals = Huffman(lengths: lengths[0..<literalCount])
        // An incomplete code is allowed only when it is a single code of length 1.
        guard literals.unassigned == 0 || (literals.unassigned > 0 && literals.counts[1] == 1 && literals.codeCount == 1) else {
            throw failure("dynamic block's literal/length code is \(literals.unassigned < 0 ? "over-subscribed" : "incomplete")")
        }
        let distances = Huffman(lengths: lengths[literalCount..<total])
        guard distances.unassigned == 0 || (distances.unassigned > 0 && distances.codeCount <= 1 && distances.counts[1] == distances.codeCount) else {
            throw failure("dynamic block's distance code is \(distances.unassigned < 0 ? "over-subscribed" : "incomplete")")
        }
        return (literals, distances)
    }

    // MARK: Huffman codes

    private static let fixedLiterals: Huffman = {
        var lengths = [UInt8](repeating: 8, count: 288)
        for i in 144..<256 { lengths[i] = 9 }
        for i in 256..<280 { lengths[i] = 7 }
        return Huffman(lengths: lengths[...])
    }()

    // All 32 five-bit codes: 30 and 31 decode, then fail as invalid symbols.
    private static let fixedDistances = Huffman(lengths: [UInt8](repeating: 5, count: 32)[...])

    @inline(__always)
    private mutating func decode(_ code: Huffman) throws -> Int {
        refill()
        let entry = code.fast[Int(truncatingIfNeeded: bitBuffer & UInt64(Huffman.fastMask))]
        if entry != 0 {
            try consume(Int(entry & 15))
            return Int(entry >> 4)
        }
        // Longer than the table, or not a code at all: canonical decode.
        var bits = bitBuffer
        var codeValue = 0, first = 0, index = 0
        for length in 1...15 {
            codeValue |= Int(truncatingIfNeeded: bits & 1)
            bits >>= 1
            let count = code.counts[length]
            if codeValue < first + count {
                try consume(length)
                return Int(code.symbols[index + codeValue - first])
            }
            index += count
            first = (first + count) << 1
            codeValue <<= 1
        }
        if next > input.count && consumedBits + 15 > input.count * 8 {
            throw Failure(message: "the deflate stream ends early (truncated data)", byteOffset: input.count)
        }
        throw failure("invalid Huffman code")
    }

    /// A canonical Huffman code from its code lengths.
    struct Huffman {
        static let fastBits = 10
        static let fastMask = (1 << fastBits) - 1

        /// Indexed by the next `fastBits` input bits: symbol << 4 | length,
        /// or 0 where the code is longer than `fastBits` (or unassigned).
        var fast: [UInt16]
        /// Number of codes of each length 0...15.
        var counts: [Int]
        /// Symbols in canonical order.
        var symbols: [UInt16]
        /// Codes left unassigned: 0 for a complete code, > 0 incomplete,
        /// < 0 over-subscribed.
        var unassigned: Int
        /// Number of symbols with a code.
        var codeCount: Int

        init(lengths: ArraySlice<UInt8>) {
            counts = [Int](repeating: 0, count: 16)
            for length in lengths { counts[Int(length)] += 1 }
            codeCount = lengths.count - counts[0]
            var left = 1
            for length in 1...15 {
                left <<= 1
                left -= counts[length]
                if left < 0 { break }
            }
            unassigned = left
            fast = [UInt16](repeating: 0, count: 1 << Huffman.fastBits)
            symbols = []
            guard left >= 0 else { return }

            var offsets = [Int](repeating: 0, count: 16)
            for length in 1..<15 { offsets[length + 1] = offsets[length] + counts[length] }
            symbols = [UInt16](repeating: 0, count: codeCount)
            for (symbol, length) in lengths.enumerated() where length != 0 {
                symbols[offsets[Int(length)]] = UInt16(symbol)
                offsets[Int(length)] += 1
            }
            var code = 0, index = 0
            for length in 1...15 {
                for _ in 0..<counts[length] {
                    if length <= Huffman.fastBits {
                        var reversed = 0
                        for bit in 0..<length where code & (1 << bit) != 0 { reversed |= 1 << (length - 1 - bit) }
                        let entry = symbols[index] << 4 | UInt16(length)
                        var slot = reversed
                        while slot < 1 << Huffman.fastBits {
                            fast[slot] = entry
                            slot += 1 << length
                        }
                    }
                    code += 1
                    index += 1
                }
                code <<= 1
            }
        }
    }
}
