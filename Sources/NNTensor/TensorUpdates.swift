import NNBackend

/// In-place parameter updates on the device, for optimizers. They write into
/// this tensor's buffer (and the state buffers), so every copy of the tensor
/// sees the new values; nothing is recorded for autograd.
extension Tensor {
    /// One SGD step (PyTorch semantics) from this parameter's `grad`.
    /// `momentumBuffer` must be a tensor of the same shape when momentum is
    /// non-zero; pass `firstStep` on the first update (the buffer is then
    /// set to the gradient, as PyTorch does).
    public func sgdStep(momentumBuffer: Tensor?, hyper: SGDHyperparameters, firstStep: Bool) {
        let g = gradForUpdate("sgdStep")
        if let m = momentumBuffer { checkState("sgdStep", m) }
        backend.sgdStep(param: buffer, grad: g.buffer, momentumBuffer: momentumBuffer?.buffer, count: count,
                        hyper: hyper, firstStep: firstStep)
    }

    /// One Adam (or AdamW) step at 1-based `step`, with moment tensors `m`
    /// and `v` shaped like this parameter (start them at zero).
    public func adamStep(m: Tensor, v: Tensor, hyper: AdamHyperparameters, step: Int) {
        let g = gradForUpdate("adamStep")
        checkState("adamStep", m)
        checkState("adamStep", v)
        backend.adamStep(param: buffer, grad: g.buffer, m: m.buffer, v: v.buffer, count: count, hyper: hyper, step: step)
    }

    /// One Adagrad step at 1-based `step`, with the running sum of squared
    /// gradients `sum` shaped like this parameter (start it at
    /// `hyper.initialAccumulatorValue`).
    public func adagradStep(sum: Tensor, hyper: AdagradHyperparameters, step: Int) {
        let g = gradForUpdate("adagradStep")
        checkState("adagradStep", sum)
        backend.adagradStep(param: buffer, grad: g.buffer, sum: sum.buffer, count: count, hyper: hyper, step: step)
    }

    /// One RMSprop step. `squareAvg`, and `gradAvg` (when centered) and
    /// `momentumBuffer` (when momentum is non-zero), are shaped like this
    /// parameter and start at zero.
    public func rmspropStep(squareAvg: Tensor, gradAvg: Tensor?, momentumBuffer: Tensor?, hyper: RMSpropHyperparameters) {
        let g = gradForUpdate("rmspropStep")
        checkState("rmspropStep", squareAvg)
        require(!hyper.centered || gradAvg != nil, "rmspropStep: centered RMSprop needs gradAvg")
        require(hyper.momentum == 0 || momentumBuffer != nil, "rmspropStep: momentum \(hyper.momentum) needs momentumBuffer")
        if let gradAvg { checkState("rmspropStep", gradAvg) }
        if let momentumBuffer { checkState("rmspropStep", momentumBuffer) }
        backend.rmspropStep(param: buffer, grad: g.buffer, squareAvg: squareAvg.buffer, gradAvg: gradAvg?.buffer,
                            momentumBuffer: momentumBuffer?.buffer, count: count, hyper: hyper)
    }

    private func gradForUpdate(_ op: String) -> Tensor {
        guard let g = grad else { requirementFailed("\(op): parameter \(shape) has no gradient (call backward first)") }
        return g
    }

    private func checkState(_ op: String, _ state: Tensor) {
        Tensor.checkCompatible(op, self, state)
        require(state.shape == shape, ShapeErrors.mismatch(op, shape, state.shape, "optimizer state must match the parameter"))
    }
}
