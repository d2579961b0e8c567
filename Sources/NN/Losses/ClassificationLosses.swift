/// Cross-entropy from unnormalized logits (torch.nn.CrossEntropyLoss).
///
/// - input: logits [N, C] (or [C], or [N, C, d1, ...]).
/// - target: int32 class indices [N] (or [], or [N, d1, ...]); or class
///   probabilities of the input's shape and float dtype.
///
/// With class indices and no `weight`, the loss is the backend's fused,
/// stable softmax cross-entropy (one pass, log-softmax inside). With
/// `labelSmoothing` s the target is (1 - s) one-hot + s / C. With `weight`
/// (one entry per class) each sample's loss is scaled by its class's weight
/// and `.mean` divides by the sum of those weights, as PyTorch.
public struct CrossEntropyLoss: Loss, Sendable {
    public var weight: Tensor?
    public var reduction: Reduction
    public var labelSmoothing: Double

    public init(weight: Tensor? = nil, reduction: Reduction = .mean, labelSmoothing: Double = 0) {
        require(labelSmoothing >= 0 && labelSmoothing <= 1, "CrossEntropyLoss: labelSmoothing \(labelSmoothing) outside [0, 1]")
        self.weight = weight
        self.reduction = reduction
        self.labelSmoothing = labelSmoothing
    }

    public func callAsFunction(_ input: Tensor, _ target: Tensor) -> Tensor {
        if target.dtype.isFloatingPoint { return probabilityTargets(input, target) }
        let data = ClassRows("CrossEntropyLoss", input: input, target: target)
        let classes = data.classes
        guard let w = classWeight("CrossEntropyLoss", weight, classes: classes, like: input) else {
            let losses = Tensor.softmaxCrossEntropy(logits: data.rows, labels: data.labels, labelSmoothing: labelSmoothing)
            return reduction.apply(data.unflatten(losses))
        }
        // Weighted: PyTorch's (1 - s) * nll + s / C * smooth, each term
        // weighted per class; .mean divides by the targets' total weight.
        let logp = data.rows.logSoftmax(axis: 1)
        let targetWeights = w.gather(axis: 0, indices: data.labels)
        let nll = -(logp.gather(axis: 1, indices: data.labels.reshaped([-1, 1])).reshaped([-1]) * targetWeights)
        var losses = nll
        if labelSmoothing > 0 {
            let smooth = -(logp * w.reshaped([1, classes])).sum(axis: 1)
            losses = (1 - labelSmoothing) * nll + (labelSmoothing / Double(classes)) * smooth
        }
        switch reduction {
        case .mean: return losses.sum() / targetWeights.sum()
        case .sum: return losses.sum()
        case .none: return data.unflatten(losses)
        }
    }

    /// Soft targets: -sum_c w_c y_c log softmax(x)_c per sample, with
    /// y smoothed to (1 - s) y + s / C; .mean divides by the sample count.
    private func probabilityTargets(_ input: Tensor, _ target: Tensor) -> Tensor {
        checkSameShape("CrossEntropyLoss", input, target)
        let axis = input.rank == 1 ? 0 : 1
        let classes = input.shape[axis]
        var y = target
        if labelSmoothing > 0 { y = (1 - labelSmoothing) * target + labelSmoothing / Double(classes) }
        var terms = input.logSoftmax(axis: axis) * y
        if let w = classWeight("CrossEntropyLoss", weight, classes: classes, like: input) {
            var shape = [Int](repeating: 1, count: input.rank)
            shape[axis] = classes
            terms = terms * w.reshaped(shape)
        }
        return reduction.apply(-terms.sum(axis: axis))
    }
}

/// Negative log-likelihood of log-probabilities (torch.nn.NLLLoss): the
/// loss of sample n is -weight[y_n] * input[n, y_n]. Put a `LogSoftmax` in
/// front of it, or use `CrossEntropyLoss` on the logits.
///
/// Shapes as `CrossEntropyLoss` with class indices. With `weight`, `.mean`
/// divides by the sum of the targets' weights.
public struct NLLLoss: Loss, Sendable {
    public var weight: Tensor?
    public var reduction: Reduction

    public init(weight: Tensor? = nil, reduction: Reduction = .mean) {
        self.weight = weight
        self.reduction = reduction
    }

    public func callAsFunction(_ input: Tensor, _ target: Tensor) -> Tensor {
        let data = ClassRows("NLLLoss", input: input, target: target)
        var losses = -data.rows.gather(axis: 1, indices: data.labels.reshaped([-1, 1])).reshaped([-1])
        guard let w = classWeight("NLLLoss", weight, classes: data.classes, like: input) else {
            return reduction.apply(data.unflatten(losses))
        }
        let targetWeights = w.gather(axis: 0, indices: data.labels)
        losses = losses * targetWeights
        switch reduction {
        case .mean: return losses.sum() / targetWeights.sum()
        case .sum: return losses.sum()
        case .none: return data.unflatten(losses)
        }
    }
}

/// Multiclass hinge loss, the multiclass SVM (torch.nn.MultiMarginLoss):
/// per sample, sum over classes i != y of
/// weight[y] * max(0, margin - x[y] + x[i])^p, divided by the number of
/// classes C (PyTorch's normalization).
///
/// - input: scores [N, C] or [C]; target: int32 classes [N] or [].
public struct MultiMarginLoss: Loss, Sendable {
    public var p: Int
    public var margin: Double
    public var weight: Tensor?
    public var reduction: Reduction

    public init(p: Int = 1, margin: Double = 1, weight: Tensor? = nil, reduction: Reduction = .mean) {
        require(p == 1 || p == 2, "MultiMarginLoss: p must be 1 or 2, got \(p)")
        self.p = p
        self.margin = margin
        self.weight = weight
        self.reduction = reduction
    }

    public func callAsFunction(_ input: Tensor, _ target: Tensor) -> Tensor {
        require(input.rank <= 2, ShapeErrors.badRank("MultiMarginLoss", shape: input.shape, expected: "[N, C] or [C]"))
        let data = ClassRows("MultiMarginLoss", input: input, target: target)
        let x = data.rows, classes = data.classes
        let labels = data.labels.reshaped([-1, 1])
        let xy = x.gather(axis: 1, indices: labels)                          // [M, 1]
        var hinge = (margin - xy + x).relu()                                  // [M, C]
        if p == 2 { hinge = hinge.square() }
        // Drop the i == y terms (a mask, so the result is exact).
        let offTarget = 1 - Tensor.oneHot(data.labels, classes: classes, dtype: x.dtype)
        var losses = (hinge * offTarget).sum(axis: 1)
        if let w = classWeight("MultiMarginLoss", weight, classes: classes, like: input) {
            losses = losses * w.gather(axis: 0, indices: data.labels)
        }
        return reduction.apply(data.unflatten(losses * (1 / Double(classes))))
    }
}
