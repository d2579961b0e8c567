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
        precondition(!c.transposed, "CPUBackend.gemm: the output operand cannot be transposed")
        let ab = cpu(a.buffer, "gemm"), bb = cpu(b.buffer, "gemm"), cb = cpu(c.buffer, "gemm")
        precondition(ab.dtype == bb.dtype && bb.dtype == cb.dtype,
                     "CPUBackend.gemm: mixed dtypes \(ab.dtype), \(bb.dtype), \(cb.dtype)")
        // BLAS rejects leading dimensions below the row length; say so here
        // with the shapes instead of letting xerbla print.
        precondition(a.ld >= max(1, a.transposed ? m : k) && b.ld >= max(1, b.transposed ? k : n) && c.ld >= max(1, n),
                     "CPUBackend.gemm: leading dimensions lda \(a.ld), ldb \(b.ld), ldc \(c.ld) too small for m \(m), n \(n), k \(k)")
        if batch == 0 || m == 0 || n == 0 { return }
        func run<T: CPUScalar>(_: T.Type) {
            let ap = ab.pointer(T.self) + a.offset, bp = bb.pointer(T.self) + b.offset
            let cp = cb.pointer(T.self) + c.offset
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
