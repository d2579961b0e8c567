import NNBackend

/// Matrix products on the backend's GEMM.
extension Tensor {
    /// [m, k] x [k, n] -> [m, n]; [b, m, k] x [b, k, n] -> [b, m, n] (batched);
    /// [b, m, k] x [k, n] -> [b, m, n] (one matrix for the whole batch).
    public func matmul(_ other: Tensor) -> Tensor {
        Tensor.checkCompatible("matmul", self, other)
        require(dtype.isFloatingPoint, "matmul: needs float tensors, got \(dtype)")
        switch (rank, other.rank) {
        case (2, 2):
            require(shape[1] == other.shape[0], ShapeErrors.mismatch("matmul", shape, other.shape, "inner dimensions differ"))
            return Tensor.batchedProduct(self, other, batch: 1, m: shape[0], k: shape[1], n: other.shape[1],
                                         outShape: [shape[0], other.shape[1]])
        case (3, 2):
            require(shape[2] == other.shape[0], ShapeErrors.mismatch("matmul", shape, other.shape, "inner dimensions differ"))
            return reshaped([shape[0] * shape[1], shape[2]]).matmul(other).reshaped([shape[0], shape[1], other.shape[1]])
        case (3, 3):
            require(shape[0] == other.shape[0] && shape[2] == other.shape[1],
                         ShapeErrors.mismatch("matmul", shape, other.shape, "batch or inner dimensions differ"))
            return Tensor.batchedProduct(self, other, batch: shape[0], m: shape[1], k: shape[2], n: other.shape[2],
                                         outShape: [shape[0], shape[1], other.shape[2]])
        default:
            requirementFailed(ShapeErrors.mismatch("matmul", shape, other.shape, "expected ranks (2, 2), (3, 2) or (3, 3)"))
        }
    }

    /// C[i] = A[i] B[i] for i < batch, and its two backward GEMMs:
    /// dA = dC B^T, dB = A^T dC.
    private static func batchedProduct(_ a: Tensor, _ b: Tensor, batch: Int, m: Int, k: Int, n: Int,
                                       outShape: [Int]) -> Tensor {
        let c = a.emptyLike(outShape)
        a.backend.gemmBatched(batch: batch, m: m, n: n, k: k, alpha: 1,
                              a: MatrixOperand(a.buffer, ld: k), strideA: m * k,
                              b: MatrixOperand(b.buffer, ld: n), strideB: k * n,
                              beta: 0, c: MatrixOperand(c.buffer, ld: n), strideC: m * n)
        return record("matmul", inputs: [a, b], output: c) { g, needs in
            var ga: Tensor?, gb: Tensor?
            if needs[0] {
                let t = a.emptyLike()
                g.backend.gemmBatched(batch: batch, m: m, n: k, k: n, alpha: 1,
                                      a: MatrixOperand(g.buffer, ld: n), strideA: m * n,
                                      b: MatrixOperand(b.buffer, ld: n, transposed: true), strideB: k * n,
                                      beta: 0, c: MatrixOperand(t.buffer, ld: k), strideC: m * k)
                ga = t
            }
            if needs[1] {
                let t = b.emptyLike()
                g.backend.gemmBatched(batch: batch, m: k, n: n, k: m, alpha: 1,
                                      a: MatrixOperand(a.buffer, ld: k, transposed: true), strideA: m * k,
                                      b: MatrixOperand(g.buffer, ld: n), strideB: m * n,
                                      beta: 0, c: MatrixOperand(t.buffer, ld: n), strideC: k * n)
                gb = t
            }
            return [ga, gb]
        }
    }
}

extension Tensor {
    /// x W^T + b for x [m, in], weight [out, in] and bias [out] (PyTorch's
    /// F.linear). The weight is read transposed by the GEMM itself, so the
    /// PyTorch layout costs no copy, forward or backward.
    public func linear(weight: Tensor, bias: Tensor? = nil) -> Tensor {
        Tensor.checkCompatible("linear", self, weight)
        require(rank == 2 && weight.rank == 2 && shape[1] == weight.shape[1],
                     ShapeErrors.mismatch("linear", shape, weight.shape, "expected input [m, in] and weight [out, in]"))
        let (m, k, n) = (shape[0], shape[1], weight.shape[0])
        let x = self
        let out = emptyLike([m, n])
        backend.gemm(m: m, n: n, k: k, alpha: 1, a: MatrixOperand(buffer, ld: k),
                     b: MatrixOperand(weight.buffer, ld: k, transposed: true), beta: 0, c: MatrixOperand(out.buffer, ld: n))
        let product = Tensor.record("linear", inputs: [x, weight], output: out) { g, needs in
            var gx: Tensor?, gw: Tensor?
            if needs[0] {  // dX = dY W: [m, n] x [n, k]
                let t = x.emptyLike()
                g.backend.gemm(m: m, n: k, k: n, alpha: 1, a: MatrixOperand(g.buffer, ld: n),
                               b: MatrixOperand(weight.buffer, ld: k), beta: 0, c: MatrixOperand(t.buffer, ld: k))
                gx = t
            }
            if needs[1] {  // dW = dY^T X: [n, m] x [m, k]
                let t = weight.emptyLike()
                g.backend.gemm(m: n, n: k, k: m, alpha: 1, a: MatrixOperand(g.buffer, ld: n, transposed: true),
                               b: MatrixOperand(x.buffer, ld: k), beta: 0, c: MatrixOperand(t.buffer, ld: k))
                gw = t
            }
            return [gx, gw]
        }
        guard let bias else { return product }
        require(bias.shape == [n], ShapeErrors.mismatch("linear", weight.shape, bias.shape, "bias must be [out]"))
        return product + bias
    }
}
