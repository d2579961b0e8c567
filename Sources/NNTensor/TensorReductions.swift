import NNBackend

/// Sums, means, maxima and argmax over axes.
extension Tensor {
    /// The raw reduction of one axis, keeping it as size 1 (no autograd).
    private func reduceAxis(_ op: ReduceOp, _ axis: Int) -> Tensor {
        var outShape = shape
        outShape[axis] = 1
        let out = emptyLike(outShape)
        backend.reduce(op, buffer, out: out.buffer, view: AxisView(shape: shape, axis: axis))
        return out
    }

    /// The sum over `axes` (all axes when empty, as PyTorch's sum(dim=[])).
    public func sum(axes: [Int], keepDims: Bool = false) -> Tensor {
        require(dtype.isFloatingPoint, "sum: needs a float tensor, got \(dtype) \(shape)")
        // Which axes go (a mask, not a Set: sum runs in every backward pass
        // of a broadcast, where hashing cost more than the sum of a tiny
        // tensor).
        var reduced = [Bool](repeating: axes.isEmpty, count: rank)
        for axis in axes { reduced[normalizedAxis(axis, "sum")] = true }
        let kept = (0..<rank).map { reduced[$0] ? 1 : shape[$0] }
        // Runs of adjacent reduced axes become one axis, so each run is a
        // single backend pass.
        var merged: [Int] = [], mergedAxes: [Int] = []
        for i in 0..<rank {
            if reduced[i], i > 0, reduced[i - 1] {
                merged[merged.count - 1] *= shape[i]
            } else {
                if reduced[i] { mergedAxes.append(merged.count) }
                merged.append(shape[i])
            }
        }
        // Views of the same buffer, outside the graph (the sum records itself).
        var out = Tensor(buffer: buffer, shape: merged, device: device)
        for axis in mergedAxes.reversed() { out = out.reduceAxis(.sum, axis) }
        let resultShape = keepDims ? kept : (0..<rank).filter { !reduced[$0] }.map { shape[$0] }
        let result = Tensor(buffer: out.buffer, shape: resultShape, device: device)
        let inputShape = shape
        return Tensor.record("sum", inputs: [self], output: result) { g, _ in
            [g.reshaped(kept).broadcast(to: inputShape)]
        }
    }

    /// The sum of all elements, as a one-element tensor of shape []: one
    /// pass over the buffer, without sum(axes:)'s bookkeeping (a loss's
    /// reduction runs every step). The same backend reduction as
    /// sum(axes:) over every axis, so the same value.
    public func sum() -> Tensor {
        require(dtype.isFloatingPoint, "sum: needs a float tensor, got \(dtype) \(shape)")
        let result = emptyLike([])
        backend.reduce(.sum, buffer, out: result.buffer, view: AxisView(outer: 1, axis: count, inner: 1))
        let inputShape = shape
        return Tensor.record("sum", inputs: [self], output: result) { g, _ in [g.broadcast(to: inputShape)] }
    }

    public func sum(axis: Int, keepDims: Bool = false) -> Tensor { sum(axes: [axis], keepDims: keepDims) }

    /// The mean over `axes` (all axes when empty, as `sum`).
    public func mean(axes: [Int], keepDims: Bool = false) -> Tensor {
        var reduced = [Bool](repeating: axes.isEmpty, count: rank)
        for axis in axes { reduced[normalizedAxis(axis, "mean")] = true }
        let n = (0..<rank).filter { reduced[$0] }.map { shape[$0] }.reduce(1, *)
        return sum(axes: axes, keepDims: keepDims) * (1 / Double(n))
    }

    public func mean() -> Tensor { sum() * (1 / Double(count)) }
    public func mean(axis: Int, keepDims: Bool = false) -> Tensor { mean(axes: [axis], keepDims: keepDims) }

