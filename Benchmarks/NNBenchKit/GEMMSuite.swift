import CBLAS
import NN

/// One matrix product C[m, n] = op(A)[m, k] op(B)[k, n], row-major, with
/// the transposes named as DeepBench names them ("TN": A transposed).
struct GEMMShape {
    let m, n, k: Int
    let transA, transB: Bool

    init(_ m: Int, _ n: Int, _ k: Int, _ trans: String = "NN") {
        self.m = m
        self.n = n
        self.k = k
        transA = trans.first == "T"
        transB = trans.last == "T"
    }

    var name: String { "\(m)x\(n)x\(k) \(transA ? "T" : "N")\(transB ? "T" : "N")" }

    /// One multiply and one add per term of every output: 2 m n k.
    var flops: Double { 2 * Double(m) * Double(n) * Double(k) }

    /// A is stored [m, k], or [k, m] when transposed; B [k, n] or [n, k].
    var lda: Int { transA ? m : k }
    var ldb: Int { transB ? k : n }
}

/// Square products and DeepBench training shapes, each timed through the
/// backend's `gemm` and as raw `cblas_sgemm` on the same operands' sizes.
enum GEMMSuite {
    static func shapes(_ scale: Scale) -> [GEMMShape] {
        switch scale {
        case .large:
            return shapes(.standard) + [GEMMShape(4096, 4096, 4096)]
        case .standard:
            return [
                GEMMShape(256, 256, 256), GEMMShape(512, 512, 512), GEMMShape(1024, 1024, 1024), GEMMShape(2048, 2048, 2048),
                // DeepBench training GEMMs (speech/translation models), with
                // k scaled from 4096 to 1024 where a 2-core CPU would take
                // seconds per product.
                GEMMShape(1760, 128, 1760), GEMMShape(2560, 64, 2560), GEMMShape(4096, 128, 1024, "TN"),
                GEMMShape(1760, 128, 1760, "NT"), GEMMShape(35, 8457, 1024),
            ]
        case .tiny:
            return [GEMMShape(32, 32, 32), GEMMShape(17, 9, 23, "TN")]
        }
    }

    static func cases(_ scale: Scale) -> [BenchmarkCase] {
        shapes(scale).map { shape in
            BenchmarkCase(.gemm, shape.name, work: .flops(shape.flops)) { target in
                switch target {
                case .openBLAS: return openBLASBody(shape)
                case .device(_, let device): return deviceBody(shape, device.backend)
                }
            }
        }
    }

    /// The backend's GEMM on operands already on the device (alpha 1,
    /// beta 0, as a layer's forward product).
    static func deviceBody(_ s: GEMMShape, _ backend: any Backend) -> () -> Void {
        let a = BenchmarkData.randomBuffer(backend, count: s.m * s.k, seed: 1)
        let b = BenchmarkData.randomBuffer(backend, count: s.k * s.n, seed: 2)
        let c = BenchmarkData.zeroBuffer(backend, count: s.m * s.n)
        return {
            backend.gemm(m: s.m, n: s.n, k: s.k, alpha: 1,
                         a: MatrixOperand(a, ld: s.lda, transposed: s.transA),
                         b: MatrixOperand(b, ld: s.ldb, transposed: s.transB),
                         beta: 0, c: MatrixOperand(c, ld: s.n))
        }
    }

    /// The same product as one direct `cblas_sgemm` call, threaded by
    /// OpenBLAS itself on as many threads as the CPU backend's pool: the
    /// reference the CPU backend's GEMM (oneDNN or OpenBLAS, blocks on its
    /// own threads) is measured against. The CPU backend keeps OpenBLAS on
    /// one thread otherwise, so the count is set around each call.
    static func openBLASBody(_ s: GEMMShape) -> () -> Void {
        _ = CPUBackend.shared  // the core the CPU backend runs, not a misdetected one
        let a = HostMatrix(count: s.m * s.k, seed: 1), b = HostMatrix(count: s.k * s.n, seed: 2)
        let c = HostMatrix(count: s.m * s.n, seed: 3)
        let threads = Int32(CPUBackend.threadCount)
        return {
            openblas_set_num_threads(threads)
            cblas_sgemm(CblasRowMajor, s.transA ? CblasTrans : CblasNoTrans, s.transB ? CblasTrans : CblasNoTrans,
                        blasint(s.m), blasint(s.n), blasint(s.k), 1, a.pointer, blasint(s.lda), b.pointer, blasint(s.ldb),
                        0, c.pointer, blasint(s.n))
            openblas_set_num_threads(1)
        }
    }
}
