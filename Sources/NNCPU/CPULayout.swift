import NNBackend

/// The strided copy behind transpose, slice, concatenate and broadcast.
extension CPUBackend {
    public func copyStrided(_ src: DeviceBuffer, _ srcView: StridedView, to dst: DeviceBuffer, _ dstView: StridedView,
                            shape: [Int], accumulate: Bool) {
        let sb = cpu(src, "copyStrided"), db = cpu(dst, "copyStrided")
        require(sb.dtype == db.dtype, "CPUBackend.copyStrided: \(sb.dtype) to \(db.dtype)")
        require(srcView.strides.count == shape.count && dstView.strides.count == shape.count,
                     "CPUBackend.copyStrided: shape \(shape) with strides \(srcView.strides) and \(dstView.strides)")
        require(!accumulate || sb.dtype.isFloatingPoint, "CPUBackend.copyStrided: accumulate needs floats")
        let count = shape.reduce(1, *)
        if count == 0 { return }
        require(srcView.fits(shape: shape, in: sb.count) && dstView.fits(shape: shape, in: db.count),
                     "CPUBackend.copyStrided: shape \(shape) walks outside the buffers (\(sb.count) -> \(db.count))")
        // The element loops sit in these closure literals, so each compiles
        // to a tight loop over locals; only the per-row call is indirect.
        // The collapsed walk makes rows as long as the views allow.
        let walk = StridedWalk(shape: shape, source: srcView, destination: dstView)
        func add<T: CPUScalar>(_: T.Type) {
            let src = sb.pointer(T.self), dst = db.pointer(T.self)
            forEachStridedRow(walk.source, walk.destination, walk.shape) { so, dO, n, ss, ds in
                let s = src + so, d = dst + dO
                for j in 0..<n { d[j * ds] += s[j * ss] }
            }
        }
        func move<T>(_: T.Type) {
            let src = sb.pointer(T.self), dst = db.pointer(T.self)
            forEachStridedRow(walk.source, walk.destination, walk.shape) { so, dO, n, ss, ds in
                let s = src + so, d = dst + dO
                if ss == 1 && ds == 1 {
                    d.update(from: s, count: n)
                } else {
                    for j in 0..<n { d[j * ds] = s[j * ss] }
                }
            }
        }
        switch (sb.dtype, accumulate) {
        case (.float64, true): add(Double.self)
        case (_, true): add(Float.self)
        case (.float64, false), (.int64, false): move(UInt64.self)  // bit patterns: no float conversion
        case (_, false): move(UInt32.self)
        }
    }
}

/// Calls body(srcOffset, dstOffset, length, srcStep, dstStep) for every row
/// (innermost axis) of `shape`, rows spread over the cores.
@inline(__always)
private func forEachStridedRow(_ sv: StridedView, _ dv: StridedView, _ shape: [Int],
                               _ body: (Int, Int, Int, Int, Int) -> Void) {
    let rank = shape.count
    if rank == 0 {
        body(sv.offset, dv.offset, 1, 1, 1)
        return
    }
    let last = shape[rank - 1], ss = sv.strides[rank - 1], ds = dv.strides[rank - 1]
    let rows = shape.reduce(1, *) / last
    parallelFor(rows, grain: max(1, (1 << 15) / last)) { range in
        for row in range {
            var rest = row, so = sv.offset, dO = dv.offset
            for axis in stride(from: rank - 2, through: 0, by: -1) {
                let i = rest % shape[axis]
                rest /= shape[axis]
                so += i * sv.strides[axis]
                dO += i * dv.strides[axis]
            }
            body(so, dO, last, ss, ds)
        }
    }
}
