/// The shapes of a 2-D pooling window over NCHW input, as PyTorch's
/// MaxPool2d / AvgPool2d (floor mode; padding counts as -inf for max and,
/// with `countIncludePad`, as zeros for average).
public struct Pool2dGeometry: Equatable, Sendable {
    public var batch: Int
    public var channels: Int
    public var inHeight: Int
    public var inWidth: Int
    public var kernelH: Int
    public var kernelW: Int
    public var strideH: Int
    public var strideW: Int
    public var padH: Int = 0
    public var padW: Int = 0

    /// `stride` defaults to the kernel size, as in PyTorch.
    public init(batch: Int, channels: Int, inHeight: Int, inWidth: Int, kernel: (Int, Int),
                stride: (Int, Int)? = nil, padding: (Int, Int) = (0, 0)) {
        self.batch = batch
        self.channels = channels
        self.inHeight = inHeight
        self.inWidth = inWidth
        (kernelH, kernelW) = kernel
        (strideH, strideW) = stride ?? kernel
        (padH, padW) = padding
    }

    public var outHeight: Int { (inHeight + 2 * padH - kernelH) / strideH + 1 }
    public var outWidth: Int { (inWidth + 2 * padW - kernelW) / strideW + 1 }
    public var inputShape: [Int] { [batch, channels, inHeight, inWidth] }
    public var outputShape: [Int] { [batch, channels, outHeight, outWidth] }
}

public protocol PoolingOps: AnyObject {
    /// out = window maxima; indices (int32) = position of each maximum within
    /// its input plane (h * inWidth + w), as PyTorch's return_indices.
    func maxPool2dForward(input: DeviceBuffer, out: DeviceBuffer, indices: DeviceBuffer,
                          geometry: Pool2dGeometry)

    /// gradInput (overwritten) receives each gradOut at its argmax.
    func maxPool2dBackward(gradOut: DeviceBuffer, indices: DeviceBuffer, gradInput: DeviceBuffer,
                           geometry: Pool2dGeometry)

    /// out = window means; the divisor counts padded cells when
    /// `countIncludePad` (PyTorch's default) and only real cells otherwise.
    func avgPool2dForward(input: DeviceBuffer, out: DeviceBuffer, geometry: Pool2dGeometry,
                          countIncludePad: Bool)

    /// gradInput (overwritten) = each gradOut spread evenly over its window.
    func avgPool2dBackward(gradOut: DeviceBuffer, gradInput: DeviceBuffer, geometry: Pool2dGeometry,
                           countIncludePad: Bool)
}
