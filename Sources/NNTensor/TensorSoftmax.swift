import NNBackend

/// Softmax, log-softmax and the fused softmax cross-entropy.
extension Tensor {
    public func softmax(axis: Int = -1) -> Tensor { softmaxFamily(axis: axis, log: false) }
    public func logSoftmax(axis: Int = -1) -> Tensor { softmaxFamily(axis: axis, log: true) }

    private func softmaxFamily(axis: Int, log: Bool) -> Tensor {
        let name = log ? "logSoftmax" : "softmax"
        require(dtype.isFloatingPoint, "\(name): needs a float tensor, got \(dtype) \(shape)")
        let view = AxisView(shape: shape, axis: normalizedAxis(axis, name))
        let y = emptyLike()
        backend.softmax(buffer, out: y.buffer, view: view, log: log)
        return Tensor.record(name, inputs: [self], output: y) { g, _ in
            let gx = g.emptyLike()
            g.backend.softmaxBackward(y: y.buffer, gradOut: g.buffer, gradX: gx.buffer, view: view, log: log)
            return [gx]
        }
    }

    /// Per-row cross-entropy of `logits` [rows, classes] against int32 class
    /// `labels` [rows], computed from the logits in one fused, stable pass
    /// (log-softmax inside). Returns the [rows] losses; take `.mean()` for
    /// PyTorch's default reduction. Differentiable with respect to `logits`.
    public static func softmaxCrossEntropy(logits: Tensor, labels: Tensor, labelSmoothing: Double = 0) -> Tensor {
        require(logits.rank == 2, ShapeErrors.badRank("softmaxCrossEntropy", shape: logits.shape, expected: "logits [rows, classes]"))
        let labels = labels.asIndices("softmaxCrossEntropy labels")
        require(labels.shape == [logits.shape[0]],
                     ShapeErrors.mismatch("softmaxCrossEntropy", logits.shape, labels.shape, "labels must be [rows]"))
        require(labels.device == logits.device, ShapeErrors.mixedDevices("softmaxCrossEntropy", logits, labels))
        require(labelSmoothing >= 0 && labelSmoothing <= 1, "softmaxCrossEntropy: label smoothing \(labelSmoothing) outside [0, 1]")
        let rows = logits.shape[0], classes = logits.shape[1]
        let losses = logits.emptyLike([rows]), probs = logits.emptyLike()
        logits.backend.softmaxCrossEntropy(logits: logits.buffer, labels: labels.buffer, losses: losses.buffer,
                                           probs: probs.buffer, rows: rows, classes: classes, labelSmoothing: labelSmoothing)
        return record("softmaxCrossEntropy", inputs: [logits], output: losses) { g, _ in
            let gx = probs.emptyLike()
            g.backend.softmaxCrossEntropyBackward(probs: probs.buffer, labels: labels.buffer, gradLosses: g.buffer,
                                                  gradLogits: gx.buffer, rows: rows, classes: classes,
                                                  labelSmoothing: labelSmoothing)
            return [gx]
        }
    }
}
