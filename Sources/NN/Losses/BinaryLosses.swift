/// Binary cross-entropy of probabilities (torch.nn.BCELoss):
/// -w (y log x + (1 - y) log(1 - x)) per element, with each log clamped at
/// -100 as PyTorch does, so x = 0 or 1 gives a finite loss.
///
/// The gradient is w (x - y) / max(x (1 - x), 1e-12), PyTorch's formula,
/// finite even where the log was clamped. The target gets a gradient too.
/// Inputs outside [0, 1] are not checked (that would cost a device round
/// trip); they give NaN. Prefer `BCEWithLogitsLoss` on logits: it is
/// stable where sigmoid followed by this loss is not.
public struct BCELoss: Loss {
    /// Per-element weights, broadcast against the input.
    public var weight: Tensor?
    public var reduction: Reduction

    public init(weight: Tensor? = nil, reduction: Reduction = .mean) {
        self.weight = weight
        self.reduction = reduction
    }

    public func callAsFunction(_ input: Tensor, _ target: Tensor) -> Tensor {
        checkSameShape("BCELoss", input, target)
        var losses = Tensor.lossOp("binaryCrossEntropy", [input, target], forward: { xs in
            let x = xs[0], y = xs[1]
            return -(y * x.log().clamp(min: -100) + (1 - y) * (1 - x).log().clamp(min: -100))
        }, backward: { g, xs, needs in
            let x = xs[0], y = xs[1]
            let gx = needs[0] ? g * (x - y) / (x * (1 - x)).clamp(min: 1e-12) : nil
            let gy = needs[1] ? g * ((1 - x).log().clamp(min: -100) - x.log().clamp(min: -100)) : nil
            return [gx, gy]
        })
        if let weight { losses = losses * weight.to(dtype: input.dtype) }
        return reduction.apply(losses)
    }
}

/// Binary cross-entropy on logits (torch.nn.BCEWithLogitsLoss): sigmoid and
/// BCE in one stable formula,
///
///     max(x, 0) - x y + log(1 + exp(-|x|)),
///
/// which never overflows and keeps full precision for large |x|. With
/// `posWeight` p (broadcast against the input, typically one entry per
/// class [C]) the positive term is weighted:
/// (1 - y) x + (1 + (p - 1) y) (log(1 + exp(-|x|)) + max(-x, 0)).
///
/// The gradient is the exact sigmoid(x) - y form (with `posWeight`:
/// (1 - y) - (1 + (p - 1) y) sigmoid(-x)), correct at x = 0 too; the target
/// and `posWeight` get gradients as in PyTorch.
public struct BCEWithLogitsLoss: Loss {
    /// Per-element weights, broadcast against the input.
    public var weight: Tensor?
    /// Weight of the positive examples, broadcast against the input.
    public var posWeight: Tensor?
    public var reduction: Reduction

    public init(weight: Tensor? = nil, posWeight: Tensor? = nil, reduction: Reduction = .mean) {
        self.weight = weight
        self.posWeight = posWeight
        self.reduction = reduction
    }

    public func callAsFunction(_ input: Tensor, _ target: Tensor) -> Tensor {
        checkSameShape("BCEWithLogitsLoss", input, target)
        var losses: Tensor
        if let posWeight {
            let pw = posWeight.to(dtype: input.dtype)
            require(BroadcastLayout.outputShape(input.shape, pw.shape) == input.shape,
                         ShapeErrors.mismatch("BCEWithLogitsLoss", input.shape, pw.shape, "posWeight must broadcast to the input"))
            losses = Tensor.lossOp("binaryCrossEntropyWithLogits", [input, target, pw], forward: { xs in
                let x = xs[0], y = xs[1], p = xs[2]
                return (1 - y) * x + (1 + (p - 1) * y) * Self.softplusOfNegative(x)
            }, backward: { g, xs, needs in
                let x = xs[0], y = xs[1], p = xs[2]
                let logWeight = 1 + (p - 1) * y
                let gx = needs[0] ? g * ((1 - y) - logWeight * (-x).sigmoid()) : nil
                let gy = needs[1] ? g * ((p - 1) * Self.softplusOfNegative(x) - x) : nil
                let gp = needs[2] ? (g * y * Self.softplusOfNegative(x)).sumToShape(p.shape) : nil
                return [gx, gy, gp]
            })
        } else {
            losses = Tensor.lossOp("binaryCrossEntropyWithLogits", [input, target], forward: { xs in
                let x = xs[0], y = xs[1]
                return x.relu() - x * y + (-x.abs()).softplus()
            }, backward: { g, xs, needs in
                let x = xs[0], y = xs[1]
                return [needs[0] ? g * (x.sigmoid() - y) : nil, needs[1] ? -(g * x) : nil]
            })
        }
        if let weight { losses = losses * weight.to(dtype: input.dtype) }
        return reduction.apply(losses)
    }

    /// log(1 + exp(-x)) = max(-x, 0) + log(1 + exp(-|x|)), stable for any x.
    private static func softplusOfNegative(_ x: Tensor) -> Tensor { (-x).relu() + (-x.abs()).softplus() }
}
