import XCTest
@testable import NN

/// reshape, flatten, (un)squeeze, permute/transpose, slice, concatenate,
/// broadcast and dtype conversion: forward layouts against index arithmetic
/// in the test, and gradient checks.
final class TensorShapeTests: XCTestCase {
    private func iota(_ shape: [Int]) -> [Double] { (0..<TT.count(shape)).map(Double.init) }

    // MARK: - Forward

    func testReshapeSharesValuesAndInfersMinusOne() throws {
        let x = TT.f64(iota([7, 13]), [7, 13])
        let r = x.reshaped([13, -1])
        XCTAssertEqual(r.shape, [13, 7])
        XCTAssertEqual(try TT.values(r), iota([91]))
        XCTAssertEqual(x.reshaped([-1]).shape, [91])
        XCTAssertEqual(x.reshaped([1, 91, 1]).shape, [1, 91, 1])
        XCTAssertEqual(TT.f64([5], [1]).reshaped([]).shape, [])
        XCTAssertEqual(TT.f64([5], []).reshaped([1, 1]).shape, [1, 1])
        XCTAssertTrue(r.buffer === x.buffer, "reshape is a view")
    }

    func testFlattenSqueezeUnsqueeze() throws {
        let x = TT.f64(iota([2, 3, 5, 7]), [2, 3, 5, 7])
        XCTAssertEqual(x.flattened().shape, [210])
        XCTAssertEqual(x.flattened(startAxis: 1).shape, [2, 105])
        XCTAssertEqual(x.flattened(startAxis: 1, endAxis: 2).shape, [2, 15, 7])
        XCTAssertEqual(x.flattened(startAxis: -2).shape, [2, 3, 35])
        XCTAssertEqual(TT.f64([4], []).flattened().shape, [1])
        XCTAssertEqual(try TT.values(x.flattened(startAxis: 1, endAxis: 2)), iota([210]))

        let v = TT.f64(iota([3, 4]), [3, 4])
        XCTAssertEqual(v.unsqueezed(axis: 0).shape, [1, 3, 4])
        XCTAssertEqual(v.unsqueezed(axis: 1).shape, [3, 1, 4])
        XCTAssertEqual(v.unsqueezed(axis: 2).shape, [3, 4, 1])
        XCTAssertEqual(v.unsqueezed(axis: -1).shape, [3, 4, 1], "axis -1 appends, as PyTorch")
        XCTAssertEqual(v.unsqueezed(axis: -3).shape, [1, 3, 4])
        let w = TT.f64(iota([1, 3, 1, 4]), [1, 3, 1, 4])
        XCTAssertEqual(w.squeezed().shape, [3, 4])
        XCTAssertEqual(w.squeezed(axis: 0).shape, [3, 1, 4])
        XCTAssertEqual(w.squeezed(axis: -2).shape, [1, 3, 4])
        XCTAssertEqual(TT.f64([1], [1, 1]).squeezed().shape, [])
        XCTAssertEqual(try TT.values(w.squeezed()), iota([12]))
    }

    /// out[idx] = x[idx permuted back], checked against strides in the test.
    private func referencePermute(_ values: [Double], _ shape: [Int], _ perm: [Int]) -> [Double] {
        let outShape = perm.map { shape[$0] }
        return (0..<values.count).map { flat in
            let o = TT.unravel(flat, outShape)
            var src = [Int](repeating: 0, count: shape.count)
            for (i, p) in perm.enumerated() { src[p] = o[i] }
            return values[TT.ravel(src, shape)]
        }
    }

    func testPermuteAndTransposeForward() throws {
        let shape = [7, 13, 3]
        let v = iota(shape), x = TT.f64(v, shape)
        for perm in [[0, 1, 2], [2, 0, 1], [1, 2, 0], [2, 1, 0], [0, 2, 1], [1, 0, 2]] {
            let p = x.permuted(perm)
            XCTAssertEqual(p.shape, perm.map { shape[$0] }, "\(perm)")
            XCTAssertEqual(try TT.values(p), referencePermute(v, shape, perm), "\(perm)")
        }
        XCTAssertEqual(try TT.values(x.permuted([-1, 0, 1])), referencePermute(v, shape, [2, 0, 1]))
        XCTAssertEqual(try TT.values(x.transposed()), referencePermute(v, shape, [0, 2, 1]))
        XCTAssertEqual(try TT.values(x.transposed(0, 2)), referencePermute(v, shape, [2, 1, 0]))
        let m = TT.f64([1, 2, 3, 4, 5, 6], [2, 3])
        XCTAssertEqual(m.T.shape, [3, 2])
        XCTAssertEqual(try TT.values(m.T), [1, 4, 2, 5, 3, 6])
        // Large float32 transpose.
        let big = TT.random(257 * 129, seed: 5)
        let bt = TT.f32(big, [257, 129]).T
        XCTAssertEqual(bt.shape, [129, 257])
        XCTAssertEqual(try TT.values(bt), referencePermute(big, [257, 129], [1, 0]))
    }

