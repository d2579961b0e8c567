import Foundation
import XCTest
import NN

final class SoftmaxTests: XCTestCase {
    /// Softmax (or log-softmax) along the middle axis of `view`, in float64
    /// with the row max subtracted.
    static func reference(_ x: [Double], _ view: AxisView, log: Bool) -> [Double] {
        var out = [Double](repeating: 0, count: x.count)
        for o in 0..<view.outer {
            for i in 0..<view.inner {
                let idx = (0..<view.axis).map { (o * view.axis + $0) * view.inner + i }
                let m = idx.map { x[$0] }.max()!
                let sum = idx.reduce(0.0) { $0 + Foundation.exp(x[$1] - m) }
                for j in idx { out[j] = log ? x[j] - m - Foundation.log(sum) : Foundation.exp(x[j] - m) / sum }
            }
        }
        return out
    }

    /// Inputs with one row of huge logits (1000) and one of hugely negative
    /// ones, which overflow exp without the max subtraction.
    static func logits(_ view: AxisView, seed: UInt64) -> [Double] {
        var rng = SplitMix64(seed: seed)
        var x = rng.floats(view.count, -3, 3)
        for a in 0..<view.axis {
            x[a * view.inner] = 1000 + Double(a)                                 // (o 0, i 0)
            x[(view.axis + a) * view.inner + view.inner - 1] = -1000 - 2 * Double(a)  // (o 1, i last)
        }
        return x
    }

    static let views: [(String, AxisView)] = [
        ("middle axis of [2, 5, 3]", AxisView(shape: [2, 5, 3], axis: 1)),
        ("last axis of [4, 7]", AxisView(shape: [4, 7], axis: 1)),
        ("last axis of [3, 1]", AxisView(shape: [3, 1], axis: 1)),
        ("first axis of [6, 4]", AxisView(shape: [6, 4], axis: 0)),
    ]

    func testSoftmaxAndLogSoftmax() throws {
        for dtype in [DType.float32, .float64] {
            for (name, view) in Self.views {
                let x = view.outer >= 2 ? Self.logits(view, seed: 1) : SplitMix64(seed: 2).floatsCopy(view.count)
                for log in [false, true] {
                    let out = testBackend.makeBuffer(count: view.count, dtype: dtype)
                    testBackend.softmax(buffer(x, dtype: dtype), out: out, view: view, log: log)
                    let got = try downloadDoubles(out)
                    XCTAssertTrue(got.allSatisfy { $0.isFinite }, "\(name) log \(log): non-finite output")
                    assertClose(got, Self.reference(x, view, log: log), relTol: dtype == .float32 ? 1e-5 : 1e-12,
                                absTol: dtype == .float32 ? 1e-6 : 1e-14, "\(name) log \(log) \(dtype)")
                }
            }
        }
    }

    func testSoftmaxHandWorked() throws {
        // softmax([1000, 1000]) = [0.5, 0.5]; log-softmax = log(0.5).
        let out = testBackend.makeBuffer(count: 2, dtype: .float32)
        testBackend.softmax(floatBuffer([1000, 1000]), out: out, view: AxisView(outer: 1, axis: 2, inner: 1), log: false)
        XCTAssertEqual(try download(out, as: Float.self), [0.5, 0.5])
        testBackend.softmax(floatBuffer([1000, 1000]), out: out, view: AxisView(outer: 1, axis: 2, inner: 1), log: true)
        assertClose(try download(out, as: Float.self), [-0.6931471805599453, -0.6931471805599453], relTol: 1e-6, absTol: 0)
    }

    func testSoftmaxBackward() throws {
        for dtype in [DType.float32, .float64] {
            for (name, view) in Self.views {
                var rng = SplitMix64(seed: 23)
                let x = rng.floats(view.count, -2, 2)
                let g = rng.floats(view.count, -1, 1)
                for log in [false, true] {
                    let y = rounded(Self.reference(x, view, log: log), to: dtype)
                    var expected = [Double](repeating: 0, count: view.count)
                    for o in 0..<view.outer {
                        for i in 0..<view.inner {
                            let idx = (0..<view.axis).map { (o * view.axis + $0) * view.inner + i }
                            if log {
                                let sumG = idx.reduce(0.0) { $0 + g[$1] }
                                for j in idx { expected[j] = g[j] - Foundation.exp(y[j]) * sumG }
                            } else {
                                let dot = idx.reduce(0.0) { $0 + g[$1] * y[$1] }
                                for j in idx { expected[j] = y[j] * (g[j] - dot) }
                            }
                        }
                    }
                    let gradX = testBackend.makeBuffer(count: view.count, dtype: dtype)
                    testBackend.softmaxBackward(y: buffer(y, dtype: dtype), gradOut: buffer(g, dtype: dtype), gradX: gradX,
                                                view: view, log: log)
                    assertClose(try downloadDoubles(gradX), expected, relTol: dtype == .float32 ? 1e-5 : 1e-12,
                                absTol: dtype == .float32 ? 1e-6 : 1e-14, "backward \(name) log \(log) \(dtype)")
                }
            }
        }
    }

    // MARK: - Cross-entropy

    static let rows = 5, classes = 7

