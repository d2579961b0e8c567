/// The recurrent layers RNN, LSTM and GRU (PyTorch's `nn.RNNBase` family):
/// multi-layer, time-major or batch-first, initial states in and final
/// states out, dropout between layers, and PyTorch's parameter names and
/// layouts, so a PyTorch state dict loads as it is.
///
/// Per layer k, in PyTorch's order: `weight_ih_lk` [G*H, in],
/// `weight_hh_lk` [G*H, H], `bias_ih_lk` [G*H], `bias_hh_lk` [G*H], with
/// G = 1 (RNN), 4 (LSTM: i, f, g, o) or 3 (GRU: r, z, n) row blocks, in = the
/// input size for layer 0 and H above it. All start as
/// U(-1/sqrt(H), 1/sqrt(H)), as PyTorch's `reset_parameters`.
///
/// Shapes (L layers, T steps, B sequences):
/// - input [T, B, in], or [B, T, in] with `batchFirst`, or unbatched [T, in];
/// - states h (and c) [L, B, H], unbatched [L, H]; zeros when not given;
/// - output [T, B, H] (batch-first [B, T, H], unbatched [T, H]): the last
///   layer's hidden state at every step.
///
/// Each layer runs as one autograd op (`Tensor.recurrentSequence`): one
/// GEMM for the input projection of all steps, then per step one GEMM and
/// one fused cell kernel, forward and backward through time.
/// `@unchecked Sendable` (see `Module`): every stored property is a `let`
/// of a Sendable type.
open class RNNBase: Module, @unchecked Sendable {
    /// One layer's parameters.
    public struct LayerParameters: Sendable {
        public let weightIH: Parameter
        public let weightHH: Parameter
        public let biasIH: Parameter?
        public let biasHH: Parameter?
    }

    public let cell: RecurrentCell
    public let inputSize: Int
    public let hiddenSize: Int
    public let numLayers: Int
    public let bias: Bool
    public let batchFirst: Bool
    /// Dropout probability on the outputs of every layer but the last, in
    /// training mode.
    public let dropout: Double
    public let layers: [LayerParameters]

    public init(cell: RecurrentCell, inputSize: Int, hiddenSize: Int, numLayers: Int = 1, bias: Bool = true,
                batchFirst: Bool = false, dropout: Double = 0, dtype: DType = .float32, device: Device = .default) {
        require(inputSize >= 1 && hiddenSize >= 1 && numLayers >= 1,
                     "\(Self.self): inputSize \(inputSize), hiddenSize \(hiddenSize) and numLayers \(numLayers) must be positive")
        require(dropout >= 0 && dropout <= 1, "\(Self.self): dropout \(dropout) outside [0, 1]")
        require(dtype.isFloatingPoint, "\(Self.self): needs a float dtype, got \(dtype)")
        self.cell = cell
        self.inputSize = inputSize
        self.hiddenSize = hiddenSize
        self.numLayers = numLayers
        self.bias = bias
        self.batchFirst = batchFirst
        self.dropout = dropout
        // Made before super.init() (so the list is a `let`), in the order
        // PyTorch draws them, and registered after.
        let bound = 1 / Double(hiddenSize).squareRoot(), gates = cell.gateCount * hiddenSize
        func uniform(_ shape: [Int]) -> Parameter { Parameter(Init.uniform(shape, low: -bound, high: bound, dtype: dtype, on: device)) }
        layers = (0..<numLayers).map { k in
            let weightIH = uniform([gates, k == 0 ? inputSize : hiddenSize])
            let weightHH = uniform([gates, hiddenSize])
            let biasIH = bias ? uniform([gates]) : nil
            let biasHH = bias ? uniform([gates]) : nil
            return LayerParameters(weightIH: weightIH, weightHH: weightHH, biasIH: biasIH, biasHH: biasHH)
        }
        super.init()
        for (k, layer) in layers.enumerated() {
            register(parameter: "weight_ih_l\(k)", layer.weightIH)
            register(parameter: "weight_hh_l\(k)", layer.weightHH)
            if let biasIH = layer.biasIH { register(parameter: "bias_ih_l\(k)", biasIH) }
            if let biasHH = layer.biasHH { register(parameter: "bias_hh_l\(k)", biasHH) }
        }
    }

    public override var summary: String { label }

    /// How the layer names itself in messages, e.g. `LSTM(64, 256)`.
    var label: String {
        "\(type(of: self))(\(inputSize), \(hiddenSize)\(numLayers > 1 ? ", numLayers: \(numLayers)" : ""))"
    }

