/// Reductions along one axis.
public enum ReduceOp: Hashable, Sendable, CaseIterable {
    case sum, mean, max, min
}

/// An array seen as [outer, axis, inner]: reductions, argmax, gather and
/// scatter work along the middle axis. Any axis of a dense array can be
/// viewed this way (outer = product of the axes before it, inner = after).
public struct AxisView: Equatable, Sendable {
    public var outer: Int
    public var axis: Int
    public var inner: Int

    public init(outer: Int, axis: Int, inner: Int) {
        self.outer = outer
        self.axis = axis
        self.inner = inner
    }

    /// The view of `shape` around axis `axis`.
    public init(shape: [Int], axis: Int) {
        outer = shape[..<axis].reduce(1, *)
        self.axis = shape[axis]
        inner = shape[(axis + 1)...].reduce(1, *)
    }

    public var count: Int { outer * axis * inner }
}

public protocol ReductionOps: AnyObject {
    /// out[o, i] = op over a of x[o, a, i]; out has outer * inner elements.
    func reduce(_ op: ReduceOp, _ x: DeviceBuffer, out: DeviceBuffer, view: AxisView)

    /// indices[o, i] = the first a maximizing x[o, a, i] (int32).
    func argmax(_ x: DeviceBuffer, indices: DeviceBuffer, view: AxisView)

    /// out[o, j, i] = x[o, indices[o, j, i], i] for j < indexCount, where
    /// `view` describes x. indices and out have outer * indexCount * inner
    /// elements.
    func gather(_ x: DeviceBuffer, indices: DeviceBuffer, out: DeviceBuffer, view: AxisView,
                indexCount: Int)

    /// The backward of `gather`: out[o, indices[o, j, i], i] += src[o, j, i].
    /// `out` (described by `view`) is accumulated into, not cleared.
    func scatterAdd(_ src: DeviceBuffer, indices: DeviceBuffer, out: DeviceBuffer, view: AxisView,
                    indexCount: Int)
}
