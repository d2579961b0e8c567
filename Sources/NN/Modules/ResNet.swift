import Foundation

/// torchvision's ResNet basic block: conv 3x3 (stride) - BatchNorm - ReLU -
/// conv 3x3 - BatchNorm, plus the input (or, when the stride or the
/// channel count changes, a 1x1 convolution with that stride and a
/// BatchNorm: the projection shortcut), then ReLU. State-dict names as
/// torchvision's: `conv1.weight`, `bn1.*`, `conv2.weight`, `bn2.*`,
/// `downsample.0.weight`, `downsample.1.*`. The convolutions have no bias
/// (the BatchNorm after each has one).
public final class BasicBlock: Module, @unchecked Sendable {
    public let conv1: Conv2d, bn1: BatchNorm2d, conv2: Conv2d, bn2: BatchNorm2d
    /// The projection shortcut, nil for the identity.
    public let downsample: Sequential?

    public init(_ inChannels: Int, _ outChannels: Int, stride: Int = 1, dtype: DType = .float32, device: Device = .default) {
        conv1 = Conv2d(inChannels, outChannels, kernelSize: 3, stride: IntOrPair(stride), padding: 1, bias: false, dtype: dtype, device: device)
        bn1 = BatchNorm2d(outChannels, dtype: dtype, device: device)
        conv2 = Conv2d(outChannels, outChannels, kernelSize: 3, padding: 1, bias: false, dtype: dtype, device: device)
        bn2 = BatchNorm2d(outChannels, dtype: dtype, device: device)
        downsample = stride != 1 || inChannels != outChannels
            ? Sequential(Conv2d(inChannels, outChannels, kernelSize: 1, stride: IntOrPair(stride), bias: false, dtype: dtype, device: device),
                         BatchNorm2d(outChannels, dtype: dtype, device: device))
            : nil
        super.init()
        register(module: "conv1", conv1)
        register(module: "bn1", bn1)
        register(module: "conv2", conv2)
        register(module: "bn2", bn2)
        if let downsample { register(module: "downsample", downsample) }
    }

    public override func forward(_ input: Tensor) -> Tensor {
        let body = bn2(conv2(bn1(conv1(input)).relu()))
        return (body + (downsample?(input) ?? input)).relu()
    }
}

/// A small residual network for 28x28 images (MNIST-sized; the CIFAR
/// ResNets of He et al. scaled down): conv 3x3 to `widths[0]` channels,
/// BatchNorm, ReLU; then one stage per width of `blocksPerStage`
/// `BasicBlock`s, every stage after the first halving the resolution
/// (28 -> 14 -> 7); global average pooling and a linear classifier.
/// State-dict names follow torchvision: `conv1`, `bn1`, `layer1.0.conv1`,
/// ..., `fc`.
public final class ResNet: Module, @unchecked Sendable {
    public let conv1: Conv2d, bn1: BatchNorm2d
    /// One Sequential of BasicBlocks per stage (`layer1`, `layer2`, ...).
    public let stages: [Sequential]
    public let avgpool: AdaptiveAvgPool2d
    public let fc: Linear

    public init(inChannels: Int = 1, classes: Int = 10, widths: [Int] = [16, 32, 64], blocksPerStage: Int = 1,
                dtype: DType = .float32, device: Device = .default) {
        require(!widths.isEmpty && widths.allSatisfy { $0 >= 1 } && blocksPerStage >= 1 && classes >= 1,
                "ResNet: widths \(widths), blocksPerStage \(blocksPerStage) and classes \(classes) must be positive")
        conv1 = Conv2d(inChannels, widths[0], kernelSize: 3, padding: 1, bias: false, dtype: dtype, device: device)
        bn1 = BatchNorm2d(widths[0], dtype: dtype, device: device)
        var channels = widths[0]
        stages = widths.enumerated().map { stage, width in
            let blocks = (0..<blocksPerStage).map { i in
                BasicBlock(i == 0 ? channels : width, width, stride: i == 0 && stage > 0 ? 2 : 1, dtype: dtype, device: device)
            }
            channels = width
            return Sequential(blocks)
        }
        avgpool = AdaptiveAvgPool2d(1)
        fc = Linear(channels, classes, dtype: dtype, device: device)
        super.init()
        register(module: "conv1", conv1)
        register(module: "bn1", bn1)
        for (i, stage) in stages.enumerated() { register(module: "layer\(i + 1)", stage) }
        register(module: "avgpool", avgpool)
        register(module: "fc", fc)
    }

    public override func forward(_ input: Tensor) -> Tensor {
        let features = stages.reduce(bn1(conv1(input)).relu()) { x, stage in stage(x) }
        return fc(avgpool(features).flattened(startAxis: 1, endAxis: -1))
    }
}

/// Network in Network (Lin, Chen and Yan): convolutions followed by 1x1
/// convolutions, which act as a small MLP applied at every pixel, and a
/// classifier ending in global average pooling instead of fully connected
/// layers.
public enum NetworkInNetwork {
    /// conv k x k (stride, padding) - ReLU - conv 1x1 - ReLU - conv 1x1 - ReLU.
    public static func block(_ inChannels: Int, _ outChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0,
                             dtype: DType = .float32, device: Device = .default) -> Sequential {
        Sequential(Conv2d(inChannels, outChannels, kernelSize: IntOrPair(kernelSize), stride: IntOrPair(stride),
                          padding: IntOrPair(padding), dtype: dtype, device: device), ReLU(),
                   Conv2d(outChannels, outChannels, kernelSize: 1, dtype: dtype, device: device), ReLU(),
                   Conv2d(outChannels, outChannels, kernelSize: 1, dtype: dtype, device: device), ReLU())
    }

    /// A NiN classifier for 28x28 images: NiN blocks of 32 and 64 channels
    /// (5x5) each followed by 3x3 max-pooling with stride 2 (28 -> 13 -> 6),
    /// dropout, and a last NiN block with one channel per class whose
    /// global average is the logit.
    public static func classifier(inChannels: Int = 1, classes: Int = 10, dropout: Double = 0.5,
                                  dtype: DType = .float32, device: Device = .default) -> Sequential {
        Sequential(block(inChannels, 32, kernelSize: 5, padding: 2, dtype: dtype, device: device), MaxPool2d(3, stride: 2),
                   block(32, 64, kernelSize: 5, padding: 2, dtype: dtype, device: device), MaxPool2d(3, stride: 2),
                   Dropout(p: dropout),
                   block(64, classes, kernelSize: 3, padding: 1, dtype: dtype, device: device),
                   AdaptiveAvgPool2d(1), Flatten())
    }
}
