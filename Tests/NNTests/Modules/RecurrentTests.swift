import XCTest
@testable import NN

/// PyTorch's equations for one recurrent layer, written out on the host in
/// Double, step by step (independent of the GEMM + fused-cell code under
/// test). x is [T, B, I] time-major.
enum RecurrentReference {
    static func sigmoid(_ x: Double) -> Double { 1 / (1 + Foundation.exp(-x)) }

    static func layer(_ cell: RecurrentCell, x: [Double], steps: Int, batch: Int, inputSize: Int, hidden H: Int,
                      wih: [Double], whh: [Double], bih: [Double]?, bhh: [Double]?,
                      h0: [Double], c0: [Double]?) -> (output: [Double], h: [Double], c: [Double]?) {
        let G = cell.gateCount * H
        var h = h0, c = c0 ?? []
        var output: [Double] = []
        for t in 0..<steps {
            let xt = Array(x[(t * batch * inputSize)..<((t + 1) * batch * inputSize)])
            let gi = MT.affine(xt, rows: batch, inner: inputSize, wih, out: G, bih)
            let gh = MT.affine(h, rows: batch, inner: H, whh, out: G, bhh)
            var next = [Double](repeating: 0, count: batch * H), nextC = c
            for b in 0..<batch {
                for j in 0..<H {
                    func a(_ k: Int) -> Double { gi[b * G + k * H + j] + gh[b * G + k * H + j] }
                    switch cell {
                    case .rnnTanh: next[b * H + j] = Foundation.tanh(a(0))
                    case .rnnReLU: next[b * H + j] = max(a(0), 0)
                    case .lstm:
                        let i = sigmoid(a(0)), f = sigmoid(a(1)), g = Foundation.tanh(a(2)), o = sigmoid(a(3))
                        nextC[b * H + j] = f * c[b * H + j] + i * g
                        next[b * H + j] = o * Foundation.tanh(nextC[b * H + j])
                    case .gru:
                        let r = sigmoid(a(0)), z = sigmoid(a(1))
                        let n = Foundation.tanh(gi[b * G + 2 * H + j] + r * gh[b * G + 2 * H + j])
                        next[b * H + j] = (1 - z) * n + z * h[b * H + j]
                    }
                }
            }
            h = next
            c = nextC
            output += h
        }
        return (output, h, c0 == nil ? nil : c)
    }
}

final class RecurrentTests: XCTestCase {
    private func assertClose(_ actual: [Double], _ expected: [Double], tolerance: Double = 1e-12, _ what: String,
                             file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(actual.count, expected.count, what, file: file, line: line)
        for (i, (a, e)) in zip(actual, expected).enumerated() where Swift.abs(a - e) > tolerance * max(1, Swift.abs(e)) {
            return XCTFail("\(what): element \(i) is \(a), expected \(e)", file: file, line: line)
        }
    }

    private func module(_ cell: RecurrentCell, _ inputSize: Int, _ hidden: Int, numLayers: Int = 1, bias: Bool = true,
                        batchFirst: Bool = false, dropout: Double = 0) -> RNNBase {
        switch cell {
        case .rnnTanh: return RNN(inputSize, hidden, numLayers: numLayers, bias: bias, batchFirst: batchFirst, dropout: dropout, dtype: .float64, device: .cpu)
        case .rnnReLU: return RNN(inputSize, hidden, numLayers: numLayers, nonlinearity: .relu, bias: bias, batchFirst: batchFirst, dropout: dropout, dtype: .float64, device: .cpu)
        case .lstm: return LSTM(inputSize, hidden, numLayers: numLayers, bias: bias, batchFirst: batchFirst, dropout: dropout, dtype: .float64, device: .cpu)
        case .gru: return GRU(inputSize, hidden, numLayers: numLayers, bias: bias, batchFirst: batchFirst, dropout: dropout, dtype: .float64, device: .cpu)
        }
    }

    // MARK: Values

