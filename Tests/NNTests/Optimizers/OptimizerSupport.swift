import XCTest
@testable import NN

/// Helpers for the optimizer tests: a parameter and a loss whose gradient
/// is known in closed form.
enum OptimTest {
    /// A float64 CPU parameter.
    static func parameter(_ values: [Double]) -> Parameter { Parameter(TT.f64(values, [values.count])) }

    /// Runs `steps` optimizer steps on loss = sum(p^2) / 2 (gradient = p)
    /// and returns p after each.
    static func quadratic(_ optimizer: any Optimizer, _ p: Parameter, steps: Int = 3) throws -> [[Double]] {
        try (0..<steps).map { _ in
            optimizer.zeroGrad()
            (p.value.square() * 0.5).sum().backward()
            optimizer.step()
            return try TT.values(p.value)
        }
    }

    /// Runs steps on loss = sum(c * p) (gradient = c whatever p is).
    static func linear(_ optimizer: any Optimizer, _ p: Parameter, _ c: [Double], steps: Int = 3) throws -> [[Double]] {
        try (0..<steps).map { _ in
            optimizer.zeroGrad()
            (p.value * TT.f64(c, p.shape)).sum().backward()
            optimizer.step()
            return try TT.values(p.value)
        }
    }

    /// Sets the gradients of `p` directly (for many-step comparisons with a
    /// reference loop fed the same gradients).
    static func setGrad(_ p: Parameter, _ g: [Double]) { p.value.grad = TT.f64(g, p.shape) }
}

func assertSteps(_ got: [[Double]], _ expected: [[Double]], tol: Double = 1e-15, _ message: String = "",
                 file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(got.count, expected.count, message, file: file, line: line)
    for (i, (g, e)) in zip(got, expected).enumerated() {
        assertTensorValues(g, e, abs: tol, rel: tol, "\(message) step \(i + 1)", file: file, line: line)
    }
}
