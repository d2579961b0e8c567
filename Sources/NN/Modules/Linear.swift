import Foundation

/// A fully connected layer, y = x W^T + b (PyTorch's `nn.Linear`).
///
/// Parameters `weight` [outFeatures, inFeatures] and `bias` [outFeatures],
/// both drawn from U(-1/sqrt(inFeatures), 1/sqrt(inFeatures)) as PyTorch's
/// `reset_parameters` does (its `kaiming_uniform_(a=sqrt(5))` on the weight
/// reduces to exactly that bound), weight first, then bias.
///
/// The input is [*, inFeatures] (any leading axes, or none); the output
/// [*, outFeatures].
public final class Linear: Module, @unchecked Sendable {
    public let inFeatures: Int
    public let outFeatures: Int
    /// [outFeatures, inFeatures].
    public let weight: Parameter
    /// [outFeatures], nil when built with `bias: false`.
    public let bias: Parameter?

    public init(_ inFeatures: Int, _ outFeatures: Int, bias: Bool = true, dtype: DType = .float32,
                device: Device = .default) {
        require(inFeatures >= 0 && outFeatures >= 0,
                     "Linear: feature counts must not be negative, got (\(inFeatures), \(outFeatures))")
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        let bound = inFeatures > 0 ? 1 / Double(inFeatures).squareRoot() : 0
        weight = Parameter(Init.uniform([outFeatures, inFeatures], low: -bound, high: bound, dtype: dtype, on: device))
        self.bias = bias ? Parameter(Init.uniform([outFeatures], low: -bound, high: bound, dtype: dtype, on: device)) : nil
        super.init()
        register(parameter: "weight", weight)
        if let b = self.bias { register(parameter: "bias", b) }
    }

    public override var summary: String { "Linear(\(inFeatures), \(outFeatures)\(bias == nil ? ", bias: false" : ""))" }

    public override func forward(_ input: Tensor) -> Tensor {
        onRows(input) { $0.linear(weight: weight.value, bias: bias?.value) }
    }

    /// `activation(forward(input))` with the bias and the activation in one
    /// fused kernel after the GEMM (the same bits as the two run apart).
    public func forward(_ input: Tensor, then activation: ElementwiseActivation) -> Tensor {
        onRows(input) { rows in
            let product = rows.linear(weight: weight.value, bias: nil)
            return bias.map { FusedElementwise("linear+\(type(of: activation))") { x, b in activation.apply(x + b) }(product, $0.value) }
                ?? FusedElementwise("\(type(of: activation))") { activation.apply($0) }(product)
        }
    }

    /// `body` applied to the input as rows [*, inFeatures], its result
    /// given the input's leading axes back.
    private func onRows(_ input: Tensor, _ body: (Tensor) -> Tensor) -> Tensor {
        require(input.rank >= 1 && input.shape[input.rank - 1] == inFeatures,
                     "Linear(\(inFeatures), \(outFeatures)): input \(input.shape) must be [*, \(inFeatures)]")
        let leading = Array(input.shape.dropLast())
        let out = body(input.rank == 2 ? input : input.reshaped([leading.reduce(1, *), inFeatures]))
        return input.rank == 2 ? out : out.reshaped(leading + [outFeatures])
    }
}
