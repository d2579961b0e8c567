import Dispatch
import Foundation
import NN

/// What to run: suites, devices, problem sizes and the timing rule.
public struct BenchmarkPlan {
    public var suites: [Suite]
    /// Library devices; raw OpenBLAS is added to the GEMM cases by itself.
    public var targets: [BenchmarkTarget]
    public var scale: Scale
    public var timing: TimingPolicy
    /// How the timing rule is described in the report ("quick", ...).
    public var timingLabel: String
    /// Whether the train suite's PyTorch twins are timed too.
    public var pytorch: PyTorchReference.Mode
    /// Where PyTorch is (nil: found from $NN_PYTHON or python3).
    public var python: String?

    public init(suites: [Suite] = Suite.allCases, targets: [BenchmarkTarget], scale: Scale = .standard,
                timing: TimingPolicy = .standard, timingLabel: String = "standard", pytorch: PyTorchReference.Mode = .auto,
                python: String? = nil) {
        self.suites = suites
        self.targets = targets
        self.scale = scale
        self.timing = timing
        self.timingLabel = timingLabel
        self.pytorch = pytorch
        self.python = python
    }
}

/// Runs a plan: every case of every suite on every target, one after the
/// other (never two at once: they would share the two cores).
public final class BenchmarkRunner {
    public let plan: BenchmarkPlan
    private let progress: (String) -> Void
    /// Cases that failed on a target ("suite case on device: error"); the
    /// run goes on without them.
    public private(set) var failures: [String] = []

    /// `progress` receives one line per step (the CLI prints them on
    /// stderr, keeping stdout for the table).
    public init(plan: BenchmarkPlan, progress: @escaping (String) -> Void = { _ in }) {
        self.plan = plan
        self.progress = progress
    }

    public func run() throws -> BenchmarkReport {
        failures = []
        // Other processes on the cores slow every case down, most of all the
        // multi-threaded ones; say so before the numbers are trusted. (The
        // 1-minute average also remembers work that just ended, so this is a
        // hint; the share measured over the run, at the end, is the fact.)
        let load = MachineInfo.currentLoadAverage()
        let cores = ProcessInfo.processInfo.activeProcessorCount
        if let load, load > 0.5 * Double(cores) {
            progress(String(format: "warning: load average %.2f on %d cores at the start: if other processes are still running, "
                            + "timings will be low and noisy", load, cores))
        }
        let contentionStart = CPUContention()
        try prepareKernels()
        let cases = plan.suites.flatMap { $0.cases(plan.scale) }
        let pytorch = try locatePyTorch(needed: cases.contains { $0.pytorch != nil })
        var results: [BenchmarkResult] = []
        for (index, benchCase) in cases.enumerated() {
            let targets = (benchCase.suite == .gemm ? [BenchmarkTarget.openBLAS] : []) + plan.targets
            for target in targets {
                let what = "\(benchCase.suite.rawValue) \(benchCase.name) on \(target.label)"
                progress("[\(index + 1)/\(cases.count)] \(what) ...")
                do {
                    guard let result = try measure(benchCase, on: target) else { continue }
                    results.append(result)
                    progress("[\(index + 1)/\(cases.count)] \(what): \(Self.format(result))")
                } catch {
                    failures.append("\(what): \(error)")
                    progress("[\(index + 1)/\(cases.count)] \(what) FAILED: \(error)")
                }
            }
            // PyTorch right after the library's rows of the same case, so
            // both see the machine in the same state.
            if let pytorch, let arguments = benchCase.pytorch {
                let what = "\(benchCase.suite.rawValue) \(benchCase.name) on pytorch"
                progress("[\(index + 1)/\(cases.count)] \(what) ...")
                do {
                    let (measurement, threads) = try pytorch.measure(arguments, policy: plan.timing)
                    var result = BenchmarkResult(suite: benchCase.suite.rawValue, case: benchCase.name, device: "pytorch",
                                                 measurement: measurement, work: benchCase.work)
                    (result.torchVersion, result.threads) = (pytorch.version, threads)
                    results.append(result)
                    progress("[\(index + 1)/\(cases.count)] \(what): \(Self.format(result))")
                } catch {
                    failures.append("\(what): \(error)")
                    progress("[\(index + 1)/\(cases.count)] \(what) FAILED: \(error)")
                }
            }
        }
        let othersShare = contentionStart.flatMap { start in CPUContention()?.othersShare(since: start) }
        if let othersShare, othersShare > 0.1 {
            progress(String(format: "warning: other processes used %.0f%% of the CPU during the run; the timings are not a quiet "
                            + "machine's", othersShare * 100))
        }
        let described = (plan.suites.contains(.gemm) ? [BenchmarkTarget.openBLAS] : []) + plan.targets
        var machine = MachineInfo.current(targets: described, timing: plan.timingLabel, loadAverage: load,
                                          otherProcessesCPUPercent: othersShare.map { $0 * 100 })
        if let pytorch, results.contains(where: { $0.device == "pytorch" }) {
            machine.devices.append(.init(label: "pytorch", description: "PyTorch \(pytorch.version) on the CPU, \(pytorch.threads) threads "
                                         + "(\(pytorch.python) \(pytorch.script.lastPathComponent)), timed in this run"))
        }
        return BenchmarkReport(machine: machine, results: results, references: [])
    }

    /// PyTorch for the train suite, per `plan.pytorch`; nil (said on the
    /// progress stream) when it is not there and not required.
    private func locatePyTorch(needed: Bool) throws -> PyTorchReference? {
        guard needed && plan.pytorch != .off else { return nil }
        switch PyTorchReference.locate(python: plan.python) {
        case .success(let reference):
            progress("pytorch: torch \(reference.version) through \(reference.python), \(reference.threads) threads, timed beside the train suite")
            return reference
        case .failure(let error):
            if plan.pytorch == .on { throw error }
            progress("pytorch: not measured, the train suite shows the library alone: \(error)")
            return nil
        }
    }

    /// Compiles every OpenCL program before anything is timed, so no case
    /// pays the driver's compiler (the per-case warm-up then covers the
    /// driver's per-launch-size specialization).
    private func prepareKernels() throws {
        for target in plan.targets {
            guard let backend = target.openCLBackend else { continue }
            progress("building OpenCL kernels for \(target.label) (\(backend.info.name)) ...")
            let start = DispatchTime.now().uptimeNanoseconds
            do {
                try backend.prepareKernels()
                try backend.synchronize()
            } catch {
                throw BenchmarkError.kernelPreparation(device: target.label, reason: "\(error)")
            }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
            progress("kernels for \(target.label) ready in \(String(format: "%.1f", seconds)) s "
                     + "(\(backend.programsCompiled) compiled, \(backend.programsLoadedFromCache) from the cache)")
        }
    }

    /// Sets the case up on `target` (untimed, synchronized), then times it.
    private func measure(_ benchCase: BenchmarkCase, on target: BenchmarkTarget) throws -> BenchmarkResult? {
        guard let body = try benchCase.prepare(target) else { return nil }
        try target.synchronize()
        let measurement = try Stopwatch.measure(plan.timing, synchronize: target.synchronize, body)
        return BenchmarkResult(suite: benchCase.suite.rawValue, case: benchCase.name, device: target.label,
                               measurement: measurement, work: benchCase.work)
    }

    static func format(_ r: BenchmarkResult) -> String {
        var text = String(format: "%.3f ms median of %d", r.medianMs, r.repeats)
        if let g = r.gflops { text += String(format: ", %.1f GFLOP/s", g) }
        if let g = r.gbps { text += String(format: ", %.1f GB/s", g) }
        return text
    }
}
