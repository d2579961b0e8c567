import CPUKernels
import NNBackend
/// Elementwise ops: one generic loop per arity, specialized per op by the
/// closure the switch hands it, so each op compiles to its own tight loop.
extension CPUBackend {
    public func unary(_ op: UnaryOp, _ x: DeviceBuffer, out: DeviceBuffer, count: Int) {
        let xb = cpu(x, "unary"), ob = cpu(out, "unary")
        require(xb.dtype == ob.dtype && count <= xb.count && count <= ob.count,
                     "CPUBackend.unary(\(op)): \(count) elements, input \(xb.count) \(xb.dtype), output \(ob.count) \(ob.dtype)")
        // Chunks are split here, above the op switch, so each chunk runs a
        // loop with the op's closure inlined (a closure captured into the
        // parallel body would be called indirectly per element).
        switch floatType(xb, "unary") {
        case .float64:
            let x = xb.pointer(Double.self), y = ob.pointer(Double.self)
            parallelFor(count) { r in unaryForward(op, x + r.lowerBound, y + r.lowerBound, r.count) }
        default:
            let x = xb.pointer(Float.self), y = ob.pointer(Float.self)
            parallelFor(count) { r in unaryForward(op, x + r.lowerBound, y + r.lowerBound, r.count) }
        }
    }

    public func unaryBackward(_ op: UnaryOp, x: DeviceBuffer, y: DeviceBuffer, gradOut: DeviceBuffer,
                              gradX: DeviceBuffer, count: Int) {
        let bufs = [x, y, gradOut, gradX].map { cpu($0, "unaryBackward") }
        require(bufs.allSatisfy { $0.dtype == bufs[0].dtype && $0.count >= count },
                     "CPUBackend.unaryBackward(\(op)): \(count) elements, buffers \(bufs.map { "\($0.count) \($0.dtype)" })")
        func run<T: CPUScalar>(_: T.Type) {
            let x = bufs[0].pointer(T.self), y = bufs[1].pointer(T.self), g = bufs[2].pointer(T.self)
            let gx = bufs[3].pointer(T.self)
            parallelFor(count) { r in
                let o = r.lowerBound
                unaryDerivative(op, x + o, y + o, g + o, gx + o, r.count)
            }
        }
        switch floatType(bufs[0], "unaryBackward") {
        case .float64: run(Double.self)
        default: run(Float.self)
        }
    }

    public func binary(_ op: BinaryOp, _ a: DeviceBuffer, _ b: DeviceBuffer, out: DeviceBuffer,
                       layout: BroadcastLayout) {
        let ab = cpu(a, "binary"), bb = cpu(b, "binary"), ob = cpu(out, "binary")
        require(ab.dtype == bb.dtype && ab.dtype == ob.dtype && ob.count >= layout.count,
                     "CPUBackend.binary(\(op)): dtypes \(ab.dtype), \(bb.dtype) -> \(ob.dtype), output \(ob.count) < \(layout.count)")
        func run<T: CPUScalar>(_: T.Type) {
            let a = ab.pointer(T.self), b = bb.pointer(T.self), out = ob.pointer(T.self)
            forEachBroadcastRow(layout) { o, ia, ib, n, sa, sb in binaryRow(op, a + ia, b + ib, out + o, n, sa, sb) }
        }
        switch floatType(ab, "binary") {
        case .float64: run(Double.self)
        default: run(Float.self)
        }
    }

    public func binaryBackward(_ op: BinaryOp, _ a: DeviceBuffer, _ b: DeviceBuffer, gradOut: DeviceBuffer,
                               gradA: DeviceBuffer?, gradB: DeviceBuffer?, layout: BroadcastLayout) {
        let ab = cpu(a, "binaryBackward"), bb = cpu(b, "binaryBackward"), gb = cpu(gradOut, "binaryBackward")
        let gab = gradA.map { cpu($0, "binaryBackward") }, gbb = gradB.map { cpu($0, "binaryBackward") }
        require([bb, gb].allSatisfy { $0.dtype == ab.dtype } && [gab, gbb].allSatisfy { $0 == nil || $0!.dtype == ab.dtype },
                     "CPUBackend.binaryBackward(\(op)): mixed dtypes")
        func run<T: CPUScalar>(_: T.Type) {
            let a = ab.pointer(T.self), b = bb.pointer(T.self), g = gb.pointer(T.self)
            let ga = gab?.pointer(T.self), gbp = gbb?.pointer(T.self)
            forEachBroadcastRow(layout) { o, ia, ib, n, sa, sb in
                binaryPartialsRow(op, a + ia, b + ib, g + o, ga.map { $0 + o }, gbp.map { $0 + o }, n, sa, sb)
            }
        }
        switch floatType(ab, "binaryBackward") {
        case .float64: run(Double.self)
        default: run(Float.self)
        }
    }
}

