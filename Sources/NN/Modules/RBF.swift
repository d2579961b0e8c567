import Foundation

/// Squared Euclidean distances from each input row to each of `outFeatures`
/// learned centers: y[n, k] = ‖x[n] - w[k]‖², the first half of an RBF
/// unit. Parameter `weight` [outFeatures, inFeatures] holds the centers,
/// drawn from U(-1, 1).
///
/// Computed as ‖x‖² - 2 x wᵀ + ‖w‖², one matrix product on the device;
/// rounding can make that a hair below zero for a point on a center, so it
/// is clamped at 0.
public final class SquaredDistance: Module, @unchecked Sendable {
    public let inFeatures: Int
    public let outFeatures: Int
    /// The centers, [outFeatures, inFeatures].
    public let weight: Parameter

    public init(_ inFeatures: Int, _ outFeatures: Int, dtype: DType = .float32, device: Device = .default) {
        require(inFeatures >= 1 && outFeatures >= 1,
                "SquaredDistance: feature counts must be positive, got (\(inFeatures), \(outFeatures))")
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        weight = Parameter(Init.uniform([outFeatures, inFeatures], low: -1, high: 1, dtype: dtype, on: device))
        super.init()
        register(parameter: "weight", weight)
    }

    public override func forward(_ input: Tensor) -> Tensor {
        require(input.rank == 2 && input.shape[1] == inFeatures,
                "SquaredDistance(\(inFeatures), \(outFeatures)): input \(input.shape) must be [N, \(inFeatures)]")
        let w = weight.value
        let inputNorms = input.square().sum(axis: 1, keepDims: true)    // [N, 1]
        let centerNorms = w.square().sum(axis: 1).reshaped([1, outFeatures])  // [1, K]
        return (inputNorms - input.matmul(w.transposed()) * 2 + centerNorms).clamp(min: 0)
    }
}

/// y = exp(scale · x), elementwise: with a negative scale, the second half
/// of an RBF unit.
public final class Exp: Module, @unchecked Sendable {
    public let scale: Double

    public init(scale: Double = 1) {
        self.scale = scale
        super.init()
    }

    public override func forward(_ input: Tensor) -> Tensor { (input * scale).exp() }
}

/// A layer of radial basis function units, y[n, k] = exp(-γ ‖x[n] - c[k]‖²),
/// built as the course notes build it: a cascade of two simpler modules, a
/// `SquaredDistance` (the centers, state-dict name `distance.weight`) and an
/// `Exp` with scale -γ. Each part has its own forward and backward; the
/// cascade's gradient is their chain.
public final class RBF: Module, @unchecked Sendable {
    public let distance: SquaredDistance
    public let exponential: Exp

    public init(_ inFeatures: Int, _ outFeatures: Int, gamma: Double = 1, dtype: DType = .float32, device: Device = .default) {
        require(gamma > 0 && gamma.isFinite, "RBF: gamma must be positive, got \(gamma)")
        distance = SquaredDistance(inFeatures, outFeatures, dtype: dtype, device: device)
        exponential = Exp(scale: -gamma)
        super.init()
        register(module: "distance", distance)
        register(module: "exp", exponential)
    }

    public override func forward(_ input: Tensor) -> Tensor { exponential(distance(input)) }
}
