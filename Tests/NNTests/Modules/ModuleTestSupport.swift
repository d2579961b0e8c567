import XCTest
@testable import NN

/// Helpers for the module tests (namespaced so they never collide with other
/// test files' helpers).
enum MT {
    /// Mean and (population) standard deviation.
    static func stats(_ v: [Double]) -> (mean: Double, std: Double) {
        let mean = v.reduce(0, +) / Double(v.count)
        let variance = v.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(v.count)
        return (mean, variance.squareRoot())
    }

    /// The values of a parameter (any dtype) as Doubles.
    static func values(_ p: Parameter) throws -> [Double] { try TT.values(p.value) }

    /// Sets a float64 parameter to `values`.
    static func set(_ p: Parameter, _ values: [Double]) {
        p.value = Tensor(float64: values, shape: p.shape, on: p.device)
    }

    /// Row-major x [rows, inner] times w^T where w is [out, inner], plus b.
    static func affine(_ x: [Double], rows: Int, inner: Int, _ w: [Double], out: Int, _ b: [Double]?) -> [Double] {
        var y = [Double](repeating: 0, count: rows * out)
        for r in 0..<rows {
            for o in 0..<out {
                var s = b?[o] ?? 0
                for i in 0..<inner { s += x[r * inner + i] * w[o * inner + i] }
                y[r * out + o] = s
            }
        }
        return y
    }
}

/// Gradient check of `module` at `input` with respect to the input and every
/// trainable parameter (the module must hold float64 CPU parameters). The
/// checker's tensors are put into the parameters before each evaluation, so
/// the module's own forward pass is what is differentiated; `prepare` runs
/// before each forward (e.g. to reseed dropout).
@discardableResult
func assertModuleGradientCheck(_ module: Module, input: Tensor, tolerance: Double = 1e-5,
                               prepare: (() -> Void)? = nil,
                               _ message: @autoclosure () -> String = "",
                               file: StaticString = #filePath, line: UInt = #line) -> GradientCheck.Result? {
    let parameters = module.parameters()
    for (name, p) in module.namedParameters() {
        XCTAssertEqual(p.value.dtype, .float64, "parameter \(name) must be float64 for a gradient check", file: file, line: line)
    }
    return assertGradientCheck([input] + parameters.map(\.value), tolerance: tolerance, message(), file: file, line: line) { xs in
        for (p, v) in zip(parameters, xs.dropFirst()) { p.value = v }
        prepare?()
        return module(xs[0])
    }
}
