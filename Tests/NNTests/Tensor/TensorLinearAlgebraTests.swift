import XCTest
@testable import NN

/// matmul: 2-D, batched 3-D and 3-D x 2-D, forward against a Double
/// reference loop, and gradient checks.
final class TensorLinearAlgebraTests: XCTestCase {
    /// C[b] = A[b] B[b] in Double; B shared when bBatch is false. Returns
    /// the products and the sum of |a||b| terms (the round-off scale).
    private func reference(_ a: [Double], _ b: [Double], batch: Int, m: Int, k: Int, n: Int,
                           bBatched: Bool) -> (values: [Double], scale: [Double]) {
        var c = [Double](repeating: 0, count: batch * m * n), s = c
        for p in 0..<batch {
            let bo = bBatched ? p * k * n : 0
            for i in 0..<m {
                for j in 0..<n {
                    var acc = 0.0, mag = 0.0
                    for l in 0..<k {
                        let t = a[p * m * k + i * k + l] * b[bo + l * n + j]
                        acc += t
                        mag += Swift.abs(t)
                    }
                    c[p * m * n + i * n + j] = acc
                    s[p * m * n + i * n + j] = mag
                }
            }
        }
        return (c, s)
    }

    private func assertScaled(_ actual: [Double], _ ref: (values: [Double], scale: [Double]), tol: Double,
                              _ message: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(actual.count, ref.values.count, message, file: file, line: line)
        guard actual.count == ref.values.count else { return }
        for i in 0..<actual.count where !(Swift.abs(actual[i] - ref.values[i]) <= tol * ref.scale[i] + 1e-30) {
            XCTFail("\(message): element \(i) is \(actual[i]), expected \(ref.values[i])", file: file, line: line)
            return
        }
    }

    func testSmallMatmulByHand() throws {
        let a = TT.f32([1, 2, 3, 4], [2, 2]), b = TT.f32([5, 6, 7, 8], [2, 2])
        XCTAssertEqual(try a.matmul(b).toArray(), [19, 22, 43, 50])
        let r = TT.f64([1, 2, 3], [1, 3]).matmul(TT.f64([4, 5, 6], [3, 1]))
        XCTAssertEqual(r.shape, [1, 1])
        XCTAssertEqual(try r.scalarDouble(), 32)
        let outer = TT.f64([1, 2], [2, 1]).matmul(TT.f64([3, 4, 5], [1, 3]))
        XCTAssertEqual(try TT.values(outer), [3, 4, 5, 6, 8, 10])
        let one = TT.f64([3], [1, 1]).matmul(TT.f64([-2], [1, 1]))
        XCTAssertEqual(try one.scalarDouble(), -6)
    }

    func testLargeMatmulFloat32() throws {
        let (m, k, n) = (257, 129, 65)
        let a = TT.random(m * k, seed: 301), b = TT.random(k * n, seed: 302)
        let c = TT.f32(a, [m, k]).matmul(TT.f32(b, [k, n]))
        XCTAssertEqual(c.shape, [m, n])
        assertScaled(try TT.values(c), reference(a, b, batch: 1, m: m, k: k, n: n, bBatched: false), tol: 1e-5, "257x129x65")
    }

    func testPrimeShapesFloat64() throws {
        for (m, k, n) in [(7, 13, 31), (31, 7, 13), (1, 13, 7), (13, 1, 7), (7, 31, 1)] {
            let a = TT.random(m * k, seed: 303), b = TT.random(k * n, seed: 304)
            let c = TT.f64(a, [m, k]).matmul(TT.f64(b, [k, n]))
            XCTAssertEqual(c.shape, [m, n])
            assertScaled(try TT.values(c), reference(a, b, batch: 1, m: m, k: k, n: n, bBatched: false), tol: 1e-14,
                         "\(m)x\(k)x\(n)")
        }
    }

    func testBatchedAndBroadcastMatmul() throws {
        let (batch, m, k, n) = (5, 7, 13, 3)
        let a = TT.random(batch * m * k, seed: 305), b = TT.random(batch * k * n, seed: 306), w = TT.random(k * n, seed: 307)
        let c = TT.f64(a, [batch, m, k]).matmul(TT.f64(b, [batch, k, n]))
        XCTAssertEqual(c.shape, [batch, m, n])
        assertScaled(try TT.values(c), reference(a, b, batch: batch, m: m, k: k, n: n, bBatched: true), tol: 1e-14, "batched")
        let d = TT.f32(a, [batch, m, k]).matmul(TT.f32(w, [k, n]))
        XCTAssertEqual(d.shape, [batch, m, n])
        assertScaled(try TT.values(d), reference(a, w, batch: batch, m: m, k: k, n: n, bBatched: false), tol: 1e-6, "3D x 2D")
    }

    func testMatmulGradients() {
        let a = TT.uniform([3, 4], seed: 311), b = TT.uniform([4, 5], seed: 312)
        assertGradientCheck([a, b], "2D x 2D") { $0[0].matmul($0[1]) }
        let p = TT.uniform([2, 3, 4], seed: 313), q = TT.uniform([2, 4, 2], seed: 314)
        assertGradientCheck([p, q], "batched 3D") { $0[0].matmul($0[1]) }
        let r = TT.uniform([4, 5], seed: 315)
        assertGradientCheck([p, r], "3D x 2D") { $0[0].matmul($0[1]) }
        // Only one side requires a gradient: the constant stays constant.
        assertGradientCheck([a], "2D x constant") { $0[0].matmul(TT.f64([1, 2, 3, 4, 5, 6, 7, 8], [4, 2])) }
        // x used on both sides.
        let s = TT.uniform([3, 3], seed: 316)
        assertGradientCheck([s], "x x") { $0[0].matmul($0[0]) }
    }

    /// linear(weight:bias:) = x W^T + b with W in PyTorch's [out, in] layout.
    func testLinearMatchesReferenceAndGradients() throws {
        let x = TT.uniform([5, 7], seed: 321), w = TT.uniform([3, 7], seed: 322), b = TT.uniform([3], seed: 323)
        let (xv, wv, bv) = (try x.toArray(as: Double.self), try w.toArray(as: Double.self), try b.toArray(as: Double.self))
        let y = try x.linear(weight: w, bias: b).toArray(as: Double.self)
        XCTAssertEqual(y.count, 15)
        for i in 0..<5 {
            for j in 0..<3 {
                let expected = (0..<7).reduce(bv[j]) { $0 + xv[i * 7 + $1] * wv[j * 7 + $1] }
                XCTAssertEqual(y[i * 3 + j], expected, accuracy: 1e-12, "y[\(i), \(j)]")
            }
        }
        assertGradientCheck([x, w, b], "linear with bias") { $0[0].linear(weight: $0[1], bias: $0[2]) }
        assertGradientCheck([x, w], "linear without bias") { $0[0].linear(weight: $0[1]) }
    }
}
