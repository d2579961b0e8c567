@testable import NN
import NNBenchKit
@testable import NNOpenCL
import XCTest

/// GEMM on every OpenCL device against OpenBLAS, with every GEMM kernel
/// (the local-memory tiled one and the vector one) whatever the device type,
/// so PoCL runs the barrier/local-memory path with partially filled tiles too.
final class GEMMParityTests: XCTestCase {
    /// All four transposes at ones, primes, sizes off the tile multiples and
    /// a large K; batched with offsets and a shared B; float64.
    func testCatalogShapes() throws {
        try assertParity(CheckCatalog.gemm(ParityDevices.scale))
    }

    func testBetaZeroIgnoresNaNInOutput() throws {
        try assertParity("gemm beta 0", [.random(6 * 9, seed: 4), .random(9 * 70, seed: 5), .float(Array(repeating: .nan, count: 6 * 70))],
                         .norm(rel: 1e-5), usesGEMM: true) { backend, x in
            backend.gemm(m: 6, n: 70, k: 9, alpha: 1, a: MatrixOperand(x[0], ld: 9), b: MatrixOperand(x[1], ld: 70),
                         beta: 0, c: MatrixOperand(x[2], ld: 70))
            return [x[2]]
        }
    }

    /// Full vector blocks (m >= 8, n >= 16) with NaN in C and beta 0, and
    /// alpha 0 with NaN in A: neither NaN may reach the result, as in BLAS.
    func testZeroScalarsDoNotReadOperands() throws {
        try assertParity("gemm NaN in C, beta 0", [.random(16 * 40, seed: 12), .random(40 * 32, seed: 13),
                                                    .float(Array(repeating: .nan, count: 16 * 32))], .norm(rel: 1e-5),
                         usesGEMM: true) { backend, x in
            backend.gemm(m: 16, n: 32, k: 40, alpha: 1, a: MatrixOperand(x[0], ld: 40), b: MatrixOperand(x[1], ld: 32),
                         beta: 0, c: MatrixOperand(x[2], ld: 32))
            return [x[2]]
        }
        try assertParity("gemm NaN in A, alpha 0", [.float(Array(repeating: .nan, count: 16 * 40)), .random(40 * 32, seed: 14),
                                                    .random(16 * 32, seed: 15)], .exact, usesGEMM: true) { backend, x in
            backend.gemm(m: 16, n: 32, k: 40, alpha: 0, a: MatrixOperand(x[0], ld: 40), b: MatrixOperand(x[1], ld: 32),
                         beta: 0.5, c: MatrixOperand(x[2], ld: 32))
            return [x[2]]
        }
    }

    /// Every config the tuner can pick really runs: a case that uses GEMM
    /// runs once per kernel program (both kernels, every vector block), and
    /// the device's own choice is restored afterwards.
    func testEveryCandidateIsRun() throws {
        for backend in try ParityDevices.all() {
            var seen: [GEMMConfig] = []
            let probe = CheckCase("gemm probe", "", [], .exact, usesGEMM: true) { b, _ in
                if let cl = b as? OpenCLBackend, let config = cl.gemmOverride { seen.append(config) }
                return []
            }
            let variants = BackendCheck.gemmVariants(backend).compactMap { $0 }
            XCTAssertEqual(BackendCheck.run(probe, on: backend).count, variants.count)
            XCTAssertEqual(seen, variants)
            XCTAssertNil(backend.gemmOverride)
            let candidates = GEMMConfig.candidates(mode: backend.tuneMode == .full ? .full : .quick)
            XCTAssertEqual(Set(variants.map(\.defines)), Set(candidates.map(\.defines)), "one variant per program")
            XCTAssert(variants.contains(.tiled) && variants.contains { $0.kernel == .vector })
        }
    }
}
