import Synchronization

// Pooling layers over NCHW images (PyTorch's `nn.MaxPool2d`,
// `nn.AvgPool2d`, `nn.AdaptiveAvgPool2d`), stateless wrappers around the
// tensor ops of the same name. Each takes [N, C, H, W] or one image
// [C, H, W] and pools every channel plane on its own.
//
// Output size (floor mode, as PyTorch's default):
// H' = floor((H + 2 padH - kh) / strideH) + 1, and W' alike.
//
// A wrong input stops with a message naming the layer and the shapes.

/// The maximum over each window; padding counts as -infinity. `stride`
/// defaults to the kernel size, `padding` (at most half the kernel) to 0.
///
///     MaxPool2d(2)                      // [N, C, 28, 28] -> [N, C, 14, 14]
///     MaxPool2d(3, stride: 2, padding: 1)
public final class MaxPool2d: Module, @unchecked Sendable {
    public let kernelSize: (Int, Int)
    public let stride: (Int, Int)
    public let padding: (Int, Int)

    public init(_ kernelSize: IntOrPair, stride: IntOrPair? = nil, padding: IntOrPair = 0) {
        self.kernelSize = kernelSize.pair
        self.stride = (stride ?? kernelSize).pair
        self.padding = padding.pair
        super.init()
        if let problem = poolSettingsProblem(summary, kernel: self.kernelSize, stride: self.stride, padding: self.padding) {
            requirementFailed(problem)
        }
    }

    /// PyTorch's positional form: `MaxPool2d(3, 2)`, `MaxPool2d(3, 2, 1)`.
    public convenience init(_ kernelSize: IntOrPair, _ stride: IntOrPair, _ padding: IntOrPair = 0) {
        self.init(kernelSize, stride: stride, padding: padding)
    }

    /// Every size as a tuple: `MaxPool2d((2, 2), stride: (2, 1))`.
    public convenience init(_ kernelSize: (Int, Int), stride: (Int, Int)? = nil, padding: (Int, Int) = (0, 0)) {
        self.init(IntOrPair(kernelSize), stride: stride.map(IntOrPair.init), padding: IntOrPair(padding))
    }

    public override func forward(_ input: Tensor) -> Tensor {
        if let problem = inputProblem(input.shape) { requirementFailed(problem) }
        return onBatch(input) { $0.maxPool2d(kernel: kernelSize, stride: stride, padding: padding) }
    }

    /// Why `shape` cannot be pooled by this layer, or nil.
    func inputProblem(_ shape: [Int]) -> String? {
        poolInputProblem(summary, shape, kernel: kernelSize, padding: padding)
    }

    public override var summary: String { poolDescription("MaxPool2d", kernelSize, stride, padding) }
}

/// The mean over each window. Padded cells count in the divisor when
/// `countIncludePad` (PyTorch's default), and only real cells otherwise.
///
///     AvgPool2d(2)
///     AvgPool2d(3, stride: 1, padding: 1, countIncludePad: false)
public final class AvgPool2d: Module, @unchecked Sendable {
    public let kernelSize: (Int, Int)
    public let stride: (Int, Int)
    public let padding: (Int, Int)
    public let countIncludePad: Bool

    public init(_ kernelSize: IntOrPair, stride: IntOrPair? = nil, padding: IntOrPair = 0, countIncludePad: Bool = true) {
        self.kernelSize = kernelSize.pair
        self.stride = (stride ?? kernelSize).pair
        self.padding = padding.pair
        self.countIncludePad = countIncludePad
        super.init()
        if let problem = poolSettingsProblem(summary, kernel: self.kernelSize, stride: self.stride, padding: self.padding) {
            requirementFailed(problem)
        }
    }

    /// PyTorch's positional form: `AvgPool2d(3, 2)`, `AvgPool2d(3, 2, 1)`.
    public convenience init(_ kernelSize: IntOrPair, _ stride: IntOrPair, _ padding: IntOrPair = 0,
                            countIncludePad: Bool = true) {
        self.init(kernelSize, stride: stride, padding: padding, countIncludePad: countIncludePad)
    }

    /// Every size as a tuple: `AvgPool2d((2, 2), stride: (2, 1))`.
    public convenience init(_ kernelSize: (Int, Int), stride: (Int, Int)? = nil, padding: (Int, Int) = (0, 0),
                            countIncludePad: Bool = true) {
        self.init(IntOrPair(kernelSize), stride: stride.map(IntOrPair.init), padding: IntOrPair(padding),
                  countIncludePad: countIncludePad)
    }

    public override func forward(_ input: Tensor) -> Tensor {
        if let problem = inputProblem(input.shape) { requirementFailed(problem) }
        return onBatch(input) {
            $0.avgPool2d(kernel: kernelSize, stride: stride, padding: padding, countIncludePad: countIncludePad)
        }
    }

    /// Why `shape` cannot be pooled by this layer, or nil.
    func inputProblem(_ shape: [Int]) -> String? {
        poolInputProblem(summary, shape, kernel: kernelSize, padding: padding)
    }

    public override var summary: String {
        poolDescription("AvgPool2d", kernelSize, stride, padding, countIncludePad ? [] : ["countIncludePad: false"])
    }
}

