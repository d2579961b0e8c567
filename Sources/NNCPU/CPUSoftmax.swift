import CPUKernels
import Foundation
import NNBackend
/// Softmax family. Each (outer, inner) pair is one independent row of
/// `axis` elements spaced `inner` apart.
extension CPUBackend {
    public func softmax(_ x: DeviceBuffer, out: DeviceBuffer, view: AxisView, log: Bool) {
        let xb = cpu(x, "softmax"), ob = cpu(out, "softmax")
        require(xb.dtype == ob.dtype && xb.count >= view.count && ob.count >= view.count,
                     "CPUBackend.softmax: view \(view) over \(xb.count) -> \(ob.count)")
        switch floatType(xb, "softmax") {
        case .float64: softmaxRows(xb.pointer(Double.self), ob.pointer(Double.self), view, log)
        default: softmaxRows(xb.pointer(Float.self), ob.pointer(Float.self), view, log)
        }
    }

    public func softmaxBackward(y: DeviceBuffer, gradOut: DeviceBuffer, gradX: DeviceBuffer, view: AxisView, log: Bool) {
        let yb = cpu(y, "softmaxBackward"), gb = cpu(gradOut, "softmaxBackward"), xb = cpu(gradX, "softmaxBackward")
        require(yb.dtype == gb.dtype && gb.dtype == xb.dtype && [yb, gb, xb].allSatisfy { $0.count >= view.count },
                     "CPUBackend.softmaxBackward: view \(view) over \(yb.count)/\(gb.count)/\(xb.count)")
        func run<T: CPUScalar>(_: T.Type) {
            let yp = yb.pointer(T.self), gp = gb.pointer(T.self), dp = xb.pointer(T.self)
            forEachRow(view) { base, stride in
                var dot: T = 0
                for a in 0..<view.axis {
                    let e = base + a * stride
                    dot += log ? gp[e] : gp[e] * yp[e]
                }
                for a in 0..<view.axis {
                    let e = base + a * stride
                    dp[e] = log ? gp[e] - T.exp(yp[e]) * dot : yp[e] * (gp[e] - dot)
                }
            }
        }
        switch floatType(yb, "softmaxBackward") {
        case .float64: run(Double.self)
        default: run(Float.self)
        }
    }

    public func softmaxCrossEntropy(logits: DeviceBuffer, labels: DeviceBuffer, losses: DeviceBuffer, probs: DeviceBuffer,
                                    rows: Int, classes: Int, labelSmoothing: Double) {
        let xb = cpu(logits, "softmaxCrossEntropy"), lb = cpu(labels, "softmaxCrossEntropy")
        let ob = cpu(losses, "softmaxCrossEntropy"), pb = cpu(probs, "softmaxCrossEntropy")
        require(lb.dtype == .int32 && xb.dtype == ob.dtype && xb.dtype == pb.dtype
                     && xb.count >= rows * classes && pb.count >= rows * classes && lb.count >= rows && ob.count >= rows,
                     "CPUBackend.softmaxCrossEntropy: \(rows)x\(classes) with buffers \(xb.count)/\(lb.count)/\(ob.count)/\(pb.count)")
        func run<T: CPUScalar>(_: T.Type) {
            let xp = xb.pointer(T.self), lp = lb.pointer(Int32.self), op = ob.pointer(T.self), pp = pb.pointer(T.self)
            let s = T(labelSmoothing)
            // Log-softmax into probs, losses from it, then probs = exp.
            softmaxRows(xp, pp, AxisView(outer: rows, axis: classes, inner: 1), true)
            parallelFor(rows, grain: max(1, (1 << 14) / max(classes, 1))) { r in
                for row in r {
                    let label = Int(lp[row])
                    require(label >= 0 && label < classes,
                                 "softmaxCrossEntropy: label \(label) of row \(row) out of range 0..<\(classes)")
                    let logp = pp + row * classes
                    var total: T = 0
                    for c in 0..<classes { total += logp[c] }
                    op[row] = -(1 - s) * logp[label] - s * total / T(classes)
                    if T.self == Float.self {
                        let p = UnsafeMutablePointer<Float>(OpaquePointer(logp))
                        nn_exp_f32(p, p, classes)
                    } else {
                        for c in 0..<classes { logp[c] = T.exp(logp[c]) }
                    }
                }
            }
        }
        switch floatType(xb, "softmaxCrossEntropy") {
        case .float64: run(Double.self)
        default: run(Float.self)
        }
    }

