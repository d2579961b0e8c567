import XCTest
@testable import NN

/// Random fills and dropout masks must be bit-identical on every backend.
final class RandomParityTests: XCTestCase {
    func testFillsAreBitIdentical() throws {
        for count in [1, 3, 4, 5, 1001, 100_000] {
            for (seed, stream) in [(UInt64(0), UInt64(0)), (42, 7), (0xDEAD_BEEF_CAFE, 1 << 40)] {
                try assertParity("random n=\(count) seed \(seed) stream \(stream)", [], .exact) { backend, _ in
                    let u = backend.makeBuffer(count: count, dtype: .float32)
                    let n = backend.makeBuffer(count: count, dtype: .float32)
                    let d = backend.makeBuffer(count: count, dtype: .float32)
                    backend.fillUniform(u, count: count, low: -0.3, high: 0.7, seed: seed, stream: stream)
                    backend.fillNormal(n, count: count, mean: 0.1, std: 0.02, seed: seed, stream: stream)
                    backend.fillDropoutMask(d, count: count, p: 0.3, seed: seed, stream: stream)
                    return [u, n, d]
                }
            }
        }
    }

    func testFloat64FillsMatch() throws {
        try assertParity("random f64", [], .exact, dtype: .float64) { backend, _ in
            let u = backend.makeBuffer(count: 999, dtype: .float64), n = backend.makeBuffer(count: 999, dtype: .float64)
            backend.fillUniform(u, count: 999, low: 0, high: 1, seed: 3, stream: 4)
            backend.fillNormal(n, count: 999, mean: 0, std: 1, seed: 3, stream: 4)
            return [u, n]
        }
    }
}
