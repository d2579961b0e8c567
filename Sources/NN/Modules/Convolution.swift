import Foundation

/// A 2-D convolution layer over NCHW images (PyTorch's `nn.Conv2d`):
/// cross-correlation of the input with `weight` [outChannels, inChannels,
/// kh, kw], plus `bias` [outChannels].
///
///     let conv = Conv2d(1, 6, kernelSize: 5, padding: 2)     // [N, 1, 28, 28] -> [N, 6, 28, 28]
///     let strided = Conv2d(3, 8, kernelSize: [3, 2], stride: [2, 1], dilation: [1, 2])
///     let same = Conv2d(3, 8, kernelSize: (3, 3), padding: (1, 1))
///
/// The output is [N, outChannels, H', W'] with H' = floor((H + 2 padH -
/// dilH (kh - 1) - 1) / strideH) + 1 (and W' alike), as in PyTorch. A
/// [C, H, W] input (one image, no batch axis) gives [outChannels, H', W'].
///
/// Initialization is PyTorch's `reset_parameters`: weight and bias from
/// U(-1/sqrt(fanIn), 1/sqrt(fanIn)) with fanIn = inChannels · kh · kw (its
/// `kaiming_uniform_(a=sqrt(5))` on the weight reduces to that bound), weight
/// drawn first. State dict: `weight`, `bias`.
///
/// A wrong input (rank, channel count, an image smaller than the dilated
/// kernel after padding) stops with a message naming the layer, e.g.
/// `Conv2d(1, 6, kernelSize: (5, 5))`, and the shapes.
public final class Conv2d: Module, @unchecked Sendable {
    public let inChannels: Int
    public let outChannels: Int
    /// (kh, kw).
    public let kernelSize: (Int, Int)
    public let stride: (Int, Int)
    public let padding: (Int, Int)
    public let dilation: (Int, Int)
    /// [outChannels, inChannels, kh, kw].
    public let weight: Parameter
    /// [outChannels], nil when built with `bias: false`.
    public let bias: Parameter?

    public init(_ inChannels: Int, _ outChannels: Int, kernelSize: IntOrPair, stride: IntOrPair = 1,
                padding: IntOrPair = 0, dilation: IntOrPair = 1, bias: Bool = true, dtype: DType = .float32,
                device: Device = .default) {
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.kernelSize = kernelSize.pair
        self.stride = stride.pair
        self.padding = padding.pair
        self.dilation = dilation.pair
        require(inChannels >= 1 && outChannels >= 1,
                     "Conv2d: channel counts must be positive, got (\(inChannels), \(outChannels))")
        require(kernelSize.first >= 1 && kernelSize.second >= 1 && stride.first >= 1 && stride.second >= 1
                     && dilation.first >= 1 && dilation.second >= 1 && padding.first >= 0 && padding.second >= 0,
                     "Conv2d: kernelSize \(kernelSize), stride \(stride) and dilation \(dilation) must be positive, "
                     + "padding \(padding) non-negative")
        let fanIn = inChannels * kernelSize.first * kernelSize.second
        let bound = 1 / Double(fanIn).squareRoot()
        weight = Parameter(Init.uniform([outChannels, inChannels, kernelSize.first, kernelSize.second], low: -bound,
                                        high: bound, dtype: dtype, on: device))
        self.bias = bias ? Parameter(Init.uniform([outChannels], low: -bound, high: bound, dtype: dtype, on: device)) : nil
        super.init()
        register(parameter: "weight", weight)
        if let b = self.bias { register(parameter: "bias", b) }
    }

    /// PyTorch's positional form: `Conv2d(3, 16, 3)`, `Conv2d(3, 16, 3, stride: 2, padding: 1)`.
    public convenience init(_ inChannels: Int, _ outChannels: Int, _ kernelSize: IntOrPair, stride: IntOrPair = 1,
                            padding: IntOrPair = 0, dilation: IntOrPair = 1, bias: Bool = true, dtype: DType = .float32,
                            device: Device = .default) {
        self.init(inChannels, outChannels, kernelSize: kernelSize, stride: stride, padding: padding, dilation: dilation,
                  bias: bias, dtype: dtype, device: device)
    }

