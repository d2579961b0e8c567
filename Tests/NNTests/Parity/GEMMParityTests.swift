import XCTest
@testable import NN

/// GEMM on every OpenCL device against OpenBLAS, for both kernels (the
/// local-memory tiled one and the vector one) whatever the device type, so
/// PoCL runs the barrier/local-memory path with partially filled tiles too.
final class GEMMParityTests: XCTestCase {
    /// (m, n, k): ones, primes, sizes just off the 64/16/4 tile multiples,
    /// and a large K.
    /// (67, 35, 700) runs the vector kernel's full blocks over several
    /// k-slices.
    static let shapes = [(1, 1, 1), (7, 13, 5), (31, 17, 61), (65, 67, 129), (1, 257, 3), (64, 64, 64),
                         (63, 16, 17), (100, 3, 1500), (3, 5, 4099), (67, 35, 700)]

    private func forEachKernel(_ body: () throws -> Void) throws {
        let backends = try ParityDevices.all()
        let saved = backends.map(\.gemmKernel)
        defer { for (b, k) in zip(backends, saved) { b.gemmKernel = k } }
        for kernel in OpenCLBackend.GEMMKernel.allCases {
            for b in backends { b.gemmKernel = kernel }
            try body()
        }
    }

    func testAllTransposesAndShapes() throws {
        try forEachKernel {
            for (m, n, k) in Self.shapes {
                for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
                    try assertParity("gemm \(m)x\(n)x\(k) ta \(ta) tb \(tb)",
                                     [.random(m * k, seed: 1), .random(k * n, seed: 2), .random(m * n, seed: 3)],
                                     .norm(rel: 1e-5)) { backend, x in
                        backend.gemm(m: m, n: n, k: k, alpha: 0.75, a: MatrixOperand(x[0], ld: ta ? m : k, transposed: ta),
                                     b: MatrixOperand(x[1], ld: tb ? k : n, transposed: tb), beta: 0.5,
                                     c: MatrixOperand(x[2], ld: n))
                        return [x[2]]
                    }
                }
            }
        }
    }

    func testBetaZeroIgnoresNaNInOutput() throws {
        try forEachKernel {
            try assertParity("gemm beta 0", [.random(6 * 9, seed: 4), .random(9 * 70, seed: 5), .float(Array(repeating: .nan, count: 6 * 70))],
                             .norm(rel: 1e-5)) { backend, x in
                backend.gemm(m: 6, n: 70, k: 9, alpha: 1, a: MatrixOperand(x[0], ld: 9), b: MatrixOperand(x[1], ld: 70),
                             beta: 0, c: MatrixOperand(x[2], ld: 70))
                return [x[2]]
            }
        }
    }

    /// Full vector blocks (m >= 8, n >= 16) with NaN in C and beta 0, and
    /// alpha 0 with NaN in A: neither NaN may reach the result, as in BLAS.
    func testZeroScalarsDoNotReadOperands() throws {
        try forEachKernel {
            try assertParity("gemm NaN in C, beta 0", [.random(16 * 40, seed: 12), .random(40 * 32, seed: 13),
                                                        .float(Array(repeating: .nan, count: 16 * 32))], .norm(rel: 1e-5)) { backend, x in
                backend.gemm(m: 16, n: 32, k: 40, alpha: 1, a: MatrixOperand(x[0], ld: 40), b: MatrixOperand(x[1], ld: 32),
                             beta: 0, c: MatrixOperand(x[2], ld: 32))
                return [x[2]]
            }
            try assertParity("gemm NaN in A, alpha 0", [.float(Array(repeating: .nan, count: 16 * 40)), .random(40 * 32, seed: 14),
                                                        .random(16 * 32, seed: 15)], .exact) { backend, x in
                backend.gemm(m: 16, n: 32, k: 40, alpha: 0, a: MatrixOperand(x[0], ld: 40), b: MatrixOperand(x[1], ld: 32),
                             beta: 0.5, c: MatrixOperand(x[2], ld: 32))
                return [x[2]]
            }
        }
    }

    func testOffsetsLeadingDimensionsAndBatches() throws {
        let (batch, m, n, k) = (3, 19, 33, 21)
        try forEachKernel {
            // A transposed with a padded leading dimension, B shared by the
            // whole batch (stride 0), C written at an offset.
            try assertParity("gemmBatched", [.random(5 + batch * k * (m + 2), seed: 6), .random(k * n, seed: 7),
                                             .random(11 + batch * m * n, seed: 8)], .norm(rel: 1e-5)) { backend, x in
                backend.gemmBatched(batch: batch, m: m, n: n, k: k, alpha: -1,
                                    a: MatrixOperand(x[0], offset: 5, ld: m + 2, transposed: true), strideA: k * (m + 2),
                                    b: MatrixOperand(x[1], ld: n), strideB: 0, beta: 1,
                                    c: MatrixOperand(x[2], offset: 11, ld: n), strideC: m * n)
                return [x[2]]
            }
        }
    }

    func testFloat64() throws {
        try forEachKernel {
            for (m, n, k) in [(7, 13, 5), (65, 67, 129)] {
                try assertParity("gemm f64 \(m)x\(n)x\(k)", [.random(m * k, seed: 9, dtype: .float64), .random(k * n, seed: 10, dtype: .float64),
                                                             .random(m * n, seed: 11, dtype: .float64)],
                                 .norm(rel: 1e-12), dtype: .float64) { backend, x in
                    backend.gemm(m: m, n: n, k: k, alpha: 1, a: MatrixOperand(x[0], ld: k), b: MatrixOperand(x[1], ld: k, transposed: true),
                                 beta: 0, c: MatrixOperand(x[2], ld: n))
                    return [x[2]]
                }
            }
        }
    }
}
