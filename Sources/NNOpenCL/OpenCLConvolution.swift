import NNBackend

/// Convolution as im2col + one GEMM over the whole batch (Kernels/conv.cl),
/// with scratch buffers from the pool.
extension OpenCLBackend {
    public func conv2dForward(input: DeviceBuffer, weight: DeviceBuffer, bias: DeviceBuffer?, out: DeviceBuffer,
                              geometry g: Conv2dGeometry) {
        let ib = cl(input, "conv2dForward"), wb = cl(weight, "conv2dForward"), ob = cl(out, "conv2dForward")
        checkConv(g, ib, wb, ob, bias, "conv2dForward")
        let columns = g.batch * g.outHeight * g.outWidth
        let col = makeBuffer(count: g.patchSize * columns, dtype: ib.dtype)
        let product = makeBuffer(count: g.outChannels * columns, dtype: ib.dtype)
        launchConv("im2col", g, global: [g.outHeight, g.patchSize, g.batch], [.buffer(ib), .buffer(col)])
        gemm(m: g.outChannels, n: columns, k: g.patchSize, alpha: 1, a: MatrixOperand(wb, ld: g.patchSize),
             b: MatrixOperand(col, ld: columns), beta: 0, c: MatrixOperand(product, ld: columns))
        launch(.conv, "conv_scatter_output", dtype: ib.dtype, global: [g.outHeight * g.outWidth, g.outChannels, g.batch],
               local: nil, [.buffer(product), .buffer(bias), .int(bias == nil ? 0 : 1), .buffer(ob), .int(g.batch),
                            .int(g.outChannels), .int(g.outHeight * g.outWidth)])
    }

    public func conv2dBackwardData(gradOut: DeviceBuffer, weight: DeviceBuffer, gradInput: DeviceBuffer,
                                   geometry g: Conv2dGeometry) {
        let gb = cl(gradOut, "conv2dBackwardData"), wb = cl(weight, "conv2dBackwardData"), ib = cl(gradInput, "conv2dBackwardData")
        checkConv(g, ib, wb, gb, nil, "conv2dBackwardData")
        let columns = g.batch * g.outHeight * g.outWidth
        let gathered = gatherGrad(gb, g)
        let col = makeBuffer(count: g.patchSize * columns, dtype: gb.dtype)
        gemm(m: g.patchSize, n: columns, k: g.outChannels, alpha: 1, a: MatrixOperand(wb, ld: g.patchSize, transposed: true),
             b: MatrixOperand(gathered, ld: columns), beta: 0, c: MatrixOperand(col, ld: columns))
        if g.strideW == 1 {
            launchConv("col2im_rows", g, global: [g.inHeight, g.batch * g.inChannels], [.buffer(col), .buffer(ib)])
        } else {
            launchConv("col2im", g, global: [g.inWidth, g.inHeight, g.batch * g.inChannels], [.buffer(col), .buffer(ib)])
        }
    }

    public func conv2dBackwardFilter(input: DeviceBuffer, gradOut: DeviceBuffer, gradWeight: DeviceBuffer,
                                     gradBias: DeviceBuffer?, geometry g: Conv2dGeometry) {
        let ib = cl(input, "conv2dBackwardFilter"), gb = cl(gradOut, "conv2dBackwardFilter")
        let wb = cl(gradWeight, "conv2dBackwardFilter")
        checkConv(g, ib, wb, gb, gradBias, "conv2dBackwardFilter")
        let columns = g.batch * g.outHeight * g.outWidth
        let gathered = gatherGrad(gb, g)
        // The column matrix stored transposed, [columns, patch], so the GEMM
        // reads both operands row by row.
        let colT = makeBuffer(count: g.patchSize * columns, dtype: ib.dtype)
        launchConv("im2col_transposed", g, global: [g.outHeight, g.inChannels * g.kernelH, g.batch], [.buffer(ib), .buffer(colT)])
        gemm(m: g.outChannels, n: g.patchSize, k: columns, alpha: 1, a: MatrixOperand(gathered, ld: columns),
             b: MatrixOperand(colT, ld: g.patchSize), beta: 0, c: MatrixOperand(wb, ld: g.patchSize))
        if let gradBias {
            // Row sums of the regathered gradient, [outC, N * P].
            reduce(.sum, gathered, out: gradBias, view: AxisView(outer: g.outChannels, axis: columns, inner: 1))
        }
    }

    /// gradOut [N, outC, P] regathered as [outC, N * P].
    private func gatherGrad(_ gradOut: OpenCLBuffer, _ g: Conv2dGeometry) -> DeviceBuffer {
        let count = g.outputShape.reduce(1, *)
        let gathered = makeBuffer(count: count, dtype: gradOut.dtype)
        launch(.conv, "conv_gather_grad", dtype: gradOut.dtype, global: [g.outHeight * g.outWidth, g.batch, g.outChannels],
               local: nil, [.buffer(gradOut), .buffer(gathered), .int(g.batch), .int(g.outChannels), .int(g.outHeight * g.outWidth)])
        return gathered
    }

    private func launchConv(_ name: String, _ g: Conv2dGeometry, global: [Int], _ leading: [KernelArgument]) {
        let geometry: [KernelArgument] = [g.batch, g.inChannels, g.inHeight, g.inWidth, g.outChannels, g.kernelH, g.kernelW,
                                          g.strideH, g.strideW, g.padH, g.padW, g.dilationH, g.dilationW,
                                          g.outHeight, g.outWidth].map { .int($0) }
        launch(.conv, name, dtype: cl(leading[0].bufferValue!, "conv").dtype, global: global, local: nil, leading + geometry)
    }

    private func checkConv(_ g: Conv2dGeometry, _ input: OpenCLBuffer, _ weight: OpenCLBuffer, _ output: OpenCLBuffer,
                           _ bias: DeviceBuffer?, _ op: StaticString) {
        require(g.outHeight > 0 && g.outWidth > 0 && g.strideH > 0 && g.strideW > 0 && g.dilationH > 0 && g.dilationW > 0,
                     "OpenCLBackend.\(op): geometry \(g) gives an empty output")
        require(input.dtype == weight.dtype && weight.dtype == output.dtype && (bias == nil || bias!.dtype == input.dtype)
                     && input.dtype.isFloatingPoint, "OpenCLBackend.\(op): mixed dtypes")
        // The whole-batch column matrix is indexed with 32-bit ints.
        require(g.patchSize * g.batch * g.outHeight * g.outWidth <= Int(Int32.max) && g.inputShape.reduce(1, *) <= Int(Int32.max),
                     "OpenCLBackend.\(op): the column matrix of \(g.inputShape) * \(g.weightShape) exceeds 2^31 elements; use a smaller batch")
        require(input.count >= g.inputShape.reduce(1, *) && weight.count >= g.weightShape.reduce(1, *)
                     && output.count >= g.outputShape.reduce(1, *) && (bias == nil || bias!.count >= g.outChannels),
                     "OpenCLBackend.\(op): buffers too small for input \(g.inputShape), weight \(g.weightShape), output \(g.outputShape)")
    }
}

extension KernelArgument {
    var bufferValue: DeviceBuffer? {
        if case .buffer(let b) = self { return b }
        return nil
    }
}
