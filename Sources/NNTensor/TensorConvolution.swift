import NNBackend

/// Convolution and pooling on NCHW tensors (PyTorch's F.conv2d, max_pool2d,
/// avg_pool2d).
extension Tensor {
    /// Cross-correlation of this [N, C, H, W] input with `weight`
    /// [outC, C, kh, kw], plus `bias` [outC].
    public func conv2d(weight: Tensor, bias: Tensor? = nil, stride: (Int, Int) = (1, 1), padding: (Int, Int) = (0, 0),
                       dilation: (Int, Int) = (1, 1)) -> Tensor {
        require(rank == 4 && weight.rank == 4,
                     ShapeErrors.mismatch("conv2d", shape, weight.shape, "expected input [N, C, H, W] and weight [outC, C, kh, kw]"))
        require(shape[1] == weight.shape[1],
                     ShapeErrors.mismatch("conv2d", shape, weight.shape, "input channels \(shape[1]) differ from the weight's \(weight.shape[1])"))
        Tensor.checkCompatible("conv2d", self, weight)
        if let bias {
            Tensor.checkCompatible("conv2d", self, bias)
            require(bias.shape == [weight.shape[0]], ShapeErrors.mismatch("conv2d", weight.shape, bias.shape, "bias must be [outC]"))
        }
        require(stride.0 > 0 && stride.1 > 0 && dilation.0 > 0 && dilation.1 > 0 && padding.0 >= 0 && padding.1 >= 0,
                     "conv2d: stride \(stride) and dilation \(dilation) must be positive, padding \(padding) non-negative")
        let g = Conv2dGeometry(batch: shape[0], inChannels: shape[1], inHeight: shape[2], inWidth: shape[3],
                               outChannels: weight.shape[0], kernelH: weight.shape[2], kernelW: weight.shape[3],
                               stride: stride, padding: padding, dilation: dilation)
        require(g.outHeight > 0 && g.outWidth > 0,
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
        require(rank == 4, ShapeErrors.badRank(op, shape: shape, expected: "input [N, C, H, W]"))
        let g = Pool2dGeometry(batch: shape[0], channels: shape[1], inHeight: shape[2], inWidth: shape[3],
                               kernel: kernel, stride: stride, padding: padding)
        require(g.kernelH > 0 && g.kernelW > 0 && g.strideH > 0 && g.strideW > 0,
                     "\(op): kernel \(kernel) and stride \(String(describing: stride)) must be positive")
        require(padding.0 >= 0 && padding.1 >= 0 && 2 * padding.0 <= kernel.0 && 2 * padding.1 <= kernel.1,
                     "\(op): padding \(padding) must be at most half the kernel \(kernel), as in PyTorch")
        require(g.outHeight > 0 && g.outWidth > 0,
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

/// Adaptive average pooling (PyTorch's F.adaptive_avg_pool2d).
extension Tensor {
    /// The input rows (or columns) that output row `index` of an adaptive
    /// pool from `inSize` to `outSize` averages, PyTorch's rule:
    /// floor(index · in / out) ..< ceil((index + 1) · in / out). Windows
    /// overlap when `inSize` is not a multiple of `outSize`.
    public static func adaptivePoolWindow(_ index: Int, inSize: Int, outSize: Int) -> Range<Int> {
        require(inSize >= 1 && outSize >= 1 && index >= 0 && index < outSize,
                     "adaptivePoolWindow: index \(index) of \(outSize) outputs over \(inSize) inputs")
        let start = index * inSize / outSize
        let end = ((index + 1) * inSize + outSize - 1) / outSize
        return start..<end
    }

    /// Averages this [N, C, H, W] input over PyTorch's adaptive windows into
    /// [N, C, outH, outW], for any sizes (outputSize (1, 1) is global
    /// average pooling).
    ///
    /// When H and W are multiples of the output size the windows tile the
    /// image and this is `avgPool2d` with kernel = stride = in / out. In
    /// general the pooling is linear and separable, out = P_H · x · P_Wᵀ per
    /// plane, with P [out, in] holding 1 / window length inside each
    /// window: two matrix products (autograd and both backends for free).
    public func adaptiveAvgPool2d(outputSize: (Int, Int)) -> Tensor {
        require(rank == 4, ShapeErrors.badRank("adaptiveAvgPool2d", shape: shape, expected: "input [N, C, H, W]"))
        require(outputSize.0 >= 1 && outputSize.1 >= 1, "adaptiveAvgPool2d: output size \(outputSize) must be positive")
        require(shape[2] >= 1 && shape[3] >= 1, "adaptiveAvgPool2d: input \(shape) has an empty plane")
        if shape[2] % outputSize.0 == 0 && shape[3] % outputSize.1 == 0 {
            return avgPool2d(kernel: (shape[2] / outputSize.0, shape[3] / outputSize.1))
        }
        return adaptiveAvgPool2d(heightMatrix: adaptivePoolMatrix(inSize: shape[2], outSize: outputSize.0),
                                 widthMatrix: adaptivePoolMatrix(inSize: shape[3], outSize: outputSize.1))
    }

    /// The pooling matrix transposed, [inSize, outSize]: column o holds
    /// 1 / length over output o's window, on this tensor's device and dtype.
    package func adaptivePoolMatrix(inSize: Int, outSize: Int) -> Tensor {
        require(dtype.isFloatingPoint, "adaptiveAvgPool2d: needs a float tensor, got \(dtype)")
        var values = [Double](repeating: 0, count: inSize * outSize)
        for o in 0..<outSize {
            let window = Tensor.adaptivePoolWindow(o, inSize: inSize, outSize: outSize)
            for i in window { values[i * outSize + o] = 1 / Double(window.count) }
        }
        return dtype == .float64 ? Tensor(float64: values, shape: [inSize, outSize], on: device)
            : Tensor(values.map { Float($0) }, shape: [inSize, outSize], on: device)
    }

    /// x · P_W on each row, then P_H on each column, with the transposed
    /// pooling matrices of `adaptivePoolMatrix` ([H, outH] and [W, outW]).
    package func adaptiveAvgPool2d(heightMatrix: Tensor, widthMatrix: Tensor) -> Tensor {
        require(rank == 4 && heightMatrix.rank == 2 && widthMatrix.rank == 2
                     && heightMatrix.shape[0] == shape[2] && widthMatrix.shape[0] == shape[3],
                     ShapeErrors.mismatch("adaptiveAvgPool2d", shape, heightMatrix.shape + widthMatrix.shape,
                                          "pooling matrices [H, outH] and [W, outW] do not fit the input"))
        let (n, c, h, w) = (shape[0], shape[1], shape[2], shape[3])
        let outH = heightMatrix.shape[1], outW = widthMatrix.shape[1]
        let rows = reshaped([n * c * h, w]).matmul(widthMatrix)            // [N·C·H, outW]
        let columns = rows.reshaped([n * c, h, outW]).transposed(1, 2)     // [N·C, outW, H]
        return columns.matmul(heightMatrix).transposed(1, 2).reshaped([n, c, outH, outW])
    }
}
