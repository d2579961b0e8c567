import NNBackend

/// Fused elementwise chains: each program becomes one generated kernel that
/// computes every node for its element in registers by calling the op
/// functions of Kernels/elementwise.cl, and writes only the outputs. A
/// kernel is built once per chain signature (the nodes, with the ops'
/// parameters passed as arguments, and which axes each input walks) and
/// cached like the kernel families, on disk too where the binary cache is
/// on.
extension OpenCLBackend {
    public func fused(_ program: ElementwiseProgram, inputs: [DeviceBuffer], outputs: [DeviceBuffer], layout: FusedLayout) {
        let ins = inputs.map { cl($0, "fused") }, outs = outputs.map { cl($0, "fused") }
        require(ins.count == program.inputCount && layout.strides.count == ins.count && outs.count == program.outputs.count,
                "OpenCLBackend.fused: \(ins.count) inputs and \(outs.count) outputs for \(program)")
        let dtype = ins[0].dtype
        require(dtype.isFloatingPoint && (ins + outs).allSatisfy { $0.dtype == dtype } && outs.allSatisfy { $0.count >= layout.count },
                "OpenCLBackend.fused: buffers \((ins + outs).map { "\($0.count) \($0.dtype)" }) for \(layout.count) elements")
        require(layout.count <= Int(Int32.max), "OpenCLBackend.fused: \(layout.count) elements exceed the kernels' 32-bit index")
        guard layout.count > 0 else { return }
        let kernel = FusedKernel(program, layout)
        launch(generated: kernel.source, "fused_chain", dtype: dtype, global: kernel.range,
               ins.map { .buffer($0) } + outs.map { .buffer($0) } + kernel.arguments)
    }
}

/// The source of one fused chain's kernel and the arguments that follow its
/// buffers. The range is the layout's axes innermost first, so no work-item
/// divides: an input broadcast along some axes reads at the sum of the
/// others' indices times their strides, a dense one at the element's index.
struct FusedKernel {
    let source: String
    let range: [Int]
    let arguments: [KernelArgument]

    init(_ program: ElementwiseProgram, _ layout: FusedLayout) {
        let rank = layout.shape.count
        range = layout.shape.reversed() + [Int](repeating: 1, count: FusedLayout.maxRank - rank)
        var parameters = (0..<program.inputCount).map { "global const T* restrict in\($0)" }
            + program.outputs.indices.map { "global T* restrict out\($0)" }
            + range.indices.map { "const int n\($0)" }
        var arguments: [KernelArgument] = range.map { .int($0) }
        var index: [String] = []
        for k in 0..<program.inputCount {
            if layout.isDense(k) {
                index.append("i")
                continue
            }
            let strides = Array(layout.strides[k].reversed())
            var terms: [String] = []
            for (d, s) in strides.enumerated() where s != 0 {
                parameters.append("const int s\(k)_\(d)")
                arguments.append(.int(s))
                terms.append("i\(d) * s\(k)_\(d)")
            }
            index.append(terms.isEmpty ? "0" : terms.joined(separator: " + "))
        }
        var body: [String] = []
        for (n, node) in program.nodes.enumerated() {
            /// An op's parameters: kernel arguments, so the kernel serves
            /// every value (a learning rate, a slope).
            func scalars(_ op: UnaryOp) -> String {
                guard op.takesParameters else { return "(T)0, (T)0" }
                let (_, p0, p1) = op.kernel
                parameters += ["const T p\(n)_0", "const T p\(n)_1"]
                arguments += [.scalar(p0), .scalar(p1)]
                return "p\(n)_0, p\(n)_1"
            }
            let value: String
            switch node {
            case .input(let k): value = "in\(k)[\(index[k])]"
            case .unary(let op, let x): value = "unary_op_\(op.kernel.name)(v\(x), \(scalars(op)))"
            case .binary(let op, let a, let b): value = "binary_op_\(op)(v\(a), v\(b))"
            case .unaryGradient(let op, let x, let y, let g):
                value = "unary_grad_\(op.kernel.name)(v\(x), v\(y), v\(g), \(scalars(op)))"
            case .binaryGradient(let op, let a, let b, let g, let wantB):
                value = "binary_grad_\(wantB ? "b" : "a")_\(op)(v\(a), v\(b), v\(g))"
            }
            body.append("    const T v\(n) = \(value);")
        }
        body += program.outputs.enumerated().map { "    out\($0.offset)[i] = v\($0.element);" }
        source = """
            kernel void fused_chain(\(parameters.joined(separator: ", "))) {
                const int i0 = get_global_id(0), i1 = get_global_id(1), i2 = get_global_id(2);
                if (i0 >= n0 || i1 >= n1 || i2 >= n2) return;
                const int i = (i2 * n1 + i1) * n0 + i0;
            \(body.joined(separator: "\n"))
            }

            """
        self.arguments = arguments
    }
}

extension UnaryOp {
    /// Whether the op reads p0/p1 (the others get zeros).
    var takesParameters: Bool {
        switch self {
        case .leakyReLU, .elu, .softplus, .addScalar, .multiplyScalar, .power, .clamp: return true
        default: return false
        }
    }
}
