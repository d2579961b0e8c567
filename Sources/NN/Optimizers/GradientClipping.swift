/// Gradient clipping, applied between `backward()` and `step()`. Both
/// functions stay on the device: no value is downloaded.

/// Scales the gradients of `parameters` together so that their global
/// `normType`-norm is at most `maxNorm` (torch.nn.utils.clip_grad_norm_).
///
/// The norm is taken over all gradients as if concatenated into one vector
/// (`normType` 2 by default; any p > 0, or `.infinity` for the largest
/// magnitude). Every gradient is multiplied by min(1, maxNorm / (norm +
/// 1e-6)), as PyTorch, so nothing waits on the device to decide.
///
/// - Returns: the total norm before clipping, a one-element tensor of shape
///   [] on the gradients' device (read it with `scalar()` when needed). With
///   no gradients at all, 0.
@discardableResult
public func clipGradNorm(_ parameters: [Parameter], maxNorm: Double, normType: Double = 2) -> Tensor {
    require(normType > 0, "clipGradNorm: normType must be positive (or .infinity), got \(normType)")
    require(maxNorm >= 0, "clipGradNorm: maxNorm must be non-negative, got \(maxNorm)")
    let withGrads = gradients("clipGradNorm", parameters)
    guard !withGrads.isEmpty else { return Tensor.zeros([]) }
    return withNoGrad {
        let total: Tensor
        if normType == .infinity {
            let maxima = withGrads.map { $0.grad.abs().max().reshaped([1]) }
            total = Tensor.concatenate(maxima).max()
        } else {
            let powered = withGrads.map { entry -> Tensor in
                switch normType {
                case 1: return entry.grad.abs().sum()
                case 2: return entry.grad.square().sum()
                default: return entry.grad.abs().pow(normType).sum()
                }
            }
            let sum = powered.dropFirst().reduce(powered[0], +)
            total = normType == 1 ? sum : (normType == 2 ? sum.sqrt() : sum.pow(1 / normType))
        }
        let coefficient = FusedElementwise("clipGradNorm") { (maxNorm / ($0 + 1e-6)).clamp(max: 1) }(total)
        for entry in withGrads { entry.value.grad = entry.grad * coefficient }
        return total
    }
}

/// Clamps every gradient element of `parameters` into [-clipValue,
/// clipValue] (torch.nn.utils.clip_grad_value_).
public func clipGradValue(_ parameters: [Parameter], clipValue: Double) {
    require(clipValue >= 0, "clipGradValue: clipValue must be non-negative, got \(clipValue)")
    withNoGrad {
        for entry in gradients("clipGradValue", parameters) {
            entry.value.grad = entry.grad.clamp(min: -clipValue, max: clipValue)
        }
    }
}

/// The trainable parameters that have a gradient, all on one device.
private func gradients(_ name: String, _ parameters: [Parameter]) -> [(value: Tensor, grad: Tensor)] {
    let list = parameters.compactMap { p -> (value: Tensor, grad: Tensor)? in
        guard p.trainable, let g = p.grad else { return nil }
        return (p.value, g)
    }
    if let device = list.first?.value.device {
        require(list.allSatisfy { $0.value.device == device },
                     "\(name): parameters on different devices (\(Set(list.map { $0.value.device.name }).sorted()))")
    }
    return list
}
