import NNBackend

/// Reductions, argmax, gather and scatter along the middle axis of an
/// [outer, axis, inner] view.
extension CPUBackend {
    public func reduce(_ op: ReduceOp, _ x: DeviceBuffer, out: DeviceBuffer, view: AxisView) {
        let xb = cpu(x, "reduce"), ob = cpu(out, "reduce")
        require(xb.dtype == ob.dtype && xb.count >= view.count && ob.count >= view.outer * view.inner,
                     "CPUBackend.reduce(\(op)): view \(view) over \(xb.count) elements into \(ob.count)")
        switch floatType(xb, "reduce") {
        case .float64: reduceLoop(op, xb.pointer(Double.self), ob.pointer(Double.self), view)
        default: reduceLoop(op, xb.pointer(Float.self), ob.pointer(Float.self), view)
        }
    }

    public func argmax(_ x: DeviceBuffer, indices: DeviceBuffer, view: AxisView) {
        let xb = cpu(x, "argmax"), ib = cpu(indices, "argmax")
        require(ib.dtype == .int32 && xb.count >= view.count && ib.count >= view.outer * view.inner,
                     "CPUBackend.argmax: view \(view) over \(xb.count) \(xb.dtype) into \(ib.count) \(ib.dtype)")
        require(view.axis > 0, "CPUBackend.argmax: empty axis in view \(view)")
        func run<T: CPUScalar>(_ xp: UnsafeMutablePointer<T>) {
            let ip = ib.pointer(Int32.self)
            parallelFor(view.outer * view.inner, grain: max(1, (1 << 14) / view.axis)) { r in
                for oi in r {
                    let o = oi / view.inner, i = oi % view.inner
                    let base = o * view.axis * view.inner + i
                    var best = xp[base], bestIndex = 0
                    for a in 1..<view.axis {
                        let v = xp[base + a * view.inner]
                        if v > best || (v.isNaN && !best.isNaN) { best = v; bestIndex = a }
                    }
                    ip[oi] = Int32(bestIndex)
                }
            }
        }
        switch floatType(xb, "argmax") {
        case .float64: run(xb.pointer(Double.self))
        default: run(xb.pointer(Float.self))
        }
    }

    public func gather(_ x: DeviceBuffer, indices: DeviceBuffer, out: DeviceBuffer, view: AxisView, indexCount: Int) {
        let xb = cpu(x, "gather"), ib = cpu(indices, "gather"), ob = cpu(out, "gather")
        let n = view.outer * indexCount * view.inner
        require(ib.dtype == .int32 && xb.dtype == ob.dtype && ib.count >= n && ob.count >= n && xb.count >= view.count,
                     "CPUBackend.gather: view \(view), \(indexCount) indices, buffers \(xb.count)/\(ib.count)/\(ob.count)")
        func run<T>(_: T.Type) {
            let xp = xb.pointer(T.self), ip = ib.pointer(Int32.self), op = ob.pointer(T.self)
            let (axis, inner) = (view.axis, view.inner)
            // Rows of `inner` elements, one per (outer, index) pair.
            parallelFor(view.outer * indexCount, grain: max(1, (1 << 15) / max(inner, 1))) { rows in
                for row in rows {
                    let source = xp + row / indexCount * axis * inner, base = row * inner
                    for i in 0..<inner {
                        let a = Int(ip[base + i])
                        require(a >= 0 && a < axis, "gather: index \(a) out of range 0..<\(axis)")
                        op[base + i] = source[a * inner + i]
                    }
                }
            }
        }
        switch xb.dtype {
        case .float64: run(Double.self)
        case .float32: run(Float.self)
        case .int32: run(Int32.self)
        case .int64: run(Int64.self)
        }
    }

