import XCTest
@testable import NN

final class SoftmaxParityTests: XCTestCase {
    func testSoftmaxFamily() throws {
        for view in [AxisView(outer: 1, axis: 1, inner: 1), AxisView(outer: 13, axis: 10, inner: 1),
                     AxisView(outer: 3, axis: 7, inner: 5), AxisView(outer: 2, axis: 1000, inner: 1)] {
            for log in [false, true] {
                try assertParity("softmax log \(log) \(view)", [.random(view.count, seed: 1, low: -20, high: 20), .random(view.count, seed: 2)],
                                 .elementwise(rel: 1e-5, abs: 1e-6)) { backend, x in
                    let y = backend.makeBuffer(count: view.count, dtype: .float32)
                    let gx = backend.makeBuffer(count: view.count, dtype: .float32)
                    backend.softmax(x[0], out: y, view: view, log: log)
                    backend.softmaxBackward(y: y, gradOut: x[1], gradX: gx, view: view, log: log)
                    return [y, gx]
                }
            }
        }
    }

    func testSoftmaxCrossEntropy() throws {
        for (rows, classes) in [(1, 1), (1, 2), (37, 10), (64, 1000)] {
            for smoothing in [0.0, 0.1] {
                try assertParity("cross-entropy \(rows)x\(classes) s \(smoothing)",
                                 [.random(rows * classes, seed: 3, low: -10, high: 10), .labels(rows, classes: classes, seed: 1),
                                  .random(rows, seed: 4)], .elementwise(rel: 1e-5, abs: 1e-6)) { backend, x in
                    let losses = backend.makeBuffer(count: rows, dtype: .float32)
                    let probs = backend.makeBuffer(count: rows * classes, dtype: .float32)
                    let grad = backend.makeBuffer(count: rows * classes, dtype: .float32)
                    backend.softmaxCrossEntropy(logits: x[0], labels: x[1], losses: losses, probs: probs, rows: rows,
                                                classes: classes, labelSmoothing: smoothing)
                    backend.softmaxCrossEntropyBackward(probs: probs, labels: x[1], gradLosses: x[2], gradLogits: grad,
                                                        rows: rows, classes: classes, labelSmoothing: smoothing)
                    return [losses, probs, grad]
                }
            }
        }
    }
}
