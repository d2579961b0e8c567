import NNBackend

/// GEMM straight into OpenBLAS: the operands are passed by pointer with their
/// offsets and leading dimensions, with no copy or conversion around the call.
extension CPUBackend {
    public func gemm(m: Int, n: Int, k: Int, alpha: Double, a: MatrixOperand, b: MatrixOperand,
                     beta: Double, c: MatrixOperand) {
        gemmBatched(batch: 1, m: m, n: n, k: k, alpha: alpha, a: a, strideA: 0, b: b, strideB: 0,
                    beta: beta, c: c, strideC: 0)
    }

    public func gemmBatched(batch: Int, m: Int, n: Int, k: Int, alpha: Double,
                            a: MatrixOperand, strideA: Int, b: MatrixOperand, strideB: Int,
                            beta: Double, c: MatrixOperand, strideC: Int) {
        checkGEMMOperands("CPUBackend", batch: batch, m: m, n: n, k: k, a: a, strideA: strideA, b: b, strideB: strideB,
                          c: c, strideC: strideC)
        let ab = cpu(a.buffer, "gemm"), bb = cpu(b.buffer, "gemm"), cb = cpu(c.buffer, "gemm")
        if batch == 0 || m == 0 || n == 0 { return }
        func run<T: CPUScalar>(_: T.Type) {
            let ap = ab.pointer(T.self) + a.offset, bp = bb.pointer(T.self) + b.offset
            let cp = cb.pointer(T.self) + c.offset
            // alpha 0 (or k 0) must not read A or B: C = beta C, and 0 for
            // beta 0 whatever C held. Some OpenBLAS kernels (0.3.21 on
            // Cooper Lake) multiply anyway and let NaNs in A through.
            if alpha == 0 || k == 0 {
                let scale = T(beta)
                for i in 0..<batch {
                    for row in 0..<m {
                        let r = cp + i * strideC + row * c.ld
                        for j in 0..<n { r[j] = beta == 0 ? 0 : scale * r[j] }
                    }
                }
                return
            }
            for i in 0..<batch {
                T.gemm(transA: a.transposed, transB: b.transposed, m: m, n: n, k: k, alpha: T(alpha),
                       a: ap + i * strideA, lda: a.ld, b: bp + i * strideB, ldb: b.ld,
                       beta: T(beta), c: cp + i * strideC, ldc: c.ld)
            }
        }
        switch floatType(cb, "gemm") {
        case .float64: run(Double.self)
        default: run(Float.self)
        }
    }
}
