import Foundation
@testable import NN
@testable import NNOpenCL
import XCTest

/// The per-device GEMM tuner: it picks a runnable winner per shape class,
/// skips and names candidates that cannot run, keeps its result in an
/// atomically written cache keyed by device, and ignores a cache it cannot
/// trust. (Not in Parity/: the simulator check does not time candidates.)
final class GEMMTuningTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("nn-tuning-\(UUID().uuidString)")
        setenv("NN_TUNE_CACHE", directory.path, 1)
    }

    override func tearDownWithError() throws {
        unsetenv("NN_TUNE_CACHE")
        try? FileManager.default.removeItem(at: directory)
    }

    /// Two fast candidates keep the search short on PoCL.
    private let candidates: [GEMMConfig] = [.vector(rows: 4, width: 16, kSlice: 256), .vector(rows: 8, width: 16, kSlice: 256)]

    private func backend() throws -> OpenCLBackend {
        guard let shared = try ParityDevices.all().first else { throw XCTSkip("no OpenCL device") }
        return try OpenCLBackend(device: shared.info, cache: false)
    }

    private func cacheFiles() -> [URL] {
        (try? FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)) ?? []
    }

    func testWinnersPerClassAreUsedAndCached() throws {
        let backend = try backend()
        let tuning = try backend.tuneGEMM(mode: .quick, candidates: candidates)
        XCTAssertFalse(tuning.fromCache)
        XCTAssertEqual(Set(tuning.winners.keys), Set(GEMMShapeClass.allCases))
        for (shapeClass, winner) in tuning.winners {
            XCTAssert(candidates.contains(winner), "\(shapeClass): \(winner)")
            let timed = tuning.trials.filter { $0.shapeClass == shapeClass }.compactMap(\.milliseconds)
            XCTAssertEqual(timed.count, candidates.count)
            let best = try XCTUnwrap(tuning.trials.first { $0.shapeClass == shapeClass && $0.config == winner }?.milliseconds)
            XCTAssertEqual(best, timed.min())
        }
        // Products take their class's winner.
        XCTAssertEqual(backend.gemmConfig(m: 500, n: 500, k: 500, dtype: .float32), tuning.winners[.square])
        XCTAssertEqual(backend.gemmConfig(m: 6, n: 3000, k: 25, dtype: .float32), tuning.winners[.fewRows])
        XCTAssertEqual(backend.gemmConfig(m: 6, n: 3000, k: 25, dtype: .float64), GEMMConfig.untuned(for: backend.info))
        backend.gemmOverride = .tiled
        XCTAssertEqual(backend.gemmConfig(m: 500, n: 500, k: 500, dtype: .float32), .tiled)

        // One file, read back by a new backend (a later process) without a search.
        let files = cacheFiles()
        XCTAssertEqual(files.count, 1, "\(files)")
        let again = try self.backend().tuneGEMM(mode: .quick)
        XCTAssert(again.fromCache)
        XCTAssertEqual(again.winners, tuning.winners)
        XCTAssertEqual(again.trials.count, tuning.trials.count)
    }

    func testCorruptOrForeignCacheIsIgnoredAndReplaced() throws {
        let backend = try backend()
        _ = try backend.tuneGEMM(mode: .quick, candidates: candidates)
        let file = try XCTUnwrap(cacheFiles().first)
        for bad in ["{\"key\": \"half a fi", "{\"key\": \"another-device\", \"mode\": \"quick\", \"winners\": {}}", "[1, 2]"] {
            try Data(bad.utf8).write(to: file)
            let tuning = try backend.tuneGEMM(mode: .quick, candidates: candidates)
            XCTAssertFalse(tuning.fromCache, "a bad cache (\(bad)) must not be used")
            let reread = try XCTUnwrap(GEMMTuningCache.fromEnvironment(for: backend.info, mode: .quick)?.load())
            XCTAssertEqual(reread.winners, tuning.winners, "the bad file was replaced by the new result")
        }
        XCTAssertEqual(cacheFiles().map(\.lastPathComponent), [file.lastPathComponent], "no temporary files left behind")
    }

    func testACandidateThatDoesNotBuildIsSkippedAndNamed() throws {
        let backend = try backend()
        let broken = GEMMConfig.vector(rows: 3, width: 16, kSlice: 256)  // gemm.cl: #error ROWS must be 1, 2, 4 or 8
        let tuning = try backend.tuneGEMM(mode: .quick, force: true, candidates: [broken] + candidates)
        for shapeClass in GEMMShapeClass.allCases {
            let trial = try XCTUnwrap(tuning.trials.first { $0.shapeClass == shapeClass && $0.config == broken })
            XCTAssertNil(trial.milliseconds)
            XCTAssert(trial.skipped?.contains("ROWS must be 1, 2, 4 or 8") ?? false, trial.skipped ?? "no reason")
            XCTAssertNotEqual(tuning.winners[shapeClass], broken)
        }
    }

    /// Tuning synchronizes the queue: it must not take an error that the
    /// caller's earlier work left for the caller's next download.
    func testTuningLeavesTheCallersErrorToTheCaller() throws {
        struct Earlier: Error {}
        let backend = try backend()
        backend.record(Earlier())
        let a = backend.makeBuffer([Float](repeating: 1, count: 4)), c = backend.makeBuffer(count: 4, dtype: .float32)
        backend.gemm(m: 2, n: 2, k: 2, alpha: 1, a: MatrixOperand(a, ld: 2), b: MatrixOperand(a, ld: 2), beta: 0,
                     c: MatrixOperand(c, ld: 2))
        XCTAssertThrowsError(try backend.download(c, as: Float.self)) { XCTAssert($0 is Earlier, "\($0)") }
        XCTAssertNil(backend.currentGEMMTuning, "no tuning while an error was pending")
        backend.record(Earlier())
        XCTAssertThrowsError(try backend.tuneGEMM(mode: .quick, force: true, candidates: candidates)) { XCTAssert($0 is Earlier) }
    }

    func testBadTuneModeIsAnError() throws {
        let info = try backend().info
        setenv("NN_TUNE", "fastest", 1)
        defer { unsetenv("NN_TUNE") }
        XCTAssertThrowsError(try OpenCLBackend(device: info, cache: false)) { error in
            XCTAssert("\(error)".contains("NN_TUNE=fastest (use off, quick or full)"), "\(error)")
        }
    }

    func testConfigNotationRoundTrips() {
        for config in GEMMConfig.candidates(mode: .full) {
            XCTAssertEqual(GEMMConfig(parsing: config.description), config)
        }
        XCTAssertNil(GEMMConfig(parsing: "vector 3x16 k256"))
        XCTAssertNil(GEMMConfig(parsing: "vector 8x16"))
        XCTAssertEqual(GEMMShapeClass.of(m: 6, n: 3136, k: 25), .fewRows)
        XCTAssertEqual(GEMMShapeClass.of(m: 2560, n: 64, k: 2560), .fewColumns)
        XCTAssertEqual(GEMMShapeClass.of(m: 64, n: 64, k: 4096), .longK)
        XCTAssertEqual(GEMMShapeClass.of(m: 1024, n: 1024, k: 1024), .square)
    }

    /// A block wider than the product runs the scalar loop in every
    /// work-item; dispatch narrows it to a candidate the parity suite runs.
    func testBlocksNarrowToTheProductsColumns() {
        XCTAssertEqual(GEMMConfig.vector(rows: 4, width: 32, kSlice: 256).fitted(n: 25, mode: .quick),
                       .vector(rows: 4, width: 16, kSlice: 256))
        XCTAssertEqual(GEMMConfig.vector(rows: 8, width: 32, kSlice: 512).fitted(n: 10, mode: .quick),
                       .vector(rows: 8, width: 8, kSlice: 512))
        // No quick 2x8: the fewest rows above 2 at width 8.
        XCTAssertEqual(GEMMConfig.vector(rows: 2, width: 16, kSlice: 128).fitted(n: 12, mode: .quick),
                       .vector(rows: 4, width: 8, kSlice: 128))
        XCTAssertEqual(GEMMConfig.vector(rows: 2, width: 16, kSlice: 128).fitted(n: 12, mode: .full),
                       .vector(rows: 2, width: 8, kSlice: 128))
        // Wide enough, nothing narrow enough, or not a vector block: as is.
        XCTAssertEqual(GEMMConfig.vector(rows: 8, width: 16, kSlice: 256).fitted(n: 200, mode: .quick),
                       .vector(rows: 8, width: 16, kSlice: 256))
        XCTAssertEqual(GEMMConfig.vector(rows: 8, width: 8, kSlice: 256).fitted(n: 6, mode: .quick),
                       .vector(rows: 8, width: 8, kSlice: 256))
        XCTAssertEqual(GEMMConfig.tiled.fitted(n: 3, mode: .quick), .tiled)
        for config in GEMMConfig.candidates(mode: .quick) {
            for n in [1, 5, 8, 25, 150] {
                XCTAssert(GEMMConfig.candidates(mode: .quick).contains(config.fitted(n: n, mode: .quick)), "\(config) n=\(n)")
            }
        }
    }
}
