import XCTest
@testable import NN

final class ContainersTests: XCTestCase {
    func testSequentialStateDictNamesAndShapes() {
        let model = Sequential(Linear(4, 3, device: .cpu), ReLU(), Linear(3, 2, device: .cpu))
        XCTAssertEqual(model.stateDict().map(\.name), ["0.weight", "0.bias", "2.weight", "2.bias"])
        XCTAssertEqual(model.stateDict().map(\.tensor.shape), [[3, 4], [3], [2, 3], [2]])
        XCTAssertEqual(model.children.map(\.name), ["0", "1", "2"])
        XCTAssertEqual(model.count, 3)
        XCTAssertTrue(model[1] is ReLU)
        XCTAssertEqual(model.parameterCount, 12 + 3 + 6 + 2)

        let fromArray = Sequential([Linear(2, 2, device: .cpu), Sequential(Tanh(), Linear(2, 5, bias: false, device: .cpu))])
        fromArray.append(BatchNorm1d(5, device: .cpu))
        XCTAssertEqual(fromArray.stateDict().map(\.name),
                       ["0.weight", "0.bias", "1.1.weight",
                        "2.weight", "2.bias", "2.running_mean", "2.running_var", "2.num_batches_tracked"])
    }

    func testSequentialForwardIsTheComposition() throws {
        Random.manualSeed(71)
        let l1 = Linear(4, 3, dtype: .float64, device: .cpu), l2 = Linear(3, 2, dtype: .float64, device: .cpu)
        let model = Sequential(l1, Tanh(), l2)
        let x = TT.random(20, seed: 72)
        let h = MT.affine(x, rows: 5, inner: 4, try MT.values(l1.weight), out: 3, try MT.values(l1.bias!)).map(Foundation.tanh)
        let expected = MT.affine(h, rows: 5, inner: 3, try MT.values(l2.weight), out: 2, try MT.values(l2.bias!))
        assertTensorValues(try TT.values(model(TT.f64(x, [5, 4]))), expected, abs: 1e-14, rel: 1e-13)
        XCTAssertEqual(try TT.values(Sequential()(TT.f64(x, [5, 4]))), x, "an empty Sequential is the identity")
        assertModuleGradientCheck(model, input: TT.f64(x, [5, 4]))
    }

    func testResidual() throws {
        Random.manualSeed(73)
        let body = Linear(3, 3, dtype: .float64, device: .cpu)
        let block = Residual(body)
        XCTAssertEqual(block.stateDict().map(\.name), ["body.weight", "body.bias"])
        let x = TT.random(6, seed: 74)
        let fx = MT.affine(x, rows: 2, inner: 3, try MT.values(body.weight), out: 3, try MT.values(body.bias!))
        assertTensorValues(try TT.values(block(TT.f64(x, [2, 3]))), zip(x, fx).map(+), abs: 1e-15, rel: 1e-13)
        assertModuleGradientCheck(block, input: TT.f64(x, [2, 3]))

        let projected = Residual(Sequential(Linear(3, 4, dtype: .float64, device: .cpu), Tanh()),
                                 shortcut: Linear(3, 4, bias: false, dtype: .float64, device: .cpu))
        XCTAssertEqual(projected.stateDict().map(\.name), ["body.0.weight", "body.0.bias", "shortcut.weight"])
        XCTAssertEqual(projected(TT.f64(x, [2, 3])).shape, [2, 4])
        assertModuleGradientCheck(projected, input: TT.f64(x, [2, 3]), "with a projection shortcut")
    }

    func testFlattenAndIdentity() throws {
        let x = TT.f64(TT.random(120, seed: 75), [2, 3, 4, 5])
        XCTAssertEqual(Flatten()(x).shape, [2, 60])
        XCTAssertEqual(Flatten(startDim: 0, endDim: 1)(x).shape, [6, 4, 5])
        XCTAssertEqual(Flatten(startDim: 2)(x).shape, [2, 3, 20])
        XCTAssertEqual(Flatten(startDim: 1, endDim: -2)(x).shape, [2, 12, 5])
        XCTAssertEqual(try TT.values(Flatten()(x)), try TT.values(x), "row-major order kept")
        XCTAssertEqual(Flatten().startDim, 1)
        XCTAssertEqual(Flatten().endDim, -1)
        XCTAssertEqual(try TT.values(Identity()(x)), try TT.values(x))
        XCTAssertEqual(Identity()(x).shape, [2, 3, 4, 5])
        assertModuleGradientCheck(Flatten(), input: TT.f64(TT.random(12, seed: 76), [2, 3, 2]))
        assertModuleGradientCheck(Identity(), input: TT.f64(TT.random(4, seed: 77), [4]))
    }
}
