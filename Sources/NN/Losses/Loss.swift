/// How a loss turns per-element losses into its result (PyTorch's
/// `reduction`).
public enum Reduction: String, Sendable, CaseIterable {
    /// The average (for class-weighted losses: divided by the total weight of
    /// the targets, as PyTorch).
    case mean
    /// The sum.
    case sum
    /// No reduction: one loss per element (or per sample for the
    /// classification losses).
    case none

    func apply(_ losses: Tensor) -> Tensor {
        switch self {
        case .mean: return losses.mean()
        case .sum: return losses.sum()
        case .none: return losses
        }
    }
}

/// A loss function: `loss(input, target)`. The result is differentiable with
/// respect to `input` (and, where PyTorch's is, the target and weights);
/// with `.mean` or `.sum` it is a one-element tensor of shape [] ready for
/// `backward()`.
public protocol Loss {
    func callAsFunction(_ input: Tensor, _ target: Tensor) -> Tensor
}

// MARK: - Shared helpers

extension Tensor {
    /// A differentiable op whose forward runs on detached inputs without
    /// recording, and whose backward is told which inputs need gradients
    /// (losses skip the target's gradient when nobody asked for it).
    static func lossOp(_ name: String, _ inputs: [Tensor], forward: ([Tensor]) -> Tensor,
                       backward: @escaping @Sendable (_ grad: Tensor, _ inputs: [Tensor], _ needs: [Bool]) -> [Tensor?]) -> Tensor {
        let xs = inputs.map { $0.detached() }
        let output = withNoGrad { forward(xs) }.detached()
        return record(name, inputs: inputs, output: output) { g, needs in backward(g, xs, needs) }
    }
}

/// Class-indexed losses take input [N, C] with target [N], input [C] with
/// target [] (one sample), or input [N, C, d1, ...] with target
/// [N, d1, ...] (e.g. per-pixel classes), as PyTorch. This brings them to
/// rows [M, C] and labels [M], and maps the per-row losses back to the
/// target's shape.
struct ClassRows {
    let rows: Tensor
    let labels: Tensor
    let targetShape: [Int]
    var classes: Int { rows.shape[1] }

    init(_ name: String, input: Tensor, target: Tensor) {
        require(input.dtype.isFloatingPoint, "\(name): input must be a float tensor, got \(input.dtype) \(input.shape)")
        let target = target.asIndices("\(name) target (class indices)")
        require(input.device == target.device, ShapeErrors.mixedDevices(name, input, target))
        switch input.rank {
        case 1:
            require(target.rank == 0 || target.shape == [1],
                         ShapeErrors.mismatch(name, input.shape, target.shape, "input [C] takes a target of shape []"))
            rows = input.reshaped([1, input.shape[0]])
        case 2:
            require(target.shape == [input.shape[0]],
                         ShapeErrors.mismatch(name, input.shape, target.shape, "input [N, C] takes a target [N]"))
            rows = input
        default:
            require(input.rank >= 2, ShapeErrors.badRank(name, shape: input.shape, expected: "[C], [N, C] or [N, C, d1, ...]"))
            let expected = [input.shape[0]] + Array(input.shape[2...])
            require(target.shape == expected,
                         ShapeErrors.mismatch(name, input.shape, target.shape, "input [N, C, d...] takes a target \(expected)"))
            // [N, C, d...] -> [N, d..., C] -> [M, C]
            rows = input.permuted([0] + Array(2..<input.rank) + [1]).reshaped([-1, input.shape[1]])
        }
        labels = target.reshaped([rows.shape[0]])
        targetShape = input.rank == 1 ? [] : target.shape
    }

    /// Per-row losses [M] shaped like the target.
    func unflatten(_ losses: Tensor) -> Tensor { losses.reshaped(targetShape) }
}

/// A class-weight vector checked against `classes` and converted to the
/// input's dtype.
func classWeight(_ name: String, _ weight: Tensor?, classes: Int, like input: Tensor) -> Tensor? {
    guard let weight else { return nil }
    require(weight.shape == [classes],
                 ShapeErrors.mismatch(name, [classes], weight.shape, "weight must have one entry per class"))
    require(weight.device == input.device, ShapeErrors.mixedDevices(name, input, weight))
    return weight.to(dtype: input.dtype)
}

/// Checks that an elementwise loss's input and target have one shape
/// (PyTorch broadcasts with a warning; a [N, 1] vs [N] mix-up silently
/// makes an [N, N] loss, so here it is an error).
func checkSameShape(_ name: String, _ input: Tensor, _ target: Tensor) {
    require(input.shape == target.shape,
                 ShapeErrors.mismatch(name, input.shape, target.shape, "input and target must have the same shape"))
    require(input.dtype.isFloatingPoint && target.dtype.isFloatingPoint,
                 "\(name): input and target must be float tensors, got \(input.dtype) and \(target.dtype)")
    require(input.device == target.device, ShapeErrors.mixedDevices(name, input, target))
}