    /// The output only; see the type's documentation for shapes.
    open override func forward(_ input: Tensor) -> Tensor { run(input, h0: nil, c0: nil).output }

    /// Runs every layer over `input` from `h0` (and `c0`) and returns the
    /// output and the final states in the caller's layout.
    func run(_ input: Tensor, h0: Tensor?, c0: Tensor?) -> (output: Tensor, h: Tensor, c: Tensor?) {
        let checked = RecurrentInputShape(label, input.shape, inputSize: inputSize, batchFirst: batchFirst)
        let (steps, batch, H) = (checked.steps, checked.batch, hiddenSize)
        let stateShape = checked.unbatched ? [numLayers, H] : [numLayers, batch, H]
        func layerStates(_ state: Tensor?, _ name: String) -> [Tensor] {
            guard let state else { return (0..<numLayers).map { _ in Tensor.zeros([batch, H], dtype: input.dtype, on: input.device) } }
            require(state.shape == stateShape,
                         "\(label): \(name) is \(state.shape), expected \(stateShape) (layers, batch, hidden) for input \(input.shape)")
            return (0..<numLayers).map { state.slice(axis: 0, $0..<($0 + 1)).reshaped([batch, H]) }
        }
        let h0s = layerStates(h0, "h0")
        let c0s: [Tensor?] = cell.hasCellState ? layerStates(c0, "c0") : Array(repeating: nil, count: numLayers)
        require(cell.hasCellState || c0 == nil, "\(label): only LSTM takes a cell state c0")

        // Time-major [T, B, in] for the kernels.
        var x = checked.unbatched ? input.unsqueezed(axis: 1) : (batchFirst ? input.transposed(0, 1) : input)
        var finalH: [Tensor] = [], finalC: [Tensor] = []
        for (k, layer) in layers.enumerated() {
            let packed = Tensor.recurrentSequence(cell, input: x, weightIH: layer.weightIH.value, weightHH: layer.weightHH.value,
                                                  biasIH: layer.biasIH?.value, biasHH: layer.biasHH?.value, h0: h0s[k], c0: c0s[k])
            let y = cell.hasCellState ? packed.slice(axis: 0, 0..<steps) : packed
            if cell.hasCellState { finalC.append(packed.slice(axis: 0, steps..<(steps + 1))) }
            finalH.append(y.slice(axis: 0, (steps - 1)..<steps))
            x = k < numLayers - 1 && dropout > 0 ? y.dropout(p: dropout, training: isTraining) : y
        }
        func stacked(_ states: [Tensor]) -> Tensor {
            let s = states.count == 1 ? states[0] : Tensor.concatenate(states, axis: 0)  // [L, B, H]
            return s.reshaped(stateShape)
        }
        let output = checked.unbatched ? x.squeezed(axis: 1) : (batchFirst ? x.transposed(0, 1) : x)
        return (output, stacked(finalH), cell.hasCellState ? stacked(finalC) : nil)
    }
}

/// An Elman RNN, h = tanh(W_ih x + b_ih + W_hh h' + b_hh) or with ReLU
/// (PyTorch's `nn.RNN`).
public final class RNN: RNNBase, @unchecked Sendable {
    public enum Nonlinearity: String, Sendable { case tanh, relu }

    public init(_ inputSize: Int, _ hiddenSize: Int, numLayers: Int = 1, nonlinearity: Nonlinearity = .tanh,
                bias: Bool = true, batchFirst: Bool = false, dropout: Double = 0, dtype: DType = .float32,
                device: Device = .default) {
        super.init(cell: nonlinearity == .tanh ? .rnnTanh : .rnnReLU, inputSize: inputSize, hiddenSize: hiddenSize,
                   numLayers: numLayers, bias: bias, batchFirst: batchFirst, dropout: dropout, dtype: dtype, device: device)
    }

    /// The output and the final hidden state h_n [L, B, H] from `hidden`
    /// (zeros when nil).
    public func callAsFunction(_ input: Tensor, hidden: Tensor?) -> (output: Tensor, hidden: Tensor) {
        let r = run(input, h0: hidden, c0: nil)
        return (r.output, r.h)
    }

    /// PyTorch's `out, h_n = rnn(x)` and `rnn(x, h0)`: the output and the
    /// final hidden state. (`rnn(x)` where a tensor is expected gives the
    /// output alone, as every module.)
    @_disfavoredOverload
    public func callAsFunction(_ input: Tensor, _ hidden: Tensor? = nil) -> (Tensor, Tensor) {
        let r = run(input, h0: hidden, c0: nil)
        return (r.output, r.h)
    }
}

