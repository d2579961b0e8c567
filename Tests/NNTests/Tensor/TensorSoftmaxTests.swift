import Foundation
import XCTest
@testable import NN

/// softmax, logSoftmax and the fused softmax cross-entropy: forward against
/// Double references (including large logits), and gradient checks.
final class TensorSoftmaxTests: XCTestCase {
    /// softmax (or log-softmax) of `values` along `axis`, in Double.
    private func reference(_ values: [Double], _ shape: [Int], axis: Int, log: Bool) -> [Double] {
        var out = values
        for flat in 0..<values.count {
            var idx = TT.unravel(flat, shape)
            guard idx[axis] == 0 else { continue }
            let positions = (0..<shape[axis]).map { a -> Int in
                idx[axis] = a
                return TT.ravel(idx, shape)
            }
            let m = positions.map { values[$0] }.max()!
            let z = positions.map { Foundation.exp(values[$0] - m) }.reduce(0, +)
            for p in positions {
                out[p] = log ? values[p] - m - Foundation.log(z) : Foundation.exp(values[p] - m) / z
            }
        }
        return out
    }

    func testSoftmaxForwardAllAxes() throws {
        let shape = [3, 4, 5]
        let v = TT.random(60, seed: 401, low: -3, high: 3)
        let x = TT.f64(v, shape)
        for axis in [0, 1, 2, -1] {
            let a = axis < 0 ? axis + 3 : axis
            assertTensorValues(try TT.values(x.softmax(axis: axis)), reference(v, shape, axis: a, log: false),
                               abs: 1e-16, rel: 1e-14, "softmax axis \(axis)")
            assertTensorValues(try TT.values(x.logSoftmax(axis: axis)), reference(v, shape, axis: a, log: true),
                               abs: 1e-15, rel: 1e-14, "logSoftmax axis \(axis)")
        }
        // Rows sum to 1.
        let sums = try TT.values(x.softmax(axis: 1).sum(axis: 1))
        assertTensorValues(sums, [Double](repeating: 1, count: 15), abs: 1e-15, rel: 0)
    }

    func testSoftmaxPrimeAndLargeRowsFloat32() throws {
        for shape in [[7, 13], [1, 31], [13, 1], [3, 1000]] {
            let v = TT.random(TT.count(shape), seed: 402, low: -10, high: 10)
            let out = TT.f32(v, shape).softmax()
            assertTensorValues(try TT.values(out), reference(v, shape, axis: 1, log: false), abs: 1e-8, rel: 2e-6, "\(shape)")
            let lout = TT.f32(v, shape).logSoftmax()
            assertTensorValues(try TT.values(lout), reference(v, shape, axis: 1, log: true), abs: 2e-6, rel: 2e-6, "log \(shape)")
        }
    }

    func testSoftmaxIsStableForLargeLogits() throws {
        let x = TT.f32([1000, 1001, 1002, -1000, 0, 1000], [2, 3])
        let s = try TT.values(x.softmax())
        let e = [Foundation.exp(-2.0), Foundation.exp(-1.0), 1.0]
        let z = e.reduce(0, +)
        assertTensorValues(Array(s[0..<3]), e.map { $0 / z }, abs: 1e-7, rel: 1e-6)
        assertTensorValues(Array(s[3..<6]), [0, 0, 1], abs: 1e-30, rel: 0)
        let l = try TT.values(x.logSoftmax())
        XCTAssertTrue(l.allSatisfy { $0.isFinite }, "\(l)")
        XCTAssertEqual(l[5], 0, accuracy: 1e-6)
        XCTAssertEqual(l[3], -2000, accuracy: 1e-3)
    }

    /// (1 - s) * -log p[label] + s * mean_c(-log p[c]) per row, in Double.
    private func crossEntropy(_ logits: [Double], rows: Int, classes: Int, labels: [Int], smoothing: Double) -> [Double] {
        let logp = reference(logits, [rows, classes], axis: 1, log: true)
        return (0..<rows).map { r in
            let row = Array(logp[(r * classes)..<((r + 1) * classes)])
            return (1 - smoothing) * -row[labels[r]] + smoothing * -row.reduce(0, +) / Double(classes)
        }
    }

    func testSoftmaxCrossEntropyForward() throws {
        let (rows, classes) = (7, 5)
        let v = TT.random(rows * classes, seed: 403, low: -4, high: 4)
        let labels = [0, 4, 2, 2, 1, 3, 4]
        for s in [0, 0.1, 1] {
            let loss = Tensor.softmaxCrossEntropy(logits: TT.f64(v, [rows, classes]), labels: TT.i32(labels), labelSmoothing: s)
            XCTAssertEqual(loss.shape, [rows])
            assertTensorValues(try TT.values(loss), crossEntropy(v, rows: rows, classes: classes, labels: labels, smoothing: s),
                               abs: 1e-14, rel: 1e-13, "smoothing \(s)")
        }
        // Hand value: uniform logits over 4 classes give log 4.
        let uniform = Tensor.softmaxCrossEntropy(logits: TT.f32([0, 0, 0, 0], [1, 4]), labels: TT.i32([2]))
        XCTAssertEqual(try uniform.scalar(), Float(Foundation.log(4.0)), accuracy: 1e-6)
        // Large logits stay finite.
        let big = Tensor.softmaxCrossEntropy(logits: TT.f32([1000, -1000, 0], [1, 3]), labels: TT.i32([1]))
        XCTAssertEqual(try big.scalar(), 2000, accuracy: 1e-2)
    }

    func testSoftmaxGradients() {
        let x = TT.uniform([2, 3, 4], seed: 411, low: -2, high: 2)
        for axis in [-1, 0, 1] {
            assertGradientCheck([x], "softmax axis \(axis)") { $0[0].softmax(axis: axis) }
            assertGradientCheck([x], "logSoftmax axis \(axis)") { $0[0].logSoftmax(axis: axis) }
        }
    }

    func testSoftmaxCrossEntropyGradients() {
        let logits = TT.uniform([4, 5], seed: 412, low: -2, high: 2)
        let labels = TT.i32([3, 0, 4, 1])
        for s in [0, 0.1] {
            assertGradientCheck([logits, labels], "softmaxCrossEntropy smoothing \(s)") {
                Tensor.softmaxCrossEntropy(logits: $0[0], labels: $0[1], labelSmoothing: s)
            }
            assertGradientCheck([logits, labels], "mean softmaxCrossEntropy smoothing \(s)") {
                Tensor.softmaxCrossEntropy(logits: $0[0], labels: $0[1], labelSmoothing: s).mean()
            }
        }
    }

    func testSoftmaxCrossEntropyGradientByHand() throws {
        // d mean(loss) / d logits = (softmax - onehot) / rows.
        let v = [1.0, 2, 0.5, -1, 0, 3]
        let x = TT.f64(v, [2, 3]).requiringGrad()
        Tensor.softmaxCrossEntropy(logits: x, labels: TT.i32([1, 2])).mean().backward()
        let p = reference(v, [2, 3], axis: 1, log: false)
        let onehot: [Double] = [0, 1, 0, 0, 0, 1]
        assertTensorValues(try TT.values(try XCTUnwrap(x.grad)), (0..<6).map { (p[$0] - onehot[$0]) / 2 }, abs: 1e-16, rel: 1e-13)
    }
}
