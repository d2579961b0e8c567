import NN

/// A [steps * batch, features] tensor (rows in time-major order) cut into
/// one [batch, features] tensor per time step, for a recurrence that
/// consumes one step at a time.
///
/// Why not `slice` the tensor in the graph: the backward of a slice returns
/// a gradient shaped like the whole input (zeros except the slice), and
/// autograd adds those up, so T slices of a [T, B, F] tensor move O(T^2 B F)
/// floats in the backward. For the input projection of an LSTM over 64 steps
/// that is 64 full-size zero fills and adds per step, several times the cost
/// of the recurrence itself. Instead each step is a leaf cut from the
/// detached whole: the loss's `backward()` fills the step leaves'
/// gradients, and `backward()` here joins them (one concatenation, O(T B F))
/// and continues into the graph that produced the whole tensor.
final class SequenceSteps {
    let whole: Tensor
    let steps: [Tensor]
    private let batch: Int

    init(_ whole: Tensor, steps count: Int, batch: Int) {
        precondition(whole.rank == 2 && whole.shape[0] == count * batch,
                     "SequenceSteps: expected [\(count) * \(batch), features], got \(whole.shape)")
        self.whole = whole
        self.batch = batch
        let data = whole.detached()
        let needsGrad = whole.requiresGrad
        steps = (0..<count).map { t in
            let step = data.slice(axis: 0, t * batch..<(t + 1) * batch)
            return needsGrad ? step.requiringGrad() : step
        }
    }

    /// Sends the step leaves' gradients (after the loss's backward) into the
    /// graph of `whole`. Does nothing when `whole` needs no gradient.
    func backward() {
        guard whole.requiresGrad else { return }
        let grads = withNoGrad { steps.map { $0.grad ?? $0.zerosLike() } }
        whole.backward(withNoGrad { Tensor.concatenate(grads, axis: 0) })
    }
}
