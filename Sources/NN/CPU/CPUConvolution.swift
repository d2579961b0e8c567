/// Convolution as im2col + OpenBLAS GEMM, one image at a time (the column
/// matrix of one image stays cache-sized; the GEMM does the heavy lifting).
extension CPUBackend {
    public func conv2dForward(input: DeviceBuffer, weight: DeviceBuffer, bias: DeviceBuffer?, out: DeviceBuffer,
                              geometry g: Conv2dGeometry) {
        let ib = cpu(input, "conv2dForward"), wb = cpu(weight, "conv2dForward"), ob = cpu(out, "conv2dForward")
        let bb = bias.map { cpu($0, "conv2dForward") }
        checkConv(g, input: ib, weight: wb, output: ob, bias: bb, "conv2dForward")
        func run<T: CPUScalar>(_: T.Type) {
            let outHW = g.outHeight * g.outWidth, inCHW = g.inChannels * g.inHeight * g.inWidth
            let col = UnsafeMutablePointer<T>.allocate(capacity: max(g.patchSize * outHW, 1))
            defer { col.deallocate() }
            let x = ib.pointer(T.self), w = wb.pointer(T.self), y = ob.pointer(T.self)
            for n in 0..<g.batch {
                let yn = y + n * g.outChannels * outHW
                im2col(x + n * inCHW, col, g)
                T.gemm(transA: false, transB: false, m: g.outChannels, n: outHW, k: g.patchSize, alpha: 1,
                       a: w, lda: g.patchSize, b: col, ldb: outHW, beta: 0, c: yn, ldc: outHW)
                if let bp = bb?.pointer(T.self) {
                    for c in 0..<g.outChannels {
                        let row = yn + c * outHW, value = bp[c]
                        for p in 0..<outHW { row[p] += value }
                    }
                }
            }
        }
        switch floatType(ib, "conv2dForward") {
        case .float64: run(Double.self)
        default: run(Float.self)
        }
    }

    public func conv2dBackwardData(gradOut: DeviceBuffer, weight: DeviceBuffer, gradInput: DeviceBuffer,
                                   geometry g: Conv2dGeometry) {
        let gb = cpu(gradOut, "conv2dBackwardData"), wb = cpu(weight, "conv2dBackwardData")
        let ib = cpu(gradInput, "conv2dBackwardData")
        checkConv(g, input: ib, weight: wb, output: gb, bias: nil, "conv2dBackwardData")
        func run<T: CPUScalar>(_: T.Type) {
            let outHW = g.outHeight * g.outWidth, inCHW = g.inChannels * g.inHeight * g.inWidth
            let col = UnsafeMutablePointer<T>.allocate(capacity: max(g.patchSize * outHW, 1))
            defer { col.deallocate() }
            let dy = gb.pointer(T.self), w = wb.pointer(T.self), dx = ib.pointer(T.self)
            for n in 0..<g.batch {
                T.gemm(transA: true, transB: false, m: g.patchSize, n: outHW, k: g.outChannels, alpha: 1,
                       a: w, lda: g.patchSize, b: dy + n * g.outChannels * outHW, ldb: outHW, beta: 0, c: col, ldc: outHW)
                col2im(col, dx + n * inCHW, g)
            }
        }
        switch floatType(gb, "conv2dBackwardData") {
        case .float64: run(Double.self)
        default: run(Float.self)
        }
    }

    public func conv2dBackwardFilter(input: DeviceBuffer, gradOut: DeviceBuffer, gradWeight: DeviceBuffer,
                                     gradBias: DeviceBuffer?, geometry g: Conv2dGeometry) {
        let ib = cpu(input, "conv2dBackwardFilter"), gb = cpu(gradOut, "conv2dBackwardFilter")
        let wb = cpu(gradWeight, "conv2dBackwardFilter"), bb = gradBias.map { cpu($0, "conv2dBackwardFilter") }
        checkConv(g, input: ib, weight: wb, output: gb, bias: bb, "conv2dBackwardFilter")
        func run<T: CPUScalar>(_: T.Type) {
            let outHW = g.outHeight * g.outWidth, inCHW = g.inChannels * g.inHeight * g.inWidth
            let col = UnsafeMutablePointer<T>.allocate(capacity: max(g.patchSize * outHW, 1))
            defer { col.deallocate() }
            let x = ib.pointer(T.self), dy = gb.pointer(T.self), dw = wb.pointer(T.self)
            if g.batch == 0 { dw.update(repeating: 0, count: g.outChannels * g.patchSize) }
            for n in 0..<g.batch {
                im2col(x + n * inCHW, col, g)
                T.gemm(transA: false, transB: true, m: g.outChannels, n: g.patchSize, k: outHW, alpha: 1,
                       a: dy + n * g.outChannels * outHW, lda: outHW, b: col, ldb: outHW,
                       beta: n == 0 ? 0 : 1, c: dw, ldc: g.patchSize)
            }
            if let db = bb?.pointer(T.self) {
                for c in 0..<g.outChannels {
                    var sum: T = 0
                    for n in 0..<g.batch {
                        let row = dy + (n * g.outChannels + c) * outHW
                        for p in 0..<outHW { sum += row[p] }
                    }
                    db[c] = sum
                }
            }
        }
        switch floatType(ib, "conv2dBackwardFilter") {
        case .float64: run(Double.self)
        default: run(Float.self)
        }
    }

