import NNBackend

/// A recurrent layer over a whole sequence as one autograd op: GEMMs plus
/// the backend's fused cells, all enqueued, nothing read back per step.
///
/// Forward:
/// - one GEMM projects every time step's input: X [T*B, I] W_ih^T;
/// - per step one GEMM adds h' W_hh^T (GRU keeps it apart for its n gate)
///   and one cell launch applies biases, gates and state update.
///
/// Backward through time, from the last step to the first:
/// - per step one cell launch (dL/dh, dL/dc -> gate gradients, dL/dc') and
///   one GEMM carrying dL/dh' = dGates_hh W_hh back a step;
/// - then whole-sequence GEMMs: dX = dGates W_ih, dW_ih = dGates^T X,
///   dW_hh = dGates_hh^T [h0; h_0..T-2], and row sums for the biases.
extension Tensor {
    /// Runs `cell` over `input` [T, B, I] (time-major) from the states `h0`
    /// (and, for LSTM, `c0`) [B, H], with PyTorch's weights `weightIH`
    /// [G*H, I], `weightHH` [G*H, H] and optional biases [G*H].
    ///
    /// Returns the hidden state of every step, [T, B, H]; for LSTM one more
    /// row follows, the final memory state c_T: [T + 1, B, H]. (One tensor,
    /// because an autograd op has one output; the RNN modules slice it.)
    package static func recurrentSequence(_ cell: RecurrentCell, input: Tensor, weightIH: Tensor, weightHH: Tensor,
                                  biasIH: Tensor?, biasHH: Tensor?, h0: Tensor, c0: Tensor?) -> Tensor {
        let op = "recurrentSequence(\(cell))"
        require(input.rank == 3, ShapeErrors.badRank(op, shape: input.shape, expected: "input [T, B, I]"))
        let (steps, batch, inputSize) = (input.shape[0], input.shape[1], input.shape[2])
        let gateWidth = weightHH.shape.first ?? 0, hidden = gateWidth / cell.gateCount
        require(weightIH.shape == [gateWidth, inputSize] && weightHH.shape == [cell.gateCount * hidden, hidden]
                     && gateWidth == cell.gateCount * hidden,
                     ShapeErrors.mismatch(op, weightIH.shape, weightHH.shape,
                                          "expected weight_ih [\(cell.gateCount)*H, \(inputSize)] and weight_hh [\(cell.gateCount)*H, H]"))
        require((biasIH == nil) == (biasHH == nil), "\(op): pass both biases or neither")
        for bias in [biasIH, biasHH].compactMap({ $0 }) {
            require(bias.shape == [gateWidth], ShapeErrors.mismatch(op, weightIH.shape, bias.shape, "biases must be [\(gateWidth)]"))
        }
        require(h0.shape == [batch, hidden], ShapeErrors.mismatch(op, input.shape, h0.shape, "h0 must be [\(batch), \(hidden)]"))
        require(cell.hasCellState == (c0 != nil), "\(op): c0 is needed by LSTM and only by LSTM")
        if let c0 { require(c0.shape == [batch, hidden], ShapeErrors.mismatch(op, input.shape, c0.shape, "c0 must be [\(batch), \(hidden)]")) }
        require(steps >= 1, "\(op): the sequence is empty (input \(input.shape))")
        let operands = [input, weightIH, weightHH, h0] + [biasIH, biasHH, c0].compactMap { $0 }
        for t in operands { Tensor.checkCompatible(op, input, t) }
        require(input.dtype.isFloatingPoint, "\(op): needs float tensors, got \(input.dtype)")

        let backend = input.backend
        let rows = steps * batch, block = batch * hidden
        let extraRows = cell.hasCellState ? 1 : 0
        // Pre-activations, then (after each step's cell) activated gates.
        let gates = input.emptyLike([steps, batch, gateWidth])
        let hiddenGates = cell.separatesHiddenGates ? input.emptyLike([steps, batch, gateWidth]) : nil
        let output = input.emptyLike([steps + extraRows, batch, hidden])
        let cells = cell.hasCellState ? input.emptyLike([steps, batch, hidden]) : nil

        backend.gemm(m: rows, n: gateWidth, k: inputSize, alpha: 1, a: MatrixOperand(input.buffer, ld: inputSize),
                     b: MatrixOperand(weightIH.buffer, ld: inputSize, transposed: true),
                     beta: 0, c: MatrixOperand(gates.buffer, ld: gateWidth))
        // The states step t starts from: h0 / c0, then the previous step's.
        @Sendable func previousHidden(_ t: Int) -> BufferRegion { t == 0 ? BufferRegion(h0.buffer) : BufferRegion(output.buffer, offset: (t - 1) * block) }
        @Sendable func previousCell(_ t: Int) -> BufferRegion? {
            guard let c0, let cells else { return nil }
            return t == 0 ? BufferRegion(c0.buffer) : BufferRegion(cells.buffer, offset: (t - 1) * block)
        }
        @Sendable func stepOperands(_ t: Int) -> RecurrentStepOperands {
            RecurrentStepOperands(gates: BufferRegion(gates.buffer, offset: t * batch * gateWidth),
                                  hiddenGates: hiddenGates.map { BufferRegion($0.buffer, offset: t * batch * gateWidth) },
                                  biasIH: biasIH?.buffer, biasHH: biasHH?.buffer,
                                  hiddenPrev: previousHidden(t), hidden: BufferRegion(output.buffer, offset: t * block),
                                  cellPrev: previousCell(t), cell: cells.map { BufferRegion($0.buffer, offset: t * block) })
        }
        // W_hh^T [H, G] laid out once: the steps' GEMMs then read it without
        // a transposed operand (which some GEMM kernels copy out per call).
        let weightHHT = weightHH.emptyLike([hidden, gateWidth])
        backend.transpose(weightHH.buffer, shape: [gateWidth, hidden], permutation: [1, 0], out: weightHHT.buffer)
        for t in 0..<steps {
            let s = stepOperands(t)
            // h' W_hh^T: added to the input part, or kept apart (GRU).
            let target = s.hiddenGates ?? s.gates
            backend.gemm(m: batch, n: gateWidth, k: hidden, alpha: 1,
                         a: MatrixOperand(s.hiddenPrev.buffer, offset: s.hiddenPrev.offset, ld: hidden),
                         b: MatrixOperand(weightHHT.buffer, ld: gateWidth),
                         beta: s.hiddenGates == nil ? 1 : 0, c: MatrixOperand(target.buffer, offset: target.offset, ld: gateWidth))
            backend.recurrentCellForward(cell, batch: batch, hidden: hidden, step: s)
        }
        if let cells { backend.copy(cells.buffer, srcOffset: (steps - 1) * block, to: output.buffer, dstOffset: steps * block, count: block) }

        // Inputs: input, W_ih, W_hh, h0, then b_ih, b_hh (when present), then c0 (LSTM).
        let inputs = [input, weightIH, weightHH, h0] + [biasIH, biasHH, c0].compactMap { $0 }
        let biasIndex = biasIH == nil ? nil : 4, c0Index = c0 == nil ? nil : inputs.count - 1
        return Tensor.record(op, inputs: inputs, output: output) { grad, needs in
            let gradGates = input.emptyLike([steps, batch, gateWidth])
            let gradHiddenGates = cell.separatesHiddenGates ? input.emptyLike([steps, batch, gateWidth]) : gradGates
            // dL/dh flowing back into step t (zero after the last step) and,
            // for LSTM, dL/dc, starting from the gradient of c_T.
            let carry = Tensor.zeros([batch, hidden], dtype: input.dtype, on: input.device)
            let cellGrad = cells.map { _ in input.emptyLike([batch, hidden]) }
            if let cellGrad { backend.copy(grad.buffer, srcOffset: steps * block, to: cellGrad.buffer, dstOffset: 0, count: block) }
            for t in stride(from: steps - 1, through: 0, by: -1) {
                let s = stepOperands(t)
                let g = RecurrentStepGradients(
                    outputGrad: BufferRegion(grad.buffer, offset: t * block), carry: carry.buffer, cellGrad: cellGrad?.buffer,
                    gates: BufferRegion(gradGates.buffer, offset: t * batch * gateWidth),
                    hiddenGates: cell.separatesHiddenGates ? BufferRegion(gradHiddenGates.buffer, offset: t * batch * gateWidth) : nil)
                backend.recurrentCellBackward(cell, batch: batch, hidden: hidden, step: s, gradients: g)
                // carry += dGates_hh[t] W_hh: dL/dh' for step t - 1 (dL/dh0 after t = 0).
                backend.gemm(m: batch, n: hidden, k: gateWidth, alpha: 1,
                             a: MatrixOperand(gradHiddenGates.buffer, offset: t * batch * gateWidth, ld: gateWidth),
                             b: MatrixOperand(weightHH.buffer, ld: hidden), beta: 1, c: MatrixOperand(carry.buffer, ld: hidden))
            }
            var result = [Tensor?](repeating: nil, count: inputs.count)
            if needs[0] {  // dX = dGates W_ih
                let gx = input.emptyLike()
                backend.gemm(m: rows, n: inputSize, k: gateWidth, alpha: 1, a: MatrixOperand(gradGates.buffer, ld: gateWidth),
                             b: MatrixOperand(weightIH.buffer, ld: inputSize), beta: 0, c: MatrixOperand(gx.buffer, ld: inputSize))
                result[0] = gx
            }
            if needs[1] {  // dW_ih = dGates^T X
                let gw = weightIH.emptyLike()
                backend.gemm(m: gateWidth, n: inputSize, k: rows, alpha: 1,
                             a: MatrixOperand(gradGates.buffer, ld: gateWidth, transposed: true),
                             b: MatrixOperand(input.buffer, ld: inputSize), beta: 0, c: MatrixOperand(gw.buffer, ld: inputSize))
                result[1] = gw
            }
            if needs[2] {  // dW_hh = dGates_hh^T [h0; h_0 .. h_(T-2)]
                let gw = weightHH.emptyLike()
                backend.gemm(m: gateWidth, n: hidden, k: batch, alpha: 1,
                             a: MatrixOperand(gradHiddenGates.buffer, ld: gateWidth, transposed: true),
                             b: MatrixOperand(h0.buffer, ld: hidden), beta: 0, c: MatrixOperand(gw.buffer, ld: hidden))
                if steps > 1 {
                    backend.gemm(m: gateWidth, n: hidden, k: (steps - 1) * batch, alpha: 1,
                                 a: MatrixOperand(gradHiddenGates.buffer, offset: batch * gateWidth, ld: gateWidth, transposed: true),
                                 b: MatrixOperand(output.buffer, ld: hidden), beta: 1, c: MatrixOperand(gw.buffer, ld: hidden))
                }
                result[2] = gw
            }
            result[3] = needs[3] ? carry : nil
            if let b = biasIndex {
                func rowSums(_ g: Tensor) -> Tensor {
                    let out = input.emptyLike([gateWidth])
                    backend.reduce(.sum, g.buffer, out: out.buffer, view: AxisView(outer: 1, axis: rows, inner: gateWidth))
                    return out
                }
                if needs[b] { result[b] = rowSums(gradGates) }
                // Without GRU's split both biases get the same gradient (a
                // copy each: gradients may be modified in place, by clipping).
                if needs[b + 1] { result[b + 1] = cell.separatesHiddenGates || !needs[b] ? rowSums(gradHiddenGates) : result[b]!.copied() }
            }
            if let c = c0Index, needs[c] { result[c] = cellGrad }
            return result
        }
    }
}
