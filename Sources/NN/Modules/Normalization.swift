/// L2 normalization along `dim` with `torch.nn.functional.normalize`'s
/// semantics (p = 2): y = x / max(||x||_2, eps), the norm taken over `dim`.
/// PyTorch has no module for it; `L2Normalize(dim: 1)` is
/// `F.normalize(x, dim=1)`.
///
/// Written as one differentiable op with its own backward, so a slice whose
/// norm is below eps (an all-zero row) gets PyTorch's finite gradient
/// g / eps instead of the NaN that composing sqrt and clamp would give.
public final class L2Normalize: Module, @unchecked Sendable {
    public let dim: Int
    public let eps: Double

    public init(dim: Int = 1, eps: Double = 1e-12) {
        require(eps > 0, "L2Normalize: eps must be positive, got \(eps)")
        self.dim = dim
        self.eps = eps
        super.init()
    }

    public override func forward(_ input: Tensor) -> Tensor { input.l2Normalized(dim: dim, eps: eps) }
}

extension Tensor {
    /// x / max(||x||_2, eps) along `dim` (F.normalize with p = 2).
    public func l2Normalized(dim: Int = 1, eps: Double = 1e-12) -> Tensor {
        require(dtype.isFloatingPoint, "l2Normalized: needs a float tensor, got \(dtype) \(shape)")
        require(dim >= -rank && dim < rank, "l2Normalized: dim \(dim) out of range for shape \(shape)")
        let axis = dim < 0 ? dim + rank : dim
        return Tensor.differentiable("l2Normalize", [self], forward: { xs in
            let norm = xs[0].square().sum(axis: axis, keepDims: true).sqrt()
            return xs[0] / norm.clamp(min: eps)
        }, backward: { g, xs, y in
            // With d = max(n, eps): where n > eps, y = x / n and
            // dx = (g - y * sum(g * y)) / d; where the norm is clamped, d is a
            // constant and dx = g / d.
            let norm = xs[0].square().sum(axis: axis, keepDims: true).sqrt()
            let unclamped = (norm - eps).sign().clamp(min: 0)  // 1 where n > eps, else 0
            let projection = (g * y).sum(axis: axis, keepDims: true) * unclamped
            return [(g - y * projection) / norm.clamp(min: eps)]
        })
    }
}
