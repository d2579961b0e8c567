import XCTest
import NN

/// GEMM against a float64 triple loop over the whole C buffer (cells outside
/// the m x n block must be left alone).
final class GEMMTests: XCTestCase {
    struct Case {
        var m: Int, n: Int, k: Int
        var transA = false, transB = false
        var alpha = 1.0, beta = 0.0
        var offA = 0, offB = 0, offC = 0
        var padA = 0, padB = 0, padC = 0
        var dtype = DType.float32
        var nanInC = false
    }

    /// Runs one GEMM on random inputs and checks the whole C buffer.
    func check(_ t: Case, seed: UInt64 = 1, file: StaticString = #filePath, line: UInt = #line) throws {
        var rng = SplitMix64(seed: seed &+ UInt64(t.m * 1_000_003 + t.n * 1009 + t.k))
        let aRows = t.transA ? t.k : t.m, aCols = t.transA ? t.m : t.k
        let bRows = t.transB ? t.n : t.k, bCols = t.transB ? t.k : t.n
        let lda = aCols + t.padA, ldb = bCols + t.padB, ldc = t.n + t.padC
        let aHost = rng.floats(t.offA + aRows * lda)
        let bHost = rng.floats(t.offB + bRows * ldb)
        var cHost = rng.floats(t.offC + t.m * ldc)
        if t.nanInC {
            for i in 0..<t.m { for j in 0..<t.n { cHost[t.offC + i * ldc + j] = .nan } }
        }
        func opA(_ i: Int, _ p: Int) -> Double { t.transA ? aHost[t.offA + p * lda + i] : aHost[t.offA + i * lda + p] }
        func opB(_ p: Int, _ j: Int) -> Double { t.transB ? bHost[t.offB + j * ldb + p] : bHost[t.offB + p * ldb + j] }
        var expected = cHost
        var scale = [Double](repeating: 0, count: cHost.count)
        for i in 0..<t.m {
            for j in 0..<t.n {
                var sum = 0.0, mag = 0.0
                for p in 0..<t.k {
                    sum += opA(i, p) * opB(p, j)
                    mag += Swift.abs(opA(i, p) * opB(p, j))
                }
                let c = t.offC + i * ldc + j
                expected[c] = t.alpha * sum + (t.beta == 0 ? 0 : t.beta * cHost[c])
                scale[c] = Swift.abs(t.alpha) * mag + (t.beta == 0 ? 0 : Swift.abs(t.beta * cHost[c]))
            }
        }
        let a = buffer(aHost, dtype: t.dtype), b = buffer(bHost, dtype: t.dtype), c = buffer(cHost, dtype: t.dtype)
        testBackend.gemm(m: t.m, n: t.n, k: t.k, alpha: t.alpha,
                         a: MatrixOperand(a, offset: t.offA, ld: lda, transposed: t.transA),
                         b: MatrixOperand(b, offset: t.offB, ld: ldb, transposed: t.transB),
                         beta: t.beta, c: MatrixOperand(c, offset: t.offC, ld: ldc))
        let got = try downloadDoubles(c)
        let tol = t.dtype == .float64 ? 1e-13 : 1e-5
        // Cells outside the block: bit-for-bit untouched (NaN only ever sits
        // inside the block).
        for idx in 0..<got.count where scale[idx] == 0 && !expected[idx].isNaN {
            let i = (idx - t.offC) / ldc, j = (idx - t.offC) % ldc
            let inside = idx >= t.offC && i < t.m && j < t.n
            if !inside && got[idx] != expected[idx] {
                XCTFail("\(t): C[\(idx)] outside the block changed from \(expected[idx]) to \(got[idx])", file: file, line: line)
                return
            }
        }
        // Give exact-zero scales (k == 0 or alpha == 0 cases) a floor so the
        // comparison stays meaningful.
        assertCloseScaled(got, expected, scale: scale.map { Swift.max($0, 1e-6) }, tol: tol, "\(t)", file: file, line: line)
    }

    static let shapes: [(Int, Int, Int)] = [(1, 1, 1), (7, 13, 5), (31, 17, 61), (1, 257, 3), (13, 1, 29), (5, 7, 1), (64, 64, 64)]

