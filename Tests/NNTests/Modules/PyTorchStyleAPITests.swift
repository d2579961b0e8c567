import Foundation
import XCTest
import NN

/// Code ported from PyTorch, written the way a PyTorch user writes it
/// (issue 14's findings): positional layer arguments, state dicts handed from
/// one model to another, non-strict loads, a settable gradient, int64 labels
/// and indices, recurrent layers returning output and state, and the module
/// tree printout.
final class PyTorchStyleAPITests: XCTestCase {
    func testPositionalLayerArguments() {
        let conv = Conv2d(3, 4, 3, device: .cpu)
        XCTAssertEqual(conv.weight.shape, [4, 3, 3, 3])
        XCTAssertEqual(Conv2d(3, 4, 3, stride: 2, padding: 1, device: .cpu).summary,
                       "Conv2d(3, 4, kernelSize: (3, 3), stride: (2, 2), padding: (1, 1))")
        XCTAssertEqual(Conv2d(3, 4, (3, 5), device: .cpu).weight.shape, [4, 3, 3, 5])
        let pool = MaxPool2d(3, 2, 1)
        XCTAssert(pool.kernelSize == (3, 3) && pool.stride == (2, 2) && pool.padding == (1, 1))
        XCTAssertEqual(pool(Tensor.zeros([1, 1, 8, 8], on: .cpu)).shape, [1, 1, 4, 4])
        XCTAssert(AvgPool2d(2, 1).stride == (1, 1))
        XCTAssertEqual(LeakyReLU(0.2).negativeSlope, 0.2)
        XCTAssertEqual(LeakyReLU().negativeSlope, 0.01)
        XCTAssertEqual(PReLU(device: .cpu).weight.shape, [1])
        XCTAssertEqual(PReLU(3, 0.1, device: .cpu).weight.shape, [3])
        XCTAssertEqual(try PReLU(3, 0.1, device: .cpu).weight.value.toArray(), [0.1, 0.1, 0.1])
        XCTAssertEqual(Dropout(0.2).p, 0.2)
        XCTAssertEqual(ELU(0.5).alpha, 0.5)
        XCTAssertEqual(Softplus(2).beta, 2)
        XCTAssertEqual(Softmax(1).dim, 1)
        XCTAssertEqual(LogSoftmax(1).dim, 1)
    }

    private func mlp() -> Sequential {
        Sequential(Linear(4, 8, device: .cpu), ReLU(), Linear(8, 2, device: .cpu))
    }

    func testStateDictOfOneModelLoadsIntoAnother() throws {
        let a = mlp(), b = mlp()
        try b.loadStateDict(a.stateDict())
        for ((name, x), (otherName, y)) in zip(a.stateDict(), b.stateDict()) {
            XCTAssertEqual(name, otherName)
            XCTAssertEqual(try x.toArray(), try y.toArray(), name)
        }
        let state = a.stateDict()
        XCTAssertEqual(state.keys, ["0.weight", "0.bias", "2.weight", "2.bias"])
        XCTAssertEqual(state["2.weight"]?.shape, [2, 8])
        XCTAssertNil(state["1.weight"])
        // The model does not share storage with the state it loaded.
        b.parameters()[0].value = Tensor.zeros([8, 4], on: .cpu)
        XCTAssertNotEqual(try a.parameters()[0].value.toArray(), try b.parameters()[0].value.toArray())
    }

    func testNonStrictLoadReturnsMissingAndUnexpectedKeys() throws {
        let a = mlp(), b = mlp()
        var state = a.stateDict()
        state["2.bias"] = nil
        state["extra.weight"] = Tensor.zeros([1], on: .cpu)
        XCTAssertThrowsError(try b.loadStateDict(state)) { error in
            let text = "\(error)"
            XCTAssert(text.contains("missing '2.bias'") && text.contains("unexpected 'extra.weight'"), text)
        }
        let before = try b.stateDict()["2.bias"]!.toArray()
        let keys = try b.loadStateDict(state, strict: false)
        XCTAssertEqual(keys.missingKeys, ["2.bias"])
        XCTAssertEqual(keys.unexpectedKeys, ["extra.weight"])
        XCTAssertEqual(try b.stateDict()["0.weight"]!.toArray(), try a.stateDict()["0.weight"]!.toArray())
        XCTAssertEqual(try b.stateDict()["2.bias"]!.toArray(), before, "a missing key leaves the parameter as it was")
        // A shape mismatch is an error even when not strict, and changes nothing.
        state["0.weight"] = Tensor.zeros([3, 3], on: .cpu)
        XCTAssertThrowsError(try b.loadStateDict(state, strict: false)) { error in
            XCTAssert("\(error)".contains("'0.weight': shape [3, 3], expected [8, 4]"), "\(error)")
        }
    }