    /// One LSTM step worked by hand: x = 1, h' = 0, c' = 2, pre-activations
    /// (0.5, -0.5, 1, 0) for (i, f, g, o).
    func testLSTMStepByHand() throws {
        let lstm = LSTM(1, 1, dtype: .float64, device: .cpu)
        MT.set(lstm.layers[0].weightIH, [0.5, -0.5, 1, 0])
        MT.set(lstm.layers[0].weightHH, [3, 3, 3, 3])  // h' = 0: no effect
        MT.set(lstm.layers[0].biasIH!, [0, 0, 0, 0])
        MT.set(lstm.layers[0].biasHH!, [0, 0, 0, 0])
        let (out, state) = lstm(TT.f64([1], [1, 1, 1]), state: (TT.f64([0], [1, 1, 1]), TT.f64([2], [1, 1, 1])))
        // i = s(0.5) = 0.6224593312, f = s(-0.5) = 0.3775406688, g = tanh(1) = 0.7615941560, o = 0.5
        // c = f * 2 + i * g = 1.2291427266, h = 0.5 * tanh(c) = 0.4211652426
        XCTAssertEqual(try TT.values(state.c)[0], 1.2291427266, accuracy: 1e-9)
        XCTAssertEqual(try TT.values(state.h)[0], 0.4211652426, accuracy: 1e-9)
        XCTAssertEqual(try TT.values(out), try TT.values(state.h))
    }

    /// One GRU step by hand: the n gate multiplies only the recurrent part
    /// (with its bias) by r.
    func testGRUStepByHand() throws {
        let gru = GRU(1, 1, dtype: .float64, device: .cpu)
        MT.set(gru.layers[0].weightIH, [0, 0, 1])     // x_r = 0, x_z = 0, x_n = x
        MT.set(gru.layers[0].weightHH, [0, 0, 2])     // h_n = 2 h'
        MT.set(gru.layers[0].biasIH!, [0, 0, 0])
        MT.set(gru.layers[0].biasHH!, [0, 0, 0.5])    // b_hn inside r * (.)
        let (_, hn) = gru(TT.f64([1], [1, 1, 1]), hidden: TT.f64([1], [1, 1, 1]))
        // r = z = 0.5; n = tanh(1 + 0.5 * (2 + 0.5)) = tanh(2.25) = 0.9780261147
        // h = 0.5 * n + 0.5 * 1 = 0.9890130574
        XCTAssertEqual(try TT.values(hn)[0], 0.9890130574, accuracy: 1e-9)
    }

    /// Every cell, two layers, matches PyTorch's equations run step by step
    /// on the host, with given initial states; h_n / c_n are the last
    /// step's states of each layer.
    func testMatchesReferenceEquations() throws {
        let (T, B, I, H) = (5, 3, 4, 6)
        for cell in RecurrentCell.allCases {
            Random.manualSeed(11)
            let m = module(cell, I, H, numLayers: 2)
            let x = TT.uniform([T, B, I], seed: 1), h0 = TT.uniform([2, B, H], seed: 2), c0 = TT.uniform([2, B, H], seed: 3)
            let output: Tensor, hn: Tensor, cn: Tensor?
            if let lstm = m as? LSTM {
                let r = lstm(x, state: (h0, c0)); (output, hn, cn) = (r.output, r.state.h, r.state.c)
            } else {
                let r = m.run(x, h0: h0, c0: nil); (output, hn, cn) = (r.output, r.h, nil)
            }
            var input = try TT.values(x), inputSize = I
            var expectedH: [Double] = [], expectedC: [Double] = []
            for (k, layer) in m.layers.enumerated() {
                let r = RecurrentReference.layer(
                    cell, x: input, steps: T, batch: B, inputSize: inputSize, hidden: H,
                    wih: try MT.values(layer.weightIH), whh: try MT.values(layer.weightHH),
                    bih: try MT.values(layer.biasIH!), bhh: try MT.values(layer.biasHH!),
                    h0: Array(try TT.values(h0)[(k * B * H)..<((k + 1) * B * H)]),
                    c0: cell == .lstm ? Array(try TT.values(c0)[(k * B * H)..<((k + 1) * B * H)]) : nil)
                input = r.output
                inputSize = H
                expectedH += r.h
                expectedC += r.c ?? []
            }
            assertClose(try TT.values(output), input, "\(cell) output")
            XCTAssertEqual(output.shape, [T, B, H])
            XCTAssertEqual(hn.shape, [2, B, H])
            assertClose(try TT.values(hn), expectedH, "\(cell) h_n")
            if let cn { assertClose(try TT.values(cn), expectedC, "\(cell) c_n") }
        }
    }

