/// A strided walk over a buffer: element (i0, i1, ...) of `shape` lives at
/// offset + sum(ik * strides[k]).
public struct StridedView: Equatable, Sendable {
    public var offset: Int
    public var strides: [Int]

    public init(offset: Int = 0, strides: [Int]) {
        self.offset = offset
        self.strides = strides
    }

    /// The dense row-major view of `shape`.
    public static func contiguous(_ shape: [Int], offset: Int = 0) -> StridedView {
        var strides = [Int](repeating: 1, count: shape.count)
        var running = 1
        for i in stride(from: shape.count - 1, through: 0, by: -1) {
            strides[i] = running
            running *= shape[i]
        }
        return StridedView(offset: offset, strides: strides)
    }
}

/// A strided copy's walk with as few axes as it needs: size-1 axes dropped,
/// and each axis merged into the one before it when both views continue
/// across the boundary with the same step. Backends walk the result (a
/// transpose of a [1, k, n] slice is rank 2; a plain copy is rank 1).
public struct StridedWalk: Equatable, Sendable {
    /// Rank >= 1.
    public let shape: [Int]
    public let source: StridedView
    public let destination: StridedView

    public init(shape: [Int], source: StridedView, destination: StridedView) {
        let walk = collapsedAxes(shape, source.strides, destination.strides)
        self.shape = walk.shape
        self.source = StridedView(offset: source.offset, strides: walk.a)
        self.destination = StridedView(offset: destination.offset, strides: walk.b)
    }
}

/// `shape` walked under several stride sets with as few axes as it needs:
/// size-1 axes dropped, and an axis merged into the one before it when
/// every stride set continues across the boundary with the same step.
/// Rank >= 1 (an empty walk is [1] with strides 0). Strided copies
/// (StridedWalk), broadcasts (BroadcastLayout) and fused elementwise ops
/// (FusedLayout), whose outputs are dense and so always merge, collapse
/// this way.
func collapsedAxes(_ shape: [Int], _ sets: [[Int]]) -> (shape: [Int], strides: [[Int]]) {
    // Capacity for every axis up front: these run once or twice per op, and
    // growing the arrays cost more than the walk.
    var walked: [Int] = [], strides = [[Int]](repeating: [], count: sets.count)
    walked.reserveCapacity(shape.count)
    for k in sets.indices { strides[k].reserveCapacity(shape.count) }
    for axis in shape.indices where shape[axis] != 1 {
        let size = shape[axis]
        if let last = walked.indices.last, sets.indices.allSatisfy({ strides[$0][last] == sets[$0][axis] * size }) {
            walked[last] *= size
            for k in sets.indices { strides[k][last] = sets[k][axis] }
        } else {
            walked.append(size)
            for k in sets.indices { strides[k].append(sets[k][axis]) }
        }
    }
    if walked.isEmpty { return ([1], sets.map { _ in [0] }) }
    return (walked, strides)
}

/// The two-operand form (every strided copy and broadcast binary op): the
/// same walk as the general one, written for two sets so that it makes
/// three arrays and no nested ones; it runs once or twice per op, where
/// the general form's allocations were a tenth of a small op's time
/// (LayoutTests checks that the two agree).
func collapsedAxes(_ shape: [Int], _ a: [Int], _ b: [Int]) -> (shape: [Int], a: [Int], b: [Int]) {
    var walked: [Int] = [], sa: [Int] = [], sb: [Int] = []
    walked.reserveCapacity(shape.count)
    sa.reserveCapacity(shape.count)
    sb.reserveCapacity(shape.count)
    for axis in shape.indices where shape[axis] != 1 {
        let size = shape[axis], last = walked.count - 1
        if last >= 0 && sa[last] == a[axis] * size && sb[last] == b[axis] * size {
            walked[last] *= size
            sa[last] = a[axis]
            sb[last] = b[axis]
        } else {
            walked.append(size)
            sa.append(a[axis])
            sb.append(b[axis])
        }
    }
    if walked.isEmpty { return ([1], [0], [0]) }
    return (walked, sa, sb)
}

/// Data movement. One primitive, a strided copy, carries transpose, slice,
/// concatenate and broadcast (stride 0); the named forms below are built on
/// it once for every backend.
public protocol LayoutOps: AnyObject {
    /// For every index of `shape`: dst[dstView(index)] = src[srcView(index)]
    /// (or += when `accumulate`). Source and destination must not overlap,
    /// and the destination view must not visit an element twice.
    func copyStrided(_ src: DeviceBuffer, _ srcView: StridedView, to dst: DeviceBuffer,
                     _ dstView: StridedView, shape: [Int], accumulate: Bool)
}

extension LayoutOps {
    /// out = x with its axes permuted: out axis i is x axis permutation[i].
    public func transpose(_ x: DeviceBuffer, shape: [Int], permutation: [Int], out: DeviceBuffer) {
        let xStrides = StridedView.contiguous(shape).strides
        copyStrided(x, StridedView(strides: permutation.map { xStrides[$0] }),
                    to: out, .contiguous(permutation.map { shape[$0] }), shape: permutation.map { shape[$0] },
                    accumulate: false)
    }

    /// out = x[starts[0] ..< starts[0] + sizes[0], ...] as a dense array.
    public func slice(_ x: DeviceBuffer, shape: [Int], starts: [Int], sizes: [Int], out: DeviceBuffer) {
        let view = StridedView.contiguous(shape)
        let offset = zip(starts, view.strides).reduce(0) { $0 + $1.0 * $1.1 }
        copyStrided(x, StridedView(offset: offset, strides: view.strides),
                    to: out, .contiguous(sizes), shape: sizes, accumulate: false)
    }

    /// The backward of `slice`: adds (or writes) `src` of shape `sizes` into
    /// the region of `out` (shape `shape`) starting at `starts`.
    public func unslice(_ src: DeviceBuffer, sizes: [Int], into out: DeviceBuffer, shape: [Int],
                        starts: [Int], accumulate: Bool) {
        let view = StridedView.contiguous(shape)
        let offset = zip(starts, view.strides).reduce(0) { $0 + $1.0 * $1.1 }
        copyStrided(src, .contiguous(sizes), to: out, StridedView(offset: offset, strides: view.strides),
                    shape: sizes, accumulate: accumulate)
    }

    /// out = the inputs joined along `axis`; every input has out's shape
    /// except along `axis`.
    public func concatenate(_ inputs: [(buffer: DeviceBuffer, shape: [Int])], axis: Int,
                            out: DeviceBuffer, outShape: [Int]) {
        var start = 0
        for (buffer, shape) in inputs {
            var starts = [Int](repeating: 0, count: outShape.count)
            starts[axis] = start
            unslice(buffer, sizes: shape, into: out, shape: outShape, starts: starts, accumulate: false)
            start += shape[axis]
        }
    }
}
