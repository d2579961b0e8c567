import Foundation
import NNBackend

/// The fused recurrent cells (see RecurrentOps): one pass over
/// [batch, hidden] per step, split over the cores by whole batch rows.
extension CPUBackend {
    public func recurrentCellForward(_ cell: RecurrentCell, batch: Int, hidden: Int, step: RecurrentStepOperands) {
        let v = CPUCellViews(self, cell, batch: batch, hidden: hidden, step: step, gradients: nil)
        switch v.dtype {
        case .float64: v.forward(Double.self)
        default: v.forward(Float.self)
        }
    }

    public func recurrentCellBackward(_ cell: RecurrentCell, batch: Int, hidden: Int, step: RecurrentStepOperands,
                                      gradients: RecurrentStepGradients) {
        let v = CPUCellViews(self, cell, batch: batch, hidden: hidden, step: step, gradients: gradients)
        switch v.dtype {
        case .float64: v.backward(Double.self)
        default: v.backward(Float.self)
        }
    }
}

/// The raw pointers of one step's operands (nil where the cell does not use
/// the operand), after `RecurrentCell.checkOperands`.
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
        dtype = cell.checkOperands("CPUBackend.recurrentCell", batch: batch, hidden: hidden, step: step, gradients: gradients)
        self.cell = cell
        self.batch = batch
        self.hidden = hidden
        let size = dtype.byteSize
        func at(_ r: BufferRegion?) -> UnsafeMutableRawPointer? {
            r.map { backend.cpu($0.buffer, "recurrentCell").raw + $0.offset * size }
        }
        func at(_ buffer: DeviceBuffer?) -> UnsafeMutableRawPointer? { at(buffer.map { BufferRegion($0) }) }
        gates = at(step.gates)!
        hiddenGates = cell.separatesHiddenGates ? at(step.hiddenGates) : nil
        biasIH = at(step.biasIH)
        biasHH = at(step.biasHH)
        hiddenPrev = at(step.hiddenPrev)!
        hiddenOut = at(step.hidden)!
        cellPrev = cell.hasCellState ? at(step.cellPrev) : nil
        cellOut = cell.hasCellState ? at(step.cell) : nil
        if let g = gradients {
            outputGrad = at(g.outputGrad)
            carry = at(g.carry)
            cellGrad = cell.hasCellState ? at(g.cellGrad) : nil
            gradGates = at(g.gates)
            gradHiddenGates = cell.separatesHiddenGates ? at(g.hiddenGates) : nil
        }
    }

    /// Runs `body` over batch rows on all cores once there is enough work.
    private func rows(_ body: (Int) -> Void) {
        // Split only big steps (32k units and up). Right after a step's GEMM
        // OpenBLAS's idle workers spin on the other core, so handing half of
        // a small step (32 x 256 units in the char-LSTM) to a second thread
        // costs more than it saves (char-LSTM step, 4 alternating runs each:
        // 63.1 ms split from 2k units, 60.7 ms on the caller's thread).
        let grain = max(1, 32_768 / max(hidden, 1))
        parallelFor(batch, grain: grain) { r in for b in r { body(b) } }
    }

    func forward<T: CPUScalar>(_: T.Type) {
        let G = cell.gateCount * hidden
        let x = gates.assumingMemoryBound(to: T.self)
        let bi = biasIH?.assumingMemoryBound(to: T.self), bh = biasHH?.assumingMemoryBound(to: T.self)
        // GRU reads b_hh inside its loop; a zero row stands in when there is none.
        var zeroBias = cell == .gru && bh == nil ? [T](repeating: 0, count: G) : []
        zeroBias.withUnsafeMutableBufferPointer { zeros in
            let kernel = CellForward(cell: cell, H: hidden, biasHH: bh ?? zeros.baseAddress)
            rows { b in
                let row = x + b * G
                // Biases first, in a pass of their own: RNN and LSTM see their
                // sum, GRU adds b_ih here and b_hh (inside r * (.)) below.
                if let bi {
                    if cell == .gru { for k in 0..<G { row[k] += bi[k] } } else if let bh { for k in 0..<G { row[k] += bi[k] + bh[k] } }
                }
                kernel.sweep(CellRow(self, T.self, b))
            }
        }
    }

    func backward<T: CPUScalar>(_: T.Type) {
        let bh = biasHH?.assumingMemoryBound(to: T.self), G = cell.gateCount * hidden
        var zeroBias = cell == .gru && bh == nil ? [T](repeating: 0, count: G) : []
        let dy = outputGrad?.assumingMemoryBound(to: T.self), carry = carry!.assumingMemoryBound(to: T.self)
        zeroBias.withUnsafeMutableBufferPointer { zeros in
            let kernel = CellBackward(cell: cell, H: hidden, biasHH: bh ?? zeros.baseAddress)
            rows { b in
                // dh = output gradient + carry, gathered in the carry row.
                if let dy { for j in 0..<hidden { carry[b * hidden + j] += dy[b * hidden + j] } }
                kernel.sweep(CellRow(self, T.self, b))
            }
        }
    }
}

