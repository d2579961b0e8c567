/// Device memory: allocation, transfers and copies.
public protocol MemoryOps: AnyObject {
    /// A short human-readable name, e.g. "cpu" or "opencl:0:0 (NVIDIA H100)".
    var name: String { get }

    /// Whether this device can run float64 operations.
    var supportsFloat64: Bool { get }

    /// A new buffer of `count` elements; contents are unspecified.
    func makeBuffer(count: Int, dtype: DType) -> DeviceBuffer

    /// Copies `bytes` into `buffer` starting at element `offset`.
    func upload(_ bytes: UnsafeRawBufferPointer, to buffer: DeviceBuffer, offset: Int)

    /// Copies `bytes.count` bytes from `buffer`, starting at element `offset`,
    /// to host memory. Waits for all queued work and throws any error that
    /// work raised.
    func download(_ buffer: DeviceBuffer, offset: Int, into bytes: UnsafeMutableRawBufferPointer) throws

    /// Waits until all queued work is done; throws any error it raised.
    func synchronize() throws

    /// dst[dstOffset ..< dstOffset+count] = src[srcOffset ..< srcOffset+count]
    /// (same dtype; the two ranges must not overlap).
    func copy(_ src: DeviceBuffer, srcOffset: Int, to dst: DeviceBuffer, dstOffset: Int, count: Int)

    /// Sets `count` elements from `offset` to `value`.
    func fill(_ buffer: DeviceBuffer, value: Double, offset: Int, count: Int)

    /// dst[i] = dtype-converted src[i] for i < count (float32 <-> float64,
    /// int32 -> float, float -> int32 truncating toward zero).
    func convert(_ src: DeviceBuffer, to dst: DeviceBuffer, count: Int)
}

extension MemoryOps {
    /// A new buffer holding `values`.
    public func makeBuffer<T: HostScalar>(_ values: [T]) -> DeviceBuffer {
        let buffer = makeBuffer(count: values.count, dtype: T.dtype)
        values.withUnsafeBytes { upload($0, to: buffer, offset: 0) }
        return buffer
    }

    /// The whole buffer as a host array of its element type.
    public func download<T: HostScalar>(_ buffer: DeviceBuffer, as type: T.Type = T.self) throws -> [T] {
        require(buffer.dtype == T.dtype,
                     "download: buffer holds \(buffer.dtype), asked for \(T.dtype)")
        var values = [T](repeating: .zero, count: buffer.count)
        try values.withUnsafeMutableBytes { try download(buffer, offset: 0, into: $0) }
        return values
    }
}

/// Host element types that map one to one onto a `DType`.
public protocol HostScalar: Numeric, Sendable {
    static var dtype: DType { get }
}
extension Float: HostScalar { public static var dtype: DType { .float32 } }
extension Double: HostScalar { public static var dtype: DType { .float64 } }
extension Int32: HostScalar { public static var dtype: DType { .int32 } }
extension Int64: HostScalar { public static var dtype: DType { .int64 } }
