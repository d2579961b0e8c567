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
        func arguments(_ kRange: [KernelArgument], beta: Double) -> [KernelArgument] {
            [.int(m), .int(n)] + kRange + [.scalar(alpha),
             .buffer(ab), .int(a.offset), .int(a.ld), .int(a.transposed ? 1 : 0), .int(strideA),
             .buffer(bb), .int(b.offset), .int(b.ld), .int(b.transposed ? 1 : 0), .int(strideB),
             .scalar(beta), .buffer(cb), .int(c.offset), .int(c.ld), .int(strideC)]
        }
        let config = runnable(config, dtype: cb.dtype)
        switch config.kernel {
        case .tiled:
            // 16 x 16 work-items per 64 x 64 tile of C.
            launch(.gemm, "gemm_tiled", dtype: cb.dtype, global: [(n + 63) / 64 * 16, (m + 63) / 64 * 16, batch],
                   local: [16, 16, 1], arguments([.int(k)], beta: beta))
        case .vector where b.transposed && k > 0:
            // The vector kernel streams rows of B; a transposed B would be
            // read with a stride of ldb. Copying op(B) out densely costs
            // O(k n) against the product's O(m n k) and keeps the fast path.
            let dense = makeBuffer(count: batch * k * n, dtype: bb.dtype)
            copyStrided(bb, StridedView(offset: b.offset, strides: [strideB, 1, b.ld]), to: dense,
                        .contiguous([batch, k, n]), shape: [batch, k, n], accumulate: false)
            enqueueGEMM(config, batch: batch, m: m, n: n, k: k, alpha: alpha, a: a, strideA: strideA,
                        b: MatrixOperand(dense, ld: n), strideB: k * n, beta: beta, c: c, strideC: strideC)
        case .vector where batch == 1 && splitsK(config, m: m, n: n, k: k):
            enqueueSplitK(config, m: m, n: n, k: k, alpha: alpha, a: a, b: b, beta: beta, c: c)
        case .vector:
            // k in slices, so each work-item's strip of B stays in cache;
            // slices after the first accumulate into C (beta 1).
            var k0 = 0
            repeat {
                let k1 = min(k, k0 + config.kSlice)
                launch(.gemm, "gemm_vector", dtype: cb.dtype,
                       global: [(m + config.rows - 1) / config.rows, (n + config.width - 1) / config.width, batch],
                       local: vectorGroup, defines: config.defines, arguments([.int(k0), .int(k1)], beta: k0 == 0 ? beta : 1))
                k0 = k1
            } while k0 < k
        }
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
                    .scalar(0), .buffer(pb), .int(offset), .int(n), .int(m * n)])
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
        lock.lock()
        defer { lock.unlock() }
        guard let kernel = try? programs.kernel(.gemm, "gemm_tiled", dtype: dtype) else { return config }  // launch reports it
        return programs.maxWorkGroupSize(kernel) >= 256 ? config : .defaultVector
    }
}
