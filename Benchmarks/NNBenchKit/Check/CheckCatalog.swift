import NN

/// How large the shapes of a check are.
public enum CheckScale: String, CaseIterable, Sendable {
    /// Every kernel path at least once (partial tiles and work-groups, GEMM
    /// k-slices, both transposes) at sizes an OpenCL simulator runs in
    /// seconds.
    case small
    /// Adds the sizes that stress a real device: long rows, a K of 4099,
    /// 65,537-element vectors, LeNet-sized convolutions.
    case standard
}

/// Every `Backend` operation, forward and backward, at several shapes: the
/// cases `nnbench check` runs. Inputs are seeded, shapes include 1, primes
/// and sizes off every tile multiple, and tolerances are the parity suite's
/// (README, "Parity suite").
public enum CheckCatalog {
    static let sums = Tolerance.norm(rel: 1e-5)
    static let elementwise = Tolerance.elementwise(rel: 1e-5, abs: 1e-6)

    public static func cases(_ scale: CheckScale) -> [CheckCase] {
        gemm(scale) + unary(scale) + binary(scale) + fused(scale) + reductions(scale) + softmax(scale) + convolution(scale)
            + pooling(scale) + random(scale) + optimizers(scale) + layout() + recurrentCells()
    }

    /// `small`, plus `more` at the standard scale.
    static func sizes<T>(_ scale: CheckScale, _ small: [T], more: [T]) -> [T] {
        scale == .small ? small : small + more
    }

    // MARK: GEMM