    /// Without biases the layer registers no bias parameters and still
    /// matches the equations.
    func testWithoutBias() throws {
        let (T, B, I, H) = (3, 2, 3, 4)
        for cell in RecurrentCell.allCases {
            let m = module(cell, I, H, bias: false)
            XCTAssertEqual(m.stateDict().map(\.name), ["weight_ih_l0", "weight_hh_l0"])
            let x = TT.uniform([T, B, I], seed: 5)
            let r = RecurrentReference.layer(cell, x: try TT.values(x), steps: T, batch: B, inputSize: I, hidden: H,
                                             wih: try MT.values(m.layers[0].weightIH), whh: try MT.values(m.layers[0].weightHH),
                                             bih: nil, bhh: nil, h0: [Double](repeating: 0, count: B * H),
                                             c0: cell == .lstm ? [Double](repeating: 0, count: B * H) : nil)
            assertClose(try TT.values(m(x)), r.output, "\(cell) without bias")
        }
    }

    /// Running a sequence in two halves, passing the states across, gives
    /// the same outputs as running it whole (truncated BPTT relies on it).
    func testStatesCarryAcrossCalls() throws {
        let lstm = LSTM(3, 5, numLayers: 2, dtype: .float64, device: .cpu)
        let x = TT.uniform([6, 2, 3], seed: 9)
        let whole = lstm(x, state: nil)
        let first = lstm(x.slice(axis: 0, 0..<4), state: nil)
        let second = lstm(x.slice(axis: 0, 4..<6), state: first.state)
        assertClose(try TT.values(Tensor.concatenate([first.output, second.output], axis: 0)), try TT.values(whole.output), "outputs")
        assertClose(try TT.values(second.state.h), try TT.values(whole.state.h), "h_n")
        assertClose(try TT.values(second.state.c), try TT.values(whole.state.c), "c_n")
    }

    /// batchFirst and unbatched inputs are the time-major computation with
    /// axes moved.
    func testBatchFirstAndUnbatchedLayouts() throws {
        Random.manualSeed(3)
        let timeMajor = GRU(3, 4, numLayers: 2, dtype: .float64, device: .cpu)
        Random.manualSeed(3)
        let batchFirst = GRU(3, 4, numLayers: 2, batchFirst: true, dtype: .float64, device: .cpu)
        let x = TT.uniform([5, 2, 3], seed: 4)
        let a = timeMajor(x, hidden: nil), b = batchFirst(x.transposed(0, 1), hidden: nil)
        XCTAssertEqual(b.output.shape, [2, 5, 4])
        assertClose(try TT.values(b.output.transposed(0, 1)), try TT.values(a.output), "batch-first output")
        assertClose(try TT.values(b.hidden), try TT.values(a.hidden), "batch-first h_n")

        let single = timeMajor(x.slice(axis: 1, 1..<2).reshaped([5, 3]), hidden: nil)
        XCTAssertEqual(single.output.shape, [5, 4])
        XCTAssertEqual(single.hidden.shape, [2, 4])
        assertClose(try TT.values(single.output), try TT.values(a.output.slice(axis: 1, 1..<2)), "unbatched output")
    }

    // MARK: Gradients

    /// The whole-sequence op against central differences, for every cell,
    /// with respect to all of its inputs: x, both weights, h0, both biases
    /// and (LSTM) c0, through the outputs and c_T.
    func testSequenceGradients() {
        let (T, B, I, H) = (4, 2, 3, 3)
        for cell in RecurrentCell.allCases {
            let G = cell.gateCount * H
            var inputs = [TT.uniform([T, B, I], seed: 1), TT.uniform([G, I], seed: 2, low: -0.8, high: 0.8),
                          TT.uniform([G, H], seed: 3, low: -0.8, high: 0.8), TT.uniform([B, H], seed: 4),
                          TT.uniform([G], seed: 5, low: -0.5, high: 0.5), TT.uniform([G], seed: 6, low: -0.5, high: 0.5)]
            if cell == .lstm { inputs.append(TT.uniform([B, H], seed: 7)) }
            if cell == .rnnReLU { inputs[0] = TT.uniform([T, B, I], seed: 1, low: 0.1, high: 1) }  // away from the kink
            assertGradientCheck(inputs, "\(cell)") { xs in
                Tensor.recurrentSequence(cell, input: xs[0], weightIH: xs[1], weightHH: xs[2], biasIH: xs[4], biasHH: xs[5],
                                         h0: xs[3], c0: cell == .lstm ? xs[6] : nil)
            }
        }
    }

