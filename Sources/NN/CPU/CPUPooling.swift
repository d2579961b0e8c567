/// Max and average pooling, one (image, channel) plane per task.
extension CPUBackend {
    public func maxPool2dForward(input: DeviceBuffer, out: DeviceBuffer, indices: DeviceBuffer, geometry g: Pool2dGeometry) {
        let ib = cpu(input, "maxPool2dForward"), ob = cpu(out, "maxPool2dForward"), xb = cpu(indices, "maxPool2dForward")
        checkPool(g, input: ib, output: ob, "maxPool2dForward")
        precondition(xb.dtype == .int32 && xb.count >= g.outputShape.reduce(1, *), "CPUBackend.maxPool2dForward: indices must be int32 of output size")
        func run<T: CPUScalar>(_: T.Type) {
            let x = ib.pointer(T.self), y = ob.pointer(T.self), idx = xb.pointer(Int32.self)
            forEachWindow(g) { plane, o, h0, h1, w0, w1, _, _ in
                var best = -T.infinity, bestIndex = Int32(-1)
                let src = x + plane * g.inHeight * g.inWidth
                for h in h0..<h1 {
                    for w in w0..<w1 {
                        let v = src[h * g.inWidth + w]
                        if v > best || v.isNaN || bestIndex < 0 {
                            best = v
                            bestIndex = Int32(h * g.inWidth + w)
                            if v.isNaN { break }
                        }
                    }
                }
                y[o] = best
                idx[o] = bestIndex
            }
        }
        switch floatType(ib, "maxPool2dForward") {
        case .float64: run(Double.self)
        default: run(Float.self)
        }
    }

    public func maxPool2dBackward(gradOut: DeviceBuffer, indices: DeviceBuffer, gradInput: DeviceBuffer,
                                  geometry g: Pool2dGeometry) {
        let gb = cpu(gradOut, "maxPool2dBackward"), xb = cpu(indices, "maxPool2dBackward"), ib = cpu(gradInput, "maxPool2dBackward")
        checkPool(g, input: ib, output: gb, "maxPool2dBackward")
        func run<T: CPUScalar>(_: T.Type) {
            let dy = gb.pointer(T.self), idx = xb.pointer(Int32.self), dx = ib.pointer(T.self)
            let inPlane = g.inHeight * g.inWidth, outPlane = g.outHeight * g.outWidth
            parallelFor(g.batch * g.channels, grain: max(1, (1 << 14) / max(inPlane, 1))) { planes in
                for p in planes {
                    let dst = dx + p * inPlane
                    dst.update(repeating: 0, count: inPlane)
                    for o in p * outPlane..<(p + 1) * outPlane where idx[o] >= 0 { dst[Int(idx[o])] += dy[o] }
                }
            }
        }
        switch floatType(gb, "maxPool2dBackward") {
        case .float64: run(Double.self)
        default: run(Float.self)
        }
    }

    public func avgPool2dForward(input: DeviceBuffer, out: DeviceBuffer, geometry g: Pool2dGeometry, countIncludePad: Bool) {
        let ib = cpu(input, "avgPool2dForward"), ob = cpu(out, "avgPool2dForward")
        checkPool(g, input: ib, output: ob, "avgPool2dForward")
        func run<T: CPUScalar>(_: T.Type) {
            let x = ib.pointer(T.self), y = ob.pointer(T.self)
            forEachWindow(g) { plane, o, h0, h1, w0, w1, padded, real in
                let src = x + plane * g.inHeight * g.inWidth
                var sum: T = 0
                for h in h0..<h1 { for w in w0..<w1 { sum += src[h * g.inWidth + w] } }
                y[o] = sum / T(countIncludePad ? padded : real)
            }
        }
        switch floatType(ib, "avgPool2dForward") {
        case .float64: run(Double.self)
        default: run(Float.self)
        }
    }

    public func avgPool2dBackward(gradOut: DeviceBuffer, gradInput: DeviceBuffer, geometry g: Pool2dGeometry,
                                  countIncludePad: Bool) {
        let gb = cpu(gradOut, "avgPool2dBackward"), ib = cpu(gradInput, "avgPool2dBackward")
        checkPool(g, input: ib, output: gb, "avgPool2dBackward")
        func run<T: CPUScalar>(_: T.Type) {
            let dy = gb.pointer(T.self), dx = ib.pointer(T.self)
            let inPlane = g.inHeight * g.inWidth
            // Windows of one plane overlap, so each plane is cleared and
            // filled by the task that owns it.
            forEachWindow(g, clearing: { p in (dx + p * inPlane).update(repeating: 0, count: inPlane) }) {
                plane, o, h0, h1, w0, w1, padded, real in
                let dst = dx + plane * inPlane
                let share = dy[o] / T(countIncludePad ? padded : real)
                for h in h0..<h1 { for w in w0..<w1 { dst[h * g.inWidth + w] += share } }
            }
        }
        switch floatType(gb, "avgPool2dBackward") {
        case .float64: run(Double.self)
        default: run(Float.self)
        }
    }

    private func checkPool(_ g: Pool2dGeometry, input: CPUBuffer, output: CPUBuffer, _ op: StaticString) {
        precondition(g.outHeight > 0 && g.outWidth > 0 && g.strideH > 0 && g.strideW > 0,
                     "CPUBackend.\(op): geometry \(g) gives an empty output")
        precondition(input.dtype == output.dtype && input.count >= g.inputShape.reduce(1, *)
                     && output.count >= g.outputShape.reduce(1, *),
                     "CPUBackend.\(op): buffers too small for input \(g.inputShape), output \(g.outputShape)")
    }
}

/// Visits every pooling window: body(plane, outputIndex, h0, h1, w0, w1,
/// paddedSize, realSize) with [h0, h1) x [w0, w1) clipped to the image and
/// the two divisor candidates of PyTorch's avg_pool2d. Planes run in
/// parallel; `clearing` runs once per plane before its windows.
@inline(__always)
private func forEachWindow(_ g: Pool2dGeometry, clearing: (Int) -> Void = { _ in },
                           _ body: (Int, Int, Int, Int, Int, Int, Int, Int) -> Void) {
    let outPlane = g.outHeight * g.outWidth
    parallelFor(g.batch * g.channels, grain: max(1, (1 << 12) / max(outPlane, 1))) { planes in
        for p in planes {
            clearing(p)
            for oh in 0..<g.outHeight {
                let hs = oh * g.strideH - g.padH, he = min(hs + g.kernelH, g.inHeight + g.padH)
                let h0 = max(hs, 0), h1 = min(he, g.inHeight)
                for ow in 0..<g.outWidth {
                    let ws = ow * g.strideW - g.padW, we = min(ws + g.kernelW, g.inWidth + g.padW)
                    let w0 = max(ws, 0), w1 = min(we, g.inWidth)
                    body(p, p * outPlane + oh * g.outWidth + ow, h0, h1, w0, w1,
                         (he - hs) * (we - ws), (h1 - h0) * (w1 - w0))
                }
            }
        }
    }
}
