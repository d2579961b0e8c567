import CZlib

/// Raw DEFLATE decompression (RFC 1951) through zlib, with a bounded output
/// and every malformed stream reported as a thrown `Inflate.Failure` (zlib's
/// reason and the byte offset where decoding stopped), never a trap.
/// zlib replaced a hand-written decoder: it is maintained by others, is on
/// every Linux system, and loads MNIST t10k in about half the time.
enum Inflate {
    struct Failure: Error {
        let message: String
        let byteOffset: Int
    }

    /// Decompresses the raw deflate stream that starts at `input[start]`.
    /// Returns the output and the offset of the first byte after the stream
    /// (the last block's final byte, padding bits discarded). Throws when the
    /// output would exceed `limit` bytes; with `stopAtLimit`, returns the
    /// first `limit` bytes instead and `end` nil (the stream goes on).
    /// `sizeHint` (the expected output size) sizes the first buffer.
    static func decompress(_ input: UnsafeBufferPointer<UInt8>, from start: Int, sizeHint: Int = 0,
                           limit: Int = .max, stopAtLimit: Bool = false) throws -> (output: [UInt8], end: Int?) {
        var stream = z_stream()
        guard nn_inflate_init_raw(&stream) == Z_OK else {
            throw Failure(message: "zlib could not start inflating (out of memory)", byteOffset: start)
        }
        defer { inflateEnd(&stream) }

        // One byte past the limit tells "exactly the limit" from "more".
        let capacity = limit == .max ? Int.max : limit + 1
        var output = [UInt8](repeating: 0, count: min(capacity, max(4096, sizeHint + 1)))
        var produced = 0
        var fed = start  // input bytes handed to zlib so far
        let base = input.baseAddress.map { UnsafeMutablePointer(mutating: $0) }
        // zlib counts in 32 bits: hand it input and output in pieces.
        let piece = Int(UInt32.max)

        while true {
            if stream.avail_in == 0 && fed < input.count {
                stream.next_in = base! + fed
                stream.avail_in = uInt(min(piece, input.count - fed))
                fed += Int(stream.avail_in)
            }
            if produced == output.count {
                output.append(contentsOf: repeatElement(0, count: min(capacity - output.count, output.count)))
            }
            let room = min(piece, output.count - produced)
            let status = output.withUnsafeMutableBufferPointer { buffer -> Int32 in
                stream.next_out = buffer.baseAddress! + produced
                stream.avail_out = uInt(room)
                return inflate(&stream, Z_NO_FLUSH)
            }
            produced += room - Int(stream.avail_out)
            let consumed = fed - Int(stream.avail_in)

            if produced > limit {
                guard stopAtLimit else {
                    throw Failure(message: "decompressed data exceeds the limit of \(limit) bytes", byteOffset: consumed)
                }
                return (Array(output[..<limit]), nil)
            }
            switch status {
            case Z_STREAM_END:
                output.removeSubrange(produced...)
                return (output, consumed)
            case Z_OK, Z_BUF_ERROR:
                // Z_BUF_ERROR: no progress was possible. With output room
                // left and no input left, the stream is cut short.
                if stream.avail_in == 0 && fed == input.count && stream.avail_out > 0 {
                    throw Failure(message: "deflate data ends early (truncated data)", byteOffset: input.count)
                }
            case Z_MEM_ERROR:
                throw Failure(message: "zlib ran out of memory inflating", byteOffset: consumed)
            default:  // Z_DATA_ERROR (Z_NEED_DICT cannot occur in a raw stream)
                // The offset is the last byte zlib read: the one holding the
                // bad bits, or (where zlib reads ahead) a few bytes past it.
                let reason = stream.msg.map { String(cString: $0) } ?? "zlib status \(status)"
                throw Failure(message: "corrupt deflate data: \(reason)", byteOffset: max(start, consumed - 1))
            }
        }
    }
}
