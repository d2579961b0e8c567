import NNBackend

/// GEMM kernels (Kernels/gemm.cl), in the config the tuner chose for the
/// device and the product's shape class (OpenCLGEMMTuner.swift).
extension OpenCLBackend {
    public func gemm(m: Int, n: Int, k: Int, alpha: Double, a: MatrixOperand, b: MatrixOperand, beta: Double,
                     c: MatrixOperand) {
        gemmBatched(batch: 1, m: m, n: n, k: k, alpha: alpha, a: a, strideA: 0, b: b, strideB: 0, beta: beta, c: c, strideC: 0)
    }

    public func gemmBatched(batch: Int, m: Int, n: Int, k: Int, alpha: Double, a: MatrixOperand, strideA: Int,
                            b: MatrixOperand, strideB: Int, beta: Double, c: MatrixOperand, strideC: Int) {
        checkGEMMOperands("OpenCLBackend", batch: batch, m: m, n: n, k: k, a: a, strideA: strideA, b: b, strideB: strideB,
                          c: c, strideC: strideC)
        let ab = cl(a.buffer, "gemm"), bb = cl(b.buffer, "gemm"), cb = cl(c.buffer, "gemm")
        // Kernels index operands with 32-bit ints.
        require([ab, bb, cb].allSatisfy { $0.count <= Int(Int32.max) },
                     "OpenCLBackend.gemm: operands over 2^31 elements exceed the kernels' 32-bit indexing")
        if batch == 0 || m == 0 || n == 0 { return }
        enqueueGEMM(gemmConfig(m: m, n: n, k: k, dtype: cb.dtype), batch: batch, m: m, n: n, k: k, alpha: alpha,
                    a: a, strideA: strideA, b: b, strideB: strideB, beta: beta, c: c, strideC: strideC)
    }

