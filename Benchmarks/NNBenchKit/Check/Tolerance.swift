/// How two results must agree: the rule the parity suite and
/// `nnbench check` apply to a device's output against the CPU backend's.
public enum Tolerance: CustomStringConvertible, Sendable {
    /// Bit for bit.
    case exact
    /// Each element: |a - b| <= abs + rel * |b|.
    case elementwise(rel: Double, abs: Double)
    /// ||a - b|| <= rel * ||b|| over the whole output (GEMM-style sums).
    case norm(rel: Double)

    public var description: String {
        switch self {
        case .exact: return "exact"
        case .elementwise(let rel, let abs): return "rel \(rel), abs \(abs)"
        case .norm(let rel): return "norm rel \(rel)"
        }
    }

    /// How far `actual` is from `expected` under this rule.
    public func agreement(_ actual: [Double], _ expected: [Double]) -> Agreement {
        guard actual.count == expected.count else {
            return Agreement(error: .infinity, usage: .infinity,
                             detail: "\(actual.count) values, expected \(expected.count)")
        }
        switch self {
        case .exact:
            let differing = actual.indices.filter { actual[$0].bitPattern != expected[$0].bitPattern }
            guard let i = differing.first else { return Agreement(error: 0, usage: 0, detail: nil) }
            return Agreement(error: Double(differing.count), usage: .infinity,
                             detail: "element \(i) is \(actual[i]), expected exactly \(expected[i]) "
                                 + "(\(differing.count) of \(actual.count) differ)")
        case .elementwise(let rel, let abs):
            // usage: the worst element's error as a fraction of its bound.
            var worst: (usage: Double, error: Double, index: Int)?
            for i in actual.indices {
                let (a, e) = (actual[i], expected[i])
                let error: Double, usage: Double
                if a.isNaN || e.isNaN || a.isInfinite || e.isInfinite {
                    let same = a.isNaN ? e.isNaN : a == e
                    (error, usage) = same ? (0, 0) : (.infinity, .infinity)
                } else {
                    error = Swift.abs(a - e)
                    usage = error / (abs + rel * Swift.abs(e))
                }
                if usage > (worst?.usage ?? -1) { worst = (usage, error, i) }
            }
            guard let worst else { return Agreement(error: 0, usage: 0, detail: nil) }
            let i = worst.index
            return Agreement(error: worst.error, usage: worst.usage,
                             detail: worst.usage > 1 ? "element \(i) is \(actual[i]), expected \(expected[i]) (\(self))" : nil)
        case .norm(let rel):
            let diff = zip(actual, expected).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }.squareRoot()
            let norm = expected.reduce(0) { $0 + $1 * $1 }.squareRoot()
            let error = diff / Swift.max(norm, 1e-30)
            // A NaN difference fails (usage NaN is not <= 1).
            let usage = diff.isNaN ? .infinity : error / rel
            return Agreement(error: error, usage: usage,
                             detail: usage > 1 ? "||diff|| \(diff) > \(rel) * ||expected|| \(norm)" : nil)
        }
    }
}

/// The outcome of comparing one output under a `Tolerance`.
public struct Agreement: Sendable {
    /// exact: the number of differing elements; elementwise: the worst
    /// element's |a - b|; norm: ||a - b|| / ||b||.
    public let error: Double
    /// The error as a fraction of what the tolerance allows (<= 1 passes).
    public let usage: Double
    /// What is wrong, for a failing comparison.
    public let detail: String?

    public var passed: Bool { usage <= 1 }
}