    private func checkConv(_ g: Conv2dGeometry, input: CPUBuffer, weight: CPUBuffer, output: CPUBuffer, bias: CPUBuffer?,
                           _ op: StaticString) {
        precondition(g.outHeight > 0 && g.outWidth > 0 && g.strideH > 0 && g.strideW > 0 && g.dilationH > 0 && g.dilationW > 0,
                     "CPUBackend.\(op): geometry \(g) gives an empty output")
        precondition(input.dtype == weight.dtype && weight.dtype == output.dtype && (bias == nil || bias!.dtype == input.dtype),
                     "CPUBackend.\(op): mixed dtypes")
        precondition(input.count >= g.inputShape.reduce(1, *) && weight.count >= g.weightShape.reduce(1, *)
                     && output.count >= g.outputShape.reduce(1, *) && (bias == nil || bias!.count >= g.outChannels),
                     "CPUBackend.\(op): buffers too small for input \(g.inputShape), weight \(g.weightShape), output \(g.outputShape)")
    }
}

/// col[(c, i, j), (oh, ow)] = x[c, oh*sh - ph + i*dh, ow*sw - pw + j*dw],
/// zero outside the image. Rows are independent, so they run in parallel.
private func im2col<T: CPUScalar>(_ x: UnsafeMutablePointer<T>, _ col: UnsafeMutablePointer<T>, _ g: Conv2dGeometry) {
    let outH = g.outHeight, outW = g.outWidth, outHW = outH * outW
    parallelFor(g.patchSize, grain: max(1, (1 << 14) / max(outHW, 1))) { rows in
        for row in rows {
            let j = row % g.kernelW, i = (row / g.kernelW) % g.kernelH, c = row / (g.kernelW * g.kernelH)
            let plane = x + c * g.inHeight * g.inWidth
            let dst = col + row * outHW
            for oh in 0..<outH {
                let h = oh * g.strideH - g.padH + i * g.dilationH
                let line = dst + oh * outW
                if h < 0 || h >= g.inHeight {
                    line.update(repeating: 0, count: outW)
                    continue
                }
                let src = plane + h * g.inWidth
                let w0 = j * g.dilationW - g.padW
                for ow in 0..<outW {
                    let w = ow * g.strideW + w0
                    line[ow] = w >= 0 && w < g.inWidth ? src[w] : 0
                }
            }
        }
    }
}

/// The adjoint of im2col: x (overwritten) = sum of col entries that read
/// each input pixel. Parallel over input channels, whose pixels are disjoint.
private func col2im<T: CPUScalar>(_ col: UnsafeMutablePointer<T>, _ x: UnsafeMutablePointer<T>, _ g: Conv2dGeometry) {
    let outH = g.outHeight, outW = g.outWidth, outHW = outH * outW
    let taps = g.kernelH * g.kernelW
    parallelFor(g.inChannels, grain: max(1, (1 << 14) / max(taps * outHW, 1))) { channels in
        for c in channels {
            let plane = x + c * g.inHeight * g.inWidth
            plane.update(repeating: 0, count: g.inHeight * g.inWidth)
            for tap in 0..<taps {
                let i = tap / g.kernelW, j = tap % g.kernelW
                let src = col + (c * taps + tap) * outHW
                for oh in 0..<outH {
                    let h = oh * g.strideH - g.padH + i * g.dilationH
                    if h < 0 || h >= g.inHeight { continue }
                    let line = plane + h * g.inWidth, row = src + oh * outW
                    let w0 = j * g.dilationW - g.padW
                    for ow in 0..<outW {
                        let w = ow * g.strideW + w0
                        if w >= 0 && w < g.inWidth { line[w] += row[ow] }
                    }
                }
            }
        }
    }
}
