/// GEMM kernels (Kernels/gemm.cl), chosen per device type.
extension OpenCLBackend {
    /// Which GEMM kernel a device runs: local-memory tiles on GPUs, vector
    /// register blocks without local memory on CPU devices (PoCL).
    public enum GEMMKernel: String, CaseIterable {
        case tiled, vector
    }

    public func gemm(m: Int, n: Int, k: Int, alpha: Double, a: MatrixOperand, b: MatrixOperand, beta: Double,
                     c: MatrixOperand) {
        gemmBatched(batch: 1, m: m, n: n, k: k, alpha: alpha, a: a, strideA: 0, b: b, strideB: 0, beta: beta, c: c, strideC: 0)
    }

    public func gemmBatched(batch: Int, m: Int, n: Int, k: Int, alpha: Double, a: MatrixOperand, strideA: Int,
                            b: MatrixOperand, strideB: Int, beta: Double, c: MatrixOperand, strideC: Int) {
        precondition(!c.transposed, "OpenCLBackend.gemm: the output operand cannot be transposed")
        let ab = cl(a.buffer, "gemm"), bb = cl(b.buffer, "gemm"), cb = cl(c.buffer, "gemm")
        precondition(ab.dtype == bb.dtype && bb.dtype == cb.dtype && ab.dtype.isFloatingPoint,
                     "OpenCLBackend.gemm: mixed dtypes \(ab.dtype), \(bb.dtype), \(cb.dtype)")
        precondition(a.ld >= max(1, a.transposed ? m : k) && b.ld >= max(1, b.transposed ? k : n) && c.ld >= max(1, n),
                     "OpenCLBackend.gemm: leading dimensions lda \(a.ld), ldb \(b.ld), ldc \(c.ld) too small for m \(m), n \(n), k \(k)")
        if batch == 0 || m == 0 || n == 0 { return }
        let arguments: [KernelArgument] = [
            .int(m), .int(n), .int(k), .scalar(alpha),
            .buffer(ab), .int(a.offset), .int(a.ld), .int(a.transposed ? 1 : 0), .int(strideA),
            .buffer(bb), .int(b.offset), .int(b.ld), .int(b.transposed ? 1 : 0), .int(strideB),
            .scalar(beta), .buffer(cb), .int(c.offset), .int(c.ld), .int(strideC),
        ]
        switch gemmKernel {
        case .tiled:
            // 16 x 16 work-items per 64 x 64 tile of C.
            launch(.gemm, "gemm_tiled", dtype: cb.dtype, global: [(n + 63) / 64 * 16, (m + 63) / 64 * 16, batch],
                   local: [16, 16, 1], arguments)
        case .vector:
            launch(.gemm, "gemm_vector", dtype: cb.dtype, global: [(n + 15) / 16, (m + 3) / 4, batch], local: nil, arguments)
        }
    }
}
