import NNBackend

/// Softmax family (Kernels/softmax.cl): one work-item per row, the CPU
/// backend's operations in its order.
extension OpenCLBackend {
    public func softmax(_ x: DeviceBuffer, out: DeviceBuffer, view: AxisView, log: Bool) {
        let xb = cl(x, "softmax"), ob = cl(out, "softmax")
        require(xb.dtype == ob.dtype && xb.dtype.isFloatingPoint && xb.count >= view.count && ob.count >= view.count,
                     "OpenCLBackend.softmax: view \(view) over \(xb.count) \(xb.dtype) -> \(ob.count) \(ob.dtype)")
        let rows = view.outer * view.inner
        launch(.softmax, log ? "log_softmax_forward" : "softmax_forward", dtype: xb.dtype, global: rows,
               .buffer(xb), .buffer(ob), .int(view.axis), .int(view.inner), .int(rows))
    }

    public func softmaxBackward(y: DeviceBuffer, gradOut: DeviceBuffer, gradX: DeviceBuffer, view: AxisView, log: Bool) {
        let yb = cl(y, "softmaxBackward"), gb = cl(gradOut, "softmaxBackward"), xb = cl(gradX, "softmaxBackward")
        require(yb.dtype == gb.dtype && gb.dtype == xb.dtype && yb.dtype.isFloatingPoint
                     && [yb, gb, xb].allSatisfy { $0.count >= view.count },
                     "OpenCLBackend.softmaxBackward: view \(view) over \(yb.count)/\(gb.count)/\(xb.count) \(yb.dtype)")
        let rows = view.outer * view.inner
        launch(.softmax, "softmax_backward", dtype: yb.dtype, global: rows,
               .buffer(yb), .buffer(gb), .buffer(xb), .int(view.axis), .int(view.inner), .int(rows), .int(log ? 1 : 0))
    }

    /// A label out of range gives a NaN loss for its row and makes the next
    /// download or synchronize throw (a kernel cannot stop the program as
    /// the CPU backend's require does).
    public func softmaxCrossEntropy(logits: DeviceBuffer, labels: DeviceBuffer, losses: DeviceBuffer, probs: DeviceBuffer,
                                    rows: Int, classes: Int, labelSmoothing: Double) {
        let xb = cl(logits, "softmaxCrossEntropy"), lb = cl(labels, "softmaxCrossEntropy")
        let ob = cl(losses, "softmaxCrossEntropy"), pb = cl(probs, "softmaxCrossEntropy")
        require(lb.dtype == .int32 && xb.dtype == ob.dtype && xb.dtype == pb.dtype && xb.dtype.isFloatingPoint
                     && xb.count >= rows * classes && pb.count >= rows * classes && lb.count >= rows && ob.count >= rows,
                     "OpenCLBackend.softmaxCrossEntropy: \(rows)x\(classes) with buffers \(xb.count)/\(lb.count)/\(ob.count)/\(pb.count)")
        launch(.softmax, "softmax_cross_entropy", dtype: xb.dtype, global: rows,
               .buffer(xb), .buffer(lb), .buffer(ob), .buffer(pb), .int(rows), .int(classes), .scalar(labelSmoothing),
               .buffer(indexErrors()))
    }

    public func softmaxCrossEntropyBackward(probs: DeviceBuffer, labels: DeviceBuffer, gradLosses: DeviceBuffer,
                                            gradLogits: DeviceBuffer, rows: Int, classes: Int, labelSmoothing: Double) {
        let pb = cl(probs, "softmaxCrossEntropyBackward"), lb = cl(labels, "softmaxCrossEntropyBackward")
        let gb = cl(gradLosses, "softmaxCrossEntropyBackward"), db = cl(gradLogits, "softmaxCrossEntropyBackward")
        require(lb.dtype == .int32 && pb.dtype == gb.dtype && pb.dtype == db.dtype && pb.dtype.isFloatingPoint
                     && pb.count >= rows * classes && db.count >= rows * classes && lb.count >= rows && gb.count >= rows,
                     "OpenCLBackend.softmaxCrossEntropyBackward: \(rows)x\(classes) with buffers \(pb.count)/\(lb.count)/\(gb.count)/\(db.count)")
        // s / classes rounded in the dtype, as the CPU backend computes it.
        let offTarget = pb.dtype == .float64 ? labelSmoothing / Double(classes)
            : Double(Float(labelSmoothing) / Float(classes))
        let n = rows * classes
        launch(.softmax, "softmax_cross_entropy_backward", dtype: pb.dtype, global: n,
               .buffer(pb), .buffer(lb), .buffer(gb), .buffer(db), .int(n), .int(classes), .scalar(labelSmoothing),
               .scalar(offTarget))
    }
}
