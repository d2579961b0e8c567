/// The shapes of a 2-D convolution in NCHW layout with weights
/// [outChannels, inChannels, kernelH, kernelW], as in PyTorch.
public struct Conv2dGeometry: Equatable, Sendable {
    public var batch: Int
    public var inChannels: Int
    public var inHeight: Int
    public var inWidth: Int
    public var outChannels: Int
    public var kernelH: Int
    public var kernelW: Int
    public var strideH: Int = 1
    public var strideW: Int = 1
    public var padH: Int = 0
    public var padW: Int = 0
    public var dilationH: Int = 1
    public var dilationW: Int = 1

    public init(batch: Int, inChannels: Int, inHeight: Int, inWidth: Int, outChannels: Int,
                kernelH: Int, kernelW: Int, stride: (Int, Int) = (1, 1), padding: (Int, Int) = (0, 0),
                dilation: (Int, Int) = (1, 1)) {
        self.batch = batch
        self.inChannels = inChannels
        self.inHeight = inHeight
        self.inWidth = inWidth
        self.outChannels = outChannels
        self.kernelH = kernelH
        self.kernelW = kernelW
        (strideH, strideW) = stride
        (padH, padW) = padding
        (dilationH, dilationW) = dilation
    }

    /// floor((in + 2 pad - dilation (k - 1) - 1) / stride) + 1, as PyTorch.
    public var outHeight: Int { (inHeight + 2 * padH - dilationH * (kernelH - 1) - 1) / strideH + 1 }
    public var outWidth: Int { (inWidth + 2 * padW - dilationW * (kernelW - 1) - 1) / strideW + 1 }

    public var inputShape: [Int] { [batch, inChannels, inHeight, inWidth] }
    public var weightShape: [Int] { [outChannels, inChannels, kernelH, kernelW] }
    public var outputShape: [Int] { [batch, outChannels, outHeight, outWidth] }

    /// Rows of the im2col matrix: one per (input channel, kernel tap).
    public var patchSize: Int { inChannels * kernelH * kernelW }
}

/// 2-D convolution (cross-correlation, as every framework computes it).
public protocol ConvolutionOps: AnyObject {
    /// out = conv(input, weight) + bias (bias [outChannels] optional).
    func conv2dForward(input: DeviceBuffer, weight: DeviceBuffer, bias: DeviceBuffer?,
                       out: DeviceBuffer, geometry: Conv2dGeometry)

    /// gradInput = dL/dinput given dL/dout (overwritten, not accumulated).
    func conv2dBackwardData(gradOut: DeviceBuffer, weight: DeviceBuffer, gradInput: DeviceBuffer,
                            geometry: Conv2dGeometry)

    /// gradWeight = dL/dweight and, when given, gradBias = dL/dbias
    /// (overwritten, not accumulated).
    func conv2dBackwardFilter(input: DeviceBuffer, gradOut: DeviceBuffer, gradWeight: DeviceBuffer,
                              gradBias: DeviceBuffer?, geometry: Conv2dGeometry)
}