    public static func gemm(_ scale: CheckScale) -> [CheckCase] {
        // (m, n, k): ones, primes, sizes just off the 64/16/8 tile multiples,
        // a K over one vector k-slice (256), a product the vector kernel
        // packs B for (8+ row blocks, k >= 64) with a partial last column
        // block, and a large K.
        let shapes = sizes(scale, [(1, 1, 1), (7, 13, 5), (65, 67, 9), (17, 33, 300), (70, 45, 80)],
                           more: [(64, 64, 64), (100, 3, 1500), (3, 5, 4099), (257, 129, 513)])
        var cases: [CheckCase] = []
        for (m, n, k) in shapes {
            for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
                cases.append(CheckCase("gemm", "\(m)x\(n)x\(k)\(ta ? " A^T" : "")\(tb ? " B^T" : "")",
                                       [.random(m * k, seed: 1), .random(k * n, seed: 2), .random(m * n, seed: 3)], sums,
                                       usesGEMM: true) { backend, x in
                    backend.gemm(m: m, n: n, k: k, alpha: 0.75, a: MatrixOperand(x[0], ld: ta ? m : k, transposed: ta),
                                 b: MatrixOperand(x[1], ld: tb ? k : n, transposed: tb), beta: 0.5, c: MatrixOperand(x[2], ld: n))
                    return [x[2]]
                })
            }
        }
        // Batched: A transposed with a padded leading dimension, B shared by
        // the batch (stride 0), C at an offset.
        let (batch, m, n, k) = (3, 19, 33, 21)
        cases.append(CheckCase("gemmBatched", "\(batch)x\(m)x\(n)x\(k) offsets, stride 0",
                               [.random(5 + batch * k * (m + 2), seed: 6), .random(k * n, seed: 7),
                                .random(11 + batch * m * n, seed: 8)], sums, usesGEMM: true) { backend, x in
            backend.gemmBatched(batch: batch, m: m, n: n, k: k, alpha: -1,
                                a: MatrixOperand(x[0], offset: 5, ld: m + 2, transposed: true), strideA: k * (m + 2),
                                b: MatrixOperand(x[1], ld: n), strideB: 0, beta: 1,
                                c: MatrixOperand(x[2], offset: 11, ld: n), strideC: m * n)
            return [x[2]]
        })
        // Batched with A and B packed per batch item: both transposed, each
        // with its own stride per item, n off every block width.
        do {
            let (batch, m, n, k) = (2, 66, 37, 70)
            cases.append(CheckCase("gemmBatched", "\(batch)x\(m)x\(n)x\(k) A^T B^T, packed per item",
                                   [.random(batch * m * k, seed: 12), .random(3 + batch * n * k, seed: 13),
                                    .random(batch * m * n, seed: 14)], sums, usesGEMM: true) { backend, x in
                backend.gemmBatched(batch: batch, m: m, n: n, k: k, alpha: 1, a: MatrixOperand(x[0], ld: m, transposed: true),
                                    strideA: m * k,
                                    b: MatrixOperand(x[1], offset: 3, ld: k, transposed: true), strideB: n * k, beta: 0,
                                    c: MatrixOperand(x[2], ld: n), strideC: m * n)
                return [x[2]]
            })
        }
        // Batched with A and B shared by the batch (stride 0): each is
        // packed once for all items.
        do {
            let (batch, m, n, k) = (3, 66, 37, 70)
            cases.append(CheckCase("gemmBatched", "\(batch)x\(m)x\(n)x\(k) A^T and B shared, packed once",
                                   [.random(m * k, seed: 15), .random(k * n, seed: 16), .random(batch * m * n, seed: 17)], sums,
                                   usesGEMM: true) { backend, x in
                backend.gemmBatched(batch: batch, m: m, n: n, k: k, alpha: 0.5, a: MatrixOperand(x[0], ld: m, transposed: true),
                                    strideA: 0, b: MatrixOperand(x[1], ld: n), strideB: 0, beta: 1,
                                    c: MatrixOperand(x[2], ld: n), strideC: m * n)
                return [x[2]]
            })
        }
        cases.append(CheckCase("gemm float64", "65x67x129 B^T",
                               [.random(65 * 129, seed: 9, dtype: .float64), .random(129 * 67, seed: 10, dtype: .float64),
                                .random(65 * 67, seed: 11, dtype: .float64)], .norm(rel: 1e-12), dtype: .float64,
                               usesGEMM: true) { backend, x in
            backend.gemm(m: 65, n: 67, k: 129, alpha: 1, a: MatrixOperand(x[0], ld: 129),
                         b: MatrixOperand(x[1], ld: 129, transposed: true), beta: 0, c: MatrixOperand(x[2], ld: 67))
            return [x[2]]
        })
        return cases
    }

    // MARK: Elementwise

    /// Each unary op with the input range where it is defined.
    public static let unaryOps: [(UnaryOp, Double, Double)] = [
        (.negate, -3, 3), (.abs, -3, 3), (.square, -3, 3), (.sqrt, 0.1, 4), (.exp, -5, 5), (.log, 0.05, 9),
        (.reciprocal, 0.2, 3), (.sin, -4, 4), (.cos, -4, 4), (.sigmoid, -8, 8), (.tanh, -4, 4), (.relu, -2, 2),
        (.leakyReLU(slope: 0.1), -2, 2), (.elu(alpha: 1.3), -3, 3), (.softplus(beta: 2, threshold: 5), -4, 4),
        (.addScalar(0.5), -1, 1), (.multiplyScalar(-1.5), -1, 1), (.power(3), -2, 2), (.power(2), -2, 2),
        (.power(0.5), 0.1, 4), (.clamp(min: -0.5, max: 0.25), -1, 1), (.sign, -1, 1),
    ]

    public static func unary(_ scale: CheckScale) -> [CheckCase] {
        var cases: [CheckCase] = []
        for (index, (op, low, high)) in unaryOps.enumerated() {
            for count in sizes(scale, [1, 7, 1000], more: [65_537]) {
                let seed = UInt64(index * 10 + count)
                cases.append(CheckCase("unary \(op)", "n=\(count)", [.random(count, seed: seed, low: low, high: high),
                                                                     .random(count, seed: seed + 1)], elementwise) { backend, x in
                    let y = backend.makeBuffer(count: count, dtype: .float32), gx = backend.makeBuffer(count: count, dtype: .float32)
                    backend.unary(op, x[0], out: y, count: count)
                    backend.unaryBackward(op, x: x[0], y: y, gradOut: x[1], gradX: gx, count: count)
                    return [y, gx]
                })
            }
            cases.append(CheckCase("unary \(op)", "n=257 float64",
                                   [.random(257, seed: UInt64(index), low: low, high: high, dtype: .float64),
                                    .random(257, seed: 99, dtype: .float64)],
                                   .elementwise(rel: 1e-12, abs: 1e-14), dtype: .float64) { backend, x in
                let y = backend.makeBuffer(count: 257, dtype: .float64), gx = backend.makeBuffer(count: 257, dtype: .float64)
                backend.unary(op, x[0], out: y, count: 257)
                backend.unaryBackward(op, x: x[0], y: y, gradOut: x[1], gradX: gx, count: 257)
                return [y, gx]
            })
        }
        return cases
    }

    public static func binary(_ scale: CheckScale) -> [CheckCase] {
        let shapes: [([Int], [Int])] = sizes(scale, [([1], [1]), ([7], [7]), ([2, 3], [3]), ([3, 1], [1, 4]),
                                                     ([2, 3, 4], [3, 1]), ([5], [2, 5])],
                                             more: [([31, 1, 7], [1, 13, 1]), ([300, 200], [300, 200])])
        var cases: [CheckCase] = []
        for op in BinaryOp.allCases {
            for (sa, sb) in shapes {
                let layout = BroadcastLayout(sa, sb)!
                let low: Double = op == .power || op == .divide ? 0.5 : -2
                cases.append(CheckCase("binary \(op)", "\(sa) \(sb)", [.random(sa.reduce(1, *), seed: 1, low: low, high: 2),
                                                                      .random(sb.reduce(1, *), seed: 2, low: low, high: 2),
                                                                      .random(layout.count, seed: 3)], elementwise) { backend, x in
                    let out = backend.makeBuffer(count: layout.count, dtype: .float32)
                    let ga = backend.makeBuffer(count: layout.count, dtype: .float32)
                    let gb = backend.makeBuffer(count: layout.count, dtype: .float32)
                    backend.binary(op, x[0], x[1], out: out, layout: layout)
                    backend.binaryBackward(op, x[0], x[1], gradOut: x[2], gradA: ga, gradB: gb, layout: layout)
                    return [out, ga, gb]
                })
            }
        }
        return cases
    }

    // MARK: Fused elementwise chains

    /// Every op function the generated kernels call, forward and backward,
    /// as a fused chain; every broadcast pattern a fused layout walks (dense,
    /// a row, a channel, a scalar, two operands broadcast both ways); and a
    /// float64 chain.
    public static func fused(_ scale: CheckScale) -> [CheckCase] {
        var cases: [CheckCase] = []
        for (index, (op, low, high)) in unaryOps.enumerated() {
            let count = 1000, seed = UInt64(index * 10 + 3)
            let b = ElementwiseProgram.Builder(inputCount: 2)
            let x = b.input(0), g = b.input(1), y = b.add(.unary(op, x))
            let program = b.finish(outputs: [y, b.add(.unaryGradient(op, x: x, y: y, grad: g))])
            cases.append(fusedCase("fused \(op)", [[count], [count]], program,
                                   [.random(count, seed: seed, low: low, high: high), .random(count, seed: seed + 1)]))
        }
        let shapes: [([Int], [Int])] = sizes(scale, [([2, 3], [3]), ([3, 1], [1, 4]), ([2, 3, 4], [3, 1]), ([5], []),
                                                     ([2, 3, 4, 5], [3, 1, 1])],
                                             more: [([31, 1, 7], [1, 13, 1]), ([300, 200], [200])])
        for op in BinaryOp.allCases {
            for (sa, sb) in shapes {
                let out = BroadcastLayout.outputShape(sa, sb)!
                let b = ElementwiseProgram.Builder(inputCount: 3)
                let a = b.input(0), c = b.input(1), g = b.input(2)
                let program = b.finish(outputs: [b.add(.binary(op, a, c)), b.add(.binaryGradient(op, a, c, grad: g, wantB: false)),
                                                 b.add(.binaryGradient(op, a, c, grad: g, wantB: true))])
                let low: Double = op == .power || op == .divide ? 0.5 : -2
                cases.append(fusedCase("fused \(op)", [sa, sb, out], program,
                                       [.random(sa.reduce(1, *), seed: 1, low: low, high: 2),
                                        .random(sb.reduce(1, *), seed: 2, low: low, high: 2), .random(out.reduce(1, *), seed: 3)]))
            }
        }
        // A chain through every kind of node: x * sigmoid(x + bias), its
        // gradient program (both outputs), in float32 and float64.
        let swish = FusedElementwise("swish+bias") { x, bias in (x + bias) * (x + bias).sigmoid() }.program
        let gradient = swish.gradient(needs: [true, true])!.program
        for dtype in [DType.float32, .float64] {
            let tolerance = dtype == .float64 ? Tolerance.elementwise(rel: 1e-12, abs: 1e-14) : elementwise
            cases.append(fusedCase("fused chain", [[17, 9], [9], [17, 9]], gradient,
                                   [.random(153, seed: 4, dtype: dtype), .random(9, seed: 5, dtype: dtype),
                                    .random(153, seed: 6, dtype: dtype)], tolerance: tolerance, dtype: dtype))
        }
        return cases
    }

    /// One fused program over inputs of `shapes` (broadcast to the last's
    /// broadcast of all).
    static func fusedCase(_ name: String, _ shapes: [[Int]], _ program: ElementwiseProgram, _ inputs: [CheckInput],
                          tolerance: Tolerance = elementwise, dtype: DType = .float32) -> CheckCase {
        let out = shapes.dropFirst().reduce(shapes[0]) { BroadcastLayout.outputShape($0, $1)! }
        let layout = FusedLayout(output: out, inputs: shapes)!
        return CheckCase(name, shapes.map { "\($0)" }.joined(separator: " "), inputs, tolerance, dtype: dtype) { backend, x in
            let outputs = program.outputs.map { _ in backend.makeBuffer(count: layout.count, dtype: dtype) }
            backend.fused(program, inputs: x, outputs: outputs, layout: layout)
            return outputs
        }
    }

    // MARK: Reductions and softmax

    /// Rows that leave work-groups partially filled (1, 3, 127..129), long
    /// rows, which run the local-memory tree, and strided columns 8 to a
    /// work-item with and without a partial last group (inner 16, 19).
    static func axisViews(_ scale: CheckScale) -> [AxisView] {
        sizes(scale, [AxisView(outer: 1, axis: 1, inner: 1), AxisView(outer: 5, axis: 3, inner: 1),
                      AxisView(outer: 3, axis: 127, inner: 1), AxisView(outer: 7, axis: 129, inner: 1),
                      AxisView(outer: 4, axis: 5, inner: 6), AxisView(outer: 1, axis: 1000, inner: 1),
                      AxisView(outer: 2, axis: 33, inner: 16), AxisView(outer: 3, axis: 17, inner: 19)],
              more: [AxisView(outer: 2, axis: 128, inner: 1), AxisView(outer: 1, axis: 100_003, inner: 1),
                     AxisView(outer: 1, axis: 300, inner: 65)])
    }

    public static func reductions(_ scale: CheckScale) -> [CheckCase] {
        var cases: [CheckCase] = []
        for op in ReduceOp.allCases {
            for view in axisViews(scale) {
                cases.append(CheckCase("reduce \(op)", "\(view)", [.random(view.count, seed: UInt64(view.axis))],
                                       .elementwise(rel: 1e-5, abs: 1e-5)) { backend, x in
                    let out = backend.makeBuffer(count: view.outer * view.inner, dtype: .float32)
                    backend.reduce(op, x[0], out: out, view: view)
                    return [out]
                })
            }
        }
        for view in axisViews(scale) {
            let n = 3
            cases.append(CheckCase("argmax, gather, scatterAdd", "\(view)",
                                   [.random(view.count, seed: 5), .labels(view.outer * n * view.inner, classes: view.axis, seed: 3),
                                    .random(view.outer * n * view.inner, seed: 6), .random(view.count, seed: 7)],
                                   .elementwise(rel: 1e-6, abs: 1e-6)) { backend, x in
                let indices = backend.makeBuffer(count: view.outer * view.inner, dtype: .int32)
                backend.argmax(x[0], indices: indices, view: view)
                let gathered = backend.makeBuffer(count: view.outer * n * view.inner, dtype: .float32)
                backend.gather(x[0], indices: x[1], out: gathered, view: view, indexCount: n)
                backend.scatterAdd(x[2], indices: x[1], out: x[3], view: view, indexCount: n)
                return [indices, gathered, x[3]]
            })
        }
        return cases
    }

    public static func softmax(_ scale: CheckScale) -> [CheckCase] {
        var cases: [CheckCase] = []
        let views = sizes(scale, [AxisView(outer: 1, axis: 1, inner: 1), AxisView(outer: 13, axis: 10, inner: 1),
                                  AxisView(outer: 3, axis: 7, inner: 5), AxisView(outer: 2, axis: 300, inner: 1)],
                          more: [AxisView(outer: 2, axis: 1000, inner: 1)])
        for view in views {
            for log in [false, true] {
                cases.append(CheckCase(log ? "logSoftmax" : "softmax", "\(view)",
                                       [.random(view.count, seed: 1, low: -20, high: 20), .random(view.count, seed: 2)],
                                       elementwise) { backend, x in
                    let y = backend.makeBuffer(count: view.count, dtype: .float32)
                    let gx = backend.makeBuffer(count: view.count, dtype: .float32)
                    backend.softmax(x[0], out: y, view: view, log: log)
                    backend.softmaxBackward(y: y, gradOut: x[1], gradX: gx, view: view, log: log)
                    return [y, gx]
                })
            }
        }
        for (rows, classes) in sizes(scale, [(1, 1), (1, 2), (37, 10)], more: [(64, 1000)]) {
            for smoothing in [0.0, 0.1] {
                cases.append(CheckCase("softmaxCrossEntropy", "\(rows)x\(classes) smoothing \(smoothing)",
                                       [.random(rows * classes, seed: 3, low: -10, high: 10), .labels(rows, classes: classes, seed: 1),
                                        .random(rows, seed: 4)], elementwise) { backend, x in
                    let losses = backend.makeBuffer(count: rows, dtype: .float32)
                    let probs = backend.makeBuffer(count: rows * classes, dtype: .float32)
                    let grad = backend.makeBuffer(count: rows * classes, dtype: .float32)
                    backend.softmaxCrossEntropy(logits: x[0], labels: x[1], losses: losses, probs: probs, rows: rows,
                                                classes: classes, labelSmoothing: smoothing)
                    backend.softmaxCrossEntropyBackward(probs: probs, labels: x[1], gradLosses: x[2], gradLogits: grad,
                                                        rows: rows, classes: classes, labelSmoothing: smoothing)
                    return [losses, probs, grad]
                })
            }
        }
        return cases
    }

    // MARK: Convolution and pooling

    public static func convolutionGeometries(_ scale: CheckScale) -> [Conv2dGeometry] {
        sizes(scale, [
            Conv2dGeometry(batch: 1, inChannels: 1, inHeight: 1, inWidth: 1, outChannels: 1, kernelH: 1, kernelW: 1),
            Conv2dGeometry(batch: 2, inChannels: 3, inHeight: 7, inWidth: 9, outChannels: 4, kernelH: 3, kernelW: 2,
                           stride: (2, 1), padding: (1, 2), dilation: (2, 1)),
            Conv2dGeometry(batch: 1, inChannels: 5, inHeight: 11, inWidth: 11, outChannels: 7, kernelH: 3, kernelW: 3,
                           stride: (3, 3), padding: (1, 1)),
        ], more: [
            Conv2dGeometry(batch: 3, inChannels: 1, inHeight: 28, inWidth: 28, outChannels: 6, kernelH: 5, kernelW: 5,
                           padding: (2, 2)),
            Conv2dGeometry(batch: 2, inChannels: 6, inHeight: 14, inWidth: 13, outChannels: 16, kernelH: 5, kernelW: 5),
        ])
    }

    public static func convolution(_ scale: CheckScale) -> [CheckCase] {
        convolutionGeometries(scale).map { g in
            let inputCount = g.inputShape.reduce(1, *), outputCount = g.outputShape.reduce(1, *)
            let weightCount = g.weightShape.reduce(1, *)
            return CheckCase("conv2d forward, backward data, backward filter",
                             "\(g.inputShape) * \(g.weightShape) -> \(g.outputShape)",
                             [.random(inputCount, seed: 1), .random(weightCount, seed: 2), .random(g.outChannels, seed: 3),
                              .random(outputCount, seed: 4)], sums, usesGEMM: true) { backend, x in
                let out = backend.makeBuffer(count: outputCount, dtype: .float32)
                let gx = backend.makeBuffer(count: inputCount, dtype: .float32)
                let gw = backend.makeBuffer(count: weightCount, dtype: .float32)
                let gb = backend.makeBuffer(count: g.outChannels, dtype: .float32)
                backend.conv2dForward(input: x[0], weight: x[1], bias: x[2], out: out, geometry: g)
                backend.conv2dBackwardData(gradOut: x[3], weight: x[1], gradInput: gx, geometry: g)
                backend.conv2dBackwardFilter(input: x[0], gradOut: x[3], gradWeight: gw, gradBias: gb, geometry: g)
                return [out, gx, gw, gb]
            }
        }
    }

    public static func poolingGeometries(_ scale: CheckScale) -> [Pool2dGeometry] {
        sizes(scale, [
            Pool2dGeometry(batch: 1, channels: 1, inHeight: 1, inWidth: 1, kernel: (1, 1)),
            Pool2dGeometry(batch: 2, channels: 2, inHeight: 8, inWidth: 6, kernel: (2, 2)),
            Pool2dGeometry(batch: 2, channels: 2, inHeight: 7, inWidth: 9, kernel: (3, 3), stride: (2, 2), padding: (1, 1)),
            Pool2dGeometry(batch: 1, channels: 3, inHeight: 13, inWidth: 11, kernel: (4, 2), stride: (3, 1), padding: (2, 1)),
            // Disjoint windows (the scattering backward) with gaps and
            // padding; a 5x5 window spelled out; then over 7x7 (the looping
            // program), disjoint and overlapping.
            Pool2dGeometry(batch: 1, channels: 2, inHeight: 9, inWidth: 10, kernel: (2, 3), stride: (3, 4), padding: (1, 1)),
            Pool2dGeometry(batch: 1, channels: 1, inHeight: 12, inWidth: 11, kernel: (5, 5), stride: (2, 2), padding: (2, 2)),
            Pool2dGeometry(batch: 1, channels: 2, inHeight: 17, inWidth: 10, kernel: (8, 3), stride: (8, 3)),
            Pool2dGeometry(batch: 1, channels: 1, inHeight: 13, inWidth: 6, kernel: (9, 2), stride: (2, 1), padding: (4, 1)),
        ], more: [Pool2dGeometry(batch: 2, channels: 3, inHeight: 28, inWidth: 28, kernel: (2, 2))])
    }

    /// Max pooling forward then backward on inputs [x, gradOut]: outputs
    /// the pooled values, the argmax indices and the input gradient.
    private static func maxPoolCase(_ name: String, _ shape: String, _ g: Pool2dGeometry, _ inputs: [CheckInput]) -> CheckCase {
        let inCount = g.inputShape.reduce(1, *), outCount = g.outputShape.reduce(1, *)
        return CheckCase(name, shape, inputs, elementwise) { backend, x in
            let out = backend.makeBuffer(count: outCount, dtype: .float32)
            let indices = backend.makeBuffer(count: outCount, dtype: .int32)
            let grad = backend.makeBuffer(count: inCount, dtype: .float32)
            backend.maxPool2dForward(input: x[0], out: out, indices: indices, geometry: g)
            backend.maxPool2dBackward(gradOut: x[1], indices: indices, gradInput: grad, geometry: g)
            return [out, indices, grad]
        }
    }

    public static func pooling(_ scale: CheckScale) -> [CheckCase] {
        var cases: [CheckCase] = []
        // NaNs win a window, and a NaN in a later window row takes over from
        // one in an earlier row: overlapping and disjoint windows, a NaN in
        // every seventh cell of distinct values.
        for g in [Pool2dGeometry(batch: 1, channels: 2, inHeight: 7, inWidth: 9, kernel: (3, 3), stride: (2, 2), padding: (1, 1)),
                  Pool2dGeometry(batch: 1, channels: 2, inHeight: 8, inWidth: 6, kernel: (2, 2))] {
            let inCount = g.inputShape.reduce(1, *), outCount = g.outputShape.reduce(1, *)
            let values: [Float] = (0..<inCount).map { (i: Int) -> Float in
                let sign: Float = i % 2 == 0 ? 1 : -1
                return i % 7 == 3 ? Float.nan : sign * Float(i) / 100
            }
            cases.append(maxPoolCase("maxPool2d forward, backward with NaNs", "\(g.inputShape) k (\(g.kernelH), \(g.kernelW))",
                                     g, [.float(values), .random(outCount, seed: 6)]))
        }
        for g in poolingGeometries(scale) {
            let inCount = g.inputShape.reduce(1, *), outCount = g.outputShape.reduce(1, *)
            let shape = "\(g.inputShape) k (\(g.kernelH), \(g.kernelW)) s (\(g.strideH), \(g.strideW)) p (\(g.padH), \(g.padW))"
            // Distinct inputs: a tie would let the backends pick different argmaxes.
            cases.append(maxPoolCase("maxPool2d forward, backward", shape, g,
                                     [.distinct(inCount, seed: 5), .random(outCount, seed: 6)]))
            for includePad in [true, false] {
                cases.append(CheckCase("avgPool2d forward, backward", shape + " countIncludePad \(includePad)",
                                       [.random(inCount, seed: 5), .random(outCount, seed: 6)], elementwise) { backend, x in
                    let out = backend.makeBuffer(count: outCount, dtype: .float32)
                    let grad = backend.makeBuffer(count: inCount, dtype: .float32)
                    backend.avgPool2dForward(input: x[0], out: out, geometry: g, countIncludePad: includePad)
                    backend.avgPool2dBackward(gradOut: x[1], gradInput: grad, geometry: g, countIncludePad: includePad)
                    return [out, grad]
                })
            }
        }
        return cases
    }

    // MARK: Random numbers

    public static func random(_ scale: CheckScale) -> [CheckCase] {
        var cases: [CheckCase] = []
        for count in sizes(scale, [1, 3, 4, 5, 1001], more: [100_000]) {
            for (seed, stream) in [(UInt64(0), UInt64(0)), (42, 7), (0xDEAD_BEEF_CAFE, 1 << 40)] {
                cases.append(CheckCase("fillUniform, fillNormal, fillDropoutMask", "n=\(count) seed \(seed) stream \(stream)",
                                       [], .exact) { backend, _ in
                    let u = backend.makeBuffer(count: count, dtype: .float32)
                    let n = backend.makeBuffer(count: count, dtype: .float32)
                    let d = backend.makeBuffer(count: count, dtype: .float32)
                    backend.fillUniform(u, count: count, low: -0.3, high: 0.7, seed: seed, stream: stream)
                    backend.fillNormal(n, count: count, mean: 0.1, std: 0.02, seed: seed, stream: stream)
                    backend.fillDropoutMask(d, count: count, p: 0.3, seed: seed, stream: stream)
                    return [u, n, d]
                })
            }
        }
        cases.append(CheckCase("fillUniform, fillNormal float64", "n=999", [], .exact, dtype: .float64) { backend, _ in
            let u = backend.makeBuffer(count: 999, dtype: .float64), n = backend.makeBuffer(count: 999, dtype: .float64)
            backend.fillUniform(u, count: 999, low: 0, high: 1, seed: 3, stream: 4)
            backend.fillNormal(n, count: 999, mean: 0, std: 1, seed: 3, stream: 4)
            return [u, n]
        })
        return cases
    }

    // MARK: Optimizer steps

    public static func optimizers(_ scale: CheckScale) -> [CheckCase] {
        let count = scale == .small ? 101 : 1003
        let inputs: [CheckInput] = [.random(count, seed: 1), .random(count, seed: 2), .random(count, seed: 3)]
        func zeros(_ backend: any Backend) -> DeviceBuffer {
            let b = backend.makeBuffer(count: count, dtype: .float32)
            backend.fill(b, value: 0, offset: 0, count: count)
            return b
        }
        var cases: [CheckCase] = []
        // Three steps each, the second with another gradient.
        for hyper in [SGDHyperparameters(learningRate: 0.1),
                      SGDHyperparameters(learningRate: 0.05, momentum: 0.9, dampening: 0.1, weightDecay: 1e-2),
                      SGDHyperparameters(learningRate: 0.05, momentum: 0.9, weightDecay: 1e-3, nesterov: true)] {
            cases.append(CheckCase("sgdStep", "n=\(count) \(hyper)", inputs, .elementwise(rel: 1e-6, abs: 1e-7)) { backend, x in
                let momentum = hyper.momentum == 0 ? nil : backend.makeBuffer(count: count, dtype: .float32)
                for step in 0..<3 {
                    backend.sgdStep(param: x[0], grad: step == 1 ? x[2] : x[1], momentumBuffer: momentum, count: count,
                                    hyper: hyper, firstStep: step == 0)
                }
                return [x[0]] + (momentum.map { [$0] } ?? [])
            })
        }
        for decoupled in [false, true] {
            let hyper = AdamHyperparameters(learningRate: 1e-2, weightDecay: 0.01, decoupledWeightDecay: decoupled)
            cases.append(CheckCase("adamStep", "n=\(count) decoupled weight decay \(decoupled)", inputs,
                                   .elementwise(rel: 1e-5, abs: 1e-7)) { backend, x in
                let m = zeros(backend), v = zeros(backend)
                for step in 1...3 {
                    backend.adamStep(param: x[0], grad: step == 2 ? x[2] : x[1], m: m, v: v, count: count, hyper: hyper, step: step)
                }
                return [x[0], m, v]
            })
        }
        for hyper in [AdagradHyperparameters(learningRate: 0.1),
                      AdagradHyperparameters(learningRate: 0.05, learningRateDecay: 0.3, weightDecay: 0.01,
                                             initialAccumulatorValue: 0.2, epsilon: 1e-6)] {
            cases.append(CheckCase("adagradStep", "n=\(count) \(hyper)", inputs, .elementwise(rel: 1e-6, abs: 1e-7)) { backend, x in
                let sum = backend.makeBuffer(count: count, dtype: .float32)
                backend.fill(sum, value: hyper.initialAccumulatorValue, offset: 0, count: count)
                for step in 1...3 {
                    backend.adagradStep(param: x[0], grad: step == 2 ? x[2] : x[1], sum: sum, count: count, hyper: hyper, step: step)
                }
                return [x[0], sum]
            })
        }
        for centered in [false, true] {
            for momentum in [0, 0.9] {
                let hyper = RMSpropHyperparameters(learningRate: 1e-2, alpha: 0.9, weightDecay: 0.01, momentum: momentum,
                                                   centered: centered)
                cases.append(CheckCase("rmspropStep", "n=\(count) momentum \(momentum) centered \(centered)", inputs,
                                       .elementwise(rel: 1e-5, abs: 1e-7)) { backend, x in
                    let squareAvg = zeros(backend), gradAvg = centered ? zeros(backend) : nil
                    let buffer = momentum != 0 ? zeros(backend) : nil
                    for step in 1...3 {
                        backend.rmspropStep(param: x[0], grad: step == 2 ? x[2] : x[1], squareAvg: squareAvg, gradAvg: gradAvg,
                                            momentumBuffer: buffer, count: count, hyper: hyper)
                    }
                    return [x[0], squareAvg] + (gradAvg.map { [$0] } ?? []) + (buffer.map { [$0] } ?? [])
                })
            }
        }
        // Where the device has float64, the double kernels agree to 1e-12.
        cases.append(CheckCase("adagradStep, rmspropStep float64", "n=101",
                               [.random(101, seed: 13, dtype: .float64), .random(101, seed: 14, dtype: .float64),
                                .random(101, seed: 15, dtype: .float64)],
                               .elementwise(rel: 1e-12, abs: 1e-14), dtype: .float64) { backend, x in
            let state = (0..<4).map { _ in backend.makeBuffer(count: 101, dtype: .float64) }
            for b in state { backend.fill(b, value: 0, offset: 0, count: 101) }
            let p2 = backend.makeBuffer(count: 101, dtype: .float64)
            backend.copy(x[0], srcOffset: 0, to: p2, dstOffset: 0, count: 101)
            for step in 1...3 {
                backend.adagradStep(param: x[0], grad: x[1], sum: state[0], count: 101,
                                    hyper: AdagradHyperparameters(learningRate: 0.1, learningRateDecay: 0.1), step: step)
                backend.rmspropStep(param: p2, grad: x[2], squareAvg: state[1], gradAvg: state[2], momentumBuffer: state[3],
                                    count: 101, hyper: RMSpropHyperparameters(momentum: 0.5, centered: true))
            }
            return [x[0], p2] + state
        })
        return cases
    }

    // MARK: Layout and memory

    public static func layout() -> [CheckCase] {
        let shape = [3, 5, 7, 2]
        return [
            CheckCase("transpose, slice, concatenate, copyStrided, unslice", "\(shape)",
                      [.random(210, seed: 1), .random(3 * 4 * 7 * 2, seed: 2), .random(5 * 1 * 2, seed: 3)], .exact) { backend, x in
                let t = backend.makeBuffer(count: 210, dtype: .float32)
                backend.transpose(x[0], shape: shape, permutation: [2, 0, 3, 1], out: t)
                let s = backend.makeBuffer(count: 3 * 2 * 3 * 2, dtype: .float32)
                backend.slice(x[0], shape: shape, starts: [0, 1, 4, 0], sizes: [3, 2, 3, 2], out: s)
                let c = backend.makeBuffer(count: 3 * 9 * 7 * 2, dtype: .float32)
                backend.concatenate([(x[0], shape), (x[1], [3, 4, 7, 2])], axis: 1, out: c, outShape: [3, 9, 7, 2])
                let b = backend.makeBuffer(count: 4 * 5 * 3 * 2, dtype: .float32)
                backend.copyStrided(x[2], StridedView(strides: [0, 2, 0, 1]), to: b, .contiguous([4, 5, 3, 2]), shape: [4, 5, 3, 2],
                                    accumulate: false)
                let acc = backend.makeBuffer(count: 210, dtype: .float32)
                backend.copy(x[0], srcOffset: 0, to: acc, dstOffset: 0, count: 210)
                backend.unslice(s, sizes: [3, 2, 3, 2], into: acc, shape: shape, starts: [0, 1, 4, 0], accumulate: true)
                return [t, s, c, b, acc]
            },
            CheckCase("copy, fill, convert", "n=100", [.random(100, seed: 4, low: -50, high: 50), .labels(33, classes: 9, seed: 2)],
                      .exact) { backend, x in
                let copied = backend.makeBuffer(count: 120, dtype: .float32)
                backend.fill(copied, value: -2.5, offset: 0, count: 120)
                backend.copy(x[0], srcOffset: 10, to: copied, dstOffset: 15, count: 80)
                let asInt = backend.makeBuffer(count: 100, dtype: .int32)
                backend.convert(x[0], to: asInt, count: 100)
                let asFloat = backend.makeBuffer(count: 33, dtype: .float32)
                backend.convert(x[1], to: asFloat, count: 33)
                let ints = backend.makeBuffer(count: 7, dtype: .int32)
                backend.fill(ints, value: 3, offset: 0, count: 7)
                return [copied, asInt, asFloat, ints]
            },
            CheckCase("convert float64", "n=50", [.random(50, seed: 5)], .exact, dtype: .float64) { backend, x in
                let d = backend.makeBuffer(count: 50, dtype: .float64), tripled = backend.makeBuffer(count: 50, dtype: .float64)
                let f = backend.makeBuffer(count: 50, dtype: .float32)
                backend.convert(x[0], to: d, count: 50)
                backend.unary(.multiplyScalar(3), d, out: tripled, count: 50)
                backend.convert(tripled, to: f, count: 50)
                return [d, f]
            },
        ]
    }

    // MARK: Recurrent cells

    /// One fused step forward and backward of every cell, with operands at
    /// offsets inside larger buffers (the padding must stay untouched).
    public static func recurrentCells() -> [CheckCase] {
        let (B, H) = (3, 5)
        var cases: [CheckCase] = []
        for cell in RecurrentCell.allCases {
            let G = cell.gateCount * H
            let inputs: [CheckInput] = [.random(7 + B * G, seed: 1), .random(7 + B * G, seed: 2), .random(G, seed: 3),
                                        .random(G, seed: 4), .random(2 + B * H, seed: 5), .random(2 + B * H, seed: 6),
                                        .random(B * H, seed: 7), .random(B * H, seed: 8), .random(B * H, seed: 9)]
            for dtype in [DType.float32, .float64] {
                let tolerance = dtype == .float32 ? elementwise : .elementwise(rel: 1e-12, abs: 1e-13)
                cases.append(CheckCase("recurrentCell \(cell)", "batch \(B) hidden \(H) \(dtype)",
                                       inputs.map { $0.converted(to: dtype) }, tolerance, dtype: dtype) { backend, b in
                    let hidden = backend.makeBuffer(count: 2 + B * H, dtype: dtype), cellOut = backend.makeBuffer(count: B * H, dtype: dtype)
                    let gradGates = backend.makeBuffer(count: 7 + B * G, dtype: dtype)
                    let gradHiddenGates = backend.makeBuffer(count: B * G, dtype: dtype)
                    for buffer in [hidden, cellOut, gradGates, gradHiddenGates] {
                        backend.fill(buffer, value: 0.25, offset: 0, count: buffer.count)
                    }
                    let step = RecurrentStepOperands(
                        gates: BufferRegion(b[0], offset: 7), hiddenGates: BufferRegion(b[1], offset: 7), biasIH: b[2], biasHH: b[3],
                        hiddenPrev: BufferRegion(b[4], offset: 2), hidden: BufferRegion(hidden, offset: 2),
                        cellPrev: BufferRegion(b[6]), cell: BufferRegion(cellOut))
                    backend.recurrentCellForward(cell, batch: B, hidden: H, step: step)
                    let gradients = RecurrentStepGradients(outputGrad: BufferRegion(b[5], offset: 2), carry: b[7], cellGrad: b[8],
                                                           gates: BufferRegion(gradGates, offset: 7),
                                                           hiddenGates: BufferRegion(gradHiddenGates))
                    backend.recurrentCellBackward(cell, batch: B, hidden: H, step: step, gradients: gradients)
                    var outputs = [b[0], hidden, b[7], gradGates]
                    if cell.hasCellState { outputs += [cellOut, b[8]] }
                    if cell.separatesHiddenGates { outputs.append(gradHiddenGates) }
                    return outputs
                })
            }
        }
        return cases
    }
}

extension CheckInput {
    /// `count` distinct values in [-2, 2) in seeded order, so max-pooling
    /// has no ties.
    static func distinct(_ count: Int, seed: UInt64) -> CheckInput {
        var rng = SplitMix64(seed: seed)
        var values = (0..<count).map { -2 + 4 * Float($0) / Float(max(count, 1)) }
        values.shuffle(using: &rng)
        return .float(values)
    }
}
