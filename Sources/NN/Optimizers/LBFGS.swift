import Foundation
import Synchronization

/// Limited-memory BFGS (torch.optim.LBFGS), the quasi-Newton method the
/// course notes say "works quite well" in full-batch settings: it keeps the
/// last `historySize` steps and gradient changes and turns each gradient
/// into a step along an approximate Newton direction.
///
/// Each `step` may evaluate the loss several times, so it takes a closure
/// that clears the gradients, computes the loss, runs `backward()` and
/// returns the loss, as in PyTorch:
///
///     let lbfgs = LBFGS(model.parameters(), lineSearch: .strongWolfe)
///     for _ in 0..<10 {
///         try lbfgs.step {
///             lbfgs.zeroGrad()
///             let loss = criterion(model(x), y)
///             loss.backward()
///             return loss
///         }
///     }
///
/// One `step` runs up to `maxIterations` iterations (and `maxEvaluations`
/// closure calls), stopping early when the largest gradient entry is at
/// most `toleranceGrad` or when the loss or the step changes by less than
/// `toleranceChange`. Without a line search the step length is the
/// learning rate (the first iteration ever: min(1, 1 / ‖g‖₁) · lr); with
/// `.strongWolfe` it satisfies the strong Wolfe conditions (c1 = 1e-4,
/// c2 = 0.9, within what is left of `maxEvaluations`), PyTorch's
/// algorithm step for step (so, as there, `maxIterations: 1` with the
/// default `maxEvaluations` of 1 gives the line search one trial point and
/// no room to bracket or zoom: raise `maxEvaluations` for it).
///
/// The parameters are viewed as one flat vector on their device (they must
/// share one device and dtype); the history vectors stay there, and only the
/// dot products come back to the host. LBFGS is not an `Optimizer`: its step
/// needs the closure, so `Trainer.fit` cannot drive it.
///
/// An LBFGS may be handed between tasks: steps run one at a time (a second
/// task's `step` waits for the first), and the history lives in a mutex
/// that the closure may read through (`functionEvaluations`, say) while
/// a step runs.
public final class LBFGS: Sendable {
    public enum LineSearch: Sendable { case strongWolfe }

    public let parameters: [Parameter]
    public let maxIterations: Int
    public let maxEvaluations: Int
    public let toleranceGrad: Double
    public let toleranceChange: Double
    public let historySize: Int
    public let lineSearch: LineSearch?

    /// The state PyTorch keeps between steps, with the counters and the
    /// learning rate.
    private struct History: Sendable {
        var learningRate: Double
        var functionEvaluations = 0
        var iterations = 0
        var direction: Tensor?
        var stepLength = 0.0
        var oldDirections: [Tensor] = []   // y: gradient changes
        var oldSteps: [Tensor] = []        // s: parameter changes
        var inverseCurvatures: [Double] = []  // 1 / (y · s)
        var hessianDiagonal = 1.0
        var previousFlatGrad: Tensor?
    }
    private let history: Mutex<History>
    /// Held for the whole of a step, so steps from different tasks run one
    /// after the other (apart from `history`, which the closure may read).
    private let stepping = Mutex(())

    public var learningRate: Double {
        get { history.withLock { $0.learningRate } }
        set {
            checkHyper("LBFGS", "learning rate", newValue, newValue > 0)
            history.withLock { $0.learningRate = newValue }
        }
    }

    /// Closure calls and iterations over all steps so far.
    public var functionEvaluations: Int { history.withLock { $0.functionEvaluations } }
    public var iterations: Int { history.withLock { $0.iterations } }

