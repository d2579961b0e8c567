import XCTest
@testable import NN

final class DropoutTests: XCTestCase {
    /// About p of the elements are zeroed; the rest are x / (1 - p). (The
    /// mask is made in float32 precision on every backend, for bit parity, so
    /// float64 survivors carry 1 / (1 - p) to about 1e-7 relative.)
    func testKeepsExpectedFractionAndScalesSurvivors() throws {
        for p in [0.3, 0.5, 0.8] {
            let n = 100_000
            let drop = Dropout(p: p)
            Random.manualSeed(41)
            let x = TT.f64(TT.random(n, seed: 42, low: 0.5, high: 1.5), [n])
            let xs = try TT.values(x), ys = try TT.values(drop(x))
            var zeros = 0, worst = 0.0
            for (a, b) in zip(xs, ys) {
                if b == 0 {
                    zeros += 1
                } else {
                    worst = Swift.max(worst, Swift.abs(b - a / (1 - p)) / Swift.abs(b))
                }
            }
            XCTAssertLessThan(worst, 2e-7, "survivors scaled by 1 / (1 - p), p \(p)")
            let sigma = (p * (1 - p) / Double(n)).squareRoot()
            XCTAssertEqual(Double(zeros) / Double(n), p, accuracy: 5 * sigma, "fraction dropped for p \(p)")
        }
        XCTAssertEqual(Dropout().p, 0.5, "PyTorch's default")
    }

    func testFloat32ScaleAndMeanPreserved() throws {
        Random.manualSeed(43)
        let y = try TT.values(Dropout(p: 0.25)(Tensor.ones([50_000], on: .cpu)))
        XCTAssertEqual(Set(y), [0, Double(Float(1 / 0.75))])
        XCTAssertEqual(MT.stats(y).mean, 1, accuracy: 0.01)
    }

    func testIdentityAtEvalAndForZeroP() throws {
        let x = TT.f64(TT.random(64, seed: 44), [8, 8])
        let drop = Dropout(p: 0.5)
        drop.eval()
        XCTAssertFalse(drop.isTraining)
        XCTAssertEqual(try TT.values(drop(x)), try TT.values(x))
        drop.train()
        XCTAssertNotEqual(try TT.values(drop(x)), try TT.values(x))
        XCTAssertEqual(try TT.values(Dropout(p: 0)(x)), try TT.values(x))
        XCTAssertEqual(Set(try TT.values(Dropout(p: 1)(x))), [0])
    }

    func testSeededMaskIsReproducible() throws {
        let x = Tensor.ones([1000], on: .cpu)
        Random.manualSeed(45)
        let a = try TT.values(Dropout()(x))
        Random.manualSeed(45)
        let b = try TT.values(Dropout()(x))
        XCTAssertEqual(a, b)
    }

    /// With the mask fixed by reseeding, dropout is linear: its gradient is
    /// the mask scaled by 1 / (1 - p).
    func testGradientCheck() throws {
        let drop = Dropout(p: 0.4)
        let x = TT.f64(TT.random(40, seed: 46), [5, 8])
        assertModuleGradientCheck(drop, input: x, prepare: { Random.manualSeed(47) })
        let leaf = x.requiringGrad()
        Random.manualSeed(47)
        let y = drop(leaf)
        y.sum().backward()
        let g = try TT.values(try XCTUnwrap(leaf.grad)), out = try TT.values(y), xs = try TT.values(x)
        for i in 0..<40 { XCTAssertEqual(g[i], out[i] == 0 ? 0 : 1 / 0.6, accuracy: 2e-7, "element \(i), x \(xs[i])") }
    }
}