// MARK: - Loops

@inline(__always)
private func map1<T>(_ x: UnsafeMutablePointer<T>, _ out: UnsafeMutablePointer<T>, _ n: Int, _ f: (T) -> T) {
    for i in 0..<n { out[i] = f(x[i]) }
}

@inline(__always)
private func map3<T>(_ x: UnsafeMutablePointer<T>, _ y: UnsafeMutablePointer<T>, _ g: UnsafeMutablePointer<T>,
                     _ out: UnsafeMutablePointer<T>, _ n: Int, _ f: (T, T, T) -> T) {
    for i in 0..<n { out[i] = f(x[i], y[i], g[i]) }
}

/// Runs a float32 kernel of CPUKernels (vectorized at the CPU's widest
/// level: glibc's scalar expf/tanhf held these ops to about 3 GB/s) when T
/// is Float, and returns false for Double (libm, the reference).
@inline(__always)
private func floatKernel<T>(_ x: UnsafeMutablePointer<T>, _ out: UnsafeMutablePointer<T>, _ n: Int,
                            _ kernel: (UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void) -> Bool {
    guard T.self == Float.self else { return false }
    kernel(UnsafePointer(OpaquePointer(x)), UnsafeMutablePointer(OpaquePointer(out)), n)
    return true
}

/// 1 / (1 + e^-x) is already stable in IEEE arithmetic: e^-x overflows to
/// +inf for very negative x and the quotient goes to 0, as it should.
@inline(__always)
private func sigmoid<T: CPUScalar>(_ x: T) -> T { 1 / (1 + T.exp(-x)) }

func unaryForward<T: CPUScalar>(_ op: UnaryOp, _ x: UnsafeMutablePointer<T>,
                                        _ out: UnsafeMutablePointer<T>, _ n: Int) {
    switch op {
    case .negate: map1(x, out, n) { -$0 }
    case .abs: map1(x, out, n) { $0.magnitude }
    case .square: map1(x, out, n) { $0 * $0 }
    case .sqrt: map1(x, out, n) { $0.squareRoot() }
    case .exp: if !floatKernel(x, out, n, { nn_exp_f32($0, $1, $2) }) { map1(x, out, n) { T.exp($0) } }
    case .log: map1(x, out, n) { T.log($0) }
    case .reciprocal: map1(x, out, n) { 1 / $0 }
    case .sin: map1(x, out, n) { T.sin($0) }
    case .cos: map1(x, out, n) { T.cos($0) }
    case .sigmoid: if !floatKernel(x, out, n, { nn_sigmoid_f32($0, $1, $2) }) { map1(x, out, n) { sigmoid($0) } }
    case .tanh: if !floatKernel(x, out, n, { nn_tanh_f32($0, $1, $2) }) { map1(x, out, n) { T.tanh($0) } }
    case .relu: map1(x, out, n) { $0 < 0 ? 0 : $0 }  // NaN stays NaN, as in PyTorch
    case .leakyReLU(let slope):
        let s = T(slope)
        map1(x, out, n) { $0 < 0 ? s * $0 : $0 }
    case .elu(let alpha):
        let a = T(alpha)
        map1(x, out, n) { $0 > 0 ? $0 : a * T.expm1($0) }
    case .softplus(let beta, let threshold):
        let b = T(beta), t = T(threshold)
        if !floatKernel(x, out, n, { nn_softplus_f32($0, $1, $2, Float(beta), Float(threshold)) }) {
            map1(x, out, n) { b * $0 > t ? $0 : T.log1p(T.exp(b * $0)) / b }
        }
    case .addScalar(let c):
        let c = T(c)
        map1(x, out, n) { $0 + c }
    case .multiplyScalar(let c):
        let c = T(c)
        map1(x, out, n) { $0 * c }
    case .power(let p):
        let p = T(p)
        if p == 2 { map1(x, out, n) { $0 * $0 } } else { map1(x, out, n) { T.pow($0, p) } }
    case .clamp(let lo, let hi):
        let lo = T(lo), hi = T(hi)
        map1(x, out, n) { $0 < lo ? lo : ($0 > hi ? hi : $0) }
    case .sign: map1(x, out, n) { $0 > 0 ? 1 : ($0 < 0 ? -1 : 0) }
    }
}

func unaryDerivative<T: CPUScalar>(_ op: UnaryOp, _ x: UnsafeMutablePointer<T>, _ y: UnsafeMutablePointer<T>,
                                           _ g: UnsafeMutablePointer<T>, _ out: UnsafeMutablePointer<T>, _ n: Int) {
    switch op {
    case .negate: map3(x, y, g, out, n) { _, _, g in -g }
    case .abs: map3(x, y, g, out, n) { x, _, g in x > 0 ? g : (x < 0 ? -g : 0) }
    case .square: map3(x, y, g, out, n) { x, _, g in 2 * x * g }
    case .sqrt: map3(x, y, g, out, n) { _, y, g in g / (2 * y) }
    case .exp: map3(x, y, g, out, n) { _, y, g in g * y }
    case .log: map3(x, y, g, out, n) { x, _, g in g / x }
    case .reciprocal: map3(x, y, g, out, n) { _, y, g in -g * y * y }
    case .sin: map3(x, y, g, out, n) { x, _, g in g * T.cos(x) }
    case .cos: map3(x, y, g, out, n) { x, _, g in -g * T.sin(x) }
    case .sigmoid: map3(x, y, g, out, n) { _, y, g in g * y * (1 - y) }
    case .tanh: map3(x, y, g, out, n) { _, y, g in g * (1 - y * y) }
    case .relu: map3(x, y, g, out, n) { x, _, g in x > 0 ? g : 0 }
    case .leakyReLU(let slope):
        let s = T(slope)
        map3(x, y, g, out, n) { x, _, g in x > 0 ? g : g * s }
    case .elu(let alpha):
        let a = T(alpha)
        map3(x, y, g, out, n) { x, y, g in x > 0 ? g : g * (y + a) }
    case .softplus(let beta, let threshold):
        let b = T(beta), t = T(threshold)
        map3(x, y, g, out, n) { x, _, g in b * x > t ? g : g * sigmoid(b * x) }
    case .addScalar: map3(x, y, g, out, n) { _, _, g in g }
    case .multiplyScalar(let c):
        let c = T(c)
        map3(x, y, g, out, n) { _, _, g in g * c }
    case .power(let p):
        let p = T(p)
        // d/dx x^0 is 0 everywhere (pow(0, -1) would make it 0 * inf).
        if p == 0 { map3(x, y, g, out, n) { _, _, _ in 0 } } else { map3(x, y, g, out, n) { x, _, g in g * p * T.pow(x, p - 1) } }
    case .clamp(let lo, let hi):
        let lo = T(lo), hi = T(hi)
        map3(x, y, g, out, n) { x, _, g in x >= lo && x <= hi ? g : 0 }
    case .sign: map3(x, y, g, out, n) { _, _, _ in 0 }
    }
}

/// Walks a broadcast layout one row (last collapsed axis) at a time, rows
/// spread over the cores; a rank-1 layout is cut into chunks instead.
/// body(outOffset, aOffset, bOffset, length, aStep, bStep).
@inline(__always)
private func forEachBroadcastRow(_ layout: BroadcastLayout, _ body: (Int, Int, Int, Int, Int, Int) -> Void) {
    let rank = layout.shape.count
    let last = layout.shape[rank - 1]
    let sa = layout.aStrides[rank - 1], sb = layout.bStrides[rank - 1]
    if rank == 1 {
        parallelFor(last) { r in body(r.lowerBound, r.lowerBound * sa, r.lowerBound * sb, r.count, sa, sb) }
        return
    }
    let rows = layout.count / last
    parallelFor(rows, grain: max(1, (1 << 15) / last)) { range in
        for row in range {
            var rest = row, ao = 0, bo = 0
            for axis in stride(from: rank - 2, through: 0, by: -1) {
                let i = rest % layout.shape[axis]
                rest /= layout.shape[axis]
                ao += i * layout.aStrides[axis]
                bo += i * layout.bStrides[axis]
            }
            body(row * last, ao, bo, last, sa, sb)
        }
    }
}

/// out[j] = f(a[j sa], b[j sb]), with the common stride patterns split out
/// so they vectorize.
@inline(__always)
private func broadcastRow<T>(_ a: UnsafeMutablePointer<T>, _ b: UnsafeMutablePointer<T>, _ out: UnsafeMutablePointer<T>,
                             _ n: Int, _ sa: Int, _ sb: Int, _ f: (T, T) -> T) {
    if sa == 1 && sb == 1 {
        for j in 0..<n { out[j] = f(a[j], b[j]) }
    } else if sa == 1 && sb == 0 {
        let bv = b[0]
        for j in 0..<n { out[j] = f(a[j], bv) }
    } else if sa == 0 && sb == 1 {
        let av = a[0]
        for j in 0..<n { out[j] = f(av, b[j]) }
    } else {
        for j in 0..<n { out[j] = f(a[j * sa], b[j * sb]) }
    }
}

/// One row of a binary op.
func binaryRow<T: CPUScalar>(_ op: BinaryOp, _ a: UnsafeMutablePointer<T>, _ b: UnsafeMutablePointer<T>,
                                     _ out: UnsafeMutablePointer<T>, _ n: Int, _ sa: Int, _ sb: Int) {
    switch op {
    case .add: broadcastRow(a, b, out, n, sa, sb) { $0 + $1 }
    case .subtract: broadcastRow(a, b, out, n, sa, sb) { $0 - $1 }
    case .multiply: broadcastRow(a, b, out, n, sa, sb) { $0 * $1 }
    case .divide: broadcastRow(a, b, out, n, sa, sb) { $0 / $1 }
    case .maximum: broadcastRow(a, b, out, n, sa, sb) { $0.isNaN || $0 > $1 ? $0 : $1 }
    case .minimum: broadcastRow(a, b, out, n, sa, sb) { $0.isNaN || $0 < $1 ? $0 : $1 }
    case .power: broadcastRow(a, b, out, n, sa, sb) { T.pow($0, $1) }
    }
}

/// One row of the two partials of a binary op at output shape: each is a
/// function of (a, b, g), with g and the outputs dense.
func binaryPartialsRow<T: CPUScalar>(_ op: BinaryOp, _ a: UnsafeMutablePointer<T>, _ b: UnsafeMutablePointer<T>,
                                             _ g: UnsafeMutablePointer<T>, _ gradA: UnsafeMutablePointer<T>?,
                                             _ gradB: UnsafeMutablePointer<T>?, _ n: Int, _ sa: Int, _ sb: Int) {
    @inline(__always)
    func partial(_ out: UnsafeMutablePointer<T>?, _ f: (T, T, T) -> T) {
        guard let out else { return }
        for j in 0..<n { out[j] = f(a[j * sa], b[j * sb], g[j]) }
    }
    switch op {
    case .add:
        partial(gradA) { _, _, g in g }
        partial(gradB) { _, _, g in g }
    case .subtract:
        partial(gradA) { _, _, g in g }
        partial(gradB) { _, _, g in -g }
    case .multiply:
        partial(gradA) { _, b, g in g * b }
        partial(gradB) { a, _, g in g * a }
    case .divide:
        partial(gradA) { _, b, g in g / b }
        partial(gradB) { a, b, g in -g * a / (b * b) }
    case .maximum:  // ties split the gradient evenly, as PyTorch does
        partial(gradA) { a, b, g in a > b ? g : (a == b ? g / 2 : 0) }
        partial(gradB) { a, b, g in b > a ? g : (a == b ? g / 2 : 0) }
    case .minimum:
        partial(gradA) { a, b, g in a < b ? g : (a == b ? g / 2 : 0) }
        partial(gradB) { a, b, g in b < a ? g : (a == b ? g / 2 : 0) }
    case .power:
        partial(gradA) { a, b, g in g * b * T.pow(a, b - 1) }
        partial(gradB) { a, b, g in a == 0 && b >= 0 ? 0 : g * T.pow(a, b) * T.log(a) }
    }
}