    public init(_ parameters: [Parameter], learningRate: Double = 1, maxIterations: Int = 20, maxEvaluations: Int? = nil,
                toleranceGrad: Double = 1e-7, toleranceChange: Double = 1e-9, historySize: Int = 100, lineSearch: LineSearch? = nil) {
        checkHyper("LBFGS", "learning rate", learningRate, learningRate > 0)
        require(maxIterations >= 1 && historySize >= 1 && (maxEvaluations ?? 1) >= 1,
                "LBFGS: maxIterations \(maxIterations), maxEvaluations \(maxEvaluations.map(String.init) ?? "default") and historySize "
                + "\(historySize) must be at least 1")
        require(!parameters.isEmpty, "LBFGS: no parameters")
        let first = parameters[0]
        for p in parameters {
            require(p.device == first.device && p.value.dtype == first.value.dtype,
                    "LBFGS: every parameter must share one device and dtype; \(p.shape) is \(p.value.dtype) on \(p.device), "
                    + "\(first.shape) is \(first.value.dtype) on \(first.device)")
        }
        _ = ParameterStates<Int>("LBFGS", parameters)  // each parameter once
        self.parameters = parameters
        history = Mutex(History(learningRate: learningRate))
        self.maxIterations = maxIterations
        self.maxEvaluations = maxEvaluations ?? maxIterations * 5 / 4
        self.toleranceGrad = toleranceGrad
        self.toleranceChange = toleranceChange
        self.historySize = historySize
        self.lineSearch = lineSearch
    }

    /// Clears every parameter's gradient.
    public func zeroGrad() { parameters.forEach { $0.zeroGrad() } }

    /// One optimization step; returns the loss the first closure call
    /// gave (before the step), as PyTorch does.
    @discardableResult
    public func step(_ closure: () throws -> Tensor) throws -> Tensor {
        try stepping.withLock { _ in
            // The step works on a copy of the history and puts it back when
            // it ends (also when the closure throws, keeping what it did).
            var state = history.withLock { $0 }
            defer { history.withLock { $0 = state } }
            return try step(closure, &state)
        }
    }

    private func step(_ closure: () throws -> Tensor, _ state: inout History) throws -> Tensor {
        let originalLoss = try closure()
        var loss = try originalLoss.scalarDouble()
        var evaluations = 1
        state.functionEvaluations += 1
        var flatGrad = withNoGrad { self.flatGradient() }
        if try absMax(flatGrad) <= toleranceGrad { return originalLoss }

        var iteration = 0
        while iteration < maxIterations {
            iteration += 1
            state.iterations += 1
            let d: Tensor
            if state.iterations == 1 {
                d = withNoGrad { -flatGrad }
                (state.oldDirections, state.oldSteps, state.inverseCurvatures, state.hessianDiagonal) = ([], [], [], 1)
            } else {
                d = try withNoGrad { try updateAndComputeDirection(flatGrad, &state) }
            }
            state.direction = d
            state.previousFlatGrad = flatGrad
            let previousLoss = loss

            state.stepLength = state.iterations == 1 ? min(1, 1 / (try absSum(flatGrad))) * state.learningRate : state.learningRate
            let gtd = try dot(flatGrad, d)
            if gtd > -toleranceChange { break }

            var lineSearchEvaluations = 0
            var optimal = false
            if lineSearch == .strongWolfe {
                let start = parameters.map { $0.value.detached().copied() }
                // What is left of this step's evaluation budget bounds the
                // line search, as in PyTorch 2.x.
                let result = try strongWolfe(closure, start: start, t: state.stepLength, d: d, f: loss, g: flatGrad, gtd: gtd,
                                             maxLineSearch: maxEvaluations - evaluations)
                (loss, flatGrad, state.stepLength, lineSearchEvaluations) = result
                addToParameters(state.stepLength, d)
                optimal = try absMax(flatGrad) <= toleranceGrad
            } else {
                addToParameters(state.stepLength, d)
                if iteration != maxIterations {
                    loss = try closure().scalarDouble()
                    flatGrad = withNoGrad { self.flatGradient() }
                    optimal = try absMax(flatGrad) <= toleranceGrad
                    lineSearchEvaluations = 1
                }
            }
            evaluations += lineSearchEvaluations
            state.functionEvaluations += lineSearchEvaluations

            if iteration == maxIterations || evaluations >= maxEvaluations || optimal { break }
            if try absMax(d) * abs(state.stepLength) <= toleranceChange { break }
            if abs(loss - previousLoss) < toleranceChange { break }
        }
        return originalLoss
    }

    // MARK: The two-loop recursion