    /// Queues the product with `config` (operands already checked).
    func enqueueGEMM(_ config: GEMMConfig, batch: Int, m: Int, n: Int, k: Int, alpha: Double, a: MatrixOperand, strideA: Int,
                     b: MatrixOperand, strideB: Int, beta: Double, c: MatrixOperand, strideC: Int) {
        let ab = cl(a.buffer, "gemm"), bb = cl(b.buffer, "gemm"), cb = cl(c.buffer, "gemm")
        // As BLAS: with alpha 0, A and B are not read (NaNs in them do not
        // reach C); k = 0 makes the kernels compute C = beta C.
        let k = alpha == 0 ? 0 : k
        // A packed operand (gemm_pack_a/b's blocks) replaces A or B; its
        // leading dimension is the stride between blocks.
        typealias Packed = (buffer: DeviceBuffer, blockStride: Int, batchStride: Int)
        func arguments(_ kRange: [KernelArgument], beta: Double, packedA: Packed? = nil, packedB: Packed? = nil) -> [KernelArgument] {
            func operand(_ packed: Packed?, _ x: MatrixOperand, _ buffer: OpenCLBuffer, _ stride: Int) -> [KernelArgument] {
                packed.map { [.buffer($0.buffer), .int(0), .int($0.blockStride), .int(0), .int($0.batchStride)] }
                    ?? [.buffer(buffer), .int(x.offset), .int(x.ld), .int(x.transposed ? 1 : 0), .int(stride)]
            }
            return [.int(m), .int(n)] + kRange + [.scalar(alpha)] + operand(packedA, a, ab, strideA) + operand(packedB, b, bb, strideB)
                + [.scalar(beta), .buffer(cb), .int(c.offset), .int(c.ld), .int(strideC)]
        }
        let config = runnable(config, dtype: cb.dtype)
        // An operand's packed copy: `blocks` of k x `block` values, one copy
        // per batch item, or one for all when the batch shares it (stride 0).
        func packing(extent: Int, block: Int, stride: Int) -> (blocks: Int, copies: Int, count: Int) {
            let blocks = (extent + block - 1) / block, copies = stride == 0 ? 1 : batch
            return (blocks, copies, copies * blocks * k * block)
        }
        // The packed copies are indexed with 32-bit ints too.
        let packB = k > 0 && packsB(config, m: m, n: n, k: k)
            && packing(extent: n, block: config.width, stride: strideB).count <= Int(Int32.max)
        let packA = k > 0 && packsA(config, m: m, n: n, k: k, transposedA: a.transposed, transposedB: b.transposed && !packB)
            && packing(extent: m, block: config.rows, stride: strideA).count <= Int(Int32.max)
        switch config.kernel {
        case .tiled:
            // 16 x 16 work-items per 64 x 64 tile of C.
            launch(.gemm, "gemm_tiled", dtype: cb.dtype, global: [(n + 63) / 64 * 16, (m + 63) / 64 * 16, batch],
                   local: [16, 16, 1], arguments([.int(k)], beta: beta))
        case .vector where b.transposed && k > 0 && !packB:
            // The vector kernel streams rows of B; a transposed B would be
            // read with a stride of ldb. Copying op(B) out densely costs
            // O(k n) against the product's O(m n k) and keeps the fast path.
            let dense = makeBuffer(count: batch * k * n, dtype: bb.dtype)
            copyStrided(bb, StridedView(offset: b.offset, strides: [strideB, 1, b.ld]), to: dense,
                        .contiguous([batch, k, n]), shape: [batch, k, n], accumulate: false)
            enqueueGEMM(config, batch: batch, m: m, n: n, k: k, alpha: alpha, a: a, strideA: strideA,
                        b: MatrixOperand(dense, ld: n), strideB: k * n, beta: beta, c: c, strideC: strideC)
        case .vector where packA || packB:
            // The operands into blocks first (gemm_pack_a/b say why), then
            // the product reads them.
            func pack(_ kernel: String, _ x: MatrixOperand, _ buffer: OpenCLBuffer, stride: Int, extent: Int, block: Int,
                      global: (_ blocks: Int) -> [Int]) -> Packed {
                let (blocks, copies, count) = packing(extent: extent, block: block, stride: stride)
                let packed = makeBuffer(count: count, dtype: buffer.dtype)
                launch(.gemm, kernel, dtype: cb.dtype, global: global(copies * blocks), local: packGroup, defines: config.defines,
                       [.int(extent), .int(k), .int(copies), .buffer(buffer), .int(x.offset), .int(x.ld),
                        .int(x.transposed ? 1 : 0), .int(stride), .buffer(packed)])
                return (packed, k * block, stride == 0 ? 0 : blocks * k * block)
            }
            // gemm_pack_a: (block, 16 values of k); gemm_pack_b: (k, block).
            let packedA = packA ? pack("gemm_pack_a", a, ab, stride: strideA, extent: m, block: config.rows) { [$0, (k + 15) / 16] } : nil
            let packedB = packB ? pack("gemm_pack_b", b, bb, stride: strideB, extent: n, block: config.width) { [k, $0] } : nil
            enqueueVectorSlices(config, dtype: cb.dtype, batch: batch, m: m, n: n, k: k, beta: beta) { kRange, beta in
                arguments(kRange, beta: beta, packedA: packedA, packedB: packedB) + [.int((packA ? 2 : 0) | (packB ? 1 : 0))]
            }
        case .vector where batch == 1 && splitsK(config, m: m, n: n, k: k):
            enqueueSplitK(config, m: m, n: n, k: k, alpha: alpha, a: a, b: b, beta: beta, c: c)
        case .vector:
            enqueueVectorSlices(config, dtype: cb.dtype, batch: batch, m: m, n: n, k: k, beta: beta) { kRange, beta in
                arguments(kRange, beta: beta) + [.int(0)]
            }
        }
    }

    /// gemm_vector over k in slices, so each work-item's strip of B stays
    /// in cache; slices after the first accumulate into C (beta 1).
    /// `arguments` gives the launch's arguments for a k-range and beta.
    private func enqueueVectorSlices(_ config: GEMMConfig, dtype: DType, batch: Int, m: Int, n: Int, k: Int, beta: Double,
                                     _ arguments: ([KernelArgument], Double) -> [KernelArgument]) {
        var k0 = 0
        repeat {
            let k1 = min(k, k0 + config.kSlice)
            launch(.gemm, "gemm_vector", dtype: dtype,
                   global: [(m + config.rows - 1) / config.rows, (n + config.width - 1) / config.width, batch],
                   local: vectorGroup, defines: config.defines, arguments([.int(k0), .int(k1)], k0 == 0 ? beta : 1))
            k0 = k1
        } while k0 < k
    }

    /// Whether the product packs B first: the copy costs O(k n) against
    /// the product's O(m n k), so it pays where many row blocks (at least
    /// 8) reuse each strip of B and the strips are long enough (k >= 64)
    /// to fall out of cache. Narrower than one block, B stays as it is.
    private func packsB(_ config: GEMMConfig, m: Int, n: Int, k: Int) -> Bool {
        n >= config.width && (m + config.rows - 1) / config.rows >= 8 && k >= 64
    }

