/// The fused cells of the recurrent layers: one time step's gate
/// nonlinearities and state update in one kernel, forward and backward.
///
/// A recurrent layer runs as GEMMs plus these cells (see
/// `Tensor.recurrentLayer`): one GEMM projects the input of every time step
/// at once, then each step does one GEMM for the recurrent part and one
/// cell. Gates are laid out as PyTorch lays out `weight_ih_l0`'s rows:
/// LSTM (i, f, g, o), GRU (r, z, n), each block `hidden` wide.
public enum RecurrentCell: String, Sendable, CaseIterable {
    /// h = tanh(W_ih x + b_ih + W_hh h' + b_hh)
    case rnnTanh
    /// h = relu(W_ih x + b_ih + W_hh h' + b_hh)
    case rnnReLU
    /// i, f, o = sigmoid(.), g = tanh(.), c = f c' + i g, h = o tanh(c)
    case lstm
    /// r, z = sigmoid(.), n = tanh(x_n + r (W_hn h' + b_hn)),
    /// h = (1 - z) n + z h'
    case gru

    /// Rows of the weights per hidden unit.
    public var gateCount: Int {
        switch self {
        case .rnnTanh, .rnnReLU: return 1
        case .lstm: return 4
        case .gru: return 3
        }
    }

    /// Whether the cell carries a memory state c next to h.
    public var hasCellState: Bool { self == .lstm }

    /// Whether the recurrent pre-activations are kept apart from the input
    /// ones: GRU's n gate multiplies only the recurrent part by r.
    public var separatesHiddenGates: Bool { self == .gru }
}

/// A block of a buffer starting at `offset` elements.
public struct BufferRegion: Sendable {
    public var buffer: DeviceBuffer
    public var offset: Int

    public init(_ buffer: DeviceBuffer, offset: Int = 0) {
        self.buffer = buffer
        self.offset = offset
    }
}

/// The operands of one time step; every block is [batch, width] row-major
/// with width `hidden` unless said otherwise.
public struct RecurrentStepOperands: Sendable {
    /// [batch, gates * hidden]. Forward: in, the pre-activations without
    /// biases (the input part, plus the recurrent part unless the cell
    /// separates it); out, the activated gates, which backward reads.
    public var gates: BufferRegion
    /// GRU: [batch, 3 * hidden], h' W_hh^T without bias (read only).
    public var hiddenGates: BufferRegion?
    /// [gates * hidden] each, or nil for a layer without biases.
    public var biasIH: DeviceBuffer?
    public var biasHH: DeviceBuffer?
    /// h' (the previous hidden state).
    public var hiddenPrev: BufferRegion
    /// h (forward writes it; backward reads it).
    public var hidden: BufferRegion
    /// LSTM: c' and c (forward writes c; backward reads both).
    public var cellPrev: BufferRegion?
    public var cell: BufferRegion?

    public init(gates: BufferRegion, hiddenGates: BufferRegion? = nil, biasIH: DeviceBuffer?, biasHH: DeviceBuffer?,
                hiddenPrev: BufferRegion, hidden: BufferRegion, cellPrev: BufferRegion? = nil, cell: BufferRegion? = nil) {
        self.gates = gates
        self.hiddenGates = hiddenGates
        self.biasIH = biasIH
        self.biasHH = biasHH
        self.hiddenPrev = hiddenPrev
        self.hidden = hidden
        self.cellPrev = cellPrev
        self.cell = cell
    }
}

/// The gradient operands of one step's backward.
public struct RecurrentStepGradients: Sendable {
    /// dL/dh arriving from this step's output (nil: none).
    public var outputGrad: BufferRegion?
    /// [batch, hidden]. In: dL/dh arriving from the next step (through
    /// W_hh and, for GRU, directly). Out: the part of dL/dh' that does not
    /// pass through W_hh (z * dh for GRU, zero otherwise); the caller then
    /// adds gradHiddenGates W_hh to it.
    public var carry: DeviceBuffer
    /// LSTM: [batch, hidden], dL/dc in, dL/dc' out (in place).
    public var cellGrad: DeviceBuffer?
    /// [batch, gates * hidden]: dL/d(pre-activations of the input part).
    public var gates: BufferRegion
    /// GRU: [batch, 3 * hidden]: dL/d(h' W_hh^T + b_hh). For the other
    /// cells it equals `gates`.
    public var hiddenGates: BufferRegion?

