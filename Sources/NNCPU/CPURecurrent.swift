import CPUKernels
import NNBackend

/// The fused recurrent cells (see RecurrentOps): the C loops of
/// Sources/CPUKernels/recurrent_cells.c (float32 at the CPU's full vector
/// width), over the batch rows, spread over the pool's threads.
extension CPUBackend {
    public func recurrentCellForward(_ cell: RecurrentCell, batch: Int, hidden: Int, step: RecurrentStepOperands) {
        runCell(cell, batch: batch, hidden: hidden, step: step, gradients: nil)
    }

    public func recurrentCellBackward(_ cell: RecurrentCell, batch: Int, hidden: Int, step: RecurrentStepOperands,
                                      gradients: RecurrentStepGradients) {
        runCell(cell, batch: batch, hidden: hidden, step: step, gradients: gradients)
    }

    private func runCell(_ cell: RecurrentCell, batch: Int, hidden: Int, step: RecurrentStepOperands,
                         gradients: RecurrentStepGradients?) {
        let op: StaticString = gradients == nil ? "recurrentCellForward" : "recurrentCellBackward"
        let dtype = cell.checkOperands("CPUBackend.\(op)", batch: batch, hidden: hidden, step: step, gradients: gradients)
        let size = dtype.byteSize
        func at(_ region: BufferRegion?) -> UnsafeMutableRawPointer? {
            region.map { cpu($0.buffer, op).raw + $0.offset * size }
        }
        func at(_ buffer: DeviceBuffer?) -> UnsafeMutableRawPointer? { at(buffer.map { BufferRegion($0) }) }
        // Operands the cell does not use stay NULL, so the C loops never
        // see a stale pointer.
        var s = nn_cell_step()
        s.hidden = Int64(hidden)
        s.gates = at(step.gates)
        s.hidden_gates = UnsafeRawPointer(cell.separatesHiddenGates ? at(step.hiddenGates) : nil)
        s.bias_ih = UnsafeRawPointer(at(step.biasIH))
        s.bias_hh = UnsafeRawPointer(at(step.biasHH))
        s.hidden_prev = UnsafeRawPointer(at(step.hiddenPrev))
        s.hidden_out = at(step.hidden)
        s.cell_prev = UnsafeRawPointer(cell.hasCellState ? at(step.cellPrev) : nil)
        s.cell_out = cell.hasCellState ? at(step.cell) : nil
        if let g = gradients {
            s.output_grad = UnsafeRawPointer(at(g.outputGrad))
            s.carry = at(g.carry)
            s.cell_grad = cell.hasCellState ? at(g.cellGrad) : nil
            s.grad_gates = at(g.gates)
            s.grad_hidden_gates = cell.separatesHiddenGates ? at(g.hiddenGates) : nil
        }
        let kind = cell.cKind, backward = gradients != nil, double = dtype == .float64
        // A few thousand units per thread at least: the char-LSTM's steps
        // (32 rows x 256 units) split in two.
        parallelFor(batch, grain: max(1, 4096 / max(hidden, 1))) { rows in
            withUnsafePointer(to: s) { s in
                let (first, end) = (Int64(rows.lowerBound), Int64(rows.upperBound))
                switch (backward, double) {
                case (false, false): nn_cell_forward_f32(kind, s, first, end)
                case (false, true): nn_cell_forward_f64(kind, s, first, end)
                case (true, false): nn_cell_backward_f32(kind, s, first, end)
                case (true, true): nn_cell_backward_f64(kind, s, first, end)
                }
            }
        }
    }
}

extension RecurrentCell {
    /// The cell's constant in recurrent_cells.h.
    fileprivate var cKind: Int32 {
        switch self {
        case .rnnTanh: return Int32(NN_CELL_RNN_TANH)
        case .rnnReLU: return Int32(NN_CELL_RNN_RELU)
        case .lstm: return Int32(NN_CELL_LSTM)
        case .gru: return Int32(NN_CELL_GRU)
        }
    }
}
