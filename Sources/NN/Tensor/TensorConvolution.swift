/// Convolution and pooling on NCHW tensors (PyTorch's F.conv2d, max_pool2d,
/// avg_pool2d).
extension Tensor {
    /// Cross-correlation of this [N, C, H, W] input with `weight`
    /// [outC, C, kh, kw], plus `bias` [outC].
    public func conv2d(weight: Tensor, bias: Tensor? = nil, stride: (Int, Int) = (1, 1), padding: (Int, Int) = (0, 0),
                       dilation: (Int, Int) = (1, 1)) -> Tensor {
        precondition(rank == 4 && weight.rank == 4,
                     ShapeErrors.mismatch("conv2d", shape, weight.shape, "expected input [N, C, H, W] and weight [outC, C, kh, kw]"))
        precondition(shape[1] == weight.shape[1],
                     ShapeErrors.mismatch("conv2d", shape, weight.shape, "input channels \(shape[1]) differ from the weight's \(weight.shape[1])"))
        Tensor.checkCompatible("conv2d", self, weight)
        if let bias {
            Tensor.checkCompatible("conv2d", self, bias)
            precondition(bias.shape == [weight.shape[0]], ShapeErrors.mismatch("conv2d", weight.shape, bias.shape, "bias must be [outC]"))
        }
        precondition(stride.0 > 0 && stride.1 > 0 && dilation.0 > 0 && dilation.1 > 0 && padding.0 >= 0 && padding.1 >= 0,
                     "conv2d: stride \(stride) and dilation \(dilation) must be positive, padding \(padding) non-negative")
        let g = Conv2dGeometry(batch: shape[0], inChannels: shape[1], inHeight: shape[2], inWidth: shape[3],
                               outChannels: weight.shape[0], kernelH: weight.shape[2], kernelW: weight.shape[3],
                               stride: stride, padding: padding, dilation: dilation)
        precondition(g.outHeight > 0 && g.outWidth > 0,
                     ShapeErrors.mismatch("conv2d", shape, weight.shape, "kernel (with dilation \(dilation)) is larger than the padded input"))
        let out = emptyLike(g.outputShape)
        backend.conv2dForward(input: buffer, weight: weight.buffer, bias: bias?.buffer, out: out.buffer, geometry: g)
        let input = self
        return Tensor.record("conv2d", inputs: [self, weight] + (bias.map { [$0] } ?? []), output: out) { grad, needs in
            var gx: Tensor?, gw: Tensor?, gb: Tensor?
            if needs[0] {
                gx = input.emptyLike()
                grad.backend.conv2dBackwardData(gradOut: grad.buffer, weight: weight.buffer, gradInput: gx!.buffer, geometry: g)
            }
            let wantsBias = needs.count > 2 && needs[2]
            if needs[1] || wantsBias {
                let w = weight.emptyLike()
                gb = wantsBias ? bias!.emptyLike() : nil
                grad.backend.conv2dBackwardFilter(input: input.buffer, gradOut: grad.buffer, gradWeight: w.buffer,
                                                  gradBias: gb?.buffer, geometry: g)
                gw = needs[1] ? w : nil
            }
            return [gx, gw] + (needs.count > 2 ? [gb] : [])
        }
    }

    private func poolGeometry(_ op: String, kernel: (Int, Int), stride: (Int, Int)?, padding: (Int, Int)) -> Pool2dGeometry {
        precondition(rank == 4, ShapeErrors.badRank(op, shape: shape, expected: "input [N, C, H, W]"))
        let g = Pool2dGeometry(batch: shape[0], channels: shape[1], inHeight: shape[2], inWidth: shape[3],
                               kernel: kernel, stride: stride, padding: padding)
        precondition(g.kernelH > 0 && g.kernelW > 0 && g.strideH > 0 && g.strideW > 0,
                     "\(op): kernel \(kernel) and stride \(String(describing: stride)) must be positive")
        precondition(padding.0 >= 0 && padding.1 >= 0 && 2 * padding.0 <= kernel.0 && 2 * padding.1 <= kernel.1,
                     "\(op): padding \(padding) must be at most half the kernel \(kernel), as in PyTorch")
        precondition(g.outHeight > 0 && g.outWidth > 0,
                     "\(op): kernel \(kernel) is larger than the padded input \(shape)")
        return g
    }

    /// Max pooling; `stride` defaults to the kernel, as in PyTorch.
    public func maxPool2d(kernel: (Int, Int), stride: (Int, Int)? = nil, padding: (Int, Int) = (0, 0)) -> Tensor {
        let g = poolGeometry("maxPool2d", kernel: kernel, stride: stride, padding: padding)
        let out = emptyLike(g.outputShape), indices = emptyLike(g.outputShape, dtype: .int32)
        backend.maxPool2dForward(input: buffer, out: out.buffer, indices: indices.buffer, geometry: g)
        let input = self
        return Tensor.record("maxPool2d", inputs: [self], output: out) { grad, _ in
            let gx = input.emptyLike()
            grad.backend.maxPool2dBackward(gradOut: grad.buffer, indices: indices.buffer, gradInput: gx.buffer, geometry: g)
            return [gx]
        }
    }

    /// Average pooling; padded cells count in the divisor unless
    /// `countIncludePad` is false (PyTorch's default is true).
    public func avgPool2d(kernel: (Int, Int), stride: (Int, Int)? = nil, padding: (Int, Int) = (0, 0),
                          countIncludePad: Bool = true) -> Tensor {
        let g = poolGeometry("avgPool2d", kernel: kernel, stride: stride, padding: padding)
        let out = emptyLike(g.outputShape)
        backend.avgPool2dForward(input: buffer, out: out.buffer, geometry: g, countIncludePad: countIncludePad)
        let input = self
        return Tensor.record("avgPool2d", inputs: [self], output: out) { grad, _ in
            let gx = input.emptyLike()
            grad.backend.avgPool2dBackward(gradOut: grad.buffer, gradInput: gx.buffer, geometry: g, countIncludePad: countIncludePad)
            return [gx]
        }
    }
}