/// One batch row's blocks of every operand.
private struct CellRow<T> {
    let gates: UnsafeMutablePointer<T>, hiddenGates: UnsafeMutablePointer<T>?
    let hiddenPrev: UnsafeMutablePointer<T>, hidden: UnsafeMutablePointer<T>
    let cellPrev: UnsafeMutablePointer<T>?, cell: UnsafeMutablePointer<T>?
    let carry: UnsafeMutablePointer<T>?, cellGrad: UnsafeMutablePointer<T>?
    let gradGates: UnsafeMutablePointer<T>?, gradHiddenGates: UnsafeMutablePointer<T>?

    init(_ v: CPUCellViews, _: T.Type, _ b: Int) {
        let H = v.hidden, G = v.cell.gateCount * v.hidden
        func at(_ p: UnsafeMutableRawPointer?, _ width: Int) -> UnsafeMutablePointer<T>? {
            p.map { $0.assumingMemoryBound(to: T.self) + b * width }
        }
        gates = at(v.gates, G)!
        hiddenGates = at(v.hiddenGates, G)
        hiddenPrev = at(v.hiddenPrev, H)!
        hidden = at(v.hiddenOut, H)!
        cellPrev = at(v.cellPrev, H)
        cell = at(v.cellOut, H)
        carry = at(v.carry, H)
        cellGrad = at(v.cellGrad, H)
        gradGates = at(v.gradGates, G)
        gradHiddenGates = at(v.gradHiddenGates, G)
    }
}

/// What the cell loops compute on: one Float or Double, or 8 floats at a
/// time. The loops are written once against this and run with the widest
/// lanes, then one scalar at a time for the rest of a row.
protocol CellLanes {
    associatedtype Scalar
    static var width: Int { get }
    init(loading pointer: UnsafeMutablePointer<Scalar>)
    func store(to pointer: UnsafeMutablePointer<Scalar>)
    static func + (a: Self, b: Self) -> Self
    static func - (a: Self, b: Self) -> Self
    static func * (a: Self, b: Self) -> Self
    static var zero: Self { get }
    static var one: Self { get }
    static func sigmoidInline(_ x: Self) -> Self
    static func tanhInline(_ x: Self) -> Self
    /// x > 0 ? y : 0, lane by lane.
    static func wherePositive(_ x: Self, _ y: Self) -> Self
}

/// One float or double is a lane of width 1.
extension CellLanes where Self: BinaryFloatingPoint, Scalar == Self {
    static var width: Int { 1 }
    @inline(__always) init(loading pointer: UnsafeMutablePointer<Self>) { self = pointer.pointee }
    @inline(__always) func store(to pointer: UnsafeMutablePointer<Self>) { pointer.pointee = self }
    static var one: Self { 1 }
    @inline(__always) static func wherePositive(_ x: Self, _ y: Self) -> Self { x > 0 ? y : 0 }
}

extension Float: CellLanes { typealias Scalar = Float }
extension Double: CellLanes { typealias Scalar = Double }

extension SIMD8: CellLanes where Scalar == Float {
    static var width: Int { 8 }
    @inline(__always) init(loading pointer: UnsafeMutablePointer<Float>) {
        self = UnsafeRawPointer(pointer).loadUnaligned(as: SIMD8<Float>.self)
    }
    @inline(__always) func store(to pointer: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(pointer).storeBytes(of: self, as: SIMD8<Float>.self)
    }
    static var one: SIMD8<Float> { SIMD8(repeating: 1) }
    @inline(__always) static func wherePositive(_ x: SIMD8<Float>, _ y: SIMD8<Float>) -> SIMD8<Float> {
        y.replacing(with: 0, where: .!(x .> 0))
    }
}

/// A loop body over the hidden units of one row, run lane-wise.
private protocol CellKernel {
    associatedtype T: CPUScalar
    var H: Int { get }
    func run<V: CellLanes>(_: V.Type, _ row: CellRow<T>, _ j: Int) where V.Scalar == T
}

