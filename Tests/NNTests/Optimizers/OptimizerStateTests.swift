import Foundation
import XCTest
@testable import NN

/// Optimizer state dicts (issue 10, resumable training): PyTorch's names,
/// a state loaded into a fresh optimizer continues bit for bit, and state
/// that does not fit is refused whole.
final class OptimizerStateTests: XCTestCase {
    /// Two parameters of different shapes and a loss whose gradient changes
    /// each step, so that every state tensor matters.
    private func makeParameters() -> [Parameter] {
        [Parameter(Tensor([0.5, -1.5, 2, 0.25, -0.75, 1], shape: [2, 3], on: .cpu)), Parameter(Tensor([0.1, -0.2, 0.3], shape: [3], on: .cpu))]
    }

    private func step(_ optimizer: any Optimizer, _ parameters: [Parameter], times: Int) {
        for _ in 0..<times {
            optimizer.zeroGrad()
            let w = parameters[0].value, b = parameters[1].value
            let loss = ((w * w * w).sum() + (w.sum(axis: 0) * b).sum() + (b * b).sum() * 0.5)
            loss.backward()
            optimizer.step()
        }
    }

    private func copies(_ parameters: [Parameter]) -> [Parameter] {
        parameters.map { Parameter($0.value.detached().copied()) }
    }

    private func bits(_ parameters: [Parameter]) throws -> [[UInt32]] {
        try parameters.map { try $0.value.toArray().map(\.bitPattern) }
    }

    private let makers: [(String, ([Parameter]) -> any Optimizer)] = [
        ("SGD", { SGD($0, learningRate: 0.05, momentum: 0.9, dampening: 0.1, weightDecay: 0.01) }),
        ("SGD nesterov", { SGD($0, learningRate: 0.05, momentum: 0.8, nesterov: true) }),
        ("SGD plain", { SGD($0, learningRate: 0.05) }),
        ("Adam", { Adam($0, learningRate: 0.01, betas: (0.8, 0.99), weightDecay: 0.1) }),
        ("AdamW", { AdamW($0, learningRate: 0.01) }),
        ("Adagrad", { Adagrad($0, learningRate: 0.1, learningRateDecay: 0.01, initialAccumulatorValue: 0.5) }),
        ("RMSprop", { RMSprop($0, learningRate: 0.01, momentum: 0.5, centered: true) }),
    ]

    func testLoadedStateContinuesBitForBit() throws {
        for (name, make) in makers {
            let straight = makeParameters()
            let a = make(straight)
            step(a, straight, times: 3)
            // A fresh optimizer (other hyperparameters: the state's win) on
            // copies of the weights, given a's state through a file's round
            // trip of its tensors.
            let resumed = copies(straight)
            let b = make(resumed)
            b.learningRate = 123
            let state = a.stateDict()
            let reread = try SafeTensors.decode(SafeTensors.encode(state.tensors), on: .cpu)
            try b.loadStateDict(OptimizerState(optimizer: state.optimizer, tensors: reread.tensors, paramGroups: state.paramGroups))
            XCTAssertEqual(b.learningRate, a.learningRate, name)
            step(a, straight, times: 3)
            step(b, resumed, times: 3)
            XCTAssertEqual(try bits(resumed), try bits(straight), name)
        }
    }

