import NNBackend

/// GEMM straight into the matrix library (`CPUGEMMLibrary`): the operands
/// are passed by pointer with their offsets and leading dimensions, with no
/// copy or conversion around the call; a large product is cut into blocks
/// of C, one per thread of the pool.
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
            // Several products: whole ones per thread (a product inside a
            // chunk runs on that thread); one alone: cut into blocks. Only
            // products with outputs of their own run side by side (a C
            // stride of 0 sums every product into one C, in order).
            let separateOutputs = strideC >= (m - 1) * c.ld + n
            let grain = separateOutputs ? max(1, parallelGEMMMinimumWork / max(m * n * k, 1)) : batch
            parallelFor(batch, grain: grain) { items in
                for i in items {
                    parallelGEMM(transA: a.transposed, transB: b.transposed, m: m, n: n, k: k, alpha: T(alpha),
                                 a: ap + i * strideA, lda: a.ld, b: bp + i * strideB, ldb: b.ld,
                                 beta: T(beta), c: cp + i * strideC, ldc: c.ld)
                }
            }
        }
        switch floatType(cb, "gemm") {
        case .float64: run(Double.self)
        default: run(Float.self)
        }
    }
}

/// Products of at least this many multiply-adds (M·N·K) are spread over the
/// pool's threads; below it the hand-off costs more than the second core
/// saves.
let parallelGEMMMinimumWork = 1 << 17

/// C = alpha op(A) op(B) + beta C (row-major) on every thread of the pool
/// when it is large enough: C is cut into one block of rows per thread
/// (columns, in multiples of 16, when C is wider than tall, so that a
/// 32-row recurrent step still splits), and each block is one
/// single-threaded library call. Blocks are fixed by the shape and the
/// thread count, so a result is the same from run to run.
@inline(__always)
func parallelGEMM<T: CPUScalar>(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: T,
                                a: UnsafePointer<T>, lda: Int, b: UnsafePointer<T>, ldb: Int,
                                beta: T, c: UnsafeMutablePointer<T>, ldc: Int) {
    let pool = CPUThreadPool.shared
    let byRows = m >= n
    let extent = byRows ? m : n, unit = byRows ? 8 : 16
    let units = (extent + unit - 1) / unit
    let chunks = min(pool.threadCount, m * n * k / parallelGEMMMinimumWork, units)
    if chunks <= 1 {
        T.gemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb,
               beta: beta, c: c, ldc: ldc)
        return
    }
    pool.run(chunks: chunks) { part in
        let start = min(extent, units * part / chunks * unit), end = min(extent, units * (part + 1) / chunks * unit)
        guard start < end else { return }
        if byRows {
            T.gemm(transA: transA, transB: transB, m: end - start, n: n, k: k, alpha: alpha,
                   a: transA ? a + start : a + start * lda, lda: lda, b: b, ldb: ldb, beta: beta, c: c + start * ldc, ldc: ldc)
        } else {
            T.gemm(transA: transA, transB: transB, m: m, n: end - start, k: k, alpha: alpha, a: a, lda: lda,
                   b: transB ? b + start * ldb : b + start, ldb: ldb, beta: beta, c: c + start, ldc: ldc)
        }
    }
}
