import NN

/// One operation checked at one shape: the same inputs go to the CPU
/// backend and to the device under test, and every output buffer `body`
/// returns is compared under `tolerance`.
public struct CheckCase {
    /// The operation (or group of ops computed together), e.g. "gemm",
    /// "unary exp": results are summarized per op.
    public let op: String
    /// The shape or parameters of this case.
    public let shape: String
    public let inputs: [CheckInput]
    public let tolerance: Tolerance
    /// float64 cases are skipped on devices without float64.
    public let dtype: DType
    /// Whether the case runs GEMM (directly or inside convolution), so it
    /// is run with every GEMM config the device's tuner can choose.
    public let usesGEMM: Bool
    public let body: (any Backend, [DeviceBuffer]) -> [DeviceBuffer]

    public init(_ op: String, _ shape: String, _ inputs: [CheckInput], _ tolerance: Tolerance, dtype: DType = .float32,
                usesGEMM: Bool = false, _ body: @escaping (any Backend, [DeviceBuffer]) -> [DeviceBuffer]) {
        self.op = op
        self.shape = shape
        self.inputs = inputs
        self.tolerance = tolerance
        self.dtype = dtype
        self.usesGEMM = usesGEMM
        self.body = body
    }
}

/// The result of one case on one device (and GEMM kernel).
public struct CheckOutcome {
    public let op: String
    public let shape: String
    /// The GEMM config the device ran, for cases that use GEMM on OpenCL.
    public let variant: String?
    public let tolerance: Tolerance
    /// The worst output's agreement; nil when the case did not run
    /// (skipped, or the device threw).
    public let agreement: Agreement?
    /// Why the case failed (the worst output's mismatch, or the error the
    /// device threw), or why it was skipped.
    public let message: String?
    public let skipped: Bool

    public var passed: Bool { skipped || (agreement?.passed ?? false) }
}

/// Runs check cases on a device against the CPU backend.
public enum BackendCheck {
    /// The GEMM configs `backend` is run with: every candidate its tuner
    /// can pick (one per kernel program, `GEMMConfig.parityVariants`); one
    /// nil entry for a backend with a single GEMM (the CPU).
    public static func gemmVariants(_ backend: any Backend) -> [GEMMConfig?] {
        guard let opencl = backend as? OpenCLBackend else { return [nil] }
        return GEMMConfig.parityVariants(for: opencl.info, mode: opencl.tuneMode == .full ? .full : .quick)
    }

    /// Runs `check` on `backend` and on `reference`, comparing every output.
    /// A case whose device run throws (a kernel that does not build, a
    /// device error) fails with the error; it never stops the other cases.
    public static func run(_ check: CheckCase, on backend: any Backend,
                           reference: any Backend = CPUBackend.shared) -> [CheckOutcome] {
        guard check.dtype != .float64 || backend.supportsFloat64 else {
            return [CheckOutcome(op: check.op, shape: check.shape, variant: nil, tolerance: check.tolerance, agreement: nil,
                                 message: "no float64 on this device", skipped: true)]
        }
        let expected: [[Double]]
        do {
            expected = try check.body(reference, check.inputs.map { $0.upload(to: reference) })
                .map { try downloadAsDoubles(reference, $0) }
        } catch {
            return [CheckOutcome(op: check.op, shape: check.shape, variant: nil, tolerance: check.tolerance, agreement: nil,
                                 message: "the reference (\(reference.name)) threw: \(error)", skipped: false)]
        }
        let opencl = backend as? OpenCLBackend
        let variants = check.usesGEMM ? gemmVariants(backend) : [nil]
        let saved = opencl?.gemmOverride
        defer { opencl?.gemmOverride = saved }
        return variants.map { variant in
            if let variant { opencl?.gemmOverride = variant }
            return outcome(check, variant: variant?.description, expected: expected) {
                try check.body(backend, check.inputs.map { $0.upload(to: backend) }).map { try downloadAsDoubles(backend, $0) }
            }
        }
    }

    private static func outcome(_ check: CheckCase, variant: String?, expected: [[Double]],
                                _ actual: () throws -> [[Double]]) -> CheckOutcome {
        func make(_ agreement: Agreement?, _ message: String?) -> CheckOutcome {
            CheckOutcome(op: check.op, shape: check.shape, variant: variant, tolerance: check.tolerance, agreement: agreement,
                         message: message, skipped: false)
        }
        let outputs: [[Double]]
        do {
            outputs = try actual()
        } catch {
            return make(nil, "\(error)")
        }
        guard outputs.count == expected.count else {
            return make(nil, "\(outputs.count) outputs, expected \(expected.count)")
        }
        var worst: (index: Int, agreement: Agreement)?
        for (index, (a, e)) in zip(outputs, expected).enumerated() {
            let agreement = check.tolerance.agreement(a, e)
            if worst == nil || agreement.usage > worst!.agreement.usage { worst = (index, agreement) }
        }
        guard let worst else { return make(Agreement(error: 0, usage: 0, detail: nil), nil) }
        return make(worst.agreement, worst.agreement.detail.map { "output \(worst.index): \($0)" })
    }

    /// Every case of `cases` on `backend`, in order; `progress` hears of
    /// each outcome as it is known.
    public static func run(_ cases: [CheckCase], on backend: any Backend, reference: any Backend = CPUBackend.shared,
                           progress: (CheckOutcome) -> Void = { _ in }) -> [CheckOutcome] {
        cases.flatMap { check in
            let outcomes = run(check, on: backend, reference: reference)
            outcomes.forEach(progress)
            return outcomes
        }
    }
}

/// The outcomes of one op (every shape, and every GEMM kernel) on one
/// device: what `nnbench check` prints a row for.
public struct CheckSummary {
    public let op: String
    public let cases: Int
    public let skipped: Int
    public let failed: [CheckOutcome]
    /// The outcome that came closest to (or furthest past) its tolerance.
    public let worst: CheckOutcome?

    public var passed: Bool { failed.isEmpty }

    /// One summary per op, in the order the ops first appear.
    public static func summarize(_ outcomes: [CheckOutcome]) -> [CheckSummary] {
        var order: [String] = [], groups: [String: [CheckOutcome]] = [:]
        for outcome in outcomes {
            if groups[outcome.op] == nil { order.append(outcome.op) }
            groups[outcome.op, default: []].append(outcome)
        }
        return order.map { op in
            let group = groups[op]!
            let ran = group.filter { !$0.skipped }
            let worst = ran.max { a, b in
                // A case that threw (no agreement) is the worst of all.
                (a.agreement?.usage ?? .infinity) < (b.agreement?.usage ?? .infinity)
            }
            return CheckSummary(op: op, cases: group.count, skipped: group.count - ran.count,
                                failed: ran.filter { !$0.passed }, worst: worst)
        }
    }
}
