/// Memory owned by a backend. Opaque to everything above the backends: the
/// tensor layer only passes buffers back to the backend that made them.
///
/// A buffer frees its memory when the last reference goes away (`deinit` of
/// the concrete class), so device memory follows Swift's ARC.
public protocol DeviceBuffer: AnyObject {
    /// Number of elements (not bytes).
    var count: Int { get }
    var dtype: DType { get }
}

extension DeviceBuffer {
    public var byteCount: Int { count * dtype.byteSize }
}
