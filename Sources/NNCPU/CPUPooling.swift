import NNBackend

/// Max and average pooling, one (image, channel) plane per task.
extension CPUBackend {
    public func maxPool2dForward(input: DeviceBuffer, out: DeviceBuffer, indices: DeviceBuffer, geometry g: Pool2dGeometry) {
        let ib = cpu(input, "maxPool2dForward"), ob = cpu(out, "maxPool2dForward"), xb = cpu(indices, "maxPool2dForward")
        checkPool(g, input: ib, output: ob, "maxPool2dForward")
        require(xb.dtype == .int32 && xb.count >= g.outputShape.reduce(1, *), "CPUBackend.maxPool2dForward: indices must be int32 of output size")
        func run<T: CPUScalar>(_: T.Type) {
            let x = ib.pointer(T.self), y = ob.pointer(T.self), idx = xb.pointer(Int32.self)
            let inPlane = g.inHeight * g.inWidth, outPlane = g.outHeight * g.outWidth
            let twoByTwo = g.padH == 0 && g.padW == 0 && g.kernelH == 2 && g.kernelW == 2
            parallelFor(g.batch * g.channels, grain: max(1, (1 << 12) / max(outPlane, 1))) { planes in
                for plane in planes {
                    let src = x + plane * inPlane, dst = y + plane * outPlane, ids = idx + plane * outPlane
                    for oh in 0..<g.outHeight {
                        let row = dst + oh * g.outWidth, rowIds = ids + oh * g.outWidth
                        if twoByTwo && maxPoolRow2x2(src, row, rowIds, outRow: oh, g) { continue }
                        for ow in 0..<g.outWidth { maxPoolWindow(src, row + ow, rowIds + ow, oh, ow, g) }
                    }
                }
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
        require(g.outHeight > 0 && g.outWidth > 0 && g.strideH > 0 && g.strideW > 0,
                     "CPUBackend.\(op): geometry \(g) gives an empty output")
        require(input.dtype == output.dtype && input.count >= g.inputShape.reduce(1, *)
                     && output.count >= g.outputShape.reduce(1, *),
                     "CPUBackend.\(op): buffers too small for input \(g.inputShape), output \(g.outputShape)")
    }
}

/// One output row of 2x2 max pooling without padding (any stride), the
/// LeNet and VGG case: the four taps of each window loaded and compared in
/// registers in row-major order, so each window keeps its first strict
/// maximum as `maxPoolWindow` does, without that function's clipping and
/// loops (3x faster on LeNet-5's layers). Returns false, for the row to be
/// redone window by window, when it met a NaN, which `maxPoolWindow`
/// propagates.
@inline(__always)
private func maxPoolRow2x2<T: CPUScalar>(_ src: UnsafeMutablePointer<T>, _ out: UnsafeMutablePointer<T>,
                                        _ ids: UnsafeMutablePointer<Int32>, outRow: Int, _ g: Pool2dGeometry) -> Bool {
    let inW = g.inWidth, sw = g.strideW, top = outRow * g.strideH
    let upper = src + top * inW, lower = upper + inW
    let topIndex = Int32(truncatingIfNeeded: top * inW), width = Int32(truncatingIfNeeded: inW)
    var unordered = false, ow = 0
    if T.self == Float.self && sw == 2 {
        (ow, unordered) = maxPoolRow2x2Stride2(UnsafeMutableRawPointer(upper), UnsafeMutableRawPointer(lower), out, ids,
                                               topIndex: topIndex, width: width, outWidth: g.outWidth)
    }
    while ow < g.outWidth {
        let w = ow &* sw
        let a = upper[w], b = upper[w &+ 1], c = lower[w], d = lower[w &+ 1]
        unordered = unordered || a.isNaN || b.isNaN || c.isNaN || d.isNaN
        var best = a, tap: Int32 = 0
        if b > best { best = b; tap = 1 }
        if c > best { best = c; tap = width }
        if d > best { best = d; tap = width &+ 1 }
        out[ow] = best
        ids[ow] = topIndex &+ Int32(truncatingIfNeeded: w) &+ tap
        ow += 1
    }
    return !unordered
}

/// The float32, stride-2 part of `maxPoolRow2x2`: four windows at a time in
/// SIMD registers (even and odd lanes of 8 loaded values are the left and
/// right taps), compared with masked blends in the same tap order. ReLU
/// outputs, full of tied zeros, make a compare-and-branch per tap
/// mispredict often. Returns how many outputs it wrote (a multiple of 4)
/// and whether it met a NaN.
@inline(__always)
private func maxPoolRow2x2Stride2(_ upper: UnsafeMutableRawPointer, _ lower: UnsafeMutableRawPointer,
                                  _ out: UnsafeMutablePointer<some CPUScalar>, _ ids: UnsafeMutablePointer<Int32>,
                                  topIndex: Int32, width: Int32, outWidth: Int) -> (Int, Bool) {
    let lanes = SIMD4<Int32>(0, 2, 4, 6)
    var unordered = SIMDMask<SIMD4<Int32>>(repeating: false)
    var ow = 0
    while ow + 4 <= outWidth {
        let w = ow &* 2
        let u = UnsafeRawPointer(upper + w &* 4).loadUnaligned(as: SIMD8<Float>.self)
        let l = UnsafeRawPointer(lower + w &* 4).loadUnaligned(as: SIMD8<Float>.self)
        let a = u.evenHalf, b = u.oddHalf, c = l.evenHalf, d = l.oddHalf
        unordered = unordered .| (a .!= a) .| (b .!= b) .| (c .!= c) .| (d .!= d)
        var best = a, tap = SIMD4<Int32>(repeating: 0)
        var take = b .> best
        best.replace(with: b, where: take)
        tap.replace(with: 1, where: take)
        take = c .> best
        best.replace(with: c, where: take)
        tap.replace(with: width, where: take)
        take = d .> best
        best.replace(with: d, where: take)
        tap.replace(with: width &+ 1, where: take)
        UnsafeMutableRawPointer(out + ow).storeBytes(of: best, as: SIMD4<Float>.self)
        UnsafeMutableRawPointer(ids + ow).storeBytes(of: tap &+ lanes &+ (topIndex &+ Int32(truncatingIfNeeded: w)),
                                                     as: SIMD4<Int32>.self)
        ow += 4
    }
    return (ow, any(unordered))
}

/// One max-pooling window, clipped to the image: the first strict maximum
/// in row-major order, or the NaN that stops the scan of its row (the
/// semantics of Kernels/pool.cl); -infinity and index -1 for a window with
/// no cell in the image.
@inline(__always)
private func maxPoolWindow<T: CPUScalar>(_ src: UnsafeMutablePointer<T>, _ out: UnsafeMutablePointer<T>,
                                        _ index: UnsafeMutablePointer<Int32>, _ oh: Int, _ ow: Int, _ g: Pool2dGeometry) {
    let hs = oh * g.strideH - g.padH, h0 = max(hs, 0), h1 = min(hs + g.kernelH, g.inHeight)
    let ws = ow * g.strideW - g.padW, w0 = max(ws, 0), w1 = min(ws + g.kernelW, g.inWidth)
    var best = -T.infinity, bestIndex = -1
    for h in h0..<max(h1, h0) {
        for w in w0..<max(w1, w0) {
            let v = src[h * g.inWidth + w]
            if v > best || v.isNaN || bestIndex < 0 {
                best = v
                bestIndex = h * g.inWidth + w
                if v.isNaN { break }
            }
        }
    }
    out.pointee = best
    index.pointee = Int32(bestIndex)
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
