/// One matrix operand of a GEMM: a row-major matrix inside a buffer, starting
/// at `offset`, with leading dimension `ld` (elements between rows as stored),
/// optionally used transposed.
public struct MatrixOperand: Sendable {
    public var buffer: DeviceBuffer
    public var offset: Int
    public var ld: Int
    public var transposed: Bool

    public init(_ buffer: DeviceBuffer, offset: Int = 0, ld: Int, transposed: Bool = false) {
        self.buffer = buffer
        self.offset = offset
        self.ld = ld
        self.transposed = transposed
    }
}

/// Matrix products.
public protocol GEMMOps: AnyObject {
    /// C = alpha * op(A) * op(B) + beta * C, with op(A) m x k, op(B) k x n and
    /// C m x n. `c.transposed` must be false. With beta == 0, C is not read
    /// (NaNs in it do not propagate), as in BLAS.
    func gemm(m: Int, n: Int, k: Int, alpha: Double, a: MatrixOperand, b: MatrixOperand,
              beta: Double, c: MatrixOperand)

    /// `batch` independent GEMMs; operand i starts `stride` elements after
    /// operand i-1 (a stride of 0 reuses one matrix for the whole batch).
    func gemmBatched(batch: Int, m: Int, n: Int, k: Int, alpha: Double,
                     a: MatrixOperand, strideA: Int, b: MatrixOperand, strideB: Int,
                     beta: Double, c: MatrixOperand, strideC: Int)
}