    /// A single step (a cell on its own) and a layer without biases.
    func testSingleStepAndBiasFreeGradients() {
        for cell in RecurrentCell.allCases {
            let G = cell.gateCount * 4
            var inputs = [TT.uniform([1, 3, 2], seed: 8), TT.uniform([G, 2], seed: 9), TT.uniform([G, 4], seed: 10),
                          TT.uniform([3, 4], seed: 11)]
            if cell == .lstm { inputs.append(TT.uniform([3, 4], seed: 12)) }
            assertGradientCheck(inputs, "\(cell) one step, no bias") { xs in
                Tensor.recurrentSequence(cell, input: xs[0], weightIH: xs[1], weightHH: xs[2], biasIH: nil, biasHH: nil,
                                         h0: xs[3], c0: cell == .lstm ? xs[4] : nil)
            }
        }
    }

    /// The modules end to end: two layers, batch-first, through the input
    /// and every parameter.
    func testModuleGradients() {
        for cell in [RecurrentCell.rnnTanh, .lstm, .gru] {
            Random.manualSeed(21)
            let m = module(cell, 3, 4, numLayers: 2, batchFirst: true)
            assertModuleGradientCheck(m, input: TT.uniform([2, 5, 3], seed: 22), "\(cell) module")
        }
    }

    /// Gradients reach the initial states through the module (h0 and c0 of
    /// every layer) and flow back from h_n and c_n.
    func testStateGradientsThroughModule() {
        Random.manualSeed(31)
        let lstm = LSTM(2, 3, numLayers: 2, dtype: .float64, device: .cpu)
        assertGradientCheck([TT.uniform([3, 2, 2], seed: 32), TT.uniform([2, 2, 3], seed: 33), TT.uniform([2, 2, 3], seed: 34)]) { xs in
            let r = lstm(xs[0], state: (xs[1], xs[2]))
            return Tensor.concatenate([r.state.h, r.state.c * 2], axis: 0)
        }
    }

    // MARK: Module structure

