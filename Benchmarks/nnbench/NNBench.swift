import ArgumentParser
import Foundation
import NN
import NNBenchKit

/// nnbench: which device to train on, measured. The table goes to stdout;
/// progress and errors go to stderr, so `nnbench run > table.txt` keeps
/// only the table.
@main
struct NNBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nnbench",
        abstract: "Compare the CPU backend, OpenCL devices and raw OpenBLAS on GEMM, convolution, RNN, elementwise, softmax and training steps.",
        subcommands: [Devices.self, Check.self, Tune.self, Run.self, Profile.self, Startup.self, LoadData.self, Compare.self, Distributed.self])
}

/// Prints a line on stderr (progress, warnings).
func printError(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}

struct Devices: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List every device nnbench can time: the CPU backend and each OpenCL platform/device.")

    func run() throws {
        print(DeviceSelection.describeDevices())
    }
}

struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run every backend op on the CPU and on the OpenCL devices at several shapes and compare (a self-test for a new device or driver).",
        discussion: """
            Each op runs forward and backward with the same seeded inputs on the CPU backend and on the device; \
            the table gives, per op, the worst error against the parity suite's tolerance. GEMM and convolution \
            run with every GEMM kernel the device can choose. Exits non-zero if any case fails.
            """)

    @Option(name: .long, help: ArgumentHelp("Comma-separated devices: opencl, opencl:<platform>:<device>, or cpu (default: every OpenCL device).",
                                             valueName: "list"))
    var devices: String?

    @Option(name: .long, help: ArgumentHelp("Shapes: \(CheckScale.allCases.map(\.rawValue).joined(separator: ", ")) (small runs every kernel path at simulator sizes).",
                                             valueName: "scale"))
    var scale: CheckScale = .standard

    func run() throws {
        let targets = try devices.map { try DeviceSelection.targets($0.split(separator: ",").map(String.init)) }
            ?? DeviceSelection.allTargets().filter { $0.label != "cpu" }
        guard !targets.isEmpty else {
            throw CommandFailure(message: "no OpenCL device to check against the CPU backend; found: \(DeviceSelection.availableList()) "
                                 + "(--devices cpu checks the CPU backend against itself)")
        }
        let cases = CheckCatalog.cases(scale)
        var failures = 0
        for target in targets {
            guard let device = target.device else { continue }
            let start = Date()
            printError("checking \(device.backend.name): \(cases.count) cases at the \(scale.rawValue) scale")
            let outcomes = BackendCheck.run(cases, on: device.backend) { outcome in
                if !outcome.passed { printError("  FAIL \(CheckReport.caseName(outcome)): \(outcome.message ?? "no result")") }
            }
            printError(String(format: "  done in %.1f s", Date().timeIntervalSince(start)))
            let summaries = CheckSummary.summarize(outcomes)
            failures += summaries.reduce(0) { $0 + $1.failed.count }
            print(CheckReport.render(summaries, device: device.backend.name))
        }
        if failures > 0 { throw CommandFailure(message: "\(failures) case(s) disagree with the CPU backend") }
    }
}

extension CheckScale: ExpressibleByArgument {}

struct Tune: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Tune GEMM on the OpenCL devices and print every candidate's time and the winner per shape class.",
        discussion: """
            The library tunes on the first float32 GEMM of a process (NN_TUNE=off|quick|full, default quick) and \
            keeps the result under NN_TUNE_CACHE (default ~/.cache/swift-nn/tuning), keyed by device, driver and \
            kernel source. This command shows the cached result, or tunes when there is none (--force: always).
            """)

    @Option(name: .long, help: ArgumentHelp("Comma-separated OpenCL devices (default: every OpenCL device).", valueName: "list"))
    var devices: String?

    @Option(name: .long, help: ArgumentHelp("quick or full (default: NN_TUNE, else quick).", valueName: "mode"))
    var mode: GEMMTuneMode?

    @Flag(name: .long, help: "Tune again even when a cached result exists, and replace it.")
    var force = false

    func run() throws {
        let targets = try devices.map { try DeviceSelection.targets($0.split(separator: ",").map(String.init)) }
            ?? DeviceSelection.allTargets().filter { $0.label != "cpu" }
        let backends = targets.compactMap { $0.device?.backend as? OpenCLBackend }
        guard !backends.isEmpty else {
            throw CommandFailure(message: "no OpenCL device to tune; found: \(DeviceSelection.availableList())")
        }
        for backend in backends {
            let mode = self.mode ?? (backend.tuneMode == .off ? .quick : backend.tuneMode)
            guard mode != .off else { throw CommandFailure(message: "--mode off tunes nothing (use quick or full)") }
            printError("tuning GEMM on \(backend.name) (\(mode.rawValue))...")
            let tuning = try backend.tuneGEMM(mode: mode, force: force)
            print(TuningReport.render(tuning, device: backend.name))
        }
    }
}

