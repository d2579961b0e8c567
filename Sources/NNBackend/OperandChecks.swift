/// Bounds arithmetic both backends check operands with, so a bad view or
/// leading dimension stops with a message on every device instead of reading
/// or writing outside a buffer on some.
extension StridedView {
    /// The lowest and highest element a walk over `shape` touches (nil for
    /// an empty shape).
    public func extent(shape: [Int]) -> ClosedRange<Int>? {
        require(strides.count == shape.count, "StridedView: \(strides.count) strides for shape \(shape)")
        if shape.contains(0) { return nil }
        var lo = offset, hi = offset
        for (n, s) in zip(shape, strides) {
            if s >= 0 { hi += (n - 1) * s } else { lo += (n - 1) * s }
        }
        return lo...hi
    }

    /// Whether the walk over `shape` stays inside a buffer of `count`
    /// elements.
    public func fits(shape: [Int], in count: Int) -> Bool {
        guard let range = extent(shape: shape) else { return true }
        return range.lowerBound >= 0 && range.upperBound < count
    }
}

extension MatrixOperand {
    /// Whether op(self), `rows` x `cols`, repeated `batch` times `stride`
    /// apart, lies inside its buffer.
    public func fits(rows: Int, cols: Int, batch: Int = 1, stride: Int = 0) -> Bool {
        if rows == 0 || cols == 0 || batch == 0 { return true }
        let (storedRows, storedCols) = transposed ? (cols, rows) : (rows, cols)
        let last = offset + (batch - 1) * stride + (storedRows - 1) * ld + storedCols
        return offset >= 0 && stride >= 0 && last <= buffer.count
    }
}

/// Checks a GEMM's operands: leading dimensions and extents. Shared by the
/// backends so their messages (and what they accept) agree.
public func checkGEMMOperands(_ backend: String, batch: Int, m: Int, n: Int, k: Int, a: MatrixOperand, strideA: Int,
                              b: MatrixOperand, strideB: Int, c: MatrixOperand, strideC: Int) {
    require(!c.transposed, "\(backend).gemm: the output operand cannot be transposed")
    require(a.buffer.dtype == b.buffer.dtype && b.buffer.dtype == c.buffer.dtype && a.buffer.dtype.isFloatingPoint,
                 "\(backend).gemm: dtypes \(a.buffer.dtype), \(b.buffer.dtype), \(c.buffer.dtype) must be one float type")
    require(a.ld >= max(1, a.transposed ? m : k) && b.ld >= max(1, b.transposed ? k : n) && c.ld >= max(1, n),
                 "\(backend).gemm: leading dimensions lda \(a.ld), ldb \(b.ld), ldc \(c.ld) too small for m \(m), n \(n), k \(k)")
    require(a.fits(rows: m, cols: k, batch: batch, stride: strideA) && b.fits(rows: k, cols: n, batch: batch, stride: strideB)
                 && c.fits(rows: m, cols: n, batch: batch, stride: strideC),
                 "\(backend).gemm: m \(m), n \(n), k \(k), batch \(batch) reach past the operands (A \(a.buffer.count), B \(b.buffer.count), C \(c.buffer.count) elements)")
}
