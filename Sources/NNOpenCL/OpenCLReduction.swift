import NNBackend

/// Reductions, argmax, gather and scatter-add (Kernels/reduce.cl) along the
/// middle axis of an [outer, axis, inner] view.
extension OpenCLBackend {
    public func reduce(_ op: ReduceOp, _ x: DeviceBuffer, out: DeviceBuffer, view: AxisView) {
        let xb = cl(x, "reduce"), ob = cl(out, "reduce")
        require(xb.dtype == ob.dtype && xb.dtype.isFloatingPoint && xb.count >= view.count
                     && ob.count >= view.outer * view.inner,
                     "OpenCLBackend.reduce(\(op)): view \(view) over \(xb.count) \(xb.dtype) into \(ob.count) \(ob.dtype)")
        let outputs = view.outer * view.inner
        guard outputs > 0 else { return }
        // 1 / axis rounded in the dtype, as the CPU backend computes it.
        let scale = xb.dtype == .float64 ? 1 / Double(view.axis) : Double(1 / Float(view.axis))
        if view.inner == 1 && view.axis >= 2 * reductionGroupSize {
            // Long rows: one work-group per row with a tree reduction in local
            // memory; 8 bytes per work-item covers the double accumulator.
            // (Short rows would leave most of each group idle.)
            let local = reductionGroupSize
            launch(.reduce, "reduce_rows_\(op)", dtype: xb.dtype, global: view.outer * local, local: local,
                   .buffer(xb), .buffer(ob), .int(view.axis), .scalar(scale), .local(local * 8))
        } else if view.inner >= 8 && (op == .sum || op == .mean) {
            // Bias gradients: columns summed over a long axis, 8 per work-item.
            let groups = (view.inner + 7) / 8
            launch(.reduce, "reduce_strided8_\(op)", dtype: xb.dtype, global: view.outer * groups,
                   .buffer(xb), .buffer(ob), .int(view.axis), .int(view.inner), .int(groups), .int(view.outer * groups),
                   .scalar(scale))
        } else {
            launch(.reduce, "reduce_strided_\(op)", dtype: xb.dtype, global: outputs,
                   .buffer(xb), .buffer(ob), .int(view.axis), .int(view.inner), .int(outputs), .scalar(scale))
        }
    }

    /// The work-group size of row reductions: a power of two, at most 128.
    private var reductionGroupSize: Int {
        var size = 1
        while size * 2 <= min(128, max(info.maxWorkGroupSize, 1)) { size *= 2 }
        return size
    }

    public func argmax(_ x: DeviceBuffer, indices: DeviceBuffer, view: AxisView) {
        let xb = cl(x, "argmax"), ib = cl(indices, "argmax")
        require(ib.dtype == .int32 && xb.dtype.isFloatingPoint && xb.count >= view.count
                     && ib.count >= view.outer * view.inner,
                     "OpenCLBackend.argmax: view \(view) over \(xb.count) \(xb.dtype) into \(ib.count) \(ib.dtype)")
        require(view.axis > 0, "OpenCLBackend.argmax: empty axis in view \(view)")
        let outputs = view.outer * view.inner
        launch(.reduce, "argmax", dtype: xb.dtype, global: outputs,
               .buffer(xb), .buffer(ib), .int(view.axis), .int(view.inner), .int(outputs))
    }

    /// Indices out of range give 0 and make the next download or
    /// synchronize throw (a kernel cannot stop the program as the CPU
    /// backend's require does).
    public func gather(_ x: DeviceBuffer, indices: DeviceBuffer, out: DeviceBuffer, view: AxisView, indexCount: Int) {
        let xb = cl(x, "gather"), ib = cl(indices, "gather"), ob = cl(out, "gather")
        let n = view.outer * indexCount * view.inner
        require(ib.dtype == .int32 && xb.dtype == ob.dtype && ib.count >= n && ob.count >= n && xb.count >= view.count,
                     "OpenCLBackend.gather: view \(view), \(indexCount) indices, buffers \(xb.count) \(xb.dtype)/\(ib.count) \(ib.dtype)/\(ob.count) \(ob.dtype)")
        // Bits copied: int64 takes the 64-bit kernel from the float32 program.
        launch(.reduce, xb.dtype.byteSize == 8 ? "gather_64" : "gather_32", dtype: xb.dtype == .float64 ? .float64 : .float32,
               global: n,
               .buffer(xb), .buffer(ib), .buffer(ob), .int(view.axis), .int(view.inner), .int(indexCount), .int(n),
               .buffer(indexErrors()))
    }

    /// Deterministic: each element of `out` sums its matching sources in
    /// index order (no atomics), rounding as the CPU backend does. Indices
    /// out of range are skipped and make the next download or synchronize
    /// throw.
    public func scatterAdd(_ src: DeviceBuffer, indices: DeviceBuffer, out: DeviceBuffer, view: AxisView, indexCount: Int) {
        let sb = cl(src, "scatterAdd"), ib = cl(indices, "scatterAdd"), ob = cl(out, "scatterAdd")
        let n = view.outer * indexCount * view.inner
        require(ib.dtype == .int32 && sb.dtype == ob.dtype && sb.dtype.isFloatingPoint && ib.count >= n
                     && sb.count >= n && ob.count >= view.count,
                     "OpenCLBackend.scatterAdd: view \(view), \(indexCount) indices, buffers \(sb.count) \(sb.dtype)/\(ib.count) \(ib.dtype)/\(ob.count) \(ob.dtype)")
        guard indexCount > 0 else { return }
        let columns = view.outer * view.inner
        launch(.reduce, "scatter_add", dtype: sb.dtype, global: columns,
               .buffer(sb), .buffer(ib), .buffer(ob), .int(view.axis), .int(view.inner), .int(indexCount), .int(columns),
               .buffer(indexErrors()))
    }
}