    func testNamesAndParamGroupsFollowPyTorch() throws {
        let parameters = makeParameters()
        let adam = Adam(parameters, learningRate: 0.002, betas: (0.9, 0.95), epsilon: 1e-7, weightDecay: 0.5)
        step(adam, parameters, times: 2)
        let state = adam.stateDict()
        XCTAssertEqual(state.optimizer, "Adam")
        XCTAssertEqual(state.tensors.map(\.name), ["state.0.exp_avg", "state.0.exp_avg_sq", "state.0.step",
                                                   "state.1.exp_avg", "state.1.exp_avg_sq", "state.1.step"])
        XCTAssertEqual(state.tensors[2].tensor.shape, [])
        XCTAssertEqual(state.tensors[2].tensor.dtype, .float32)
        XCTAssertEqual(try state.tensors[2].tensor.toArray(), [2])
        XCTAssertEqual(state.paramGroups,
                       #"[{"amsgrad":false,"betas":[0.9,0.95],"eps":1e-07,"lr":0.002,"params":[0,1],"weight_decay":0.5}]"#)

        let sgd = SGD(parameters, learningRate: 0.1, momentum: 0.9, nesterov: true)
        XCTAssertTrue(sgd.stateDict().tensors.isEmpty, "no state before the first step")
        step(sgd, parameters, times: 1)
        XCTAssertEqual(sgd.stateDict().tensors.map(\.name), ["state.0.momentum_buffer", "state.1.momentum_buffer"])
        XCTAssertEqual(sgd.stateDict().paramGroups,
                       #"[{"dampening":0,"lr":0.1,"momentum":0.9,"nesterov":true,"params":[0,1],"weight_decay":0}]"#)
    }

    /// PyTorch's own param_groups (more keys, in its order) load.
    func testLoadsPyTorchParamGroups() throws {
        let parameters = makeParameters()
        let adam = Adam(parameters)
        let group = #"[{"lr": 0.003, "betas": [0.85, 0.98], "eps": 1e-08, "weight_decay": 0, "amsgrad": false, "maximize": false, "#
            + #""foreach": null, "capturable": false, "differentiable": false, "fused": null, "params": [0, 1]}]"#
        try adam.loadStateDict(OptimizerState(optimizer: "Adam", tensors: [], paramGroups: group))
        XCTAssertEqual(adam.hyper.learningRate, 0.003)
        XCTAssertEqual(adam.hyper.beta1, 0.85)
        XCTAssertEqual(adam.hyper.beta2, 0.98)
    }

    func testStateThatDoesNotFitIsRefusedWhole() throws {
        let parameters = makeParameters()
        let source = Adam(parameters, learningRate: 0.01)
        step(source, parameters, times: 1)
        let good = source.stateDict()
        let target = Adam(copies(parameters), learningRate: 0.5)

        assertThrowsDescribing(["this Adam", "written by SGD"]) {
            try target.loadStateDict(OptimizerState(optimizer: "SGD", tensors: good.tensors, paramGroups: good.paramGroups))
        }
        var wrongShape = good.tensors
        wrongShape[3] = ("state.1.exp_avg", Tensor.zeros([4]))
        wrongShape.append(("state.7.exp_avg", Tensor.zeros([1])))
        assertThrowsDescribing(["'state.1.exp_avg': shape [4], expected [3]", "unexpected 'state.7.exp_avg'"]) {
            try target.loadStateDict(OptimizerState(optimizer: "Adam", tensors: wrongShape, paramGroups: good.paramGroups))
        }
        assertThrowsDescribing(["params [0] for 2 parameters"]) {
            try target.loadStateDict(OptimizerState(optimizer: "Adam", tensors: good.tensors,
                                                    paramGroups: good.paramGroups.replacingOccurrences(of: "[0,1]", with: "[0]")))
        }
        assertThrowsDescribing(["state.0 has no step"]) {
            try target.loadStateDict(OptimizerState(optimizer: "Adam", tensors: good.tensors.filter { $0.name != "state.0.step" },
                                                    paramGroups: good.paramGroups))
        }
        // Nothing changed.
        XCTAssertEqual(target.learningRate, 0.5)
        XCTAssertNil(target.moments(of: target.parameters[0]))
    }

    func testSchedulesSaveProgressAndRefuseOtherSettings() throws {
        let optimizer = SGD(makeParameters(), learningRate: 1)
        let cosine = CosineAnnealingLR(optimizer, tMax: 10, etaMin: 0.01)
        for _ in 0..<3 { cosine.step() }
        let state = cosine.stateDict()
        XCTAssertEqual(state["last_epoch"], 3)
        XCTAssertEqual(state["T_max"], 10)

        let again = CosineAnnealingLR(SGD(makeParameters(), learningRate: 1), tMax: 10, etaMin: 0.01)
        try again.loadStateDict(state)
        XCTAssertEqual(again.lastEpoch, 3)
        assertThrowsDescribing(["CosineAnnealingLR", "T_max is 10.0, this schedule's 20.0"]) {
            try CosineAnnealingLR(SGD(makeParameters(), learningRate: 1), tMax: 20, etaMin: 0.01).loadStateDict(state)
        }
        assertThrowsDescribing(["StepLR", "no valid 'last_epoch'"]) {
            try StepLR(optimizer, stepSize: 2).loadStateDict(["step_size": 2, "gamma": 0.1])
        }

        let plateau = ReduceLROnPlateau(optimizer, patience: 1)
        plateau.step(1.0)
        plateau.step(2.0)
        let restored = ReduceLROnPlateau(optimizer, patience: 1)
        try restored.loadStateDict(plateau.stateDict())
        XCTAssertEqual(restored.best, 1.0)
        XCTAssertEqual(restored.badEpochs, 1)
        XCTAssertEqual(restored.lastEpoch, 2)
        assertThrowsDescribing(["ReduceLROnPlateau", "the saved mode is 0.0, this schedule's 1.0"]) {
            try ReduceLROnPlateau(optimizer, mode: .max, patience: 1).loadStateDict(plateau.stateDict())
        }
    }
}
