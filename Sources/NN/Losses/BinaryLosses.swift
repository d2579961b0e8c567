/// Binary cross-entropy of probabilities (torch.nn.BCELoss):
/// -w (y log x + (1 - y) log(1 - x)) per element, with each log clamped at
/// -100 as PyTorch does, so x = 0 or 1 gives a finite loss.
///
/// The gradient is w (x - y) / max(x (1 - x), 1e-12), PyTorch's formula,
/// finite even where the log was clamped. The target gets a gradient too.
/// Inputs outside [0, 1] are not checked (that would cost a device round
/// trip); they give NaN. Prefer `BCEWithLogitsLoss` on logits: it is
/// stable where sigmoid followed by this loss is not.
public struct BCELoss: Loss, Sendable {
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
            Pieces.loss(xs[0], xs[1])
        }, backward: { g, xs, needs in
            [needs[0] ? Pieces.inputGradient(g, xs[0], xs[1]) : nil, needs[1] ? Pieces.targetGradient(g, xs[0]) : nil]
        })
        if let weight { losses = losses * weight.to(dtype: input.dtype) }
        return reduction.apply(losses)
    }

    /// The per-element loss and its gradients, each one fused kernel.
    private enum Pieces {
        static let loss = FusedElementwise("binaryCrossEntropy") { x, y in
            -(y * x.log().clamp(min: -100) + (1 - y) * (1 - x).log().clamp(min: -100))
        }
        static let inputGradient = FusedElementwise("binaryCrossEntropy input gradient") { g, x, y in
            g * (x - y) / (x * (1 - x)).clamp(min: 1e-12)
        }
        static let targetGradient = FusedElementwise("binaryCrossEntropy target gradient") { g, x in
            g * ((1 - x).log().clamp(min: -100) - x.log().clamp(min: -100))
        }
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
public struct BCEWithLogitsLoss: Loss, Sendable {
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
                Weighted.loss(xs[0], xs[1], xs[2])
            }, backward: { g, xs, needs in
                let x = xs[0], y = xs[1], p = xs[2]
                return [needs[0] ? Weighted.inputGradient(g, x, y, p) : nil, needs[1] ? Weighted.targetGradient(g, x, p) : nil,
                        needs[2] ? Weighted.posWeightGradient(g, x, y).sumToShape(p.shape) : nil]
            })
        } else {
            losses = Tensor.lossOp("binaryCrossEntropyWithLogits", [input, target], forward: { xs in
                Unweighted.loss(xs[0], xs[1])
            }, backward: { g, xs, needs in
                [needs[0] ? Unweighted.inputGradient(g, xs[0], xs[1]) : nil, needs[1] ? Unweighted.targetGradient(g, xs[0]) : nil]
            })
        }
        if let weight { losses = losses * weight.to(dtype: input.dtype) }
        return reduction.apply(losses)
    }

    /// The per-element loss and its gradients, each one fused kernel.
    private enum Unweighted {
        static let loss = FusedElementwise("binaryCrossEntropyWithLogits") { x, y in
            x.relu() - x * y + (-x.abs()).softplus()
        }
        static let inputGradient = FusedElementwise("binaryCrossEntropyWithLogits input gradient") { g, x, y in
            g * (x.sigmoid() - y)
        }
        static let targetGradient = FusedElementwise("binaryCrossEntropyWithLogits target gradient") { g, x in -(g * x) }
    }

    /// The same with `posWeight` p.
    private enum Weighted {
        static let loss = FusedElementwise("binaryCrossEntropyWithLogits", inputs: 3) { v in
            let x = v[0], y = v[1], p = v[2]
            return (1 - y) * x + (1 + (p - 1) * y) * softplusOfNegative(x)
        }
        static let inputGradient = FusedElementwise("binaryCrossEntropyWithLogits input gradient", inputs: 4) { v in
            let g = v[0], x = v[1], y = v[2], p = v[3]
            return g * ((1 - y) - (1 + (p - 1) * y) * (-x).sigmoid())
        }
        static let targetGradient = FusedElementwise("binaryCrossEntropyWithLogits target gradient") { g, x, p in
            g * ((p - 1) * softplusOfNegative(x) - x)
        }
        static let posWeightGradient = FusedElementwise("binaryCrossEntropyWithLogits posWeight gradient") { g, x, y in
            g * y * softplusOfNegative(x)
        }
    }

    /// log(1 + exp(-x)) = max(-x, 0) + log(1 + exp(-|x|)), stable for any x.
    private static func softplusOfNegative(_ x: FusedValue) -> FusedValue { (-x).relu() + (-x.abs()).softplus() }
}
