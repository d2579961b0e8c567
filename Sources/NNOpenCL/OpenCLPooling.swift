import NNBackend

/// Max and average pooling (Kernels/pool.cl). Forward: one work-item per
/// output; backward: one work-item per input element gathering from the
/// windows that cover it, so no atomics and the CPU backend's rounding, or,
/// when no two windows overlap, one per output scattering into a zeroed
/// gradient (the same bits, a quarter of the work-items for 2x2 pools).
/// Ranges are (width, height, N * C) of the side a work-item stands for.
extension OpenCLBackend {
    public func maxPool2dForward(input: DeviceBuffer, out: DeviceBuffer, indices: DeviceBuffer, geometry g: Pool2dGeometry) {
        let ib = cl(input, "maxPool2dForward"), ob = cl(out, "maxPool2dForward"), xb = cl(indices, "maxPool2dForward")
        checkPool(g, input: ib, output: ob, "maxPool2dForward")
        require(xb.dtype == .int32 && xb.count >= g.outputShape.reduce(1, *),
                     "OpenCLBackend.maxPool2dForward: indices must be int32 of output size \(g.outputShape), got \(xb.count) \(xb.dtype)")
        launch(.pool, "max_pool_forward", dtype: ib.dtype, global: g.outputRange, local: nil, defines: g.windowDefines,
               [.buffer(ib), .buffer(ob), .buffer(xb), .int(g.planes), .int8(g.kernelVector), .int(g.padH), .int(g.padW)])
    }

    public func maxPool2dBackward(gradOut: DeviceBuffer, indices: DeviceBuffer, gradInput: DeviceBuffer,
                                  geometry g: Pool2dGeometry) {
        let gb = cl(gradOut, "maxPool2dBackward"), xb = cl(indices, "maxPool2dBackward"), ib = cl(gradInput, "maxPool2dBackward")
        checkPool(g, input: ib, output: gb, "maxPool2dBackward")
        require(xb.dtype == .int32 && xb.count >= g.outputShape.reduce(1, *),
                     "OpenCLBackend.maxPool2dBackward: indices must be int32 of output size \(g.outputShape), got \(xb.count) \(xb.dtype)")
        launchPoolBackward("max_pool_backward", g, gradInput: ib,
                           [.buffer(gb), .buffer(xb), .buffer(ib), .int(g.planes), .int8(g.kernelVector), .int(g.padH),
                            .int(g.padW)])
    }

    public func avgPool2dForward(input: DeviceBuffer, out: DeviceBuffer, geometry g: Pool2dGeometry, countIncludePad: Bool) {
        let ib = cl(input, "avgPool2dForward"), ob = cl(out, "avgPool2dForward")
        checkPool(g, input: ib, output: ob, "avgPool2dForward")
        launch(.pool, "avg_pool_forward", dtype: ib.dtype, global: g.outputRange, local: nil, defines: g.windowDefines,
               [.buffer(ib), .buffer(ob), .int(g.planes), .int8(g.kernelVector), .int(g.padH), .int(g.padW),
                .int(countIncludePad ? 1 : 0)])
    }

    public func avgPool2dBackward(gradOut: DeviceBuffer, gradInput: DeviceBuffer, geometry g: Pool2dGeometry,
                                  countIncludePad: Bool) {
        let gb = cl(gradOut, "avgPool2dBackward"), ib = cl(gradInput, "avgPool2dBackward")
        checkPool(g, input: ib, output: gb, "avgPool2dBackward")
        launchPoolBackward("avg_pool_backward", g, gradInput: ib,
                           [.buffer(gb), .buffer(ib), .int(g.planes), .int8(g.kernelVector), .int(g.padH), .int(g.padW),
                            .int(countIncludePad ? 1 : 0)])
    }

    /// `name`_disjoint over the outputs into a zeroed gradient when no two
    /// windows overlap, else `name` over the inputs.
    private func launchPoolBackward(_ name: String, _ g: Pool2dGeometry, gradInput: OpenCLBuffer, _ arguments: [KernelArgument]) {
        if g.windowsAreDisjoint {
            fill(gradInput, value: 0, offset: 0, count: g.inputShape.reduce(1, *))
            launch(.pool, name + "_disjoint", dtype: gradInput.dtype, global: g.outputRange, local: nil, defines: g.windowDefines,
                   arguments)
        } else {
            launch(.pool, name, dtype: gradInput.dtype, global: g.inputRange, local: nil, defines: g.windowDefines, arguments)
        }
    }

    private func checkPool(_ g: Pool2dGeometry, input: OpenCLBuffer, output: OpenCLBuffer, _ op: StaticString) {
        require(g.outHeight > 0 && g.outWidth > 0 && g.strideH > 0 && g.strideW > 0,
                     "OpenCLBackend.\(op): geometry \(g) gives an empty output")
        require(input.dtype == output.dtype && input.dtype.isFloatingPoint
                     && input.count >= g.inputShape.reduce(1, *) && output.count >= g.outputShape.reduce(1, *),
                     "OpenCLBackend.\(op): buffers \(input.count) \(input.dtype) / \(output.count) \(output.dtype) too small for input \(g.inputShape), output \(g.outputShape)")
    }
}

extension Pool2dGeometry {
    /// (inHeight, inWidth, outHeight, outWidth, kernelH, kernelW, strideH,
    /// strideW), the `geom` argument of the pooling kernels.
    fileprivate var kernelVector: [Int] {
        [inHeight, inWidth, outHeight, outWidth, kernelH, kernelW, strideH, strideW]
    }

    /// The program variant with the window's taps spelled out.
    fileprivate var windowDefines: String { OpenCLBackend.windowDefines(kernelH, kernelW) }

    /// No input in two windows: each output scatters its gradient.
    fileprivate var windowsAreDisjoint: Bool { strideH >= kernelH && strideW >= kernelW }

    /// N * C: the planes pooled one by one.
    fileprivate var planes: Int { batch * channels }
    fileprivate var outputRange: [Int] { [outWidth, outHeight, planes] }
    fileprivate var inputRange: [Int] { [inWidth, inHeight, planes] }
}

extension OpenCLBackend {
    /// The -D options of a program built for a kh x kw window (EACH_TAP in
    /// Kernels/common.cl: the taps spelled out, straight-line code that CPU
    /// compilers vectorize); windows over 7x7 run the looping program.
    static func windowDefines(_ kh: Int, _ kw: Int) -> String {
        kh <= 7 && kw <= 7 ? "-D WINDOW_KH=\(kh) -D WINDOW_KW=\(kw)" : ""
    }
}
