import NNBackend

/// Fused elementwise chains: the program runs node by node over chunks of
/// `chunkLength` elements, so every intermediate stays in L1 and the chain
/// streams its inputs and outputs through memory once. Each node calls the
/// same row loop as its own op (CPUElementwise.swift), so the bits are the
/// same as running the ops one by one.
extension CPUBackend {
    /// Elements per pass: 12 intermediates of float64 still fit in 48 KiB.
    static let chunkLength = 512

    public func fused(_ program: ElementwiseProgram, inputs: [DeviceBuffer], outputs: [DeviceBuffer], layout: FusedLayout) {
        let ins = inputs.map { cpu($0, "fused") }, outs = outputs.map { cpu($0, "fused") }
        require(ins.count == program.inputCount && layout.strides.count == ins.count && outs.count == program.outputs.count,
                "CPUBackend.fused: \(ins.count) inputs and \(outs.count) outputs for \(program)")
        let dtype = ins[0].dtype
        require((ins + outs).allSatisfy { $0.dtype == dtype } && outs.allSatisfy { $0.count >= layout.count },
                "CPUBackend.fused: buffers \((ins + outs).map { "\($0.count) \($0.dtype)" }) for \(layout.count) elements")
        guard layout.count > 0 else { return }
        switch floatType(ins[0], "fused") {
        case .float64: runFused(program, ins.map { $0.pointer(Double.self) }, outs.map { $0.pointer(Double.self) }, layout)
        default: runFused(program, ins.map { $0.pointer(Float.self) }, outs.map { $0.pointer(Float.self) }, layout)
        }
    }
}

/// Walks the layout's rows (innermost axis) in chunks spread over the cores.
private func runFused<T: CPUScalar>(_ program: ElementwiseProgram, _ inputs: [UnsafeMutablePointer<T>],
                                    _ outputs: [UnsafeMutablePointer<T>], _ layout: FusedLayout) {
    let shape = layout.shape, rank = shape.count
    let rowLength = shape[rank - 1], chunk = Swift.min(rowLength, CPUBackend.chunkLength)
    let chunksPerRow = (rowLength + chunk - 1) / chunk
    let nodes = program.nodes
    // The output each computed node writes straight into (its first), so
    // only inputs passed through and repeated outputs need a copy.
    var target = [Int](repeating: -1, count: nodes.count)
    for (j, node) in program.outputs.enumerated().reversed() {
        if case .input = nodes[node] { continue }
        target[node] = j
    }
    parallelFor(layout.count / rowLength * chunksPerRow, grain: Swift.max(1, (1 << 15) / chunk)) { units in
        // Per node: where its values for this chunk are and their step (0
        // for a broadcast input, 1 otherwise); 3 more chunks widen broadcast
        // operands for loops that read densely.
        withUnsafeTemporaryAllocation(of: T.self, capacity: (nodes.count + 3) * chunk) { scratch in
            let scratch = scratch.baseAddress!
            var values = [(UnsafeMutablePointer<T>, Int)](repeating: (scratch, 0), count: nodes.count)
            for unit in units {
                let row = unit / chunksPerRow, start = (unit % chunksPerRow) * chunk
                let n = Swift.min(chunk, rowLength - start)
                // The row's index on the outer axes (at most two).
                let outer = rank == 3 ? (row / shape[1], row % shape[1]) : (row, 0)
                let at = row * rowLength + start
                func widened(_ operand: Int, _ slot: Int) -> UnsafeMutablePointer<T> {
                    let (p, step) = values[operand]
                    if step == 1 { return p }
                    let wide = scratch + (nodes.count + slot) * chunk
                    wide.update(repeating: p[0], count: n)
                    return wide
                }
                for (k, node) in nodes.enumerated() {
                    let out = target[k] >= 0 ? outputs[target[k]] + at : scratch + k * chunk
                    switch node {
                    case .input(let i):
                        let s = layout.strides[i]
                        let offset = rank == 1 ? start * s[0]
                            : (rank == 2 ? outer.0 * s[0] + start * s[1] : outer.0 * s[0] + outer.1 * s[1] + start * s[2])
                        values[k] = (inputs[i] + offset, s[rank - 1])
                        continue
                    case .unary(let op, let x):
                        unaryForward(op, widened(x, 0), out, n)
                    case .binary(let op, let a, let b):
                        binaryRow(op, values[a].0, values[b].0, out, n, values[a].1, values[b].1)
                    case .unaryGradient(let op, let x, let y, let g):
                        unaryDerivative(op, widened(x, 0), widened(y, 1), widened(g, 2), out, n)
                    case .binaryGradient(let op, let a, let b, let g, let wantB):
                        binaryPartialsRow(op, values[a].0, values[b].0, widened(g, 2), wantB ? nil : out, wantB ? out : nil, n,
                                          values[a].1, values[b].1)
                    }
                    values[k] = (out, 1)
                }
                for (j, node) in program.outputs.enumerated() where target[node] != j {
                    let (p, step) = values[node], out = outputs[j] + at
                    if step == 1 { out.update(from: p, count: n) } else { out.update(repeating: p[0], count: n) }
                }
            }
        }
    }
}
