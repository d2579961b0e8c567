/// Softmax, log-softmax and the fused softmax cross-entropy.
public protocol SoftmaxOps: AnyObject {
    /// Numerically stable (row max subtracted) softmax, or log-softmax when
    /// `log` is true, along the middle axis of `view`.
    func softmax(_ x: DeviceBuffer, out: DeviceBuffer, view: AxisView, log: Bool)

    /// Given y = softmax(x) (or log-softmax) and dL/dy, writes dL/dx:
    /// softmax: y * (g - sum(g * y)); log-softmax: g - exp(y) * sum(g).
    func softmaxBackward(y: DeviceBuffer, gradOut: DeviceBuffer, gradX: DeviceBuffer,
                         view: AxisView, log: Bool)

    /// For logits [rows, classes] and int32 labels [rows]: losses[r] =
    /// (1 - s) * -log p[r, label] + s * mean_c(-log p[r, c]) with s the label
    /// smoothing, and probs = softmax(logits), kept for the backward.
    func softmaxCrossEntropy(logits: DeviceBuffer, labels: DeviceBuffer, losses: DeviceBuffer,
                             probs: DeviceBuffer, rows: Int, classes: Int, labelSmoothing: Double)

    /// gradLogits[r, c] = gradLosses[r] * (probs[r, c] - target[r, c]) with
    /// target = (1 - s) * onehot(label) + s / classes.
    func softmaxCrossEntropyBackward(probs: DeviceBuffer, labels: DeviceBuffer, gradLosses: DeviceBuffer,
                                     gradLogits: DeviceBuffer, rows: Int, classes: Int,
                                     labelSmoothing: Double)
}