    /// Parameter names, order and shapes are PyTorch's state_dict of
    /// nn.LSTM(10, 20, num_layers=2) / nn.GRU / nn.RNN.
    func testStateDictMatchesPyTorch() {
        let lstm = LSTM(10, 20, numLayers: 2, device: .cpu)
        XCTAssertEqual(lstm.stateDict().map(\.name), ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0",
                                                      "weight_ih_l1", "weight_hh_l1", "bias_ih_l1", "bias_hh_l1"])
        XCTAssertEqual(lstm.stateDict().map(\.tensor.shape), [[80, 10], [80, 20], [80], [80], [80, 20], [80, 20], [80], [80]])
        XCTAssertEqual(GRU(10, 20, device: .cpu).stateDict().map(\.tensor.shape), [[60, 10], [60, 20], [60], [60]])
        XCTAssertEqual(RNN(10, 20, device: .cpu).stateDict().map(\.tensor.shape), [[20, 10], [20, 20], [20], [20]])
        XCTAssertEqual(Embedding(7, 3, device: .cpu).stateDict().map(\.name), ["weight"])
    }

    /// PyTorch's init: every weight U(-1/sqrt(H), 1/sqrt(H)).
    func testInitializationBound() throws {
        Random.manualSeed(5)
        let gru = GRU(30, 64, device: .cpu)
        let bound = 1 / 8.0
        for (name, p) in gru.namedParameters() {
            let v = try MT.values(p)
            XCTAssertLessThanOrEqual(v.map(Swift.abs).max()!, bound, name)
            XCTAssertGreaterThan(v.map(Swift.abs).max()!, 0.9 * bound, "\(name) should fill its range")
        }
    }

    /// Dropout acts between layers in training mode only.
    func testInterLayerDropout() throws {
        Random.manualSeed(2)
        let lstm = LSTM(3, 8, numLayers: 2, dropout: 0.5, dtype: .float64, device: .cpu)
        let x = TT.uniform([4, 2, 3], seed: 6)
        let a = try TT.values(lstm(x)), b = try TT.values(lstm(x))
        XCTAssertNotEqual(a, b, "training mode draws a new mask each call")
        lstm.eval()
        XCTAssertEqual(try TT.values(lstm(x)), try TT.values(lstm(x)), "evaluation mode is deterministic")
        Random.manualSeed(2)
        let plain = LSTM(3, 8, numLayers: 2, dtype: .float64, device: .cpu)
        assertClose(try TT.values(lstm(x)), try TT.values(plain(x)), "evaluation mode uses no dropout")
    }

    /// What is wrong with an input is named with its shape.
    func testInputProblems() {
        XCTAssertEqual(RecurrentInputShape.problem([5, 3], inputSize: 3, batchFirst: false), nil)
        XCTAssertEqual(RecurrentInputShape.problem([5, 2, 3], inputSize: 3, batchFirst: false), nil)
        XCTAssertEqual(RecurrentInputShape.problem([5, 2, 4], inputSize: 3, batchFirst: false),
                       "input [5, 2, 4] has 4 features on its last axis, expected 3")
        XCTAssertEqual(RecurrentInputShape.problem([5, 2, 3, 1], inputSize: 3, batchFirst: true),
                       "expected input [batch, time, 3] or unbatched [time, 3], got [5, 2, 3, 1]")
        XCTAssertEqual(RecurrentInputShape.problem([0, 2, 3], inputSize: 3, batchFirst: false),
                       "the sequence is empty (input [0, 2, 3], [time, batch, 3])")
        XCTAssertEqual(RecurrentInputShape.problem([2, 0, 3], inputSize: 3, batchFirst: true),
                       "the sequence is empty (input [2, 0, 3], [batch, time, 3])")
        XCTAssertEqual(RecurrentInputShape.problem([0, 2, 3], inputSize: 3, batchFirst: true),
                       "the batch is empty (input [0, 2, 3], [batch, time, 3])")
        XCTAssertEqual(LSTM(3, 4, numLayers: 2, device: .cpu).label, "LSTM(3, 4, numLayers: 2)")
    }

    // MARK: Embedding

    func testEmbeddingLooksUpRowsAndScattersGradients() throws {
        let embedding = Embedding(4, 2, dtype: .float64, device: .cpu)
        MT.set(embedding.weight, [0, 1, 10, 11, 20, 21, 30, 31])
        let y = embedding(TT.i32([3, 1, 3, 0, 2, 3], [2, 3]))
        XCTAssertEqual(y.shape, [2, 3, 2])
        XCTAssertEqual(try TT.values(y), [30, 31, 10, 11, 30, 31, 0, 1, 20, 21, 30, 31])
        (y * TT.f64((0..<12).map(Double.init), [2, 3, 2])).sum().backward()
        // Row 3 is used at positions 0, 2 and 5: gradient (0+4+10, 1+5+11).
        XCTAssertEqual(try TT.values(embedding.weight.grad!), [6, 7, 2, 3, 8, 9, 14, 17])
    }

    func testEmbeddingGradientCheck() {
        let indices = TT.i32([2, 0, 2, 1, 4], [5])
        assertGradientCheck([TT.uniform([5, 3], seed: 40)]) { xs in
            let e = Embedding(5, 3, dtype: .float64, device: .cpu)
            e.weight.value = xs[0]
            return e(indices)
        }
    }

    func testEmbeddingInitIsStandardNormal() throws {
        Random.manualSeed(8)
        let v = try MT.values(Embedding(1000, 20, device: .cpu).weight)
        let (mean, std) = MT.stats(v)
        XCTAssertEqual(mean, 0, accuracy: 0.02)
        XCTAssertEqual(std, 1, accuracy: 0.02)
    }
}