    /// The positional form with a tuple kernel: `Conv2d(3, 16, (3, 5))`.
    public convenience init(_ inChannels: Int, _ outChannels: Int, _ kernelSize: (Int, Int), stride: (Int, Int) = (1, 1),
                            padding: (Int, Int) = (0, 0), dilation: (Int, Int) = (1, 1), bias: Bool = true,
                            dtype: DType = .float32, device: Device = .default) {
        self.init(inChannels, outChannels, kernelSize: IntOrPair(kernelSize), stride: IntOrPair(stride),
                  padding: IntOrPair(padding), dilation: IntOrPair(dilation), bias: bias, dtype: dtype, device: device)
    }

    /// The same layer with every size written as a tuple, PyTorch style:
    /// `Conv2d(1, 6, kernelSize: (5, 5), padding: (2, 2))`.
    public convenience init(_ inChannels: Int, _ outChannels: Int, kernelSize: (Int, Int), stride: (Int, Int) = (1, 1),
                            padding: (Int, Int) = (0, 0), dilation: (Int, Int) = (1, 1), bias: Bool = true,
                            dtype: DType = .float32, device: Device = .default) {
        self.init(inChannels, outChannels, kernelSize: IntOrPair(kernelSize), stride: IntOrPair(stride),
                  padding: IntOrPair(padding), dilation: IntOrPair(dilation), bias: bias, dtype: dtype, device: device)
    }

    public override func forward(_ input: Tensor) -> Tensor {
        if let problem = inputProblem(input.shape) { requirementFailed(problem) }
        let batched = input.rank == 3 ? input.unsqueezed(axis: 0) : input
        let out = batched.conv2d(weight: weight.value, bias: bias?.value, stride: stride, padding: padding,
                                 dilation: dilation)
        return input.rank == 3 ? out.squeezed(axis: 0) : out
    }

    /// Why `shape` cannot be this layer's input, or nil when it can (the
    /// message `forward` stops with).
    func inputProblem(_ shape: [Int]) -> String? {
        guard shape.count == 4 || shape.count == 3 else {
            return "\(summary): expected input [N, \(inChannels), H, W] or [\(inChannels), H, W], got \(shape)"
        }
        let channels = shape[shape.count - 3], height = shape[shape.count - 2], width = shape[shape.count - 1]
        guard channels == inChannels else {
            return "\(summary): input \(shape) has \(channels) channels, expected \(inChannels)"
        }
        let extentH = dilation.0 * (kernelSize.0 - 1) + 1, extentW = dilation.1 * (kernelSize.1 - 1) + 1
        let paddedH = height + 2 * padding.0, paddedW = width + 2 * padding.1
        guard paddedH >= extentH && paddedW >= extentW else {
            return "\(summary): input \(shape) is \(paddedH)x\(paddedW) after padding, smaller than the "
                + "\(extentH)x\(extentW) kernel" + (dilation == (1, 1) ? "" : " (dilated)")
        }
        return nil
    }

    /// `Conv2d(1, 6, kernelSize: (5, 5), padding: (2, 2))`: the sizes that
    /// differ from the defaults, as PyTorch's repr lists them.
    public override var summary: String {
        var parts = ["\(inChannels)", "\(outChannels)", "kernelSize: \(IntOrPair(kernelSize))"]
        if stride != (1, 1) { parts.append("stride: \(IntOrPair(stride))") }
        if padding != (0, 0) { parts.append("padding: \(IntOrPair(padding))") }
        if dilation != (1, 1) { parts.append("dilation: \(IntOrPair(dilation))") }
        if bias == nil { parts.append("bias: false") }
        return "Conv2d(" + parts.joined(separator: ", ") + ")"
    }
}