    /// Records the last step and gradient change (when the curvature
    /// y · s is positive) and returns -H g for the L-BFGS inverse Hessian H.
    private func updateAndComputeDirection(_ flatGrad: Tensor, _ state: inout History) throws -> Tensor {
        guard let previousFlatGrad = state.previousFlatGrad, let direction = state.direction else { return -flatGrad }
        let y = flatGrad - previousFlatGrad
        let s = direction * state.stepLength
        let ys = try dot(y, s)
        if ys > 1e-10 {
            if state.oldDirections.count == historySize {
                state.oldDirections.removeFirst()
                state.oldSteps.removeFirst()
                state.inverseCurvatures.removeFirst()
            }
            state.oldDirections.append(y)
            state.oldSteps.append(s)
            state.inverseCurvatures.append(1 / ys)
            state.hessianDiagonal = ys / (try dot(y, y))
        }
        let (oldDirections, oldSteps, inverseCurvatures) = (state.oldDirections, state.oldSteps, state.inverseCurvatures)
        var alphas = [Double](repeating: 0, count: oldDirections.count)
        var q = -flatGrad
        for i in oldDirections.indices.reversed() {
            alphas[i] = try dot(oldSteps[i], q) * inverseCurvatures[i]
            q = q - oldDirections[i] * alphas[i]
        }
        var r = q * state.hessianDiagonal
        for i in oldDirections.indices {
            let beta = try dot(oldDirections[i], r) * inverseCurvatures[i]
            r = r + oldSteps[i] * (alphas[i] - beta)
        }
        return r
    }

    // MARK: Strong Wolfe line search

    /// The loss and flat gradient at start + t d; the parameters go back to
    /// `start` afterwards.
    private func evaluate(_ closure: () throws -> Tensor, start: [Tensor], t: Double, d: Tensor) throws -> (Double, Tensor) {
        addToParameters(t, d)
        let loss = try closure().scalarDouble()
        let grad = withNoGrad { flatGradient() }
        for (p, x) in zip(parameters, start) { p.value = x.copied() }
        return (loss, grad)
    }

    /// PyTorch's `_strong_wolfe` (from minFunc / torch7's lswolfe): bracket
    /// a step satisfying the strong Wolfe conditions, then zoom in with
    /// cubic interpolation. Returns the loss, gradient and step length
    /// chosen and the closure calls made.
    private func strongWolfe(_ closure: () throws -> Tensor, start: [Tensor], t initialT: Double, d: Tensor, f: Double, g: Tensor,
                             gtd: Double, c1: Double = 1e-4, c2: Double = 0.9, maxLineSearch: Int)
        throws -> (Double, Tensor, Double, Int) {
        let dNorm = try absMax(d)
        var t = initialT
        var (fNew, gNew) = try evaluate(closure, start: start, t: t, d: d)
        var evaluations = 1
        var gtdNew = try dot(gNew, d)

        // Bracketing phase.
        var tPrevious = 0.0, fPrevious = f, gPrevious = g, gtdPrevious = gtd
        var done = false
        var iteration = 0
        var bracket: [Double] = [], bracketF: [Double] = [], bracketG: [Tensor] = [], bracketGTD: [Double] = []
        while iteration < maxLineSearch {
            if fNew > f + c1 * t * gtd || (iteration > 1 && fNew >= fPrevious) {
                (bracket, bracketF, bracketG, bracketGTD) = ([tPrevious, t], [fPrevious, fNew], [gPrevious, gNew], [gtdPrevious, gtdNew])
                break
            }
            if abs(gtdNew) <= -c2 * gtd {
                (bracket, bracketF, bracketG) = ([t], [fNew], [gNew])
                done = true
                break
            }
            if gtdNew >= 0 {
                (bracket, bracketF, bracketG, bracketGTD) = ([tPrevious, t], [fPrevious, fNew], [gPrevious, gNew], [gtdPrevious, gtdNew])
                break
            }
            // Extrapolate: between 1.01 t and 10 t.
            let minStep = t + 0.01 * (t - tPrevious), maxStep = t * 10
            let previous = t
            t = LBFGS.cubicInterpolate(tPrevious, fPrevious, gtdPrevious, t, fNew, gtdNew, bounds: (minStep, maxStep))
            (tPrevious, fPrevious, gPrevious, gtdPrevious) = (previous, fNew, gNew, gtdNew)
            (fNew, gNew) = try evaluate(closure, start: start, t: t, d: d)
            evaluations += 1
            gtdNew = try dot(gNew, d)
            iteration += 1
        }
        if iteration == maxLineSearch {
            (bracket, bracketF, bracketG) = ([0, t], [f, fNew], [g, gNew])
            // PyTorch leaves the derivatives of this bracket as they were;
            // the zoom below never runs here (the iteration budget is spent).
        }

        // Zoom phase.
        var insufficientProgress = false
        var (low, high) = bracketF[0] <= bracketF[bracketF.count - 1] ? (0, 1) : (1, 0)
        while !done && iteration < maxLineSearch {
            if abs(bracket[1] - bracket[0]) * dNorm < toleranceChange { break }
            t = LBFGS.cubicInterpolate(bracket[0], bracketF[0], bracketGTD[0], bracket[1], bracketF[1], bracketGTD[1])
            // Keep away from the bracket's ends, where progress stalls.
            let top = max(bracket[0], bracket[1]), bottom = min(bracket[0], bracket[1])
            let eps = 0.1 * (top - bottom)
            if min(top - t, t - bottom) < eps {
                if insufficientProgress || t >= top || t <= bottom {
                    t = abs(t - top) < abs(t - bottom) ? top - eps : bottom + eps
                    insufficientProgress = false
                } else {
                    insufficientProgress = true
                }
            } else {
                insufficientProgress = false
            }
            (fNew, gNew) = try evaluate(closure, start: start, t: t, d: d)
            evaluations += 1
            gtdNew = try dot(gNew, d)
            iteration += 1

            if fNew > f + c1 * t * gtd || fNew >= bracketF[low] {
                (bracket[high], bracketF[high], bracketG[high], bracketGTD[high]) = (t, fNew, gNew, gtdNew)
                (low, high) = bracketF[0] <= bracketF[1] ? (0, 1) : (1, 0)
            } else {
                if abs(gtdNew) <= -c2 * gtd {
                    done = true
                } else if gtdNew * (bracket[high] - bracket[low]) >= 0 {
                    (bracket[high], bracketF[high], bracketG[high], bracketGTD[high]) =
                        (bracket[low], bracketF[low], bracketG[low], bracketGTD[low])
                }
                (bracket[low], bracketF[low], bracketG[low], bracketGTD[low]) = (t, fNew, gNew, gtdNew)
            }
        }
        return (bracketF[low], bracketG[low], bracket[low], evaluations)
    }

