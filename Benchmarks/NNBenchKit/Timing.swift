import Dispatch

/// How long each case is timed.
///
/// Every case first runs `warmups` times untimed: the first run on an
/// OpenCL device is where the driver specializes kernels for their launch
/// sizes (PoCL compiles again per local size), and the first run anywhere
/// pays page faults on fresh buffers. Then the case repeats, each repeat
/// timed on its own with the device synchronized before the clock is read,
/// until both `minRepeats` repeats and `minSeconds` of measured time are
/// done (or `maxRepeats`, which bounds microsecond cases). A fixed
/// `repeats` count replaces the time rule.
public struct TimingPolicy: Equatable, Sendable {
    public var warmups: Int
    public var minSeconds: Double
    public var minRepeats: Int
    public var maxRepeats: Int

    public init(warmups: Int = 1, minSeconds: Double, minRepeats: Int, maxRepeats: Int) {
        self.warmups = warmups
        self.minSeconds = minSeconds
        self.minRepeats = minRepeats
        self.maxRepeats = maxRepeats
    }

    /// The default: a second per case, at least 5 repeats.
    public static let standard = TimingPolicy(minSeconds: 1.0, minRepeats: 5, maxRepeats: 2000)

    /// --quick: a fifth of a second per case, at least 3 repeats (a median
    /// of 3 still discards one outlier on either side).
    public static let quick = TimingPolicy(minSeconds: 0.2, minRepeats: 3, maxRepeats: 500)

    /// Exactly `n` timed repeats after the warm-up (--repeats N).
    public static func fixed(_ n: Int) -> TimingPolicy {
        TimingPolicy(minSeconds: 0, minRepeats: n, maxRepeats: n)
    }

    /// "1 s, >= 5 repeats per case" or "3 repeats per case", for reports.
    public var summary: String {
        minSeconds == 0 && minRepeats == maxRepeats
            ? "\(minRepeats) repeats per case"
            : String(format: "%g s, >= %d repeats per case", minSeconds, minRepeats)
    }
}

/// The timed repeats of one case on one target, in milliseconds.
public struct Measurement: Equatable, Sendable {
    public let samples: [Double]

    public init(samples: [Double]) {
        precondition(!samples.isEmpty, "Measurement: no samples")
        self.samples = samples
    }

    /// The middle sample (the mean of the two middle ones for an even count):
    /// robust to the odd repeat that a page fault or a preempted thread
    /// slows down.
    public var median: Double {
        let sorted = samples.sorted()
        let mid = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
    }

    public var min: Double { samples.min()! }
    public var max: Double { samples.max()! }
}

/// Runs a body under a `TimingPolicy`.
enum Stopwatch {
    /// Warm-up, then timed repeats of `body`, each followed by `synchronize`
    /// inside the timed interval (an asynchronous device has only queued the
    /// work when `body` returns).
    static func measure(_ policy: TimingPolicy, synchronize: () throws -> Void, _ body: () -> Void) throws -> Measurement {
        for _ in 0..<policy.warmups {
            body()
            try synchronize()
        }
        var samples: [Double] = []
        var total = 0.0
        while samples.count < policy.maxRepeats && (samples.count < policy.minRepeats || total < policy.minSeconds) {
            let start = DispatchTime.now().uptimeNanoseconds
            body()
            try synchronize()
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
            samples.append(seconds * 1e3)
            total += seconds
        }
        return Measurement(samples: samples)
    }
}
