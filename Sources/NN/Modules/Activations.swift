/// Activation layers (PyTorch's `nn.Sigmoid`, `nn.ReLU`, ...). All but PReLU
/// and Maxout are stateless wrappers around the tensor ops of the same name.

/// An activation that is one elementwise function of its input, so it can
/// join a fused chain (`FusedElementwise`): `Sequential` runs a `Linear`
/// followed by one of these as the GEMM and one kernel for bias and
/// activation together.
public protocol ElementwiseActivation: Module {
    /// The activation of a traced value, built from the same op as `forward`.
    func apply(_ x: FusedValue) -> FusedValue
}

public final class Sigmoid: Module, ElementwiseActivation, @unchecked Sendable {
    public override init() { super.init() }
    public override func forward(_ input: Tensor) -> Tensor { input.sigmoid() }
    public func apply(_ x: FusedValue) -> FusedValue { x.sigmoid() }
}

public final class Tanh: Module, ElementwiseActivation, @unchecked Sendable {
    public override init() { super.init() }
    public override func forward(_ input: Tensor) -> Tensor { input.tanh() }
    public func apply(_ x: FusedValue) -> FusedValue { x.tanh() }
}

public final class ReLU: Module, ElementwiseActivation, @unchecked Sendable {
    public override init() { super.init() }
    public override func forward(_ input: Tensor) -> Tensor { input.relu() }
    public func apply(_ x: FusedValue) -> FusedValue { x.relu() }
}

/// max(0, x) + negativeSlope * min(0, x).
public final class LeakyReLU: Module, ElementwiseActivation, @unchecked Sendable {
    public let negativeSlope: Double
    public init(negativeSlope: Double = 0.01) {
        self.negativeSlope = negativeSlope
        super.init()
    }
    /// PyTorch's positional form: `LeakyReLU(0.2)`.
    public convenience init(_ negativeSlope: Double) { self.init(negativeSlope: negativeSlope) }
    public override var summary: String { "LeakyReLU(negativeSlope: \(negativeSlope))" }
    public override func forward(_ input: Tensor) -> Tensor { input.leakyReLU(negativeSlope: negativeSlope) }
    public func apply(_ x: FusedValue) -> FusedValue { x.leakyReLU(negativeSlope: negativeSlope) }
}

/// x for x > 0, alpha * (exp(x) - 1) otherwise.
public final class ELU: Module, ElementwiseActivation, @unchecked Sendable {
    public let alpha: Double
    public init(alpha: Double = 1) {
        self.alpha = alpha
        super.init()
    }
    /// PyTorch's positional form: `ELU(0.5)`.
    public convenience init(_ alpha: Double) { self.init(alpha: alpha) }
    public override var summary: String { "ELU(alpha: \(alpha))" }
    public override func forward(_ input: Tensor) -> Tensor { input.elu(alpha: alpha) }
    public func apply(_ x: FusedValue) -> FusedValue { x.elu(alpha: alpha) }
}

/// log(1 + exp(beta * x)) / beta, and x itself where beta * x > threshold.
public final class Softplus: Module, ElementwiseActivation, @unchecked Sendable {
    public let beta: Double
    public let threshold: Double
    public init(beta: Double = 1, threshold: Double = 20) {
        self.beta = beta
        self.threshold = threshold
        super.init()
    }
    /// PyTorch's positional form: `Softplus(2)`, `Softplus(2, 10)`.
    public convenience init(_ beta: Double, _ threshold: Double = 20) { self.init(beta: beta, threshold: threshold) }
    public override var summary: String { "Softplus(beta: \(beta), threshold: \(threshold))" }
    public override func forward(_ input: Tensor) -> Tensor { input.softplus(beta: beta, threshold: threshold) }
    public func apply(_ x: FusedValue) -> FusedValue { x.softplus(beta: beta, threshold: threshold) }
}

/// Softmax along `dim` (PyTorch deprecates an implicit dim; here it is
/// always given).
public final class Softmax: Module, @unchecked Sendable {
    public let dim: Int
    public init(dim: Int) {
        self.dim = dim
        super.init()
    }
    /// PyTorch's positional form: `Softmax(1)`.
    public convenience init(_ dim: Int) { self.init(dim: dim) }
    public override var summary: String { "Softmax(dim: \(dim))" }
    public override func forward(_ input: Tensor) -> Tensor { input.softmax(axis: dim) }
}

