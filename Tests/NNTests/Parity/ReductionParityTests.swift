import XCTest
@testable import NN

/// Reductions, including rows that leave work-groups partially filled
/// (lengths 1, 3, 127..129, and long rows), which run the local-memory tree.
final class ReductionParityTests: XCTestCase {
    static let views = [AxisView(outer: 1, axis: 1, inner: 1), AxisView(outer: 5, axis: 3, inner: 1),
                        AxisView(outer: 3, axis: 127, inner: 1), AxisView(outer: 2, axis: 128, inner: 1),
                        AxisView(outer: 7, axis: 129, inner: 1), AxisView(outer: 1, axis: 100_003, inner: 1),
                        AxisView(outer: 4, axis: 5, inner: 6), AxisView(outer: 1, axis: 300, inner: 65)]

    func testReduceOps() throws {
        for op in ReduceOp.allCases {
            for view in Self.views {
                try assertParity("reduce \(op) \(view)", [.random(view.count, seed: UInt64(view.axis))],
                                 .elementwise(rel: 1e-5, abs: 1e-5)) { backend, x in
                    let out = backend.makeBuffer(count: view.outer * view.inner, dtype: .float32)
                    backend.reduce(op, x[0], out: out, view: view)
                    return [out]
                }
            }
        }
    }

    func testArgmaxGatherScatter() throws {
        for view in Self.views {
            let n = 3
            try assertParity("argmax/gather/scatter \(view)", [.random(view.count, seed: 5),
                                                               .labels(view.outer * n * view.inner, classes: view.axis, seed: 3),
                                                               .random(view.outer * n * view.inner, seed: 6),
                                                               .random(view.count, seed: 7)], .elementwise(rel: 1e-6, abs: 1e-6)) { backend, x in
                let indices = backend.makeBuffer(count: view.outer * view.inner, dtype: .int32)
                backend.argmax(x[0], indices: indices, view: view)
                let gathered = backend.makeBuffer(count: view.outer * n * view.inner, dtype: .float32)
                backend.gather(x[0], indices: x[1], out: gathered, view: view, indexCount: n)
                backend.scatterAdd(x[2], indices: x[1], out: x[3], view: view, indexCount: n)
                return [indices, gathered, x[3]]
            }
        }
    }
}