    public init(outputGrad: BufferRegion?, carry: DeviceBuffer, cellGrad: DeviceBuffer?, gates: BufferRegion,
                hiddenGates: BufferRegion? = nil) {
        self.outputGrad = outputGrad
        self.carry = carry
        self.cellGrad = cellGrad
        self.gates = gates
        self.hiddenGates = hiddenGates
    }
}

/// One time step of a recurrent cell, fused.
public protocol RecurrentOps: AnyObject {
    /// Applies the gate nonlinearities and the state update of `cell` for
    /// every (batch row, hidden unit), writing `step.hidden`, `step.cell` and
    /// the activated gates.
    func recurrentCellForward(_ cell: RecurrentCell, batch: Int, hidden: Int, step: RecurrentStepOperands)

    /// The chain rule through one forward step: from dL/dh (output + carry)
    /// and dL/dc to the gradients of the pre-activations, dL/dc' and the
    /// direct part of dL/dh'.
    func recurrentCellBackward(_ cell: RecurrentCell, batch: Int, hidden: Int, step: RecurrentStepOperands,
                               gradients: RecurrentStepGradients)
}

extension RecurrentCell {
    /// Checks one step's operands for this cell and returns their dtype:
    /// the operands it needs are there, and every block it reads or writes
    /// (`usedRegions`) fits its buffer at its offset with the gates' float
    /// dtype. Shared by the backends, which add what is theirs (buffer
    /// ownership, index range).
    @discardableResult
    package func checkOperands(_ op: String, batch: Int, hidden: Int, step: RecurrentStepOperands,
                       gradients: RecurrentStepGradients? = nil) -> DType {
        require(!separatesHiddenGates || step.hiddenGates != nil, "\(op): the \(self) cell needs hiddenGates")
        require(!hasCellState || (step.cell != nil && step.cellPrev != nil), "\(op): the \(self) cell needs cell and cellPrev")
        require((step.biasIH == nil) == (step.biasHH == nil), "\(op): pass both biases or neither")
        if let gradients {
            require(!hasCellState || gradients.cellGrad != nil, "\(op): the \(self) cell needs cellGrad")
            require(!separatesHiddenGates || gradients.hiddenGates != nil, "\(op): the \(self) cell needs gradient hiddenGates")
        }
        require(batch >= 0 && hidden >= 0, "\(op): batch \(batch) and hidden \(hidden) must not be negative")
        let dtype = step.gates.buffer.dtype
        require(dtype.isFloatingPoint, "\(op): expected float gates, got \(dtype)")
        for (region, rows, width, what) in usedRegions(batch: batch, hidden: hidden, step: step, gradients: gradients) {
            let b = region.buffer
            require(b.dtype == dtype, "\(op): \(what) is \(b.dtype), gates are \(dtype)")
            require(region.offset >= 0 && region.offset + rows * width <= b.count,
                         "\(op): \(what) [\(rows), \(width)] at \(region.offset) overflows a buffer of \(b.count)")
        }
        return dtype
    }

    /// Every block this cell reads or writes in a step, as (region, rows,
    /// width, name); biases are one row of gates * hidden.
    package func usedRegions(batch: Int, hidden: Int, step: RecurrentStepOperands, gradients: RecurrentStepGradients?)
        -> [(region: BufferRegion, rows: Int, width: Int, name: String)] {
        let gateWidth = gateCount * hidden
        var used: [(BufferRegion?, Int, Int, String)] = [
            (step.gates, batch, gateWidth, "gates"),
            (separatesHiddenGates ? step.hiddenGates : nil, batch, gateWidth, "hiddenGates"),
            (step.biasIH.map { BufferRegion($0) }, 1, gateWidth, "biasIH"),
            (step.biasHH.map { BufferRegion($0) }, 1, gateWidth, "biasHH"),
            (step.hiddenPrev, batch, hidden, "hiddenPrev"),
            (step.hidden, batch, hidden, "hidden"),
            (hasCellState ? step.cellPrev : nil, batch, hidden, "cellPrev"),
            (hasCellState ? step.cell : nil, batch, hidden, "cell"),
        ]
        if let g = gradients {
            used += [
                (g.outputGrad, batch, hidden, "outputGrad"),
                (BufferRegion(g.carry), batch, hidden, "carry"),
                (hasCellState ? g.cellGrad.map { BufferRegion($0) } : nil, batch, hidden, "cellGrad"),
                (g.gates, batch, gateWidth, "gradient gates"),
                (separatesHiddenGates ? g.hiddenGates : nil, batch, gateWidth, "gradient hiddenGates"),
            ]
        }
        return used.compactMap { r, rows, width, name in r.map { ($0, rows, width, name) } }
    }
}