    static func crossEntropyInputs() -> (logits: [Double], labels: [Int32]) {
        var rng = SplitMix64(seed: 29)
        var logits = rng.floats(rows * classes, -4, 4)
        for c in 0..<classes { logits[2 * classes + c] = 1000 - Double(c) }  // row 2: huge logits
        logits[4 * classes + 3] = 60  // row 4: very confident
        let labels: [Int32] = [0, 6, 3, 2, 3]
        return (logits, labels)
    }

    static func crossEntropyReference(_ logits: [Double], _ labels: [Int32], smoothing s: Double)
        -> (losses: [Double], probs: [Double])
    {
        var losses = [Double](), probs = [Double]()
        for r in 0..<rows {
            let row = Array(logits[r * classes ..< (r + 1) * classes])
            let m = row.max()!
            let lse = m + Foundation.log(row.reduce(0.0) { $0 + Foundation.exp($1 - m) })
            let nll = row.map { lse - $0 }  // -log p
            losses.append((1 - s) * nll[Int(labels[r])] + s * nll.reduce(0, +) / Double(classes))
            probs += row.map { Foundation.exp($0 - lse) }
        }
        return (losses, probs)
    }

    func testSoftmaxCrossEntropyForward() throws {
        let (logits, labels) = Self.crossEntropyInputs()
        for dtype in [DType.float32, .float64] {
            for s in [0.0, 0.1] {
                let expected = Self.crossEntropyReference(logits, labels, smoothing: s)
                let losses = testBackend.makeBuffer(count: Self.rows, dtype: dtype)
                let probs = testBackend.makeBuffer(count: Self.rows * Self.classes, dtype: dtype)
                testBackend.softmaxCrossEntropy(logits: buffer(logits, dtype: dtype), labels: makeBuffer(labels),
                                                losses: losses, probs: probs, rows: Self.rows, classes: Self.classes,
                                                labelSmoothing: s)
                let tol = dtype == .float32 ? (1e-5, 1e-5) : (1e-12, 1e-12)
                assertClose(try downloadDoubles(losses), expected.losses, relTol: tol.0, absTol: tol.1,
                            "losses smoothing \(s) \(dtype)")
                assertClose(try downloadDoubles(probs), expected.probs, relTol: tol.0, absTol: tol.1 / 10,
                            "probs smoothing \(s) \(dtype)")
            }
        }
    }

    func testSoftmaxCrossEntropyHandWorked() throws {
        // Uniform logits over 4 classes: loss = log 4 whatever the smoothing.
        let losses = testBackend.makeBuffer(count: 1, dtype: .float32)
        let probs = testBackend.makeBuffer(count: 4, dtype: .float32)
        testBackend.softmaxCrossEntropy(logits: floatBuffer([2, 2, 2, 2]), labels: makeBuffer([Int32(1)]), losses: losses,
                                        probs: probs, rows: 1, classes: 4, labelSmoothing: 0.3)
        assertClose(try download(losses, as: Float.self), [Foundation.log(4)], relTol: 1e-6, absTol: 0)
        XCTAssertEqual(try download(probs, as: Float.self), [0.25, 0.25, 0.25, 0.25])
        // Huge equal logits: loss = log 2 to float32 precision (the row max
        // must be subtracted before the log-sum is added back).
        let losses2 = testBackend.makeBuffer(count: 1, dtype: .float32)
        testBackend.softmaxCrossEntropy(logits: floatBuffer([1000, 1000]), labels: makeBuffer([Int32(0)]), losses: losses2,
                                        probs: testBackend.makeBuffer(count: 2, dtype: .float32), rows: 1, classes: 2,
                                        labelSmoothing: 0)
        assertClose(try download(losses2, as: Float.self), [Foundation.log(2)], relTol: 1e-6, absTol: 0)
    }

    func testSoftmaxCrossEntropyBackward() throws {
        let (logits, labels) = Self.crossEntropyInputs()
        var rng = SplitMix64(seed: 31)
        let gradLosses = rng.floats(Self.rows, 0.1, 2)
        for dtype in [DType.float32, .float64] {
            for s in [0.0, 0.1] {
                let probs = rounded(Self.crossEntropyReference(logits, labels, smoothing: s).probs, to: dtype)
                var expected = [Double]()
                for r in 0..<Self.rows {
                    for c in 0..<Self.classes {
                        let target = (c == Int(labels[r]) ? 1 - s : 0) + s / Double(Self.classes)
                        expected.append(gradLosses[r] * (probs[r * Self.classes + c] - target))
                    }
                }
                let grad = testBackend.makeBuffer(count: Self.rows * Self.classes, dtype: dtype)
                testBackend.softmaxCrossEntropyBackward(probs: buffer(probs, dtype: dtype), labels: makeBuffer(labels),
                                                        gradLosses: buffer(gradLosses, dtype: dtype), gradLogits: grad,
                                                        rows: Self.rows, classes: Self.classes, labelSmoothing: s)
                assertClose(try downloadDoubles(grad), expected, relTol: dtype == .float32 ? 1e-5 : 1e-12,
                            absTol: dtype == .float32 ? 1e-6 : 1e-14, "backward smoothing \(s) \(dtype)")
            }
        }
    }
}

extension SplitMix64 {
    /// Helper for expressions that need a fresh generator inline.
    func floatsCopy(_ count: Int) -> [Double] {
        var copy = self
        return copy.floats(count, -3, 3)
    }
}