    public func scatterAdd(_ src: DeviceBuffer, indices: DeviceBuffer, out: DeviceBuffer, view: AxisView, indexCount: Int) {
        let sb = cpu(src, "scatterAdd"), ib = cpu(indices, "scatterAdd"), ob = cpu(out, "scatterAdd")
        let n = view.outer * indexCount * view.inner
        require(ib.dtype == .int32 && sb.dtype == ob.dtype && ib.count >= n && sb.count >= n && ob.count >= view.count,
                     "CPUBackend.scatterAdd: view \(view), \(indexCount) indices, buffers \(sb.count)/\(ib.count)/\(ob.count)")
        func run<T: CPUScalar>(_: T.Type) {
            let sp = sb.pointer(T.self), ip = ib.pointer(Int32.self), op = ob.pointer(T.self)
            let (outer, axis, inner) = (view.outer, view.axis, view.inner)
            // Several indices may hit one output element, so each thread
            // owns whole output slices: its own outer blocks or, with one
            // outer block (an embedding's gradient), its own columns of
            // `inner`. Every element is summed in index order, whatever the
            // split, so the result is the same from run to run.
            func add(outers: Range<Int>, columns: Range<Int>) {
                for o in outers {
                    let target = op + o * axis * inner
                    for k in 0..<indexCount {
                        let base = (o * indexCount + k) * inner
                        for i in columns {
                            let a = Int(ip[base + i])
                            require(a >= 0 && a < axis, "scatterAdd: index \(a) out of range 0..<\(axis)")
                            target[a * inner + i] += sp[base + i]
                        }
                    }
                }
            }
            let perSlice = max(indexCount * inner, 1)
            if outer > 1 || inner == 1 {
                parallelFor(outer, grain: max(1, (1 << 15) / perSlice)) { add(outers: $0, columns: 0..<inner) }
            } else {
                parallelFor(inner, grain: max(1, (1 << 15) / max(indexCount, 1))) { add(outers: 0..<outer, columns: $0) }
            }
        }
        switch floatType(sb, "scatterAdd") {
        case .float64: run(Double.self)
        default: run(Float.self)
        }
    }
}

private func reduceLoop<T: CPUScalar>(_ op: ReduceOp, _ x: UnsafeMutablePointer<T>, _ out: UnsafeMutablePointer<T>,
                                      _ v: AxisView) {
    let scale: T = op == .mean ? 1 / T(v.axis) : 1
    if v.inner == 1 {
        // Contiguous rows: accumulate in Double with four partial sums, so a
        // long float32 sum keeps its precision and still pipelines.
        parallelFor(v.outer, grain: max(1, (1 << 15) / max(v.axis, 1))) { r in
            for o in r {
                let row = x + o * v.axis
                switch op {
                case .sum, .mean:
                    var s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0
                    var a = 0
                    while a + 4 <= v.axis {
                        s0 += Double(row[a]); s1 += Double(row[a + 1])
                        s2 += Double(row[a + 2]); s3 += Double(row[a + 3])
                        a += 4
                    }
                    while a < v.axis { s0 += Double(row[a]); a += 1 }
                    out[o] = T((s0 + s1) + (s2 + s3)) * scale
                case .max, .min:
                    var best = v.axis > 0 ? row[0] : (op == .max ? -T.infinity : T.infinity)
                    for a in 1..<max(v.axis, 1) {
                        let value = row[a]
                        if value.isNaN || (op == .max ? value > best : value < best) { best = value }
                        if best.isNaN { break }
                    }
                    out[o] = best
                }
            }
        }
        return
    }
    // Strided: accumulate whole inner rows at a time (vectorizes over inner).
    parallelFor(v.outer, grain: max(1, (1 << 15) / max(v.axis * v.inner, 1))) { r in
        for o in r {
            let dst = out + o * v.inner
            let src = x + o * v.axis * v.inner
            switch op {
            case .sum, .mean:
                dst.update(repeating: 0, count: v.inner)
                for a in 0..<v.axis {
                    let row = src + a * v.inner
                    for i in 0..<v.inner { dst[i] += row[i] }
                }
                if op == .mean { for i in 0..<v.inner { dst[i] *= scale } }
            case .max:
                if v.axis == 0 { dst.update(repeating: -T.infinity, count: v.inner); continue }
                dst.update(from: src, count: v.inner)
                for a in 1..<v.axis {
                    let row = src + a * v.inner
                    for i in 0..<v.inner where row[i] > dst[i] || row[i].isNaN { dst[i] = row[i] }
                }
            case .min:
                if v.axis == 0 { dst.update(repeating: T.infinity, count: v.inner); continue }
                dst.update(from: src, count: v.inner)
                for a in 1..<v.axis {
                    let row = src + a * v.inner
                    for i in 0..<v.inner where row[i] < dst[i] || row[i].isNaN { dst[i] = row[i] }
                }
            }
        }
    }
}