/// Log-softmax along `dim`.
public final class LogSoftmax: Module, @unchecked Sendable {
    public let dim: Int
    public init(dim: Int) {
        self.dim = dim
        super.init()
    }
    /// PyTorch's positional form: `LogSoftmax(1)`.
    public convenience init(_ dim: Int) { self.init(dim: dim) }
    public override var summary: String { "LogSoftmax(dim: \(dim))" }
    public override func forward(_ input: Tensor) -> Tensor { input.logSoftmax(axis: dim) }
}

/// Leaky ReLU with a learned slope (PyTorch's `nn.PReLU`):
/// max(0, x) + a * min(0, x).
///
/// `weight` [numParameters] starts at `init` (0.25). With one parameter the
/// slope is shared by every element; with numParameters = C there is one
/// slope per channel, the channel being axis 1 of an input [N, C, ...].
public final class PReLU: Module, @unchecked Sendable {
    public let numParameters: Int
    /// The slopes, [numParameters].
    public let weight: Parameter

    public init(numParameters: Int = 1, init initialSlope: Double = 0.25, dtype: DType = .float32,
                device: Device = .default) {
        require(numParameters >= 1, "PReLU: numParameters must be at least 1, got \(numParameters)")
        self.numParameters = numParameters
        weight = Parameter(Init.constant([numParameters], initialSlope, dtype: dtype, on: device))
        super.init()
        register(parameter: "weight", weight)
    }

    /// PyTorch's positional form: `PReLU(3)`, `PReLU(3, 0.1)`.
    public convenience init(_ numParameters: Int, _ initialSlope: Double = 0.25, dtype: DType = .float32,
                            device: Device = .default) {
        self.init(numParameters: numParameters, init: initialSlope, dtype: dtype, device: device)
    }

    public override var summary: String { "PReLU(numParameters: \(numParameters))" }

    public override func forward(_ input: Tensor) -> Tensor {
        var slope = weight.value
        if numParameters > 1 {
            require(input.rank >= 2 && input.shape[1] == numParameters,
                         "PReLU(numParameters: \(numParameters)): input \(input.shape) must be [N, \(numParameters), ...]")
            // [C, 1, ..., 1] lines the slopes up with axis 1 under broadcasting.
            slope = slope.reshaped([numParameters] + [Int](repeating: 1, count: input.rank - 2))
        }
        return PReLU.function(input, slope)
    }

    /// max(0, x) + a min(0, x) = relu(x) - a relu(-x), one kernel.
    private static let function = FusedElementwise("prelu") { x, a in x.relu() - a * (-x).relu() }
}

/// Maxout units (Goodfellow et al. 2013): each of `outFeatures` outputs is
/// the largest of `pieces` affine functions of the input.
///
/// The pieces live in one child Linear(inFeatures, outFeatures * pieces),
/// named `linear` (state dict `linear.weight` [outFeatures * pieces,
/// inFeatures], `linear.bias`). Its output is viewed as [*, outFeatures,
/// pieces], so output j takes the maximum over rows j * pieces ..< (j + 1) *
/// pieces of the weight: out[n, j] = max_p (W[j * pieces + p] . x[n] +
/// b[j * pieces + p]). This is the layout of `linear(x).view(N, out, k)
/// .max(-1)` in PyTorch.
public final class Maxout: Module, @unchecked Sendable {
    public let inFeatures: Int
    public let outFeatures: Int
    public let pieces: Int
    public let linear: Linear

    public init(_ inFeatures: Int, _ outFeatures: Int, pieces: Int, bias: Bool = true, dtype: DType = .float32,
                device: Device = .default) {
        require(pieces >= 1, "Maxout: pieces must be at least 1, got \(pieces)")
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        self.pieces = pieces
        linear = Linear(inFeatures, outFeatures * pieces, bias: bias, dtype: dtype, device: device)
        super.init()
        register(module: "linear", linear)
    }

    public override func forward(_ input: Tensor) -> Tensor {
        require(input.rank >= 1 && input.shape[input.rank - 1] == inFeatures,
                     "Maxout(\(inFeatures), \(outFeatures), pieces: \(pieces)): input \(input.shape) must be [*, \(inFeatures)]")
        let y = linear(input)
        return y.reshaped(Array(y.shape.dropLast()) + [outFeatures, pieces]).max(axis: -1)
    }
}
