import NN

/// A single-layer LSTM or GRU written with Tensor ops and autograd: the
/// tensor-op implementation the rnn and train suites time, until the library
/// has recurrent modules of its own (the rows say "tensor ops").
///
/// The math is PyTorch's (gates i, f, g, o for the LSTM; r, z, n for the
/// GRU, with the reset gate applied to the recurrent product plus its bias).
/// Weights are stored [in, gates * hidden], the transpose of PyTorch's
/// layout, because `Tensor.matmul` takes no transposed operand and a
/// transpose copy per step would be timed too. The LSTM's two biases are one
/// (their sum is all the cell sees).
///
/// The forward does what a fused RNN does on any framework: the input
/// projection of all steps as one GEMM, then per step one GEMM for the
/// recurrent part and the elementwise gate math.
final class TensorRecurrentLayer {
    enum Kind: String { case lstm = "LSTM", gru = "GRU" }

    let kind: Kind
    let inputSize: Int
    let hiddenSize: Int
    let weightIH: Tensor
    let weightHH: Tensor
    let biasIH: Tensor
    /// The GRU's recurrent bias (inside the reset gate's product); the LSTM
    /// folds it into `biasIH`.
    let biasHH: Tensor?

    var parameters: [Tensor] { [weightIH, weightHH, biasIH] + (biasHH.map { [$0] } ?? []) }

    /// Uniform(-1/sqrt(hidden), 1/sqrt(hidden)) for every parameter, as
    /// PyTorch initializes its RNNs.
    init(_ kind: Kind, inputSize: Int, hiddenSize: Int, on device: Device) {
        self.kind = kind
        self.inputSize = inputSize
        self.hiddenSize = hiddenSize
        let bound = 1 / Double(hiddenSize).squareRoot()
        let width = (kind == .lstm ? 4 : 3) * hiddenSize
        func uniform(_ shape: [Int]) -> Tensor {
            Tensor.uniform(shape, low: -bound, high: bound, on: device).requiringGrad()
        }
        weightIH = uniform([inputSize, width])
        weightHH = uniform([hiddenSize, width])
        biasIH = uniform([width])
        biasHH = kind == .gru ? uniform([width]) : nil
    }

    /// Runs the layer over `input` [steps * batch, inputSize] (time-major
    /// rows) from zero state. Returns the hidden states of every step as
    /// [steps * batch, hiddenSize] and the step split of the input
    /// projection, whose `backward()` must follow the loss's.
    func forward(_ input: Tensor, steps: Int, batch: Int) -> (output: Tensor, projection: SequenceSteps) {
        precondition(input.shape == [steps * batch, inputSize],
                     "\(kind.rawValue): input \(input.shape) is not [\(steps) * \(batch), \(inputSize)]")
        let projection = SequenceSteps(input.matmul(weightIH) + biasIH, steps: steps, batch: batch)
        let device = input.device
        var h = Tensor.zeros([batch, hiddenSize], on: device)
        var c = Tensor.zeros([batch, hiddenSize], on: device)  // the LSTM's cell state
        var outputs: [Tensor] = []
        outputs.reserveCapacity(steps)
        for x in projection.steps {
            switch kind {
            case .lstm: (h, c) = lstmStep(x, h, c)
            case .gru: h = gruStep(x, h)
            }
            outputs.append(h)
        }
        return (Tensor.concatenate(outputs, axis: 0), projection)
    }

    /// The gate block `index` (of width hidden) of a [batch, gates * hidden]
    /// tensor.
    private func block(_ t: Tensor, _ index: Int, count: Int = 1) -> Tensor {
        t.slice(axis: 1, index * hiddenSize..<(index + count) * hiddenSize)
    }

    /// i, f, g, o = split(x W_ih + b + h W_hh); c' = f c + i g; h' = o tanh(c').
    private func lstmStep(_ x: Tensor, _ h: Tensor, _ c: Tensor) -> (Tensor, Tensor) {
        let z = x + h.matmul(weightHH)
        let i = block(z, 0).sigmoid(), f = block(z, 1).sigmoid()
        let g = block(z, 2).tanh(), o = block(z, 3).sigmoid()
        let cNext = f * c + i * g
        return (o * cNext.tanh(), cNext)
    }

    /// r, z = sigmoid(x_rz + (h W_hh + b_hh)_rz); n = tanh(x_n + r (h W_hh +
    /// b_hh)_n); h' = (1 - z) n + z h, computed as n + z (h - n).
    private func gruStep(_ x: Tensor, _ h: Tensor) -> Tensor {
        let recurrent = h.matmul(weightHH) + biasHH!
        let rz = (block(x, 0, count: 2) + block(recurrent, 0, count: 2)).sigmoid()
        let r = block(rz, 0), z = block(rz, 1)
        let n = (block(x, 2) + r * block(recurrent, 2)).tanh()
        return n + z * (h - n)
    }
}
