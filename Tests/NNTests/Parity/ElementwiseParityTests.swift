import NNBenchKit
import XCTest
@testable import NN

/// Every elementwise op, forward and backward, on inputs where each op is
/// defined; OpenCL's transcendental functions may differ from glibc's by a
/// few ulps, hence 1e-5 relative.
final class ElementwiseParityTests: XCTestCase {
    /// Every unary op (at 1, 7, 1000 and 65,537 elements, and in float64)
    /// and every binary op under broadcasting, forward and backward.
    func testCatalogOps() throws {
        try assertParity(CheckCatalog.unary(ParityDevices.scale) + CheckCatalog.binary(ParityDevices.scale))
    }

    /// Every op function and broadcast pattern of the generated fused-chain
    /// kernels, forward and backward.
    func testCatalogFusedChains() throws {
        try assertParity(CheckCatalog.fused(ParityDevices.scale))
    }

    /// Ops that round nothing must agree bit for bit, on the inputs where
    /// their rules matter: zeros (relu/abs/sign derivatives), clamp bounds,
    /// and ties (maximum/minimum split the gradient).
    func testExactOpsOnZerosBoundsAndTies() throws {
        let grid: [Float] = [-2, -1, -0.5, 0, 0.5, 1, 2, 0, -0.5, 0.5]
        let gradient: [Float] = [1, -2, 0.5, 3, -1, 0.25, 2, -4, 1.5, -0.75]
        for op in [UnaryOp.negate, .abs, .relu, .sign, .clamp(min: -0.5, max: 0.5), .addScalar(0.5), .multiplyScalar(2),
                   .leakyReLU(slope: 0.25), .square] {
            try assertParity("exact \(op)", [.float(grid), .float(gradient)], .exact) { backend, x in
                let y = backend.makeBuffer(count: grid.count, dtype: .float32), gx = backend.makeBuffer(count: grid.count, dtype: .float32)
                backend.unary(op, x[0], out: y, count: grid.count)
                backend.unaryBackward(op, x: x[0], y: y, gradOut: x[1], gradX: gx, count: grid.count)
                return [y, gx]
            }
        }
        let other: [Float] = [-2, 1, -0.5, 0, 1, 1, -2, 0, 0.5, 0.5]  // ties at 0, 2, 3, 5, 7, 9
        let layout = BroadcastLayout([grid.count], [grid.count])!
        for op in [BinaryOp.add, .subtract, .multiply, .maximum, .minimum] {
            try assertParity("exact \(op)", [.float(grid), .float(other), .float(gradient)], .exact) { backend, x in
                let out = backend.makeBuffer(count: grid.count, dtype: .float32)
                let ga = backend.makeBuffer(count: grid.count, dtype: .float32), gb = backend.makeBuffer(count: grid.count, dtype: .float32)
                backend.binary(op, x[0], x[1], out: out, layout: layout)
                backend.binaryBackward(op, x[0], x[1], gradOut: x[2], gradA: ga, gradB: gb, layout: layout)
                return [out, ga, gb]
            }
        }
    }
}
