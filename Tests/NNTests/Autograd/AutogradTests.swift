import XCTest
@testable import NN

/// Define-by-run autograd semantics: accumulation, zeroGrad, shared
/// subexpressions, no-grad scopes, detaching, explicit seeds, deep graphs.
final class AutogradTests: XCTestCase {
    private func grad(_ t: Tensor, file: StaticString = #filePath, line: UInt = #line) throws -> [Double] {
        try TT.values(try XCTUnwrap(t.grad, "no gradient", file: file, line: line))
    }

    func testLeafFlagsAndGradBeforeBackward() {
        let x = TT.f64([1, 2], [2])
        XCTAssertFalse(x.requiresGrad)
        XCTAssertTrue(x.isLeaf)
        let y = x.requiringGrad()
        XCTAssertTrue(y.requiresGrad)
        XCTAssertTrue(y.isLeaf)
        XCTAssertNil(y.grad)
        let z = y * 2
        XCTAssertTrue(z.requiresGrad)
        XCTAssertFalse(z.isLeaf)
        var w = TT.f64([3], [1])
        w.requiresGrad = true
        XCTAssertTrue(w.requiresGrad)
        w.requiresGrad = false
        XCTAssertFalse(w.requiresGrad)
    }

    func testGradientsAccumulateAcrossBackwardCalls() throws {
        let x = TT.f64([1, -2, 3], [3]).requiringGrad()
        (x * x).sum().backward()
        XCTAssertEqual(try grad(x), [2, -4, 6])
        (x * 3).sum().backward()
        XCTAssertEqual(try grad(x), [5, -1, 9])
    }

    /// PyTorch's retain_graph: a second pass through the same graph needs
    /// the first to keep it, and then adds the gradients again. (Without it
    /// the second pass stops with a message: ReleaseMessageTests.)
    func testRetainGraphAllowsASecondPass() throws {
        let x = TT.f64([1, -2, 3], [3]).requiringGrad()
        let h = x * x
        let loss = h.sum()
        loss.backward(retainGraph: true)
        loss.backward(retainGraph: true)
        XCTAssertEqual(try grad(x), [4, -8, 12])
        // The graph stays usable: another loss through the retained h.
        (h * 2).sum().backward()
        XCTAssertEqual(try grad(x), [8, -16, 24])
    }

    func testZeroGradClears() throws {
        let x = TT.f64([1, -2, 3], [3]).requiringGrad()
        (x * x).sum().backward()
        x.zeroGrad()
        XCTAssertNil(x.grad)
        (x * 3).sum().backward()
        XCTAssertEqual(try grad(x), [3, 3, 3])
    }

    func testTensorUsedTwiceGetsBothPaths() throws {
        let v = [0.5, -1.5, 2.25, 4]
        let x = TT.f64(v, [2, 2]).requiringGrad()
        (x * x).sum().backward()
        XCTAssertEqual(try grad(x), v.map { 2 * $0 })
        // Three paths through a diamond: y = x + 2x, z = y * x  =>  dz/dx = 6x.
        let a = TT.f64(v, [2, 2]).requiringGrad()
        let y = a + a * 2
        (y * a).sum().backward()
        XCTAssertEqual(try grad(a), v.map { 6 * $0 })
    }

    func testWithNoGradRecordsNothing() throws {
        let x = TT.f64([1, 2], [2]).requiringGrad()
        XCTAssertTrue(GradMode.enabled)
        let y = withNoGrad { () -> Tensor in
            XCTAssertFalse(GradMode.enabled)
            return (x * x).exp().sum()
        }
        XCTAssertTrue(GradMode.enabled)
        XCTAssertFalse(y.requiresGrad)
        XCTAssertEqual(try y.scalarDouble(), Foundation.exp(1) + Foundation.exp(4), accuracy: 1e-12)
        // Recording resumes afterwards.
        XCTAssertTrue((x * x).requiresGrad)
        // withNoGrad returns the body's value and rethrows.
        struct Boom: Error {}
        XCTAssertThrowsError(try withNoGrad { throw Boom() })
    }

    func testDetachedStopsTheGradient() throws {
        let x = TT.f64([1, 2, 3], [3]).requiringGrad()
        let d = x.detached()
        XCTAssertFalse(d.requiresGrad)
        XCTAssertTrue(d.buffer === x.buffer, "detached shares the data")
        // y = x * stopgrad(x): dy/dx = stopgrad(x) = x, not 2x.
        (x * x.detached()).sum().backward()
        XCTAssertEqual(try grad(x), [1, 2, 3])
    }