    /// On a CPU with AVX2 or AVX-512, the CPU backend's products never run
    /// OpenBLAS's pre-AVX kernels, even where OpenBLAS does not know the
    /// CPU's model (Debian 12's 0.3.21 takes an Emerald Rapids Xeon for a
    /// Prescott and runs sgemm at a sixth of the speed).
    func testOpenBLASRunsKernelsForThisCPU() throws {
        guard ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] == nil, CPUBackend.vectorLevel != "baseline" else {
            throw XCTSkip("OPENBLAS_CORETYPE set, or a CPU without AVX2")
        }
        _ = CPUBackend()
        let preAVX: Set<String> = ["prescott", "core2", "penryn", "dunnington", "nehalem", "atom"]
        XCTAssertFalse(preAVX.contains(OpenBLASCore.name.lowercased()),
                       "OpenBLAS runs \(OpenBLASCore.name) kernels on a \(CPUBackend.vectorLevel) CPU")
        if let correction = OpenBLASCore.correction { print("note: \(correction)") }
    }

    func testAllTransposeCombinations() throws {
        for (m, n, k) in Self.shapes {
            for transA in [false, true] {
                for transB in [false, true] {
                    try check(Case(m: m, n: n, k: k, transA: transA, transB: transB))
                }
            }
        }
    }

    func testAlphaBeta() throws {
        for (alpha, beta) in [(0.5, 0.75), (-1.25, 1.0), (2.0, -0.5), (0.0, 0.5), (1.0, 1.0)] {
            for transA in [false, true] {
                for transB in [false, true] {
                    try check(Case(m: 7, n: 13, k: 5, transA: transA, transB: transB, alpha: alpha, beta: beta))
                    try check(Case(m: 31, n: 17, k: 61, transA: transA, transB: transB, alpha: alpha, beta: beta))
                }
            }
        }
    }

    func testBetaZeroIgnoresNaNInC() throws {
        for transA in [false, true] {
            for transB in [false, true] {
                try check(Case(m: 7, n: 13, k: 5, transA: transA, transB: transB, alpha: 1.5, beta: 0, nanInC: true))
                try check(Case(m: 1, n: 257, k: 3, transA: transA, transB: transB, alpha: -0.5, beta: 0, nanInC: true))
            }
        }
        try check(Case(m: 9, n: 11, k: 4, beta: 0, dtype: .float64, nanInC: true))
        // Direct check as well: every output finite.
        let a = floatBuffer([1, 2, 3, 4]), b = floatBuffer([5, 6, 7, 8])
        let c = floatBuffer([.nan, .nan, .nan, .nan])
        testBackend.gemm(m: 2, n: 2, k: 2, alpha: 1, a: MatrixOperand(a, ld: 2), b: MatrixOperand(b, ld: 2),
                         beta: 0, c: MatrixOperand(c, ld: 2))
        XCTAssertEqual(try download(c, as: Float.self), [19, 22, 43, 50])
    }

    func testOffsetsAndLeadingDimensions() throws {
        for (m, n, k) in [(7, 13, 5), (31, 17, 61), (1, 257, 3), (6, 1, 1)] {
            for transA in [false, true] {
                for transB in [false, true] {
                    try check(Case(m: m, n: n, k: k, transA: transA, transB: transB, alpha: 0.75, beta: 0.5,
                                   offA: 3, offB: 5, offC: 7, padA: 2, padB: 3, padC: 4))
                }
            }
        }
    }

    func testFloat64() throws {
        for (m, n, k) in Self.shapes {
            for transA in [false, true] {
                for transB in [false, true] {
                    try check(Case(m: m, n: n, k: k, transA: transA, transB: transB, alpha: 1.25, beta: -0.5,
                                   offA: 1, offC: 2, padB: 1, dtype: .float64))
                }
            }
        }
    }

    func testLarge() throws {
        try check(Case(m: 300, n: 200, k: 250))
        try check(Case(m: 300, n: 200, k: 250, transA: true, transB: true, alpha: 0.5, beta: 0.25))
    }

    /// Products large enough to be cut into blocks of C, one per thread:
    /// by rows (C at least as tall as wide) and by columns in multiples of
    /// 16 (a recurrent step's 32 x 1024), with widths that leave a partial
    /// last block, offsets, padding, alpha and beta, in both precisions.
    func testProductsSplitOverThreads() throws {
        let shapes = [(32, 1024, 256), (8, 600, 40), (37, 1003, 7), (600, 9, 40), (301, 170, 33)]
        for (m, n, k) in shapes {
            for transA in [false, true] {
                for transB in [false, true] {
                    try check(Case(m: m, n: n, k: k, transA: transA, transB: transB, alpha: 0.75, beta: 0.5,
                                   offA: 3, offB: 5, offC: 7, padA: 2, padB: 3, padC: 4))
                }
            }
        }
        try check(Case(m: 130, n: 70, k: 33, transA: true, alpha: 1.25, beta: -0.5, offC: 2, padB: 1, dtype: .float64))
        try check(Case(m: 9, n: 700, k: 40, transB: true, beta: 0, dtype: .float64, nanInC: true))
    }

    /// A C stride of 0 sums every product of the batch into one C, in
    /// order (each with beta 1 on what the ones before left): the products
    /// must not run side by side on the threads.
    func testBatchedProductsIntoOneOutputAccumulate() throws {
        let (batch, m, n, k) = (8, 96, 96, 96)
        var rng = SplitMix64(seed: 71)
        let aHost = rng.floats(batch * m * k), bHost = rng.floats(batch * k * n), cHost = rng.floats(m * n)
        var expected = cHost
        for i in 0..<batch {
            for row in 0..<m {
                for col in 0..<n {
                    var sum = 0.0
                    for p in 0..<k { sum += aHost[i * m * k + row * k + p] * bHost[i * k * n + p * n + col] }
                    expected[row * n + col] += sum
                }
            }
        }
        let a = buffer(aHost, dtype: .float32), b = buffer(bHost, dtype: .float32)
        let separate = testBackend.makeBuffer(count: batch * m * n, dtype: .float32)
        // Products running side by side would lose updates only when they
        // overlap in time: several tries, each after the same products into
        // separate outputs, so that the pool's workers are awake.
        for trial in 0..<5 {
            testBackend.gemmBatched(batch: batch, m: m, n: n, k: k, alpha: 1, a: MatrixOperand(a, ld: k), strideA: m * k,
                                    b: MatrixOperand(b, ld: n), strideB: k * n, beta: 0, c: MatrixOperand(separate, ld: n),
                                    strideC: m * n)
            let c = buffer(cHost, dtype: .float32)
            testBackend.gemmBatched(batch: batch, m: m, n: n, k: k, alpha: 1, a: MatrixOperand(a, ld: k), strideA: m * k,
                                    b: MatrixOperand(b, ld: n), strideB: k * n, beta: 1, c: MatrixOperand(c, ld: n), strideC: 0)
            assertCloseScaled(try downloadDoubles(c), expected, scale: expected.map { Swift.max(Swift.abs($0), 1) }, tol: 1e-4,
                              "batched into one C, try \(trial)")
        }
    }

    func testSmallHandWorkedProduct() throws {
        // [[1, 2, 3], [4, 5, 6]] x [[7, 8], [9, 10], [11, 12]] = [[58, 64], [139, 154]]
        let a = floatBuffer([1, 2, 3, 4, 5, 6]), b = floatBuffer([7, 8, 9, 10, 11, 12])
        let c = floatBuffer([0, 0, 0, 0])
        testBackend.gemm(m: 2, n: 2, k: 3, alpha: 1, a: MatrixOperand(a, ld: 3), b: MatrixOperand(b, ld: 2),
                         beta: 0, c: MatrixOperand(c, ld: 2))
        XCTAssertEqual(try download(c, as: Float.self), [58, 64, 139, 154])
    }

    // MARK: Batched

    func checkBatched(batch: Int, m: Int, n: Int, k: Int, transA: Bool, transB: Bool, alpha: Double, beta: Double,
                      shareA: Bool, shareB: Bool, dtype: DType = .float32,
                      file: StaticString = #filePath, line: UInt = #line) throws {
        var rng = SplitMix64(seed: UInt64(batch * 7 + m * 131 + n * 17 + k))
        let aRows = transA ? k : m, aCols = transA ? m : k
        let bRows = transB ? n : k, bCols = transB ? k : n
        let lda = aCols + 1, ldb = bCols, ldc = n + 2
        let offA = 2, offB = 1, offC = 3
        // Strides with gaps between matrices; 0 shares one matrix.
        let strideA = shareA ? 0 : aRows * lda + 5
        let strideB = shareB ? 0 : bRows * ldb + 3
        let strideC = m * ldc + 4
        let aHost = rng.floats(offA + (batch - 1) * strideA + aRows * lda)
        let bHost = rng.floats(offB + (batch - 1) * strideB + bRows * ldb)
        let cHost = rng.floats(offC + (batch - 1) * strideC + m * ldc + 4)
        var expected = cHost
        var scale = [Double](repeating: 1e-6, count: cHost.count)
        for q in 0..<batch {
            let ao = offA + q * strideA, bo = offB + q * strideB, co = offC + q * strideC
            for i in 0..<m {
                for j in 0..<n {
                    var sum = 0.0, mag = 0.0
                    for p in 0..<k {
                        let av = transA ? aHost[ao + p * lda + i] : aHost[ao + i * lda + p]
                        let bv = transB ? bHost[bo + j * ldb + p] : bHost[bo + p * ldb + j]
                        sum += av * bv
                        mag += Swift.abs(av * bv)
                    }
                    expected[co + i * ldc + j] = alpha * sum + beta * cHost[co + i * ldc + j]
                    scale[co + i * ldc + j] = Swift.abs(alpha) * mag + Swift.abs(beta * cHost[co + i * ldc + j]) + 1e-6
                }
            }
        }
        let a = buffer(aHost, dtype: dtype), b = buffer(bHost, dtype: dtype), c = buffer(cHost, dtype: dtype)
        testBackend.gemmBatched(batch: batch, m: m, n: n, k: k, alpha: alpha,
                                a: MatrixOperand(a, offset: offA, ld: lda, transposed: transA), strideA: strideA,
                                b: MatrixOperand(b, offset: offB, ld: ldb, transposed: transB), strideB: strideB,
                                beta: beta, c: MatrixOperand(c, offset: offC, ld: ldc), strideC: strideC)
        assertCloseScaled(try downloadDoubles(c), expected, scale: scale, tol: dtype == .float64 ? 1e-13 : 1e-5,
                          "batched \(batch)x\(m)x\(n)x\(k) tA \(transA) tB \(transB) shareA \(shareA) shareB \(shareB)",
                          file: file, line: line)
    }

    func testBatched() throws {
        for transA in [false, true] {
            for transB in [false, true] {
                try checkBatched(batch: 3, m: 7, n: 13, k: 5, transA: transA, transB: transB, alpha: 1, beta: 0,
                                 shareA: false, shareB: false)
                try checkBatched(batch: 4, m: 5, n: 3, k: 11, transA: transA, transB: transB, alpha: 0.5, beta: 0.25,
                                 shareA: true, shareB: false)
                try checkBatched(batch: 2, m: 1, n: 17, k: 1, transA: transA, transB: transB, alpha: -1, beta: 1,
                                 shareA: false, shareB: true)
            }
        }
        try checkBatched(batch: 5, m: 6, n: 4, k: 7, transA: false, transB: true, alpha: 1, beta: 0.5,
                         shareA: true, shareB: false, dtype: .float64)
        try checkBatched(batch: 1, m: 31, n: 17, k: 61, transA: true, transB: false, alpha: 1, beta: 0,
                         shareA: false, shareB: false)
        // Several products spread over the threads whole, small and large.
        try checkBatched(batch: 64, m: 7, n: 13, k: 5, transA: false, transB: true, alpha: 1, beta: 0.5,
                         shareA: false, shareB: true)
        try checkBatched(batch: 3, m: 40, n: 60, k: 70, transA: true, transB: false, alpha: 0.5, beta: 1,
                         shareA: false, shareB: false)
    }
}