    /// Whether the product packs a transposed A first: read in place, its
    /// runs of ROWS values lie lda apart and are fetched again for every
    /// column block, so packing pays from two column blocks and k >= 64.
    /// Only on the kernel's vector path (n >= WIDTH, B not transposed or
    /// packed), which is the one that reads packed operands.
    private func packsA(_ config: GEMMConfig, m: Int, n: Int, k: Int, transposedA: Bool, transposedB: Bool) -> Bool {
        transposedA && !transposedB && n >= config.width && (n + config.width - 1) / config.width >= 2 && k >= 64
    }

    /// gemm_vector's work-group on a CPU device: one work-item. Each item
    /// is a whole ROWS x WIDTH block over a k-slice (thousands of
    /// multiply-adds), so more items per group gain nothing there, and a
    /// fixed size keeps to one build per program: PoCL compiles a kernel
    /// again for every local size it meets, and the automatic sizes of the
    /// tuner's probe shapes cost 85 such builds, 50 s of the first tuning's
    /// 64. A GPU (where the tuner may still time the vector kernel) gets
    /// the automatic size, so its groups fill the SIMD lanes.
    var vectorGroup: [Int]? { info.kind == .cpu ? [1, 1, 1] : nil }

    /// gemm_pack_a/b's work-group on a CPU device: 64 rows of a block,
    /// fixed for the same reason.
    var packGroup: [Int]? { info.kind == .cpu ? [64, 1] : nil }

    /// Whether a product is split along k: fewer than 64 output blocks
    /// would leave most of a device idle while they walk k in sequence, and
    /// at least two whole k-slices give the parts something to share.
    private func splitsK(_ config: GEMMConfig, m: Int, n: Int, k: Int) -> Bool {
        let blocks = (m + config.rows - 1) / config.rows * ((n + config.width - 1) / config.width)
        return blocks < 64 && k / config.kSlice >= 2
    }

    /// One partial product per k-slice, all in one launch (the slices are
    /// the batch dimension: A and B step through k, each part has its own
    /// m x n block of scratch), the rest of k in a second launch, then one
    /// kernel sums the parts into C with alpha and beta.
    private func enqueueSplitK(_ config: GEMMConfig, m: Int, n: Int, k: Int, alpha: Double, a: MatrixOperand, b: MatrixOperand,
                               beta: Double, c: MatrixOperand) {
        let ab = cl(a.buffer, "gemm"), bb = cl(b.buffer, "gemm"), cb = cl(c.buffer, "gemm")
        let slice = config.kSlice, whole = k / slice, rest = k - whole * slice
        let parts = makeBuffer(count: (whole + (rest > 0 ? 1 : 0)) * m * n, dtype: cb.dtype)
        let pb = cl(parts, "gemm")
        func part(batch: Int, k0: Int, k1: Int, strideA: Int, strideB: Int, offset: Int) {
            launch(.gemm, "gemm_vector", dtype: cb.dtype,
                   global: [(m + config.rows - 1) / config.rows, (n + config.width - 1) / config.width, batch],
                   local: vectorGroup, defines: config.defines,
                   [.int(m), .int(n), .int(k0), .int(k1), .scalar(1),
                    .buffer(ab), .int(a.offset), .int(a.ld), .int(a.transposed ? 1 : 0), .int(strideA),
                    .buffer(bb), .int(b.offset), .int(b.ld), .int(0), .int(strideB),
                    .scalar(0), .buffer(pb), .int(offset), .int(n), .int(m * n), .int(0)])
        }
        // Slice s reads A's columns (A^T's rows) and B's rows s*slice.. .
        part(batch: whole, k0: 0, k1: slice, strideA: a.transposed ? slice * a.ld : slice, strideB: slice * b.ld, offset: 0)
        if rest > 0 { part(batch: 1, k0: whole * slice, k1: k, strideA: 0, strideB: 0, offset: whole * m * n) }
        launch(.gemm, "gemm_sum_parts", dtype: cb.dtype, global: [n, m], local: nil, defines: config.defines,
               [.buffer(pb), .int(whole + (rest > 0 ? 1 : 0)), .int(m), .int(n), .scalar(alpha), .scalar(beta),
                .buffer(cb), .int(c.offset), .int(c.ld)])
    }

    /// The tiled kernel needs 256 work-items per group; a device (or a
    /// double-precision build) that cannot run that many falls back to the
    /// untuned vector config.
    private func runnable(_ config: GEMMConfig, dtype: DType) -> GEMMConfig {
        guard config.kernel == .tiled else { return config }
        return queueState.withLock { state in
            guard let kernel = try? state.programs.kernel(.gemm, "gemm_tiled", dtype: dtype) else { return config }  // launch reports it
            return state.programs.maxWorkGroupSize(kernel) >= 256 ? config : .defaultVector
        }
    }
}
