import NN

/// Memory-bound elementwise ops at 1M and 16M floats (4 MiB, a cache's worth;
/// 64 MiB, well past any cache), rated in GB/s of bytes read plus written.
enum ElementwiseSuite {
    /// 1M and 16M elements; tiny: 1000.
    static func sizes(_ scale: Scale) -> [(label: String, count: Int)] {
        switch scale {
        case .standard, .large: return [("1M", 1 << 20), ("16M", 1 << 24)]
        case .tiny: return [("1000", 1000)]
        }
    }

    enum Op: String, CaseIterable {
        case add, biasAdd = "add bias row", relu, sigmoid, tanh, exp, reluBackward = "relu backward"

        /// Float arrays each element touches: inputs read plus the output
        /// written (the bias row of `biasAdd` is 1024 floats, counted once).
        func bytes(_ n: Int) -> Double {
            switch self {
            case .add, .reluBackward: return 12 * Double(n)
            case .relu, .sigmoid, .tanh, .exp: return 8 * Double(n)
            case .biasAdd: return 8 * Double(n) + 4 * Double(ElementwiseSuite.rowLength(n))
            }
        }
    }

    /// The row length of the bias-add case: a Linear layer's 1024 outputs
    /// (the whole array when smaller).
    static func rowLength(_ n: Int) -> Int { n % 1024 == 0 ? 1024 : n }

    static func cases(_ scale: Scale) -> [BenchmarkCase] {
        sizes(scale).flatMap { size in
            Op.allCases.map { op in
                BenchmarkCase(.elementwise, "\(op.rawValue) \(size.label)", work: .bytes(op.bytes(size.count))) { device in
                    body(op, size.count, device.backend)
                }
            }
        }
    }

    static func body(_ op: Op, _ n: Int, _ backend: any Backend) -> () -> Void {
        let x = BenchmarkData.randomBuffer(backend, count: n, seed: 21)
        let out = BenchmarkData.zeroBuffer(backend, count: n)
        switch op {
        case .add:
            let y = BenchmarkData.randomBuffer(backend, count: n, seed: 22)
            let layout = BroadcastLayout([n], [n])!
            return { backend.binary(.add, x, y, out: out, layout: layout) }
        case .biasAdd:
            let row = rowLength(n)
            let bias = BenchmarkData.randomBuffer(backend, count: row, seed: 23)
            let layout = BroadcastLayout([n / row, row], [row])!
            return { backend.binary(.add, x, bias, out: out, layout: layout) }
        case .relu:
            return { backend.unary(.relu, x, out: out, count: n) }
        case .sigmoid:
            return { backend.unary(.sigmoid, x, out: out, count: n) }
        case .tanh:
            return { backend.unary(.tanh, x, out: out, count: n) }
        case .exp:
            return { backend.unary(.exp, x, out: out, count: n) }
        case .reluBackward:
            let grad = BenchmarkData.randomBuffer(backend, count: n, seed: 24)
            let y = BenchmarkData.zeroBuffer(backend, count: n)
            backend.unary(.relu, x, out: y, count: n)
            return { backend.unaryBackward(.relu, x: x, y: y, gradOut: grad, gradX: out, count: n) }
        }
    }
}
