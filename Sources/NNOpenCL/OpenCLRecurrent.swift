import Foundation
import NNBackend

/// The fused recurrent cells (Kernels/rnn.cl): one launch per time step,
/// one work-item per (batch row, hidden unit).
extension OpenCLBackend {
    public func recurrentCellForward(_ cell: RecurrentCell, batch: Int, hidden: Int, step: RecurrentStepOperands) {
        let dtype = checkCellRegions(cell, batch: batch, hidden: hidden, step: step, gradients: nil)
        launch(.rnn, "\(cell.kernelName)_forward", dtype: dtype, global: [batch * hidden], local: nil,
               stepArguments(step, batch: batch, hidden: hidden))
    }

    public func recurrentCellBackward(_ cell: RecurrentCell, batch: Int, hidden: Int, step: RecurrentStepOperands,
                                      gradients g: RecurrentStepGradients) {
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

    /// The shared checks, plus this backend's: every buffer is ours and
    /// indexable with the kernels' 32-bit ints. Returns the dtype.
    private func checkCellRegions(_ cell: RecurrentCell, batch: Int, hidden: Int, step: RecurrentStepOperands,
                                  gradients: RecurrentStepGradients?) -> DType {
        let dtype = cell.checkOperands("OpenCLBackend.recurrentCell", batch: batch, hidden: hidden, step: step,
                                       gradients: gradients)
        for (region, _, _, what) in cell.usedRegions(batch: batch, hidden: hidden, step: step, gradients: gradients) {
            let b = cl(region.buffer, "recurrentCell")
            require(b.count <= Int(Int32.max),
                         "OpenCLBackend.recurrentCell: \(what) has \(b.count) elements, beyond the kernels' 32-bit indices")
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