    func testLoadCastsDtypesAsPyTorchsCopyDoes() throws {
        let bn = BatchNorm1d(3, device: .cpu)
        var state = bn.stateDict()
        state["num_batches_tracked"] = Tensor([7], shape: [], on: .cpu)            // float, as a hand-made dict may hold
        state["running_mean"] = Tensor(float64: [1, 2, 3], on: .cpu)
        try bn.loadStateDict(state)
        XCTAssertEqual(bn.numBatchesTracked?.value.dtype, .int32)
        XCTAssertEqual(try bn.numBatchesTracked?.value.toArray(as: Int32.self), [7])
        XCTAssertEqual(bn.runningMean?.value.dtype, .float32)
        XCTAssertEqual(try bn.runningMean?.value.toArray(), [1, 2, 3])
        // PyTorch's own int64 counter, as a safetensors file from PyTorch holds it.
        state["num_batches_tracked"] = Tensor(int64: [12], shape: [], on: .cpu)
        try bn.loadStateDict(state)
        XCTAssertEqual(try bn.numBatchesTracked?.value.toArray(as: Int32.self), [12])
    }

    func testGradientIsSettable() throws {
        let layer = Linear(2, 1, bias: false, device: .cpu)
        try layer.weight.assign(Tensor([1, 1], shape: [1, 2], on: .cpu))
        layer.weight.grad = Tensor([0.5, -1], shape: [1, 2], on: .cpu)
        SGD(layer.parameters(), learningRate: 0.1).step()
        XCTAssertEqual(try layer.weight.value.toArray(), [0.95, 1.1])
        layer.weight.grad = nil
        XCTAssertNil(layer.weight.grad)
    }

    func testInt64LabelsAndIndices() throws {
        let logits = Tensor([2, 0, 0, 0, 3, 0], shape: [2, 3], on: .cpu)
        let loss = CrossEntropyLoss()
        let from64 = try loss(logits, Tensor(int64: [0, 1], on: .cpu)).scalar()
        let from32 = try loss(logits, Tensor(int32: [0, 1], on: .cpu)).scalar()
        XCTAssertEqual(from64, from32)
        XCTAssertEqual(try NLLLoss()(logits.logSoftmax(axis: 1), Tensor(int64: [2, 1], on: .cpu)).scalar(),
                       try NLLLoss()(logits.logSoftmax(axis: 1), Tensor(int32: [2, 1], on: .cpu)).scalar())

        let embedding = Embedding(5, 2, device: .cpu)
        XCTAssertEqual(try embedding(Tensor(int64: [4, 0], on: .cpu)).toArray(),
                       try embedding(Tensor(int32: [4, 0], on: .cpu)).toArray())
        let x = Tensor([10, 20, 30, 40], shape: [2, 2], on: .cpu)
        XCTAssertEqual(try x.gather(axis: 1, indices: Tensor(int64: [1, 0], shape: [2, 1], on: .cpu)).toArray(), [20, 30])

        // A value beyond int32 does not wrap into range: it saturates, so the
        // op's own range check reports it.
        let huge = Tensor(int64: [Int64(1) << 32, -(Int64(1) << 40), 3], on: .cpu).to(dtype: .int32)
        XCTAssertEqual(try huge.toArray(as: Int32.self), [Int32.max, Int32.min, 3])

        // Arrays of Swift Ints (64-bit) as labels.
        let labels: [Int] = [0, 1, 1]
        let data = Dataset(features: [0, 1, 2, 3, 4, 5], featureShape: [2], labels: labels)
        XCTAssertEqual(data.count, 3)
        let fromTensor = try Dataset(features: Tensor([0, 1, 2, 3], shape: [2, 2], on: .cpu),
                                     labels: Tensor(int64: [1, 0], on: .cpu))
        XCTAssertEqual(fromTensor.count, 2)
    }