/// Long short-term memory (PyTorch's `nn.LSTM`): gates i, f, g, o;
/// c = f c' + i g, h = o tanh(c).
public final class LSTM: RNNBase, @unchecked Sendable {
    public init(_ inputSize: Int, _ hiddenSize: Int, numLayers: Int = 1, bias: Bool = true, batchFirst: Bool = false,
                dropout: Double = 0, dtype: DType = .float32, device: Device = .default) {
        super.init(cell: .lstm, inputSize: inputSize, hiddenSize: hiddenSize, numLayers: numLayers, bias: bias,
                   batchFirst: batchFirst, dropout: dropout, dtype: dtype, device: device)
    }

    /// The output and the final states (h_n, c_n), each [L, B, H], from
    /// `state` (zeros when nil).
    public func callAsFunction(_ input: Tensor, state: (h: Tensor, c: Tensor)?) -> (output: Tensor, state: (h: Tensor, c: Tensor)) {
        let r = run(input, h0: state?.h, c0: state?.c)
        return (r.output, (r.h, r.c!))
    }

    /// PyTorch's `out, (h_n, c_n) = lstm(x)` and `lstm(x, (h0, c0))`: the
    /// output and the final states. (`lstm(x)` where a tensor is expected
    /// gives the output alone, as every module.)
    @_disfavoredOverload
    public func callAsFunction(_ input: Tensor, _ state: (Tensor, Tensor)? = nil) -> (Tensor, (Tensor, Tensor)) {
        let r = run(input, h0: state?.0, c0: state?.1)
        return (r.output, (r.h, r.c!))
    }
}

/// Gated recurrent unit (PyTorch's `nn.GRU`): gates r, z, n;
/// n = tanh(W_in x + b_in + r (W_hn h' + b_hn)), h = (1 - z) n + z h'.
public final class GRU: RNNBase, @unchecked Sendable {
    public init(_ inputSize: Int, _ hiddenSize: Int, numLayers: Int = 1, bias: Bool = true, batchFirst: Bool = false,
                dropout: Double = 0, dtype: DType = .float32, device: Device = .default) {
        super.init(cell: .gru, inputSize: inputSize, hiddenSize: hiddenSize, numLayers: numLayers, bias: bias,
                   batchFirst: batchFirst, dropout: dropout, dtype: dtype, device: device)
    }

    /// The output and the final hidden state h_n [L, B, H] from `hidden`
    /// (zeros when nil).
    public func callAsFunction(_ input: Tensor, hidden: Tensor?) -> (output: Tensor, hidden: Tensor) {
        let r = run(input, h0: hidden, c0: nil)
        return (r.output, r.h)
    }

    /// PyTorch's `out, h_n = gru(x)` and `gru(x, h0)` (see `RNN`).
    @_disfavoredOverload
    public func callAsFunction(_ input: Tensor, _ hidden: Tensor? = nil) -> (Tensor, Tensor) {
        let r = run(input, h0: hidden, c0: nil)
        return (r.output, r.h)
    }
}

/// The sizes read off a recurrent layer's input, checked: programmer
/// mistakes stop with a message naming the layer and the shape.
struct RecurrentInputShape {
    let steps: Int, batch: Int, unbatched: Bool

    init(_ layer: String, _ shape: [Int], inputSize: Int, batchFirst: Bool) {
        if let problem = RecurrentInputShape.problem(shape, inputSize: inputSize, batchFirst: batchFirst) {
            requirementFailed("\(layer): \(problem)")
        }
        unbatched = shape.count == 2
        steps = unbatched || !batchFirst ? shape[0] : shape[1]
        batch = unbatched ? 1 : (batchFirst ? shape[0] : shape[1])
    }

    /// What is wrong with `shape` as an input, or nil.
    static func problem(_ shape: [Int], inputSize: Int, batchFirst: Bool) -> String? {
        let layout = batchFirst ? "[batch, time, \(inputSize)]" : "[time, batch, \(inputSize)]"
        guard shape.count == 2 || shape.count == 3 else {
            return "expected input \(layout) or unbatched [time, \(inputSize)], got \(shape)"
        }
        guard shape.last == inputSize else {
            return "input \(shape) has \(shape.last!) features on its last axis, expected \(inputSize)"
        }
        let steps = shape.count == 2 || !batchFirst ? shape[0] : shape[1]
        guard steps > 0 else { return "the sequence is empty (input \(shape), \(layout))" }
        guard shape.count == 2 || shape[batchFirst ? 0 : 1] > 0 else { return "the batch is empty (input \(shape), \(layout))" }
        return nil
    }
}