    /// The minimizer of the cubic through (x1, f1) and (x2, f2) with slopes
    /// g1 and g2, clamped to `bounds` (default: between x1 and x2); their
    /// midpoint when the cubic has no real minimizer.
    static func cubicInterpolate(_ x1: Double, _ f1: Double, _ g1: Double, _ x2: Double, _ f2: Double, _ g2: Double,
                                 bounds: (Double, Double)? = nil) -> Double {
        let (lower, upper) = bounds ?? (x1 <= x2 ? (x1, x2) : (x2, x1))
        let d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
        let d2Square = d1 * d1 - g1 * g2
        guard d2Square >= 0 else { return (lower + upper) / 2 }
        let d2 = d2Square.squareRoot()
        let minimum = x1 <= x2 ? x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
                               : x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
        return min(max(minimum, lower), upper)
    }

    // MARK: Flat-vector helpers (on the parameters' device)

    /// Every gradient (zeros where a parameter has none) as one vector.
    private func flatGradient() -> Tensor {
        Tensor.concatenate(parameters.map { p in (p.grad ?? p.value.zerosLike()).detached().reshaped([p.value.count]) }, axis: 0)
    }

    /// p += t d, slice by slice.
    private func addToParameters(_ t: Double, _ d: Tensor) {
        var offset = 0
        withNoGrad {
            for p in parameters {
                let n = p.value.count
                p.value = p.value.detached() + d.slice(axis: 0, offset..<offset + n).reshaped(p.shape) * t
                offset += n
            }
        }
    }

    private func dot(_ a: Tensor, _ b: Tensor) throws -> Double { try withNoGrad { try (a * b).sum().scalarDouble() } }
    private func absMax(_ a: Tensor) throws -> Double { try withNoGrad { try a.abs().max().scalarDouble() } }
    private func absSum(_ a: Tensor) throws -> Double { try withNoGrad { try a.abs().sum().scalarDouble() } }
}
