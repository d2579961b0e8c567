/// Modules in a chain (PyTorch's `nn.Sequential`): the output of each is the
/// input of the next. Children are named "0", "1", ... so the state dict
/// reads `0.weight`, `0.bias`, `2.weight` ... as in PyTorch.
///
///     let mlp = Sequential(Linear(784, 256), ReLU(), Linear(256, 10))
public final class Sequential: Module, @unchecked Sendable {
    /// The layers in order: the registered children (held by `Module`'s
    /// lock, so `append` from one task and `forward` from another are safe).
    public var layers: [Module] { children.map(\.module) }

    public init(_ layers: [Module]) {
        super.init()
        layers.forEach { append($0) }
    }

    public convenience init(_ layers: Module...) { self.init(layers) }

    /// Adds a module at the end, named by its position.
    public func append(_ module: Module) {
        register(module: String(children.count), module)
    }

    public var count: Int { children.count }
    public subscript(index: Int) -> Module { children[index].module }

    public override func forward(_ input: Tensor) -> Tensor {
        let layers = self.layers
        var x = input, i = 0
        while i < layers.count {
            // A Linear and the elementwise activation after it: the GEMM and
            // one fused kernel for bias and activation (same bits).
            if let linear = layers[i] as? Linear, i + 1 < layers.count,
               let activation = layers[i + 1] as? ElementwiseActivation {
                x = linear.forward(x, then: activation)
                i += 2
            } else {
                x = layers[i](x)
                i += 1
            }
        }
        return x
    }
}

/// A skip connection: y = shortcut(x) + body(x), with shortcut the identity
/// unless one is given (a projection when body changes the shape). The
/// children are named "body" and "shortcut".
public final class Residual: Module, @unchecked Sendable {
    public let body: Module
    public let shortcut: Module?

    public init(_ body: Module, shortcut: Module? = nil) {
        self.body = body
        self.shortcut = shortcut
        super.init()
        register(module: "body", body)
        if let shortcut { register(module: "shortcut", shortcut) }
    }

    public override func forward(_ input: Tensor) -> Tensor {
        (shortcut?(input) ?? input) + body(input)
    }
}

/// Collapses axes startDim...endDim into one (PyTorch's `nn.Flatten`; the
/// defaults keep the batch axis: [N, C, H, W] -> [N, C * H * W]).
public final class Flatten: Module, @unchecked Sendable {
    public let startDim: Int
    public let endDim: Int

    public init(startDim: Int = 1, endDim: Int = -1) {
        self.startDim = startDim
        self.endDim = endDim
        super.init()
    }

    public override func forward(_ input: Tensor) -> Tensor { input.flattened(startAxis: startDim, endAxis: endDim) }
}

/// Returns its input unchanged (a placeholder, as PyTorch's `nn.Identity`).
public final class Identity: Module, @unchecked Sendable {
    public override init() { super.init() }
    public override func forward(_ input: Tensor) -> Tensor { input }
}
