import XCTest
@testable import NN

/// Module behaviour seen through the layers: state-dict loading, train/eval
/// propagation and device moves.
final class ModuleTests: XCTestCase {
    private func mlp(seed: UInt64, device: Device = .cpu) -> Sequential {
        Random.manualSeed(seed)
        return Sequential(Linear(4, 3, device: device), ReLU(), Linear(3, 2, device: device))
    }

    private func snapshot(_ m: Module) throws -> [[Double]] { try m.stateDict().map { try TT.values($0.tensor) } }

    func testLoadStateDictReportsEveryMismatchAndChangesNothing() throws {
        let model = mlp(seed: 1)
        let before = try snapshot(model)
        let parameters = model.namedState().map { ObjectIdentifier($0.parameter) }
        let state: [String: Tensor] = [
            "0.weight": Tensor.zeros([4, 3], on: .cpu),                // transposed shape
            "0.bias": Tensor.zeros([3], dtype: .float64, on: .cpu),    // another dtype: converted, as PyTorch's copy
            "2.weight": Tensor.ones([2, 3], on: .cpu),                 // fine
            // "2.bias" missing
            "3.weight": Tensor.zeros([1], on: .cpu),                   // unexpected
        ]
        XCTAssertThrowsError(try model.loadStateDict(state)) { error in
            guard let error = error as? StateDictError else { return XCTFail("\(error)") }
            XCTAssertEqual(error.problems.count, 3, "\(error)")
            XCTAssertTrue(error.problems.contains { $0.contains("0.weight") && $0.contains("[4, 3]") }, "\(error)")
            XCTAssertFalse(error.problems.contains { $0.contains("0.bias") }, "\(error)")
            XCTAssertTrue(error.problems.contains { $0.contains("missing") && $0.contains("2.bias") }, "\(error)")
            XCTAssertTrue(error.problems.contains { $0.contains("unexpected") && $0.contains("3.weight") }, "\(error)")
        }
        XCTAssertEqual(try snapshot(model), before, "a failed load changes nothing (2.weight was valid)")
        XCTAssertEqual(model.namedState().map { ObjectIdentifier($0.parameter) }, parameters)
    }

    func testLoadStateDictCopiesValuesIntoTheSameParameters() throws {
        let source = mlp(seed: 2), target = mlp(seed: 3)
        let x = TT.f32(TT.random(8, seed: 4), [2, 4])
        XCTAssertNotEqual(try TT.values(source(x)), try TT.values(target(x)))
        let parameters = target.parameters().map(ObjectIdentifier.init)
        try target.loadStateDict(Dictionary(uniqueKeysWithValues: source.stateDict().map { ($0.name, $0.tensor) }))
        XCTAssertEqual(try TT.values(source(x)), try TT.values(target(x)))
        XCTAssertEqual(target.parameters().map(ObjectIdentifier.init), parameters, "optimizers keep holding the live parameters")
        XCTAssertTrue(target.parameters().allSatisfy { $0.value.requiresGrad && $0.value.isLeaf })
        // A later update to the source does not reach the target.
        Init.zeros((source[0] as! Linear).weight)
        XCTAssertNotEqual(try TT.values(source(x)), try TT.values(target(x)))
    }

    func testTrainEvalPropagatesToEveryDescendant() {
        let inner = Sequential(Linear(3, 3, device: .cpu), Dropout(), BatchNorm1d(3, device: .cpu))
        let model = Sequential(Linear(4, 3, device: .cpu), Residual(inner), Maxout(3, 2, pieces: 2, device: .cpu))
        func all(_ m: Module) -> [Module] { [m] + m.children.flatMap { all($0.module) } }
        XCTAssertEqual(all(model).count, 9, "Sequential, Linear, Residual, Sequential, Linear, Dropout, BatchNorm1d, Maxout, its Linear")
        XCTAssertTrue(all(model).allSatisfy(\.isTraining), "modules start in training mode")
        model.eval()
        XCTAssertTrue(all(model).allSatisfy { !$0.isTraining })
        model.train()
        XCTAssertTrue(all(model).allSatisfy(\.isTraining))
        model.train(false)
        XCTAssertTrue(all(model).allSatisfy { !$0.isTraining })
        // Behaviour follows: the nested dropout is the identity in eval.
        let x = TT.f32(TT.random(12, seed: 5), [4, 3])
        XCTAssertEqual(try TT.values(inner[1](x)), try TT.values(x))
        // A module appended to a parent in eval mode takes the parent's mode.
        let late = Dropout()
        (model[1] as! Residual).body.eval()
        inner.append(late)
        XCTAssertFalse(late.isTraining)
    }

    /// Moving to another device keeps every Parameter object (optimizers and
    /// checkpoints hold them) and its values.
    func testToDeviceKeepsParameterIdentity() throws {
        for backend in try ParityDevices.all() {
            let device = Device(backend)
            let model = Sequential(mlp(seed: 6), BatchNorm1d(2, device: .cpu))
            let ids = model.namedState().map { ObjectIdentifier($0.parameter) }
            let values = try snapshot(model)
            let x = TT.f32(TT.random(12, seed: 7), [3, 4])
            model.eval()
            let yCPU = try TT.values(model(x))
            try model.to(device)
            XCTAssertEqual(model.namedState().map { ObjectIdentifier($0.parameter) }, ids)
            XCTAssertTrue(model.namedState().allSatisfy { $0.parameter.device == device })
            XCTAssertEqual(try snapshot(model), values)
            XCTAssertTrue(model.parameters().allSatisfy { $0.value.requiresGrad && $0.value.isLeaf })
            assertTensorValues(try TT.values(model(try x.to(device))), yCPU, abs: 1e-6, rel: 1e-5)
            // Training on the device updates the running statistics there.
            model.train()
            _ = model(try x.to(device))
            XCTAssertEqual(try TT.values((model[1] as! BatchNorm1d).numBatchesTracked!.value), [1])
            try model.to(.cpu)
            XCTAssertEqual(model.namedState().map { ObjectIdentifier($0.parameter) }, ids)
        }
    }
}
