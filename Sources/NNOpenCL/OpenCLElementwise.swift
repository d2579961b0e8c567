import NNBackend

/// Elementwise ops: each op is one kernel of Kernels/elementwise.cl, named
/// after the op, with its parameters as p0/p1.
extension OpenCLBackend {
    public func unary(_ op: UnaryOp, _ x: DeviceBuffer, out: DeviceBuffer, count: Int) {
        let xb = cl(x, "unary"), ob = cl(out, "unary")
        require(xb.dtype == ob.dtype && xb.dtype.isFloatingPoint && count <= xb.count && count <= ob.count,
                     "OpenCLBackend.unary(\(op)): \(count) elements, input \(xb.count) \(xb.dtype), output \(ob.count) \(ob.dtype)")
        let (name, p0, p1) = op.kernel
        launch(.elementwise, "unary_\(name)", dtype: xb.dtype, global: count,
               .buffer(xb), .buffer(ob), .int(count), .scalar(p0), .scalar(p1))
    }

    public func unaryBackward(_ op: UnaryOp, x: DeviceBuffer, y: DeviceBuffer, gradOut: DeviceBuffer,
                              gradX: DeviceBuffer, count: Int) {
        let bufs = [x, y, gradOut, gradX].map { cl($0, "unaryBackward") }
        require(bufs.allSatisfy { $0.dtype == bufs[0].dtype && $0.count >= count } && bufs[0].dtype.isFloatingPoint,
                     "OpenCLBackend.unaryBackward(\(op)): \(count) elements, buffers \(bufs.map { "\($0.count) \($0.dtype)" })")
        let (name, p0, p1) = op.kernel
        launch(.elementwise, "unary_backward_\(name)", dtype: bufs[0].dtype, global: count,
               .buffer(bufs[0]), .buffer(bufs[1]), .buffer(bufs[2]), .buffer(bufs[3]), .int(count), .scalar(p0), .scalar(p1))
    }

    public func binary(_ op: BinaryOp, _ a: DeviceBuffer, _ b: DeviceBuffer, out: DeviceBuffer, layout: BroadcastLayout) {
        let ab = cl(a, "binary"), bb = cl(b, "binary"), ob = cl(out, "binary")
        require(ab.dtype == bb.dtype && ab.dtype == ob.dtype && ab.dtype.isFloatingPoint && ob.count >= layout.count,
                     "OpenCLBackend.binary(\(op)): dtypes \(ab.dtype), \(bb.dtype) -> \(ob.dtype), output \(ob.count) < \(layout.count)")
        guard layout.count > 0 else { return }
        let walk = Walk(layout)
        launch(.elementwise, "binary_\(op)", dtype: ab.dtype, global: walk.range, local: nil,
               [.buffer(ab), .buffer(bb), .buffer(ob), .int(walk.rank), .int8(walk.shape), .int8(walk.strides1),
                .int8(walk.strides2)])
    }

    public func binaryBackward(_ op: BinaryOp, _ a: DeviceBuffer, _ b: DeviceBuffer, gradOut: DeviceBuffer,
                               gradA: DeviceBuffer?, gradB: DeviceBuffer?, layout: BroadcastLayout) {
        let ab = cl(a, "binaryBackward"), bb = cl(b, "binaryBackward"), gb = cl(gradOut, "binaryBackward")
        require([bb, gb].allSatisfy { $0.dtype == ab.dtype } && [gradA, gradB].allSatisfy { $0 == nil || $0!.dtype == ab.dtype },
                     "OpenCLBackend.binaryBackward(\(op)): mixed dtypes")
        guard gradA != nil || gradB != nil else { return }
        guard layout.count > 0 else { return }
        let walk = Walk(layout)
        launch(.elementwise, "binary_backward_\(op)", dtype: ab.dtype, global: walk.range, local: nil,
               [.buffer(ab), .buffer(bb), .buffer(gb), .buffer(gradA), .buffer(gradB),
                .int(gradA == nil ? 0 : 1), .int(gradB == nil ? 0 : 1), .int(walk.rank), .int8(walk.shape),
                .int8(walk.strides1), .int8(walk.strides2)])
    }
}

extension UnaryOp {
    /// The kernel name suffix and the two parameters the kernel reads.
    var kernel: (name: String, p0: Double, p1: Double) {
        switch self {
        case .negate: return ("negate", 0, 0)
        case .abs: return ("abs", 0, 0)
        case .square: return ("square", 0, 0)
        case .sqrt: return ("sqrt", 0, 0)
        case .exp: return ("exp", 0, 0)
        case .log: return ("log", 0, 0)
        case .reciprocal: return ("reciprocal", 0, 0)
        case .sin: return ("sin", 0, 0)
        case .cos: return ("cos", 0, 0)
        case .sigmoid: return ("sigmoid", 0, 0)
        case .tanh: return ("tanh", 0, 0)
        case .relu: return ("relu", 0, 0)
        case .leakyReLU(let slope): return ("leakyReLU", slope, 0)
        case .elu(let alpha): return ("elu", alpha, 0)
        case .softplus(let beta, let threshold): return ("softplus", beta, threshold)
        case .addScalar(let c): return ("addScalar", c, 0)
        case .multiplyScalar(let c): return ("multiplyScalar", c, 0)
        case .power(let p): return ("power", p, 0)
        case .clamp(let lo, let hi): return ("clamp", lo, hi)
        case .sign: return ("sign", 0, 0)
        }
    }
}