    func testInputsWithoutRequiresGradGetNoGrad() throws {
        let x = TT.f64([1, 2], [2]).requiringGrad()
        let c = TT.f64([5, 7], [2])
        (x * c + c.exp()).sum().backward()
        XCTAssertEqual(try grad(x), [5, 7])
        XCTAssertNil(c.grad)
        XCTAssertFalse(c.requiresGrad)
    }

    func testBackwardWithExplicitGradient() throws {
        let x = TT.f64([1, 2, 3, 4, 5, 6], [2, 3]).requiringGrad()
        let y = x * x
        y.backward(TT.f64([1, 0, -1, 0.5, 2, 3], [2, 3]))
        XCTAssertEqual(try grad(x), [2, 0, -6, 4, 20, 36])
        // On a one-element output the implicit seed is 1; an explicit one scales.
        let s = TT.f64([3], []).requiringGrad()
        (s * s).backward(TT.f64([10], []))
        XCTAssertEqual(try grad(s), [60])
    }

    func testBackwardOnALeafAndThroughViews() throws {
        let x = TT.f64([1, 2, 3, 4], [2, 2]).requiringGrad()
        x.reshaped([4]).backward(TT.f64([1, 2, 3, 4], [4]))
        XCTAssertEqual(try grad(x), [1, 2, 3, 4])
        XCTAssertEqual(try XCTUnwrap(x.grad).shape, [2, 2])
    }

    func testGradSetterAndShape() throws {
        let x = TT.f64([1, 2], [2]).requiringGrad()
        x.grad = TT.f64([0.5, 0.25], [2])
        XCTAssertEqual(try grad(x), [0.5, 0.25])
        (x * 2).sum().backward()
        XCTAssertEqual(try grad(x), [2.5, 2.25])
    }

    func testDeepChainBackpropagates() throws {
        var y = TT.f64([0.5, -1], [2]).requiringGrad()
        let x = y
        for _ in 0..<5000 { y = y + 1 }
        XCTAssertEqual(try TT.values(y), [5000.5, 4999])
        (y * y).sum().backward()
        XCTAssertEqual(try grad(x), [2 * 5000.5, 2 * 4999])
    }

    /// BUG (Sources/NNTensor/Autograd.swift:6, class GradNode): backward is
    /// iterative, but releasing the graph is not: each GradNode frees its
    /// parents (and the tensors its backward closure captured) from inside
    /// its own deinit, so dropping a chain of ~40k nodes overflows the 8 MB
    /// main-thread stack (SIGSEGV in swift_release_dealloc; far fewer nodes
    /// on a 512 KB secondary thread). Recurrent graphs are this deep. This
    /// test crashes the test process until GradNode releases its ancestors
    /// iteratively.
    func testVeryDeepGraphIsReleasedWithoutStackOverflow() throws {
        let x = TT.f64([0.5], [1]).requiringGrad()
        do {
            var y = x
            for _ in 0..<100_000 { y = y + 1 }
            y.backward()
        }  // the graph is released here
        XCTAssertEqual(try grad(x), [1])
    }

    func testDeepChainOfBinaryOpsBackpropagates() throws {
        // A recurrent-style chain: h = h * w + x, 3000 steps, w shared.
        let w = TT.f64([0.999], [1]).requiringGrad()
        var h = TT.f64([1], [1])
        let one = TT.f64([0.001], [1])
        for _ in 0..<3000 { h = h * w + one }
        h.sum().backward()
        // h_n = w^n + 0.001 * sum_{k<n} w^k; dh/dw by the same recurrence in Double.
        var hv = 1.0, dv = 0.0
        for _ in 0..<3000 {
            dv = dv * 0.999 + hv
            hv = hv * 0.999 + 0.001
        }
        XCTAssertEqual(try h.scalarDouble(), hv, accuracy: 1e-12)
        XCTAssertEqual(try grad(w)[0], dv, accuracy: 1e-9 * Swift.abs(dv))
    }

    func testGradientFlowsOnlyToWhatTheOutputDependsOn() throws {
        let a = TT.f64([1, 2], [2]).requiringGrad(), b = TT.f64([3, 4], [2]).requiringGrad()
        _ = b * 2  // recorded but not part of the loss
        (a * 3).sum().backward()
        XCTAssertEqual(try grad(a), [3, 3])
        XCTAssertNil(b.grad)
    }

    func testFloat32GraphAndGradDType() throws {
        let x = Tensor([1, 2, 3], shape: [3], on: .cpu).requiringGrad()
        (x.square() * 0.5).sum().backward()
        let g = try XCTUnwrap(x.grad)
        XCTAssertEqual(g.dtype, .float32)
        XCTAssertEqual(try g.toArray(), [1, 2, 3])
    }
}
