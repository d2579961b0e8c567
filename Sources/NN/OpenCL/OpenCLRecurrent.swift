import Foundation

/// The fused recurrent cells (Kernels/rnn.cl): one launch per time step,
/// one work-item per (batch row, hidden unit).
extension OpenCLBackend {
    public func recurrentCellForward(_ cell: RecurrentCell, batch: Int, hidden: Int, step: RecurrentStepOperands) {
        cell.checkOperands("OpenCLBackend.recurrentCellForward", step: step)
        let dtype = checkCellRegions(cell, batch: batch, hidden: hidden, step: step, gradients: nil)
        launch(.rnn, "\(cell.kernelName)_forward", dtype: dtype, global: [batch * hidden], local: nil,
               stepArguments(step, batch: batch, hidden: hidden))
    }

    public func recurrentCellBackward(_ cell: RecurrentCell, batch: Int, hidden: Int, step: RecurrentStepOperands,
                                      gradients g: RecurrentStepGradients) {
        cell.checkOperands("OpenCLBackend.recurrentCellBackward", step: step, gradients: g)
        let dtype = checkCellRegions(cell, batch: batch, hidden: hidden, step: step, gradients: g)
        let gradientArguments: [KernelArgument] = [
            .buffer(g.outputGrad?.buffer), .int(g.outputGrad?.offset ?? 0), .buffer(g.carry), .buffer(g.cellGrad),
            .buffer(g.gates.buffer), .int(g.gates.offset), .buffer(g.hiddenGates?.buffer), .int(g.hiddenGates?.offset ?? 0),
        ]
        launch(.rnn, "\(cell.kernelName)_backward", dtype: dtype, global: [batch * hidden], local: nil,
               stepArguments(step, batch: batch, hidden: hidden) + gradientArguments)
    }

    private func stepArguments(_ s: RecurrentStepOperands, batch: Int, hidden: Int) -> [KernelArgument] {
        [.buffer(s.gates.buffer), .int(s.gates.offset), .buffer(s.hiddenGates?.buffer), .int(s.hiddenGates?.offset ?? 0),
         .buffer(s.biasIH), .buffer(s.biasHH), .buffer(s.hiddenPrev.buffer), .int(s.hiddenPrev.offset),
         .buffer(s.hidden.buffer), .int(s.hidden.offset), .buffer(s.cellPrev?.buffer), .int(s.cellPrev?.offset ?? 0),
         .buffer(s.cell?.buffer), .int(s.cell?.offset ?? 0), .int(batch), .int(hidden)]
    }

    /// Checks every operand the cell uses against its buffer (same float
    /// dtype, block inside the buffer, 32-bit indexable) and returns the
    /// dtype.
    private func checkCellRegions(_ cell: RecurrentCell, batch: Int, hidden: Int, step: RecurrentStepOperands,
                                  gradients: RecurrentStepGradients?) -> DType {
        precondition(batch >= 0 && hidden >= 0, "OpenCLBackend.recurrentCell: batch \(batch) and hidden \(hidden) must not be negative")
        let dtype = cl(step.gates.buffer, "recurrentCell").dtype
        precondition(dtype.isFloatingPoint, "OpenCLBackend.recurrentCell: expected float gates, got \(dtype)")
        let gateWidth = cell.gateCount * hidden
        func check(_ region: BufferRegion?, rows: Int, width: Int, _ what: String) {
            guard let region else { return }
            let b = cl(region.buffer, "recurrentCell")
            precondition(b.dtype == dtype, "OpenCLBackend.recurrentCell: \(what) is \(b.dtype), gates are \(dtype)")
            precondition(region.offset >= 0 && region.offset + rows * width <= b.count && b.count <= Int(Int32.max),
                         "OpenCLBackend.recurrentCell: \(what) [\(rows), \(width)] at \(region.offset) overflows a buffer of \(b.count)")
        }
        check(step.gates, rows: batch, width: gateWidth, "gates")
        check(cell.separatesHiddenGates ? step.hiddenGates : nil, rows: batch, width: gateWidth, "hiddenGates")
        check(step.biasIH.map { BufferRegion($0) }, rows: 1, width: gateWidth, "biasIH")
        check(step.biasHH.map { BufferRegion($0) }, rows: 1, width: gateWidth, "biasHH")
        check(step.hiddenPrev, rows: batch, width: hidden, "hiddenPrev")
        check(step.hidden, rows: batch, width: hidden, "hidden")
        check(cell.hasCellState ? step.cellPrev : nil, rows: batch, width: hidden, "cellPrev")
        check(cell.hasCellState ? step.cell : nil, rows: batch, width: hidden, "cell")
        if let g = gradients {
            check(g.outputGrad, rows: batch, width: hidden, "outputGrad")
            check(BufferRegion(g.carry), rows: batch, width: hidden, "carry")
            check(cell.hasCellState ? g.cellGrad.map { BufferRegion($0) } : nil, rows: batch, width: hidden, "cellGrad")
            check(g.gates, rows: batch, width: gateWidth, "gradient gates")
            check(cell.separatesHiddenGates ? g.hiddenGates : nil, rows: batch, width: gateWidth, "gradient hiddenGates")
        }
        return dtype
    }
}

extension RecurrentCell {
    /// The kernel-name prefix in rnn.cl.
    var kernelName: String {
        switch self {
        case .rnnTanh: return "rnn_tanh"
        case .rnnReLU: return "rnn_relu"
        case .lstm: return "lstm"
        case .gru: return "gru"
        }
    }
}
