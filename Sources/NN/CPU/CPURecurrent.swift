import Foundation

/// The fused recurrent cells (see RecurrentOps): one pass over
/// [batch, hidden] per step, split over the cores by whole batch rows.
extension CPUBackend {
    public func recurrentCellForward(_ cell: RecurrentCell, batch: Int, hidden: Int, step: RecurrentStepOperands) {
        cell.checkOperands("CPUBackend.recurrentCellForward", step: step)
        let v = CPUCellViews(self, cell, batch: batch, hidden: hidden, step: step, gradients: nil)
        switch v.dtype {
        case .float64: v.forward(Double.self)
        default: v.forward(Float.self)
        }
    }

    public func recurrentCellBackward(_ cell: RecurrentCell, batch: Int, hidden: Int, step: RecurrentStepOperands,
                                      gradients: RecurrentStepGradients) {
        cell.checkOperands("CPUBackend.recurrentCellBackward", step: step, gradients: gradients)
        let v = CPUCellViews(self, cell, batch: batch, hidden: hidden, step: step, gradients: gradients)
        switch v.dtype {
        case .float64: v.backward(Double.self)
        default: v.backward(Float.self)
        }
    }
}

/// The raw pointers of one step's operands, each checked against its
/// buffer's size (nil where the cell does not use the operand).
private struct CPUCellViews {
    let cell: RecurrentCell
    let batch: Int, hidden: Int
    let dtype: DType
    let gates: UnsafeMutableRawPointer, hiddenGates: UnsafeMutableRawPointer?
    let biasIH: UnsafeMutableRawPointer?, biasHH: UnsafeMutableRawPointer?
    let hiddenPrev: UnsafeMutableRawPointer, hiddenOut: UnsafeMutableRawPointer
    let cellPrev: UnsafeMutableRawPointer?, cellOut: UnsafeMutableRawPointer?
    // Backward only.
    var outputGrad: UnsafeMutableRawPointer?, carry: UnsafeMutableRawPointer?, cellGrad: UnsafeMutableRawPointer?
    var gradGates: UnsafeMutableRawPointer?, gradHiddenGates: UnsafeMutableRawPointer?

    init(_ backend: CPUBackend, _ cell: RecurrentCell, batch: Int, hidden: Int, step: RecurrentStepOperands,
         gradients: RecurrentStepGradients?) {
        precondition(batch >= 0 && hidden >= 0, "CPUBackend.recurrentCell: batch \(batch) and hidden \(hidden) must not be negative")
        self.cell = cell
        self.batch = batch
        self.hidden = hidden
        let gateWidth = cell.gateCount * hidden
        let dtype = backend.floatType(step.gates.buffer, "recurrentCell")
        self.dtype = dtype
        func region(_ r: BufferRegion, width: Int, _ what: String) -> UnsafeMutableRawPointer {
            let b = backend.cpu(r.buffer, "recurrentCell")
            precondition(b.dtype == dtype, "CPUBackend.recurrentCell: \(what) is \(b.dtype), gates are \(dtype)")
            precondition(r.offset >= 0 && r.offset + batch * width <= b.count,
                         "CPUBackend.recurrentCell: \(what) [\(batch), \(width)] at \(r.offset) overflows a buffer of \(b.count)")
            return b.raw + r.offset * dtype.byteSize
        }
        gates = region(step.gates, width: gateWidth, "gates")
        hiddenGates = cell.separatesHiddenGates ? region(step.hiddenGates!, width: gateWidth, "hiddenGates") : nil
        // Biases are one row: check them as a batch of 1.
        func biasRow(_ buffer: DeviceBuffer?, _ what: String) -> UnsafeMutableRawPointer? {
            guard let buffer else { return nil }
            let b = backend.cpu(buffer, "recurrentCell")
            precondition(b.dtype == dtype && b.count >= gateWidth,
                         "CPUBackend.recurrentCell: \(what) has \(b.count) \(b.dtype), needs \(gateWidth) \(dtype)")
            return b.raw
        }
        biasIH = biasRow(step.biasIH, "biasIH")
        biasHH = biasRow(step.biasHH, "biasHH")
        hiddenPrev = region(step.hiddenPrev, width: hidden, "hiddenPrev")
        hiddenOut = region(step.hidden, width: hidden, "hidden")
        cellPrev = cell.hasCellState ? region(step.cellPrev!, width: hidden, "cellPrev") : nil
        cellOut = cell.hasCellState ? region(step.cell!, width: hidden, "cell") : nil
        if let g = gradients {
            outputGrad = g.outputGrad.map { region($0, width: hidden, "outputGrad") }
            carry = region(BufferRegion(g.carry), width: hidden, "carry")
            cellGrad = cell.hasCellState ? region(BufferRegion(g.cellGrad!), width: hidden, "cellGrad") : nil
            gradGates = region(g.gates, width: gateWidth, "gradient gates")
            gradHiddenGates = cell.separatesHiddenGates ? region(g.hiddenGates!, width: gateWidth, "gradient hiddenGates") : nil
        }
    }

    /// Runs `body` over batch rows on all cores once there is enough work.
    private func rows(_ body: (Int) -> Void) {
        // A step is small (32 x 256 in the char-LSTM) but the cell is
        // transcendental-heavy: split from a few thousand units on.
        let grain = max(1, 2048 / max(hidden, 1))
        parallelFor(batch, grain: grain) { r in for b in r { body(b) } }
    }

    // The loops below are written for the vectorizer: unit-stride, no
    // optionals or branches inside (biases are added in a pass of their
    // own), transcendentals from CPUMath.

