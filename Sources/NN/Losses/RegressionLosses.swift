/// Mean squared error, (input - target)^2 per element (torch.nn.MSELoss).
public struct MSELoss: Loss, Sendable {
    public var reduction: Reduction

    public init(reduction: Reduction = .mean) { self.reduction = reduction }

    public func callAsFunction(_ input: Tensor, _ target: Tensor) -> Tensor {
        checkSameShape("MSELoss", input, target)
        return reduction.apply(MSELoss.squaredError(input, target))
    }

    private static let squaredError = FusedElementwise("mse") { x, y in (x - y).square() }
}

/// Mean absolute error, |input - target| per element (torch.nn.L1Loss). The
/// gradient at input == target is 0, as PyTorch's sign.
public struct L1Loss: Loss, Sendable {
    public var reduction: Reduction

    public init(reduction: Reduction = .mean) { self.reduction = reduction }

    public func callAsFunction(_ input: Tensor, _ target: Tensor) -> Tensor {
        checkSameShape("L1Loss", input, target)
        return reduction.apply(L1Loss.absoluteError(input, target))
    }

    private static let absoluteError = FusedElementwise("l1") { x, y in (x - y).abs() }
}

/// The mean absolute error under its other name.
public typealias MAELoss = L1Loss