    func testSafeTensorsKeepsInt64() throws {
        let labels = Tensor(int64: [-1, Int64(1) << 40, 7], on: .cpu)
        let bytes = try SafeTensors.encode([("labels", labels)])
        let back = try SafeTensors.decode(bytes, on: .cpu).tensors[0].tensor
        XCTAssertEqual(back.dtype, .int64)
        XCTAssertEqual(try back.toArray(as: Int64.self), [-1, Int64(1) << 40, 7])
        XCTAssert(String(decoding: bytes, as: UTF8.self).contains("\"dtype\":\"I64\""))
    }

    func testRecurrentLayersReturnOutputAndState() throws {
        let lstm = LSTM(3, 5, device: .cpu)
        let x = Tensor.zeros([4, 2, 3], on: .cpu)
        let (out, (h, c)) = lstm(x)
        XCTAssertEqual(out.shape, [4, 2, 5])
        XCTAssertEqual(h.shape, [1, 2, 5])
        XCTAssertEqual(c.shape, [1, 2, 5])
        let (out2, (h2, _)) = lstm(x, (h, c))
        XCTAssertEqual(out2.shape, [4, 2, 5])
        XCTAssertNotEqual(try h2.toArray(), try h.toArray(), "the second call starts from the first's state")
        let outputOnly: Tensor = lstm(x)
        XCTAssertEqual(try outputOnly.toArray(), try out.toArray())
        let y = lstm(x)  // where no tuple is asked for: the output, as every module
        XCTAssertEqual(y.shape, [4, 2, 5])

        let gru = GRU(3, 5, device: .cpu)
        let (gOut, gH) = gru(x)
        XCTAssertEqual(gOut.shape, [4, 2, 5])
        XCTAssertEqual(gH.shape, [1, 2, 5])
        let (rOut, rH) = RNN(3, 5, device: .cpu)(x, gH)
        XCTAssertEqual(rOut.shape, [4, 2, 5])
        XCTAssertEqual(rH.shape, [1, 2, 5])
    }

    func testModuleTreeAndNamedModules() {
        let model = Sequential(Conv2d(1, 6, 5, padding: 2, device: .cpu), ReLU(), MaxPool2d(2), Flatten(),
                               Linear(6 * 14 * 14, 10, device: .cpu))
        XCTAssertEqual("\(model)", """
            Sequential(
              (0): Conv2d(1, 6, kernelSize: (5, 5), padding: (2, 2))  weight [6, 1, 5, 5], bias [6]  (156 parameters)
              (1): ReLU()
              (2): MaxPool2d(kernelSize: (2, 2))
              (3): Flatten()
              (4): Linear(1176, 10)  weight [10, 1176], bias [10]  (11,770 parameters)
            )  (11,926 parameters)
            """)
        XCTAssertEqual(model.namedModules().map(\.name), ["", "0", "1", "2", "3", "4"])
        XCTAssert(model.namedModules()[0].module === model)
        XCTAssert(model.namedModules()[5].module is Linear)

        let bn = BatchNorm2d(4, device: .cpu)
        XCTAssertEqual("\(bn)", "BatchNorm2d(4)  weight [4], bias [4], running_mean [4] (buffer), running_var [4] (buffer), "
                       + "num_batches_tracked [] (buffer)  (8 parameters)")
        let nested = Sequential(Sequential(Linear(2, 2, device: .cpu)), Tanh())
        XCTAssertEqual(nested.namedModules().map(\.name), ["", "0", "0.0", "1"])
        XCTAssertEqual(nested.modules().count, 4)
    }

    /// The layers hold their parameters in `let`s: the object the module
    /// exposes is the one the optimizer and the state dict see.
    func testParametersAreTheRegisteredObjects() {
        let linear = Linear(3, 2, device: .cpu)
        XCTAssert(linear.parameters()[0] === linear.weight)
        XCTAssert(linear.parameters()[1] === linear.bias)
        let conv = Conv2d(1, 2, 3, bias: false, device: .cpu)
        XCTAssertNil(conv.bias)
        XCTAssert(conv.parameters().count == 1 && conv.parameters()[0] === conv.weight)
    }
}