    public func softmaxCrossEntropyBackward(probs: DeviceBuffer, labels: DeviceBuffer, gradLosses: DeviceBuffer,
                                            gradLogits: DeviceBuffer, rows: Int, classes: Int, labelSmoothing: Double) {
        let pb = cpu(probs, "softmaxCrossEntropyBackward"), lb = cpu(labels, "softmaxCrossEntropyBackward")
        let gb = cpu(gradLosses, "softmaxCrossEntropyBackward"), db = cpu(gradLogits, "softmaxCrossEntropyBackward")
        require(lb.dtype == .int32 && pb.dtype == gb.dtype && pb.dtype == db.dtype
                     && pb.count >= rows * classes && db.count >= rows * classes && lb.count >= rows && gb.count >= rows,
                     "CPUBackend.softmaxCrossEntropyBackward: \(rows)x\(classes) with buffers \(pb.count)/\(lb.count)/\(gb.count)/\(db.count)")
        func run<T: CPUScalar>(_: T.Type) {
            let pp = pb.pointer(T.self), lp = lb.pointer(Int32.self), gp = gb.pointer(T.self), dp = db.pointer(T.self)
            let s = T(labelSmoothing), offTarget = T(labelSmoothing) / T(classes)
            parallelFor(rows, grain: max(1, (1 << 15) / max(classes, 1))) { r in
                for row in r {
                    let g = gp[row], label = Int(lp[row])
                    for c in 0..<classes {
                        let target = offTarget + (c == label ? 1 - s : 0)
                        dp[row * classes + c] = g * (pp[row * classes + c] - target)
                    }
                }
            }
        }
        switch floatType(pb, "softmaxCrossEntropyBackward") {
        case .float64: run(Double.self)
        default: run(Float.self)
        }
    }
}

/// Calls body(firstElement, stride) for every row of the view, spread over
/// the cores.
@inline(__always)
private func forEachRow(_ v: AxisView, _ body: (Int, Int) -> Void) {
    parallelFor(v.outer * v.inner, grain: max(1, (1 << 13) / max(v.axis, 1))) { r in
        for oi in r {
            let o = oi / v.inner, i = oi % v.inner
            body(o * v.axis * v.inner + i, v.inner)
        }
    }
}

private func softmaxRows<T: CPUScalar>(_ x: UnsafeMutablePointer<T>, _ out: UnsafeMutablePointer<T>, _ v: AxisView,
                                       _ log: Bool) {
    forEachRow(v) { base, stride in
        var m = -T.infinity
        for a in 0..<v.axis { m = max(m, x[base + a * stride]) }
        var sum: T = 0
        if stride == 1 && T.self == Float.self {
            // Contiguous float32 rows: CPUKernels' vector exp (the sum in float64).
            let row = UnsafePointer<Float>(OpaquePointer(x + base)), target = UnsafeMutablePointer<Float>(OpaquePointer(out + base))
            let total = nn_exp_shifted_sum_f32(row, log ? nil : target, v.axis, Float(m))
            if log {
                let logSum = Float(Foundation.log(total))
                for a in 0..<v.axis { target[a] = (row[a] - Float(m)) - logSum }
            } else {
                let inv = Float(1 / total)
                for a in 0..<v.axis { target[a] *= inv }
            }
            return
        }
        if log {
            for a in 0..<v.axis { sum += T.exp(x[base + a * stride] - m) }
            // (x - m) - log(sum), not x - (m + log(sum)): with large logits
            // the latter rounds log(sum) to the spacing of floats near m.
            let logSum = T.log(sum)
            for a in 0..<v.axis { out[base + a * stride] = (x[base + a * stride] - m) - logSum }
        } else {
            for a in 0..<v.axis {
                let e = T.exp(x[base + a * stride] - m)
                out[base + a * stride] = e
                sum += e
            }
            let inv = 1 / sum
            for a in 0..<v.axis { out[base + a * stride] *= inv }
        }
    }
}
