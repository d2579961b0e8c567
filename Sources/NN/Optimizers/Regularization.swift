/// Penalties to add to a loss. They are ordinary differentiable tensors,
/// so `backward()` of (loss + penalty) puts their gradients into the
/// parameters' `grad` along with the loss's.
///
///     let loss = criterion(model(x), y) + l1Penalty(model.parameters(), lambda: 1e-4)

/// lambda * sum over `parameters` of sum |w| (L1 regularization). The
/// gradient is lambda * sign(w), 0 at w = 0. Pass the weights you want
/// penalized (often not the biases).
public func l1Penalty(_ parameters: [Parameter], lambda: Double) -> Tensor {
    penalty("l1Penalty", parameters, lambda) { $0.abs().sum() }
}

/// lambda * sum over `parameters` of sum w^2 (L2 regularization). SGD's
/// `weightDecay` wd is the same gradient as l2Penalty with lambda = wd / 2,
/// without the extra graph.
public func l2Penalty(_ parameters: [Parameter], lambda: Double) -> Tensor {
    penalty("l2Penalty", parameters, lambda) { $0.square().sum() }
}

private func penalty(_ name: String, _ parameters: [Parameter], _ lambda: Double, _ term: (Tensor) -> Tensor) -> Tensor {
    let weights = parameters.filter(\.trainable)
    require(!weights.isEmpty, "\(name): no trainable parameters given")
    let terms = weights.map { term($0.value) }
    return lambda * terms.dropFirst().reduce(terms[0], +)
}