    func testSliceForward() throws {
        let shape = [5, 7, 3]
        let v = iota(shape), x = TT.f64(v, shape)
        for (axis, range) in [(0, 1..<4), (1, 2..<7), (2, 1..<2), (-1, 0..<3), (1, 0..<1)] {
            let a = axis < 0 ? axis + 3 : axis
            let s = x.slice(axis: axis, range)
            var outShape = shape
            outShape[a] = range.count
            XCTAssertEqual(s.shape, outShape)
            let expected = (0..<TT.count(outShape)).map { flat -> Double in
                var idx = TT.unravel(flat, outShape)
                idx[a] += range.lowerBound
                return v[TT.ravel(idx, shape)]
            }
            XCTAssertEqual(try TT.values(s), expected, "axis \(axis) \(range)")
        }
    }

    func testConcatenateForward() throws {
        let a = TT.f64([1, 2, 3, 4], [2, 2]), b = TT.f64([5, 6], [1, 2]), c = TT.f64([7, 8, 9, 10, 11, 12], [3, 2])
        let r0 = Tensor.concatenate([a, b, c], axis: 0)
        XCTAssertEqual(r0.shape, [6, 2])
        XCTAssertEqual(try TT.values(r0), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12])
        let d = TT.f64([1, 2, 3, 4], [2, 2]), e = TT.f64([5, 6], [2, 1]), f = TT.f64([7, 8, 9, 10, 11, 12], [2, 3])
        let r1 = Tensor.concatenate([d, e, f], axis: 1)
        XCTAssertEqual(r1.shape, [2, 6])
        XCTAssertEqual(try TT.values(r1), [1, 2, 5, 7, 8, 9, 3, 4, 6, 10, 11, 12])
        let r2 = Tensor.concatenate([d, e, f], axis: -1)
        XCTAssertEqual(try TT.values(r2), try TT.values(r1))
        XCTAssertEqual(try TT.values(Tensor.concatenate([a], axis: 0)), [1, 2, 3, 4])
    }

    func testBroadcastToForward() throws {
        for (from, to) in [([3], [2, 3]), ([2, 1], [2, 4]), ([1, 3], [4, 2, 3]), ([], [2, 2]), ([7, 1, 13], [7, 5, 13])] {
            let v = iota(from).map { $0 + 1 }
            let out = TT.f64(v, from).broadcast(to: to)
            XCTAssertEqual(out.shape, to)
            let expected = (0..<TT.count(to)).map { TT.broadcastRead(v, from, TT.unravel($0, to)) }
            XCTAssertEqual(try TT.values(out), expected, "\(from) -> \(to)")
        }
    }

    func testDTypeConversion() throws {
        let v = [0.1, -2.5, 3.75, 1e10]
        let x = TT.f64(v, [4])
        let f = x.to(dtype: .float32)
        XCTAssertEqual(f.dtype, .float32)
        XCTAssertEqual(try f.toArray(as: Float.self), v.map { Float($0) })
        let back = f.to(dtype: .float64)
        XCTAssertEqual(try back.toArray(as: Double.self), v.map { Double(Float($0)) })
        let i = TT.f64([1, -2, 7, 0], [4]).to(dtype: .int32)
        XCTAssertEqual(try i.toArray(as: Int32.self), [1, -2, 7, 0])
        XCTAssertEqual(try i.to(dtype: .float32).toArray(), [1, -2, 7, 0])
        XCTAssertEqual(try x.to(.cpu).toArray(as: Double.self), v)
    }

    // MARK: - Gradients

    func testReshapeFamilyGradients() {
        let x = TT.uniform([2, 3, 4], seed: 101)
        assertGradientCheck([x], "reshaped") { $0[0].reshaped([4, -1]).square() }
        assertGradientCheck([x], "flattened") { $0[0].flattened(startAxis: 1).sin() }
        assertGradientCheck([x], "unsqueezed") { $0[0].unsqueezed(axis: 1) * TT.f64([1, 2], [2, 1, 1, 1]) }
        let y = TT.uniform([2, 1, 4, 1], seed: 102)
        assertGradientCheck([y], "squeezed") { $0[0].squeezed() * TT.f64([1, 2, 3, 4], [4]) }
        assertGradientCheck([y], "squeezed axis") { $0[0].squeezed(axis: 1).exp() }
    }

    func testPermuteTransposeGradients() {
        let x = TT.uniform([2, 3, 4], seed: 111)
        for perm in [[2, 0, 1], [1, 2, 0], [2, 1, 0], [0, 2, 1]] {
            assertGradientCheck([x], "permuted \(perm)") { $0[0].permuted(perm).cumulativeWeights() }
        }
        assertGradientCheck([x], "transposed") { $0[0].transposed().cumulativeWeights() }
        assertGradientCheck([x], "transposed 0 1") { $0[0].transposed(0, 1).cumulativeWeights() }
        let m = TT.uniform([3, 5], seed: 112)
        assertGradientCheck([m], "T") { $0[0].T.cumulativeWeights() }
    }

    func testSliceGradient() {
        let x = TT.uniform([3, 4, 2], seed: 121)
        assertGradientCheck([x], "slice axis 1") { $0[0].slice(axis: 1, 1..<3).square() }
        assertGradientCheck([x], "slice axis 0") { $0[0].slice(axis: 0, 2..<3).exp() }
        assertGradientCheck([x], "slice axis -1") { $0[0].slice(axis: -1, 0..<1) }
    }

    func testConcatenateGradient() {
        let a = TT.uniform([2, 3], seed: 131), b = TT.uniform([1, 3], seed: 132), c = TT.uniform([3, 3], seed: 133)
        assertGradientCheck([a, b, c], "concatenate axis 0") { Tensor.concatenate($0, axis: 0).square() }
        let d = TT.uniform([2, 2], seed: 134), e = TT.uniform([2, 1], seed: 135), f = TT.uniform([2, 3], seed: 136)
        assertGradientCheck([d, e, f], "concatenate axis 1") { Tensor.concatenate($0, axis: 1).sin() }
        // The same tensor twice: both slices' gradients add up.
        assertGradientCheck([d], "concatenate self") { Tensor.concatenate([$0[0], $0[0].square()], axis: 1) }
    }

    func testBroadcastToGradient() {
        for (from, to) in [([3], [2, 3]), ([2, 1], [2, 4]), ([1, 3], [4, 2, 3]), ([], [2, 2])] {
            let x = TT.uniform(from, seed: 141)
            assertGradientCheck([x], "broadcast \(from) -> \(to)") { $0[0].broadcast(to: to).square() }
        }
    }

    func testDTypeConversionGradient() throws {
        // Through float32 the central difference is limited by float32
        // rounding, so a larger step and tolerance (the function is linear).
        let x = TT.uniform([2, 3], seed: 151)
        assertGradientCheck([x], epsilon: 1e-3, tolerance: 1e-3, "to(dtype:)") { xs in
            (xs[0].to(dtype: .float32) * 3).to(dtype: .float64)
        }
        // Exact check of the backward: the gradient comes back as float64.
        let leaf = TT.f64([1, 2, 3], [3]).requiringGrad()
        let y = leaf.to(dtype: .float32)
        XCTAssertTrue(y.requiresGrad)
        y.backward(TT.f32([0.5, -1, 2], [3]))
        let g = try XCTUnwrap(leaf.grad)
        XCTAssertEqual(g.dtype, .float64)
        XCTAssertEqual(try TT.values(g), [0.5, -1, 2])
        // No gradient through int32.
        XCTAssertFalse(leaf.to(dtype: .int32).requiresGrad)
    }
}

extension Tensor {
    /// sum over elements weighted by their flat position (so a layout error
    /// shows in the gradient), as a [count] * [count] product.
    fileprivate func cumulativeWeights() -> Tensor {
        let w = (0..<count).map { 1 + Double($0) * 0.5 }
        return reshaped([count]) * Tensor(float64: w, shape: [count], on: .cpu)
    }
}