extension CellKernel {
    /// Units 0..<H: T.Lanes at a time, then one by one.
    @inline(__always)
    func sweep(_ row: CellRow<T>) {
        var j = 0
        while j + T.Lanes.width <= H {
            run(T.Lanes.self, row, j)
            j += T.Lanes.width
        }
        while j < H {
            run(T.self, row, j)
            j += 1
        }
    }
}

/// Gates and state update (biases already added, except GRU's b_hh).
private struct CellForward<T: CPUScalar>: CellKernel {
    let cell: RecurrentCell
    let H: Int
    let biasHH: UnsafeMutablePointer<T>?

    @inline(__always)
    func run<V: CellLanes>(_: V.Type, _ r: CellRow<T>, _ j: Int) where V.Scalar == T {
        let x = r.gates + j
        switch cell {
        case .rnnTanh, .rnnReLU:
            let a = V(loading: x)
            let y = cell == .rnnTanh ? V.tanhInline(a) : V.wherePositive(a, a)
            y.store(to: x)
            y.store(to: r.hidden + j)
        case .lstm:
            let i = V.sigmoidInline(V(loading: x)), f = V.sigmoidInline(V(loading: x + H))
            let g = V.tanhInline(V(loading: x + 2 * H)), o = V.sigmoidInline(V(loading: x + 3 * H))
            let c = f * V(loading: r.cellPrev! + j) + i * g
            i.store(to: x); f.store(to: x + H); g.store(to: x + 2 * H); o.store(to: x + 3 * H)
            c.store(to: r.cell! + j)
            (o * V.tanhInline(c)).store(to: r.hidden + j)
        case .gru:
            let hg = r.hiddenGates! + j, b = biasHH! + j
            let rg = V.sigmoidInline(V(loading: x) + (V(loading: hg) + V(loading: b)))
            let z = V.sigmoidInline(V(loading: x + H) + (V(loading: hg + H) + V(loading: b + H)))
            let n = V.tanhInline(V(loading: x + 2 * H) + rg * (V(loading: hg + 2 * H) + V(loading: b + 2 * H)))
            rg.store(to: x); z.store(to: x + H); n.store(to: x + 2 * H)
            ((V.one - z) * n + z * V(loading: r.hiddenPrev + j)).store(to: r.hidden + j)
        }
    }
}

/// The chain rule through one step; dh (output gradient + carry) is in the
/// carry row on entry.
private struct CellBackward<T: CPUScalar>: CellKernel {
    let cell: RecurrentCell
    let H: Int
    let biasHH: UnsafeMutablePointer<T>?

    @inline(__always)
    func run<V: CellLanes>(_: V.Type, _ r: CellRow<T>, _ j: Int) where V.Scalar == T {
        let a = r.gates + j, d = r.gradGates! + j, carry = r.carry! + j
        let dh = V(loading: carry)
        switch cell {
        case .rnnTanh:
            let y = V(loading: r.hidden + j)
            (dh * (V.one - y * y)).store(to: d)
            V.zero.store(to: carry)
        case .rnnReLU:
            V.wherePositive(V(loading: r.hidden + j), dh).store(to: d)
            V.zero.store(to: carry)
        case .lstm:
            let i = V(loading: a), f = V(loading: a + H), g = V(loading: a + 2 * H), o = V(loading: a + 3 * H)
            let tc = V.tanhInline(V(loading: r.cell! + j))
            let dc = V(loading: r.cellGrad! + j) + dh * o * (V.one - tc * tc)
            (dc * g * i * (V.one - i)).store(to: d)
            (dc * V(loading: r.cellPrev! + j) * f * (V.one - f)).store(to: d + H)
            (dc * i * (V.one - g * g)).store(to: d + 2 * H)
            (dh * tc * o * (V.one - o)).store(to: d + 3 * H)
            (dc * f).store(to: r.cellGrad! + j)
            V.zero.store(to: carry)
        case .gru:
            let rg = V(loading: a), z = V(loading: a + H), n = V(loading: a + 2 * H)
            let hn = V(loading: r.hiddenGates! + j + 2 * H) + V(loading: biasHH! + j + 2 * H)
            let dn = dh * (V.one - z) * (V.one - n * n)
            let dz = dh * (V(loading: r.hiddenPrev + j) - n) * z * (V.one - z)
            let dr = dn * hn * rg * (V.one - rg)
            let dhg = r.gradHiddenGates! + j
            dr.store(to: d); dz.store(to: d + H); dn.store(to: d + 2 * H)
            dr.store(to: dhg); dz.store(to: dhg + H); (dn * rg).store(to: dhg + 2 * H)
            (dh * z).store(to: carry)
        }
    }
}
