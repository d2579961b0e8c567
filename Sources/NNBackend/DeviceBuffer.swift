/// Memory owned by a backend. Opaque to everything above the backends: the
/// tensor layer only passes buffers back to the backend that made them.
///
/// A buffer frees its memory when the last reference goes away (`deinit` of
/// the concrete class), so device memory follows Swift's ARC.
///
/// Buffers are `Sendable`: a tensor, and so its buffer, may be handed to
/// another task. What a buffer holds is device memory that only backend ops
/// read and write; the ordering of those ops across tasks is the caller's, as
/// for any shared array. A buffer object itself has no mutable Swift state.
public protocol DeviceBuffer: AnyObject, Sendable {
    /// Number of elements (not bytes).
    var count: Int { get }
    var dtype: DType { get }
}

extension DeviceBuffer {
    public var byteCount: Int { count * dtype.byteSize }
}
