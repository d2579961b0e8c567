/// Numerical gradient checking, as in the course notes: perturb one input
/// element at a time by +-epsilon, take the central difference of the loss,
/// and compare it with the gradient backward() computed, by relative error.
///
/// The check runs in float64 on the CPU backend whatever the inputs were, so
/// the finite differences are not drowned in float32 round-off: with
/// epsilon = 1e-6 a correct backward agrees to about 1e-8, and a wrong one
/// (a dropped term, a wrong sign, a factor off by 1%) shows errors of 1e-2
/// and more. The default tolerance, 1e-5, sits between the two.
///
/// A function with a vector output is checked through loss = sum(f(x) * r)
/// with fixed random weights r, so every output element takes part.
public enum GradientCheck {
    public struct Mismatch: CustomStringConvertible, Sendable {
        public let input: Int
        public let index: Int
        public let analytic: Double
        public let numeric: Double
        public let relativeError: Double

        public var description: String {
            "input \(input) element \(index): analytic \(analytic), numeric \(numeric), relative error \(relativeError)"
        }
    }

    public struct Result: CustomStringConvertible, Sendable {
        /// The largest relative error over all checked elements.
        public let maxRelativeError: Double
        /// The element with that error.
        public let worst: Mismatch?
        public let tolerance: Double
        public let checkedElements: Int

        public var passed: Bool { maxRelativeError <= tolerance }

        public var description: String {
            "gradient check \(passed ? "passed" : "FAILED"): max relative error \(maxRelativeError) "
                + "(tolerance \(tolerance), \(checkedElements) elements)" + (worst.map { "; worst at \($0)" } ?? "")
        }
    }

    /// Checks the gradients of `f` with respect to every float input.
    ///
    /// - Parameters:
    ///   - inputs: the point to check at; float inputs are differentiated,
    ///     int32 inputs (labels, indices) are passed through unchanged.
    ///   - epsilon: the central-difference step.
    ///   - tolerance: the largest relative error that passes.
    ///   - floor: relative error is |a - n| / max(|a|, |n|, floor), so
    ///     gradients that are both ~0 do not divide noise by noise.
    ///   - f: the function; it receives float64 CPU tensors, so constants it
    ///     creates must be float64 on `.cpu` too.
    public static func check(_ inputs: [Tensor], epsilon: Double = 1e-6, tolerance: Double = 1e-5, floor: Double = 1e-6,
                             _ f: ([Tensor]) -> Tensor) throws -> Result {
        let base: [Tensor] = try inputs.map { x in
            let onCPU = try x.detached().to(.cpu)
            return x.dtype.isFloatingPoint ? onCPU.to(dtype: .float64) : onCPU
        }
        // Fixed projection weights, from a fixed stream independent of the
        // global random state.
        let probe = withNoGrad { f(base) }
        let weights = Tensor.normal(probe.shape, dtype: .float64, on: .cpu, seed: 0x6C0DE, stream: 0)
        func loss(_ xs: [Tensor]) -> Tensor { (f(xs) * weights).sum() }

        // Analytic gradients.
        let leaves = base.map { $0.dtype.isFloatingPoint ? $0.requiringGrad() : $0 }
        loss(leaves).backward()

        var worst: Mismatch?
        var maxError = 0.0, checked = 0
        for (i, x) in base.enumerated() where x.dtype.isFloatingPoint {
            let analytic = try leaves[i].grad?.toArray(as: Double.self) ?? [Double](repeating: 0, count: x.count)
            var values = try x.toArray(as: Double.self)
            for j in 0..<values.count {
                let original = values[j]
                func evaluate(_ v: Double) throws -> Double {
                    values[j] = v
                    var xs = base
                    xs[i] = Tensor(float64: values, shape: x.shape, on: .cpu)
                    return try withNoGrad { try loss(xs).scalarDouble() }
                }
                let numeric = (try evaluate(original + epsilon) - (try evaluate(original - epsilon))) / (2 * epsilon)
                values[j] = original
                let error = Swift.abs(analytic[j] - numeric) / Swift.max(Swift.abs(analytic[j]), Swift.abs(numeric), floor)
                checked += 1
                if error > maxError || worst == nil {
                    maxError = Swift.max(maxError, error)
                    worst = Mismatch(input: i, index: j, analytic: analytic[j], numeric: numeric, relativeError: error)
                }
            }
        }
        return Result(maxRelativeError: maxError, worst: worst, tolerance: tolerance, checkedElements: checked)
    }
}