/// Average pooling to a fixed output size whatever the input's, with
/// PyTorch's windows: output row i averages input rows floor(i·H/outH) ..<
/// ceil((i+1)·H/outH), and columns alike, so windows overlap when H is not
/// a multiple of outH. `AdaptiveAvgPool2d(1)` is global average pooling.
///
///     AdaptiveAvgPool2d(1)          // [N, C, H, W] -> [N, C, 1, 1]
///     AdaptiveAvgPool2d([3, 2])     // [N, C, 5, 7] -> [N, C, 3, 2]
///
/// See `Tensor.adaptiveAvgPool2d(outputSize:)` for how it is computed; the
/// layer keeps the pooling matrices of the last input size on its device,
/// so a training loop uploads them once.
public final class AdaptiveAvgPool2d: Module, @unchecked Sendable {
    /// (outH, outW).
    public let outputSize: (Int, Int)
    private let matrices = Mutex<(height: Tensor, width: Tensor)?>(nil)

    public init(_ outputSize: IntOrPair) {
        self.outputSize = outputSize.pair
        super.init()
        require(outputSize.first >= 1 && outputSize.second >= 1, "\(summary): the output size must be positive")
    }

    /// The output size as a tuple: `AdaptiveAvgPool2d((3, 2))`.
    public convenience init(_ outputSize: (Int, Int)) {
        self.init(IntOrPair(outputSize))
    }

    public override func forward(_ input: Tensor) -> Tensor {
        if let problem = inputProblem(input.shape) { requirementFailed(problem) }
        return onBatch(input) { x in
            if x.shape[2] % outputSize.0 == 0 && x.shape[3] % outputSize.1 == 0 {
                return x.adaptiveAvgPool2d(outputSize: outputSize)
            }
            let m = poolingMatrices(for: x)
            return x.adaptiveAvgPool2d(heightMatrix: m.height, widthMatrix: m.width)
        }
    }

    /// The cached matrices when they fit `x` (size, dtype, device), else
    /// new ones for `x`.
    private func poolingMatrices(for x: Tensor) -> (height: Tensor, width: Tensor) {
        matrices.withLock { matrices in
            if let m = matrices, m.height.shape[0] == x.shape[2], m.width.shape[0] == x.shape[3],
               m.height.dtype == x.dtype, m.height.device == x.device {
                return m
            }
            let built = (height: x.adaptivePoolMatrix(inSize: x.shape[2], outSize: outputSize.0),
                         width: x.adaptivePoolMatrix(inSize: x.shape[3], outSize: outputSize.1))
            matrices = built
            return built
        }
    }

    /// Why `shape` cannot be pooled by this layer, or nil.
    func inputProblem(_ shape: [Int]) -> String? {
        guard shape.count == 4 || shape.count == 3 else {
            return "\(summary): expected input [N, C, H, W] or [C, H, W], got \(shape)"
        }
        guard shape[shape.count - 2] >= 1 && shape[shape.count - 1] >= 1 else {
            return "\(summary): input \(shape) has an empty plane"
        }
        return nil
    }

    public override var summary: String { "AdaptiveAvgPool2d(\(IntOrPair(outputSize)))" }
}

// MARK: - Shared checks

/// `pool` applied to [N, C, H, W] input, or to [C, H, W] as a batch of one.
private func onBatch(_ input: Tensor, _ pool: (Tensor) -> Tensor) -> Tensor {
    input.rank == 3 ? pool(input.unsqueezed(axis: 0)).squeezed(axis: 0) : pool(input)
}

/// Settings PyTorch rejects: sizes that are not positive, padding more than
/// half the kernel.
private func poolSettingsProblem(_ layer: String, kernel: (Int, Int), stride: (Int, Int), padding: (Int, Int)) -> String? {
    guard kernel.0 >= 1 && kernel.1 >= 1 && stride.0 >= 1 && stride.1 >= 1 else {
        return "\(layer): kernel size and stride must be positive"
    }
    guard padding.0 >= 0 && padding.1 >= 0 && 2 * padding.0 <= kernel.0 && 2 * padding.1 <= kernel.1 else {
        return "\(layer): padding must be between 0 and half the kernel size"
    }
    return nil
}

/// Input rank and size problems of a pooling layer, or nil.
func poolInputProblem(_ layer: String, _ shape: [Int], kernel: (Int, Int), padding: (Int, Int)) -> String? {
    guard shape.count == 4 || shape.count == 3 else {
        return "\(layer): expected input [N, C, H, W] or [C, H, W], got \(shape)"
    }
    let paddedH = shape[shape.count - 2] + 2 * padding.0, paddedW = shape[shape.count - 1] + 2 * padding.1
    guard paddedH >= kernel.0 && paddedW >= kernel.1 else {
        return "\(layer): input \(shape) is \(paddedH)x\(paddedW)" + (padding == (0, 0) ? "" : " after padding")
            + ", smaller than the \(kernel.0)x\(kernel.1) kernel"
    }
    return nil
}

/// `MaxPool2d(kernelSize: (2, 2), stride: (2, 1))`: stride when it is not
/// the kernel, padding when not zero.
private func poolDescription(_ name: String, _ kernel: (Int, Int), _ stride: (Int, Int), _ padding: (Int, Int),
                             _ extra: [String] = []) -> String {
    var parts = ["kernelSize: \(IntOrPair(kernel))"]
    if stride != kernel { parts.append("stride: \(IntOrPair(stride))") }
    if padding != (0, 0) { parts.append("padding: \(IntOrPair(padding))") }
    return "\(name)(" + (parts + extra).joined(separator: ", ") + ")"
}