    /// Indices (int32) of the maxima along `axis` (first wins on ties).
    public func argmax(axis: Int, keepDims: Bool = false) -> Tensor {
        let a = normalizedAxis(axis, "argmax")
        require(dtype.isFloatingPoint && shape[a] > 0, "argmax: needs a non-empty float axis, got \(dtype) \(shape)")
        var outShape = shape
        if keepDims { outShape[a] = 1 } else { outShape.remove(at: a) }
        let indices = emptyLike(outShape, dtype: .int32)
        backend.argmax(buffer, indices: indices.buffer, view: AxisView(shape: shape, axis: a))
        return indices
    }

    /// Maxima along `axis`; the gradient goes to the argmax (as PyTorch's
    /// max(dim)).
    public func max(axis: Int, keepDims: Bool = false) -> Tensor { extremum(axis: axis, keepDims: keepDims, sign: 1) }

    /// Minima along `axis`.
    public func min(axis: Int, keepDims: Bool = false) -> Tensor { extremum(axis: axis, keepDims: keepDims, sign: -1) }

    /// The largest element, shape [].
    public func max() -> Tensor { reshaped([count]).max(axis: 0) }
    public func min() -> Tensor { reshaped([count]).min(axis: 0) }

    private func extremum(axis: Int, keepDims: Bool, sign: Double) -> Tensor {
        let a = normalizedAxis(axis, sign > 0 ? "max" : "min")
        let view = AxisView(shape: shape, axis: a)
        let source = withNoGrad { sign > 0 ? self : -self }
        let indices = source.argmax(axis: a, keepDims: true)
        var keptShape = shape
        keptShape[a] = 1
        let values = emptyLike(keptShape)
        backend.gather(buffer, indices: indices.buffer, out: values.buffer, view: view, indexCount: 1)
        var outShape = keptShape
        if !keepDims { outShape.remove(at: a) }
        let result = withNoGrad { values.reshaped(outShape) }
        let inputShape = shape
        return Tensor.record(sign > 0 ? "max" : "min", inputs: [self], output: result) { g, _ in
            let gx = Tensor.zeros(inputShape, dtype: g.dtype, on: g.device)
            g.backend.scatterAdd(g.buffer, indices: indices.buffer, out: gx.buffer, view: view, indexCount: 1)
            return [gx]
        }
    }

    /// out[..., j, ...] = self[..., indices[..., j, ...], ...] along `axis`;
    /// `indices` (int32 or int64) has this tensor's shape except along `axis`.
    public func gather(axis: Int, indices: Tensor) -> Tensor {
        let a = normalizedAxis(axis, "gather")
        let indices = indices.asIndices("gather")
        require(indices.rank == rank
                     && (0..<rank).allSatisfy { $0 == a || indices.shape[$0] == shape[$0] },
                     ShapeErrors.mismatch("gather", shape, indices.shape, "indices must match off axis \(axis)"))
        require(indices.device == device, ShapeErrors.mixedDevices("gather", self, indices))
        let view = AxisView(shape: shape, axis: a), n = indices.shape[a]
        let out = emptyLike(indices.shape)
        backend.gather(buffer, indices: indices.buffer, out: out.buffer, view: view, indexCount: n)
        let inputShape = shape
        return Tensor.record("gather", inputs: [self], output: out) { g, _ in
            let gx = Tensor.zeros(inputShape, dtype: g.dtype, on: g.device)
            g.backend.scatterAdd(g.buffer, indices: indices.buffer, out: gx.buffer, view: view, indexCount: n)
            return [gx]
        }
    }

    /// One-hot rows [rows, classes] of int32 `labels` [rows], in `dtype`, on
    /// the labels' device (no host round trip).
    package static func oneHot(_ labels: Tensor, classes: Int, dtype: DType) -> Tensor {
        let rows = labels.count
        let out = Tensor.zeros([rows, classes], dtype: dtype, on: labels.device)
        let ones = Tensor.ones([rows, 1], dtype: dtype, on: labels.device)
        labels.backend.scatterAdd(ones.buffer, indices: labels.buffer, out: out.buffer,
                                  view: AxisView(outer: rows, axis: classes, inner: 1), indexCount: 1)
        return out
    }
}
