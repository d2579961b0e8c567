import Foundation

/// GEMM kernels (Kernels/gemm.cl), chosen per device type.
extension OpenCLBackend {
    /// Which GEMM kernel a device runs: local-memory tiles on GPUs, vector
    /// register blocks without local memory on CPU devices (PoCL).
    public enum GEMMKernel: String, CaseIterable {
        case tiled, vector
    }

    /// The k-slice of the vector kernel: 256 keeps a 16-column strip of B
    /// (16 KiB of float) in L1.
    static var vectorRows: Int { Int(ProcessInfo.processInfo.environment["NN_GEMM_ROWS"] ?? "") ?? 8 }
    static var vectorKSlice: Int { Int(ProcessInfo.processInfo.environment["NN_GEMM_KSLICE"] ?? "") ?? 256 }

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
        func arguments(_ kRange: [KernelArgument], beta: Double) -> [KernelArgument] {
            [.int(m), .int(n)] + kRange + [.scalar(alpha),
             .buffer(ab), .int(a.offset), .int(a.ld), .int(a.transposed ? 1 : 0), .int(strideA),
             .buffer(bb), .int(b.offset), .int(b.ld), .int(b.transposed ? 1 : 0), .int(strideB),
             .scalar(beta), .buffer(cb), .int(c.offset), .int(c.ld), .int(strideC)]
        }
        switch gemmKernel {
        case .tiled:
            // 16 x 16 work-items per 64 x 64 tile of C.
            launch(.gemm, "gemm_tiled", dtype: cb.dtype, global: [(n + 63) / 64 * 16, (m + 63) / 64 * 16, batch],
                   local: [16, 16, 1], arguments([.int(k)], beta: beta))
        case .vector where b.transposed:
            // The vector kernel streams rows of B; a transposed B would be
            // read with a stride of ldb. Copying op(B) out densely costs
            // O(k n) against the product's O(m n k) and keeps the fast path.
            let dense = makeBuffer(count: batch * k * n, dtype: bb.dtype)
            copyStrided(bb, StridedView(offset: b.offset, strides: [strideB, 1, b.ld]), to: dense,
                        .contiguous([batch, k, n]), shape: [batch, k, n], accumulate: false)
            gemmBatched(batch: batch, m: m, n: n, k: k, alpha: alpha, a: a, strideA: strideA,
                        b: MatrixOperand(dense, ld: n), strideB: k * n, beta: beta, c: c, strideC: strideC)
        case .vector:
            // k in slices, so each work-item's strip of B stays in cache;
            // slices after the first accumulate into C (beta 1).
            let slice = Self.vectorKSlice
            var k0 = 0
            repeat {
                let k1 = k == 0 ? 0 : min(k, k0 + slice)
                launch(.gemm, "gemm_vector", dtype: cb.dtype, global: [(n + 15) / 16, (m + Self.vectorRows - 1) / Self.vectorRows, batch], local: nil,
                       arguments([.int(k0), .int(k1)], beta: k0 == 0 ? beta : 1))
                k0 = k1
            } while k0 < k
        }
    }
}