    func forward<T: CPUScalar>(_: T.Type) {
        let H = hidden, G = cell.gateCount * hidden
        let x = gates.assumingMemoryBound(to: T.self)
        let hg = hiddenGates?.assumingMemoryBound(to: T.self)
        let bi = biasIH?.assumingMemoryBound(to: T.self), bh = biasHH?.assumingMemoryBound(to: T.self)
        let hp = hiddenPrev.assumingMemoryBound(to: T.self), h = hiddenOut.assumingMemoryBound(to: T.self)
        let cp = cellPrev?.assumingMemoryBound(to: T.self), c = cellOut?.assumingMemoryBound(to: T.self)
        let cell = self.cell
        rows { b in
            let row = x + b * G, hb = h + b * H
            if cell != .gru, let bi, let bh {
                for k in 0..<G { row[k] += bi[k] + bh[k] }
            }
            switch cell {
            case .rnnTanh:
                for j in 0..<H { row[j] = T.tanhInline(row[j]); hb[j] = row[j] }
            case .rnnReLU:
                for j in 0..<H { row[j] = row[j] > 0 ? row[j] : 0; hb[j] = row[j] }
            case .lstm:
                let cpb = cp! + b * H, cb = c! + b * H
                for j in 0..<H {
                    let i = T.sigmoidInline(row[j]), f = T.sigmoidInline(row[H + j])
                    let g = T.tanhInline(row[2 * H + j]), o = T.sigmoidInline(row[3 * H + j])
                    let cj = f * cpb[j] + i * g
                    row[j] = i; row[H + j] = f; row[2 * H + j] = g; row[3 * H + j] = o
                    cb[j] = cj
                    hb[j] = o * T.tanhInline(cj)
                }
            case .gru:
                // GRU keeps b_hn inside r * (.): the biases stay apart.
                let hrow = hg! + b * G, hpb = hp + b * H
                for j in 0..<H {
                    let xr = row[j] + (bi?[j] ?? 0), xz = row[H + j] + (bi?[H + j] ?? 0)
                    let xn = row[2 * H + j] + (bi?[2 * H + j] ?? 0)
                    let hr = hrow[j] + (bh?[j] ?? 0), hz = hrow[H + j] + (bh?[H + j] ?? 0)
                    let hn = hrow[2 * H + j] + (bh?[2 * H + j] ?? 0)
                    let r = T.sigmoidInline(xr + hr), z = T.sigmoidInline(xz + hz)
                    let n = T.tanhInline(xn + r * hn)
                    row[j] = r; row[H + j] = z; row[2 * H + j] = n
                    hb[j] = (1 - z) * n + z * hpb[j]
                }
            }
        }
    }

    func backward<T: CPUScalar>(_: T.Type) {
        let H = hidden, G = cell.gateCount * hidden
        let a = gates.assumingMemoryBound(to: T.self)
        let hg = hiddenGates?.assumingMemoryBound(to: T.self)
        let bh = biasHH?.assumingMemoryBound(to: T.self)
        let hp = hiddenPrev.assumingMemoryBound(to: T.self), h = hiddenOut.assumingMemoryBound(to: T.self)
        let cp = cellPrev?.assumingMemoryBound(to: T.self), c = cellOut?.assumingMemoryBound(to: T.self)
        let dy = outputGrad?.assumingMemoryBound(to: T.self), carry = carry!.assumingMemoryBound(to: T.self)
        let dc = cellGrad?.assumingMemoryBound(to: T.self)
        let dg = gradGates!.assumingMemoryBound(to: T.self), dhg = gradHiddenGates?.assumingMemoryBound(to: T.self)
        let cell = self.cell
        rows { b in
            let row = a + b * G, drow = dg + b * G, out = b * H
            let carryb = carry + out
            // dh = output gradient + carry, gathered in the carry row.
            if let dy { for j in 0..<H { carryb[j] += dy[out + j] } }
            switch cell {
            case .rnnTanh:
                let hb = h + out
                for j in 0..<H { drow[j] = carryb[j] * (1 - hb[j] * hb[j]); carryb[j] = 0 }
            case .rnnReLU:
                let hb = h + out
                for j in 0..<H { drow[j] = hb[j] > 0 ? carryb[j] : 0; carryb[j] = 0 }
            case .lstm:
                let cb = c! + out, cpb = cp! + out, dcb = dc! + out
                for j in 0..<H {
                    let dh = carryb[j]
                    let i = row[j], f = row[H + j], g = row[2 * H + j], o = row[3 * H + j]
                    let tc = T.tanhInline(cb[j])
                    let dcj = dcb[j] + dh * o * (1 - tc * tc)
                    drow[j] = dcj * g * i * (1 - i)
                    drow[H + j] = dcj * cpb[j] * f * (1 - f)
                    drow[2 * H + j] = dcj * i * (1 - g * g)
                    drow[3 * H + j] = dh * tc * o * (1 - o)
                    dcb[j] = dcj * f
                    carryb[j] = 0
                }
            case .gru:
                let hrow = hg! + b * G, dhrow = dhg! + b * G, hpb = hp + out
                for j in 0..<H {
                    let dh = carryb[j]
                    let r = row[j], z = row[H + j], n = row[2 * H + j]
                    let hn = hrow[2 * H + j] + (bh?[2 * H + j] ?? 0)
                    let dn = dh * (1 - z) * (1 - n * n)
                    let dz = dh * (hpb[j] - n) * z * (1 - z)
                    let dr = dn * hn * r * (1 - r)
                    drow[j] = dr; drow[H + j] = dz; drow[2 * H + j] = dn
                    dhrow[j] = dr; dhrow[H + j] = dz; dhrow[2 * H + j] = dn * r
                    carryb[j] = dh * z
                }
            }
        }
    }
}