extension GEMMTuneMode: ExpressibleByArgument {}

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Time the suites on the devices and print the table.",
        discussion: "Raw OpenBLAS (cblas_sgemm) is timed beside every GEMM case as the reference row 'openblas'.")

    @Option(name: .long, help: ArgumentHelp("Comma-separated devices: cpu, opencl, opencl:<platform>:<device> (default: every device).",
                                             valueName: "list"))
    var devices: String?

    @Option(name: .long, help: ArgumentHelp("Comma-separated suites: \(Suite.allCases.map(\.rawValue).joined(separator: ",")) (default: all).",
                                             valueName: "list"))
    var suite: String?

    @Flag(name: .long, help: "Shorter timing, same cases: \(TimingPolicy.quick.summary) (default: \(TimingPolicy.standard.summary)).")
    var quick = false

    @Flag(name: .long, help: "Add the sizes a GPU is judged on: GEMM 4096^3 and the LeNet-5 step at batch 256.")
    var large = false

    @Option(name: .long, help: ArgumentHelp("Exactly N timed repeats per case after the warm-up (overrides the time rule).", valueName: "N"))
    var repeats: Int?

    @Option(name: .long, help: ArgumentHelp("Write the results as JSON to this file.", valueName: "file"))
    var json: String?

    @Option(name: .long, help: ArgumentHelp("Write a bar chart of the speed ratios as SVG to this file.", valueName: "file"))
    var svg: String?

    @Flag(name: .long, inversion: .prefixedNo,
          help: ArgumentHelp("Time the train suite's models in PyTorch too (Benchmarks/pytorch/train_suite.py through $NN_PYTHON "
                             + "or python3). Default: when python3 -c 'import torch' works."))
    var pytorch: Bool?

    func run() throws {
        let suites = try suite.map(Suite.parse(list:)) ?? Suite.allCases
        let targets = try devices.map { try DeviceSelection.targets($0.split(separator: ",").map(String.init)) }
            ?? DeviceSelection.allTargets()
        var timing = quick ? TimingPolicy.quick : TimingPolicy.standard
        var label = "\(quick ? "quick" : "standard") (\(timing.summary))"
        if let repeats {
            guard repeats >= 1 else { throw BenchmarkError.badRepeats(repeats) }
            timing = .fixed(repeats)
            label = timing.summary
        }
        let plan = BenchmarkPlan(suites: suites, targets: targets, scale: large ? .large : .standard, timing: timing,
                                 timingLabel: label, pytorch: pytorch.map { $0 ? .on : .off } ?? .auto)
        let start = Date()
        let runner = BenchmarkRunner(plan: plan, progress: printError)
        let report = try runner.run()
        printError(String(format: "done in %.1f s", Date().timeIntervalSince(start)))
        print(ResultTable.render(report), terminator: "")
        if let json { try report.writeJSON(to: json) }
        if let svg { try SVGChart.write(report, to: svg) }
        if !runner.failures.isEmpty {
            throw CommandFailure(message: "\(runner.failures.count) case(s) failed:\n" + runner.failures.joined(separator: "\n"))
        }
    }
}

struct Profile: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Time each OpenCL kernel of a training step (the train suite's models) from the queue's profiling events.",
        discussion: "Sets NN_PROFILE_KERNELS=1 for its own backends; the wall time includes the host's launch overhead.")

    @Option(name: .long, help: ArgumentHelp("OpenCL devices, comma-separated (default: every OpenCL device).", valueName: "list"))
    var devices: String?

    @Option(name: .long, help: ArgumentHelp("mlp, lenet or lstm (default: all three).", valueName: "model"))
    var model: KernelProfileReport.Model?

    @Option(name: .long, help: ArgumentHelp("Profiled steps after three warm-up steps.", valueName: "N"))
    var steps = 20

    @Flag(name: .long, help: "One row per kernel and global range (which layer or shape each launch served).")
    var byRange = false

    func run() throws {
        setenv("NN_PROFILE_KERNELS", "1", 1)
        let targets = try devices.map { try DeviceSelection.targets($0.split(separator: ",").map(String.init)) }
            ?? DeviceSelection.allTargets().filter { $0.label != "cpu" }
        guard !targets.isEmpty else {
            throw CommandFailure(message: "no OpenCL device to profile; found: \(DeviceSelection.availableList())")
        }
        for target in targets {
            for model in model.map({ [$0] }) ?? KernelProfileReport.Model.allCases {
                print(try KernelProfileReport.run(model: model, target: target, steps: steps, byRange: byRange))
            }
        }
    }
}

extension KernelProfileReport.Model: ExpressibleByArgument {}

struct Startup: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Time a process's start to its first OpenCL kernel and first GEMM (run twice: the second is the warm start).",
        discussion: "Times count from the process's start as the kernel records it, so loading and runtime set-up are included.")

    @Option(name: .long, help: ArgumentHelp("The device (default: opencl).", valueName: "device"))
    var device = "opencl"

    func run() throws {
        print(try StartupReport.run(spec: device), terminator: "")
    }
}

struct LoadData: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "load-data",
        abstract: "Time loading an MNIST directory's gzip files into a dataset (best of --repeats; gunzip, IDX parse, float conversion).")

    @Option(name: .long, help: ArgumentHelp("The MNIST directory.", valueName: "dir"))
    var data = "../shared/data/mnist-t10k"

    @Option(name: .long, help: "How many loads to time.")
    var repeats = 10

    func run() throws {
        let directory = URL(fileURLWithPath: data)
        var best = Double.infinity
        var count = 0
        for _ in 0..<max(1, repeats) {
            let start = DispatchTime.now().uptimeNanoseconds
            let dataset = try MNIST.load(directory: directory)
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
            count = dataset.count
        }
        print(String(format: "MNIST load of %@ (%d images): best of %d %.1f ms", data, count, max(1, repeats), best))
    }
}

struct Compare: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compare two saved runs (nnbench run --json): B's speed relative to A per case and device.")

    @Argument(help: "The earlier (reference) run.")
    var a: String

    @Argument(help: "The later run.")
    var b: String

    func run() throws {
        let first = try BenchmarkReport.load(path: a), second = try BenchmarkReport.load(path: b)
        print(RunComparison.render(first, second, nameA: a, nameB: b), terminator: "")
    }
}

/// Cases that failed after the others were timed and written: reported
/// last, with a non-zero exit status.
struct CommandFailure: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}
