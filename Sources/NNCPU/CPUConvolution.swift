import NNBackend

/// Convolution as im2col + one GEMM per image.
///
/// One image's column matrix [patch, P] (P = output pixels) stays in the
/// cache between the im2col that writes it and the GEMM that reads it, which
/// is why the GEMMs are per image and not one over the whole batch: measured
/// on LeNet-5's layers at batch 64, the batched GEMM (6 x 50176 x 25) ran 2x
/// slower than 64 per-image ones, and 7x slower for the filter gradient,
/// whose batched form sums over a 50,176-long inner dimension.
///
/// How the cores are used depends on the size of one image's GEMM:
/// - small (LeNet's: M·N·K below `parallelGEMMMinimumWork`, the size below
///   which a GEMM runs on the calling thread anyway), the images are split
///   between the cores, each core running im2col, GEMM and col2im for its
///   own images; the filter gradient is summed per core and the partial
///   sums added;
/// - large, the images go one after the other, each GEMM is spread over the
///   cores and im2col/col2im spread each image's rows over them.
///
/// A 1x1 convolution with stride 1 and no padding uses the image itself as
/// its column matrix.
extension CPUBackend {
    public func conv2dForward(input: DeviceBuffer, weight: DeviceBuffer, bias: DeviceBuffer?, out: DeviceBuffer,
                              geometry g: Conv2dGeometry) {
        let ib = cpu(input, "conv2dForward"), wb = cpu(weight, "conv2dForward"), ob = cpu(out, "conv2dForward")
        let bb = bias.map { cpu($0, "conv2dForward") }
        checkConv(g, input: ib, weight: wb, output: ob, bias: bb, "conv2dForward")
        func run<T: CPUScalar>(_: T.Type) {
            let plan = ConvPlan(g)
            let x = ib.pointer(T.self), w = wb.pointer(T.self), y = ob.pointer(T.self), b = bb?.pointer(T.self)
            plan.forEachImageChunk { _, images in
                let scratch = plan.columnScratch(T.self)
                defer { scratch.deallocate() }
                for n in images {
                    let xn = x + n * plan.inCHW, yn = y + n * plan.outCHW
                    let col = plan.pointwise ? xn : scratch
                    if !plan.pointwise { im2col(xn, col, g, parallel: !plan.imagesInParallel) }
                    parallelGEMM(transA: false, transB: false, m: g.outChannels, n: plan.outHW, k: g.patchSize, alpha: 1,
                           a: w, lda: g.patchSize, b: col, ldb: plan.outHW, beta: 0, c: yn, ldc: plan.outHW)
                    if let b {
                        for c in 0..<g.outChannels {
                            let row = yn + c * plan.outHW, value = b[c]
                            for p in 0..<plan.outHW { row[p] += value }
                        }
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
            let plan = ConvPlan(g)
            let dy = gb.pointer(T.self), w = wb.pointer(T.self), dx = ib.pointer(T.self)
            plan.forEachImageChunk { _, images in
                let scratch = plan.columnScratch(T.self)
                defer { scratch.deallocate() }
                for n in images {
                    let dxn = dx + n * plan.inCHW
                    // A pointwise convolution's column matrix is the input gradient itself.
                    let col = plan.pointwise ? dxn : scratch
                    parallelGEMM(transA: true, transB: false, m: g.patchSize, n: plan.outHW, k: g.outChannels, alpha: 1,
                           a: w, lda: g.patchSize, b: dy + n * plan.outCHW, ldb: plan.outHW, beta: 0, c: col, ldc: plan.outHW)
                    if !plan.pointwise { col2im(col, dxn, g, parallel: !plan.imagesInParallel) }
                }
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
            let plan = ConvPlan(g)
            let x = ib.pointer(T.self), dy = gb.pointer(T.self), dw = wb.pointer(T.self), db = bb?.pointer(T.self)
            let weightCount = g.outChannels * g.patchSize
            if g.batch == 0 {
                dw.update(repeating: 0, count: weightCount)
                db?.update(repeating: 0, count: g.outChannels)
                return
            }
            // Chunk 0 sums into the outputs, the others into partial sums
            // added at the end (in chunk order, so the result is the same
            // from run to run).
            let chunks = plan.chunkCount
            let partials = UnsafeMutablePointer<T>.allocate(capacity: max((chunks - 1) * (weightCount + g.outChannels), 1))
            defer { partials.deallocate() }
            plan.forEachImageChunk { chunk, images in
                let gw = chunk == 0 ? dw : partials + (chunk - 1) * (weightCount + g.outChannels)
                let gbias = db == nil ? nil : chunk == 0 ? db : partials + (chunk - 1) * (weightCount + g.outChannels) + weightCount
                gw.update(repeating: 0, count: weightCount)
                gbias?.update(repeating: 0, count: g.outChannels)
                let scratch = plan.columnScratch(T.self)
                defer { scratch.deallocate() }
                for n in images {
                    let xn = x + n * plan.inCHW, dyn = dy + n * plan.outCHW
                    let col = plan.pointwise ? xn : scratch
                    if !plan.pointwise { im2col(xn, col, g, parallel: !plan.imagesInParallel) }
                    parallelGEMM(transA: false, transB: true, m: g.outChannels, n: g.patchSize, k: plan.outHW, alpha: 1,
                           a: dyn, lda: plan.outHW, b: col, ldb: plan.outHW, beta: 1, c: gw, ldc: g.patchSize)
                    if let gbias {
                        for c in 0..<g.outChannels { gbias[c] += rowSum(dyn + c * plan.outHW, plan.outHW) }
                    }
                }
            }
            for chunk in 1..<max(chunks, 1) {
                let partial = partials + (chunk - 1) * (weightCount + g.outChannels)
                for i in 0..<weightCount { dw[i] += partial[i] }
                if let db { for c in 0..<g.outChannels { db[c] += partial[weightCount + c] } }
            }
        }
        switch floatType(ib, "conv2dBackwardFilter") {
        case .float64: run(Double.self)
        default: run(Float.self)
        }
    }

    private func checkConv(_ g: Conv2dGeometry, input: CPUBuffer, weight: CPUBuffer, output: CPUBuffer, bias: CPUBuffer?,
                           _ op: StaticString) {
        require(g.outHeight > 0 && g.outWidth > 0 && g.strideH > 0 && g.strideW > 0 && g.dilationH > 0 && g.dilationW > 0,
                     "CPUBackend.\(op): geometry \(g) gives an empty output")
        require(input.dtype == weight.dtype && weight.dtype == output.dtype && (bias == nil || bias!.dtype == input.dtype),
                     "CPUBackend.\(op): mixed dtypes")
        require(input.count >= g.inputShape.reduce(1, *) && weight.count >= g.weightShape.reduce(1, *)
                     && output.count >= g.outputShape.reduce(1, *) && (bias == nil || bias!.count >= g.outChannels),
                     "CPUBackend.\(op): buffers too small for input \(g.inputShape), weight \(g.weightShape), output \(g.outputShape)")
    }
}

/// How a convolution's images are spread over the cores.
private struct ConvPlan {
    let batch: Int
    let outHW: Int, inCHW: Int, outCHW: Int
    let patchSize: Int
    /// 1x1 kernel, stride 1, no padding: the image is its own column matrix.
    let pointwise: Bool
    /// Images split between the cores (small GEMMs), or one after the
    /// other with the cores inside each image's work (large ones).
    let imagesInParallel: Bool
    /// How many chunks of images `forEachImageChunk` makes.
    let chunkCount: Int

    init(_ g: Conv2dGeometry) {
        batch = g.batch
        outHW = g.outHeight * g.outWidth
        inCHW = g.inChannels * g.inHeight * g.inWidth
        outCHW = g.outChannels * outHW
        patchSize = g.patchSize
        pointwise = g.kernelH == 1 && g.kernelW == 1 && g.strideH == 1 && g.strideW == 1 && g.padH == 0 && g.padW == 0
        imagesInParallel = g.outChannels * outHW * g.patchSize < parallelGEMMMinimumWork
        chunkCount = imagesInParallel ? min(processorCount, g.batch) : min(1, g.batch)
    }

    /// Runs `body(chunk, images)` over `chunkCount` contiguous ranges of the
    /// batch, concurrently when there are several.
    func forEachImageChunk(_ body: (_ chunk: Int, _ images: Range<Int>) -> Void) {
        let chunks = chunkCount, batch = batch
        if chunks <= 1 {
            if batch > 0 { body(0, 0..<batch) }
            return
        }
        CPUThreadPool.shared.run(chunks: chunks) { c in
            body(c, batch * c / chunks..<batch * (c + 1) / chunks)
        }
    }

    /// A column matrix for one image, [patch, P] (unused when pointwise).
    func columnScratch<T>(_: T.Type) -> UnsafeMutablePointer<T> {
        .allocate(capacity: pointwise ? 1 : max(patchSize * outHW, 1))
    }
}

/// values[0] + ... + values[count - 1], in four interleaved partial sums:
/// one running sum is a chain of dependent additions (the compiler may not
/// reorder float additions), which made the bias gradient cost as much as
/// the GEMMs of LeNet-5's layers.
@inline(__always)
private func rowSum<T: CPUScalar>(_ values: UnsafeMutablePointer<T>, _ count: Int) -> T {
    var s0: T = 0, s1: T = 0, s2: T = 0, s3: T = 0
    var i = 0
    while i + 4 <= count {
        s0 += values[i]
        s1 += values[i + 1]
        s2 += values[i + 2]
        s3 += values[i + 3]
        i += 4
    }
    while i < count {
        s0 += values[i]
        i += 1
    }
    return (s0 + s1) + (s2 + s3)
}

/// The output positions `o` in 0..<outSize whose input position
/// o * stride + offset lies in 0..<inSize (a contiguous range).
@inline(__always)
private func validRange(outSize: Int, stride: Int, offset: Int, inSize: Int) -> Range<Int> {
    let first = offset >= 0 ? 0 : (-offset + stride - 1) / stride
    let last = inSize - 1 - offset
    let end = last < 0 ? 0 : last / stride + 1
    let lower = min(first, outSize)
    return lower..<min(max(end, lower), outSize)
}

/// col[(c, i, j), (oh, ow)] = x[c, oh*sh - ph + i*dh, ow*sw - pw + j*dw],
/// zero outside the image, for one image. Rows are independent, so with
/// `parallel` they spread over the cores. Each row is written as zeros,
/// a copy of the valid span (a memcpy at stride 1), zeros.
private func im2col<T: CPUScalar>(_ x: UnsafeMutablePointer<T>, _ col: UnsafeMutablePointer<T>, _ g: Conv2dGeometry,
                                  parallel: Bool) {
    let outH = g.outHeight, outW = g.outWidth, outHW = outH * outW
    let taps = g.kernelH * g.kernelW
    func rows(_ range: Range<Int>) {
        for row in range {
            let c = row / taps, i = (row % taps) / g.kernelW, j = row % g.kernelW
            let src = x + c * g.inHeight * g.inWidth, dst = col + row * outHW
            let hOffset = i * g.dilationH - g.padH, wOffset = j * g.dilationW - g.padW
            let valid = validRange(outSize: outH, stride: g.strideH, offset: hOffset, inSize: g.inHeight)
            let span = validRange(outSize: outW, stride: g.strideW, offset: wOffset, inSize: g.inWidth)
            dst.update(repeating: 0, count: valid.lowerBound * outW)
            (dst + valid.upperBound * outW).update(repeating: 0, count: (outH - valid.upperBound) * outW)
            for oh in valid {
                let line = dst + oh * outW
                let from = src + (oh * g.strideH + hOffset) * g.inWidth + wOffset
                line.update(repeating: 0, count: span.lowerBound)
                if g.strideW == 1 {
                    (line + span.lowerBound).update(from: from + span.lowerBound, count: span.count)
                } else {
                    for ow in span { line[ow] = from[ow * g.strideW] }
                }
                (line + span.upperBound).update(repeating: 0, count: outW - span.upperBound)
            }
        }
    }
    if parallel {
        parallelFor(g.patchSize, grain: max(1, (1 << 14) / max(outHW, 1)), rows)
    } else {
        rows(0..<g.patchSize)
    }
}

/// The adjoint of im2col for one image: x (overwritten) = the sum of the
/// col entries that read each input pixel. Input channels own disjoint
/// pixels, so with `parallel` they spread over the cores.
private func col2im<T: CPUScalar>(_ col: UnsafeMutablePointer<T>, _ x: UnsafeMutablePointer<T>, _ g: Conv2dGeometry,
                                  parallel: Bool) {
    let outH = g.outHeight, outW = g.outWidth, outHW = outH * outW
    let taps = g.kernelH * g.kernelW
    func channels(_ range: Range<Int>) {
        for c in range {
            let plane = x + c * g.inHeight * g.inWidth
            plane.update(repeating: 0, count: g.inHeight * g.inWidth)
            for tap in 0..<taps {
                let i = tap / g.kernelW, j = tap % g.kernelW
                let src = col + (c * taps + tap) * outHW
                let hOffset = i * g.dilationH - g.padH, wOffset = j * g.dilationW - g.padW
                let valid = validRange(outSize: outH, stride: g.strideH, offset: hOffset, inSize: g.inHeight)
                let span = validRange(outSize: outW, stride: g.strideW, offset: wOffset, inSize: g.inWidth)
                for oh in valid {
                    let line = plane + (oh * g.strideH + hOffset) * g.inWidth + wOffset, values = src + oh * outW
                    if g.strideW == 1 {
                        for ow in span { line[ow] += values[ow] }
                    } else {
                        for ow in span { line[ow * g.strideW] += values[ow] }
                    }
                }
            }
        }
    }
    if parallel {
        parallelFor(g.inChannels, grain: max(1, (1 << 14) / max(taps * outHW, 1)), channels)
    } else {
        channels(0..<g.inChannels)
    }
}
