import NNBackend

/// Shape and layout: reshape (a view), permute/transpose, slice, concatenate,
/// broadcast, and moves between dtypes and devices.
extension Tensor {
    /// The same data with a new shape (one dimension may be -1). Shares the
    /// buffer: no copy.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        var resolved = newShape
        if let hole = newShape.firstIndex(of: -1) {
            let known = newShape.enumerated().filter { $0.offset != hole }.map(\.element).reduce(1, *)
            require(newShape.filter { $0 == -1 }.count == 1 && known > 0 && count % known == 0,
                         ShapeErrors.mismatch("reshape", shape, newShape, "cannot infer the -1 dimension"))
            resolved[hole] = count / known
        }
        require(resolved.allSatisfy { $0 >= 0 } && resolved.reduce(1, *) == count,
                     ShapeErrors.mismatch("reshape", shape, newShape, "element counts differ"))
        if resolved == shape { return self }
        let view = Tensor(buffer: buffer, shape: resolved, device: device)
        let original = shape
        return Tensor.record("reshape", inputs: [self], output: view) { g, _ in [g.reshaped(original)] }
    }

    /// Collapses axes startAxis...endAxis into one (PyTorch's flatten).
    public func flattened(startAxis: Int = 0, endAxis: Int = -1) -> Tensor {
        if rank == 0 { return reshaped([1]) }
        let s = normalizedAxis(startAxis, "flatten"), e = normalizedAxis(endAxis, "flatten")
        require(s <= e, "flatten: startAxis \(startAxis) after endAxis \(endAxis) for shape \(shape)")
        return reshaped(Array(shape[..<s]) + [shape[s...e].reduce(1, *)] + Array(shape[(e + 1)...]))
    }

    /// Inserts a size-1 axis at `axis`.
    public func unsqueezed(axis: Int) -> Tensor {
        let a = normalizedAxis(axis, "unsqueeze", rank: rank + 1)
        var s = shape
        s.insert(1, at: a)
        return reshaped(s)
    }

    /// Removes size-1 axes (all of them, or just `axis`).
    public func squeezed(axis: Int? = nil) -> Tensor {
        if let axis {
            let a = normalizedAxis(axis, "squeeze")
            require(shape[a] == 1, "squeeze: axis \(axis) of shape \(shape) has size \(shape[a]), not 1")
            var s = shape
            s.remove(at: a)
            return reshaped(s)
        }
        return reshaped(shape.filter { $0 != 1 })
    }

    /// Axes reordered: output axis i is input axis `axes[i]`.
    public func permuted(_ axes: [Int]) -> Tensor {
        let perm = axes.map { normalizedAxis($0, "permute") }
        require(perm.count == rank && Set(perm).count == rank,
                     "permute: \(axes) is not a permutation of the axes of shape \(shape)")
        if perm == Array(0..<rank) { return self }
        let out = emptyLike(perm.map { shape[$0] })
        backend.transpose(buffer, shape: shape, permutation: perm, out: out.buffer)
        var inverse = [Int](repeating: 0, count: rank)
        for (i, p) in perm.enumerated() { inverse[p] = i }
        return Tensor.record("permute", inputs: [self], output: out) { [inverse] g, _ in [g.permuted(inverse)] }
    }

    /// Swaps two axes (the last two by default: the matrix transpose).
    public func transposed(_ axis0: Int = -2, _ axis1: Int = -1) -> Tensor {
        require(rank >= 2, ShapeErrors.badRank("transpose", shape: shape, expected: "rank >= 2"))
        var perm = Array(0..<rank)
        perm.swapAt(normalizedAxis(axis0, "transpose"), normalizedAxis(axis1, "transpose"))
        return permuted(perm)
    }

    /// The matrix transpose of a rank-2 tensor.
    public var T: Tensor {
        require(rank == 2, ShapeErrors.badRank("T", shape: shape, expected: "a matrix (rank 2)"))
        return transposed()
    }

    /// Elements `range` along `axis` (PyTorch's narrow / x[..., a:b, ...]).
    public func slice(axis: Int, _ range: Range<Int>) -> Tensor {
        let a = normalizedAxis(axis, "slice")
        require(range.lowerBound >= 0 && range.upperBound <= shape[a],
                     "slice: range \(range) out of bounds for axis \(axis) of shape \(shape)")
        var starts = [Int](repeating: 0, count: rank), sizes = shape
        starts[a] = range.lowerBound
        sizes[a] = range.count
        let out = emptyLike(sizes)
        backend.slice(buffer, shape: shape, starts: starts, sizes: sizes, out: out.buffer)
        let inputShape = shape
        return Tensor.record("slice", inputs: [self], output: out) { [starts, sizes] g, _ in
            let gx = Tensor.zeros(inputShape, dtype: g.dtype, on: g.device)
            g.backend.unslice(g.buffer, sizes: sizes, into: gx.buffer, shape: inputShape, starts: starts, accumulate: false)
            return [gx]
        }
    }

    /// Tensors joined along `axis`; all other dimensions must agree.
    public static func concatenate(_ tensors: [Tensor], axis: Int = 0) -> Tensor {
        require(!tensors.isEmpty, "concatenate: no tensors")
        let first = tensors[0]
        let a = first.normalizedAxis(axis, "concatenate")
        for t in tensors.dropFirst() {
            checkCompatible("concatenate", first, t)
            require(t.rank == first.rank && (0..<t.rank).allSatisfy { $0 == a || t.shape[$0] == first.shape[$0] },
                         ShapeErrors.mismatch("concatenate", first.shape, t.shape, "shapes differ off axis \(axis)"))
        }
        var outShape = first.shape
        outShape[a] = tensors.map { $0.shape[a] }.reduce(0, +)
        let out = first.emptyLike(outShape)
        first.backend.concatenate(tensors.map { ($0.buffer, $0.shape) }, axis: a, out: out.buffer, outShape: outShape)
        let sizes = tensors.map { $0.shape[a] }
        return record("concatenate", inputs: tensors, output: out) { g, needs in
            var start = 0
            return zip(sizes, needs).map { size, need in
                defer { start += size }
                return need ? g.slice(axis: a, start..<start + size) : nil
            }
        }
    }

    /// This tensor repeated along broadcast axes to `target`.
    public func broadcast(to target: [Int]) -> Tensor {
        if shape == target { return self }
        // Stride 0 along the axes this tensor lacks or has as 1.
        guard let strides = broadcastStrides(shape, to: target) else {
            requirementFailed(ShapeErrors.notBroadcastable("broadcast", shape, target))
        }
        let out = emptyLike(target)
        if count == 1 {
            // One value everywhere (a loss's gradient reaching its inputs):
            // one flat walk, not the target's axes.
            backend.copyStrided(buffer, StridedView(strides: [0]), to: out.buffer, StridedView(strides: [1]),
                                shape: [out.count], accumulate: false)
        } else {
            backend.copyStrided(buffer, StridedView(strides: strides), to: out.buffer, .contiguous(target), shape: target,
                                accumulate: false)
        }
        let original = shape
        return Tensor.record("broadcast", inputs: [self], output: out) { g, _ in [g.sumToShape(original)] }
    }

    /// The values converted to `dtype` (differentiable between float types).
    public func to(dtype newType: DType) -> Tensor {
        if newType == dtype { return self }
        let out = emptyLike(dtype: newType)
        backend.convert(buffer, to: out.buffer, count: count)
        let original = dtype
        guard newType.isFloatingPoint && original.isFloatingPoint else { return out }
        return Tensor.record("convert", inputs: [self], output: out) { g, _ in [g.to(dtype: original)] }
    }

    /// Labels or indices as the int32 the kernels read, for `op`: int32 as
    /// they are, int64 (PyTorch's) converted on the device, saturating so a
    /// value outside int32 stays out of range for `op`'s own range check.
    /// Any other dtype stops with a message naming `op`.
    package func asIndices(_ op: @autoclosure () -> String) -> Tensor {
        switch dtype {
        case .int32: return self
        case .int64: return to(dtype: .int32)
        case .float32, .float64:
            requirementFailed("\(op()): expected int32 or int64 indices, got \(dtype) \(shape)")
        }
    }

    /// A copy on `target` (differentiable: the gradient moves back). Goes
    /// through host memory, so it waits for this tensor's device.
    public func to(_ target: Device) throws -> Tensor {
        if target == device { return self }
        var bytes = [UInt8](repeating: 0, count: count * dtype.byteSize)
        try bytes.withUnsafeMutableBytes { try backend.download(buffer, offset: 0, into: $0) }
        let out = Tensor.empty(shape, dtype: dtype, on: target)
        bytes.withUnsafeBytes { target.backend.upload($0, to: out.buffer, offset: 0) }
        let source = device
        return Tensor.record("to(device)", inputs: [self], output: out) { g, _ in
            // A failed transfer during backward has no caller to throw to.
            do { return [try g.to(source)] } catch { requirementFailed("backward of to(device): \(error)") }
        }
    }
}
