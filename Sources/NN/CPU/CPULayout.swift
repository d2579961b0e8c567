/// The strided copy behind transpose, slice, concatenate and broadcast.
extension CPUBackend {
    public func copyStrided(_ src: DeviceBuffer, _ srcView: StridedView, to dst: DeviceBuffer, _ dstView: StridedView,
                            shape: [Int], accumulate: Bool) {
        let sb = cpu(src, "copyStrided"), db = cpu(dst, "copyStrided")
        precondition(sb.dtype == db.dtype, "CPUBackend.copyStrided: \(sb.dtype) to \(db.dtype)")
        precondition(srcView.strides.count == shape.count && dstView.strides.count == shape.count,
                     "CPUBackend.copyStrided: shape \(shape) with strides \(srcView.strides) and \(dstView.strides)")
        precondition(!accumulate || sb.dtype.isFloatingPoint, "CPUBackend.copyStrided: accumulate needs floats")
        let count = shape.reduce(1, *)
        if count == 0 { return }
        func extent(_ v: StridedView) -> ClosedRange<Int> {
            var lo = v.offset, hi = v.offset
            for (n, s) in zip(shape, v.strides) { if s >= 0 { hi += (n - 1) * s } else { lo += (n - 1) * s } }
            return lo...hi
        }
        precondition(extent(srcView).lowerBound >= 0 && extent(srcView).upperBound < sb.count
                     && extent(dstView).lowerBound >= 0 && extent(dstView).upperBound < db.count,
                     "CPUBackend.copyStrided: shape \(shape) walks outside the buffers (\(sb.count) -> \(db.count))")
        switch (sb.dtype, accumulate) {
        case (.float64, true): stridedLoop(sb.pointer(Double.self), srcView, db.pointer(Double.self), dstView, shape) { $0 += $1 }
        case (.float32, true): stridedLoop(sb.pointer(Float.self), srcView, db.pointer(Float.self), dstView, shape) { $0 += $1 }
        case (.float64, false): stridedLoop(sb.pointer(UInt64.self), srcView, db.pointer(UInt64.self), dstView, shape) { $0 = $1 }
        default: stridedLoop(sb.pointer(UInt32.self), srcView, db.pointer(UInt32.self), dstView, shape) { $0 = $1 }
        }
    }
}

/// Applies `move(&dst, src)` over every index of `shape`, innermost axis in
/// the inner loop, outer rows spread over the cores.
@inline(__always)
private func stridedLoop<T>(_ src: UnsafeMutablePointer<T>, _ sv: StridedView, _ dst: UnsafeMutablePointer<T>,
                            _ dv: StridedView, _ shape: [Int], _ move: (inout T, T) -> Void) {
    let rank = shape.count
    if rank == 0 {
        move(&dst[dv.offset], src[sv.offset])
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
            let s = src + so, d = dst + dO
            if ss == 1 && ds == 1 {
                for j in 0..<last { move(&d[j], s[j]) }
            } else {
                for j in 0..<last { move(&d[j * ds], s[j * ss]) }
            }
        }
    }
}
