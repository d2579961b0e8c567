import XCTest
@testable import NN

/// The hand-built XOR network of the course notes: h = relu(X W + c),
/// y = h w + b reproduces XOR exactly.
final class XORNetworkTests: XCTestCase {
    func testXORNetworkIsExact() throws {
        let X = Tensor([0, 0, 0, 1, 1, 0, 1, 1], shape: [4, 2], on: .cpu)
        let W = Tensor([1, 1, 1, 1], shape: [2, 2], on: .cpu)
        let c = Tensor([0, -1], shape: [2], on: .cpu)
        let w = Tensor([1, -2], shape: [2, 1], on: .cpu)
        let b = Tensor([0], shape: [1], on: .cpu)
        let h = (X.matmul(W) + c).relu()
        XCTAssertEqual(try h.toArray(), [0, 0, 1, 0, 1, 0, 2, 1])
        let y = h.matmul(w) + b
        XCTAssertEqual(y.shape, [4, 1])
        XCTAssertEqual(y.dtype, .float32)
        XCTAssertEqual(try y.toArray(), [0, 1, 1, 0] as [Float])
    }

    func testXORNetworkGradientsByHand() throws {
        // Backprop through the same network with MSE against XOR targets is
        // zero at the exact solution; against all-zero targets it is
        // dL/dy = 2 y / 4, checked for w: dL/dw = h^T dL/dy.
        let X = Tensor([0, 0, 0, 1, 1, 0, 1, 1], shape: [4, 2], on: .cpu)
        let W = Tensor([1, 1, 1, 1], shape: [2, 2], on: .cpu).requiringGrad()
        let c = Tensor([0, -1], shape: [2], on: .cpu).requiringGrad()
        let w = Tensor([1, -2], shape: [2, 1], on: .cpu).requiringGrad()
        let y = (X.matmul(W) + c).relu().matmul(w)
        y.square().mean().backward()
        // h = [[0,0],[1,0],[1,0],[2,1]], y = [0,1,1,0] => dL/dy = [0, .5, .5, 0]
        XCTAssertEqual(try XCTUnwrap(w.grad).toArray(), [1, 0])
        // dL/dh = dL/dy w^T = [[0,0],[.5,-1],[.5,-1],[0,0]]; relu passes where pre-activation > 0
        // (rows 1, 2 unit 0 only; unit 1 pre-activation is 0 there) => dL/dc = [1, 0].
        XCTAssertEqual(try XCTUnwrap(c.grad).toArray(), [1, 0])
        // dL/dW = X^T dL/dpre with dL/dpre = [[0,0],[.5,0],[.5,0],[0,0]] => [[.5,0],[.5,0]].
        XCTAssertEqual(try XCTUnwrap(W.grad).toArray(), [0.5, 0, 0.5, 0])
    }
}
