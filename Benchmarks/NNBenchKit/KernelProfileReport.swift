import Foundation
import NN

/// `nnbench profile`: where a training step's device time goes, kernel by
/// kernel, from the OpenCL queue's profiling events.
public enum KernelProfileReport {
    /// The train-suite models, in `TrainingSuite.cases` order.
    public enum Model: String, CaseIterable, Sendable {
        case mlp, lenet, lstm
    }

    /// Warms `model` up on `target`'s OpenCL backend (which must profile:
    /// NN_PROFILE_KERNELS=1), then runs `steps` steps and renders the kernels'
    /// device time per step beside the step's wall time; `byRange` splits
    /// each kernel by its global range (which layer or shape it served).
    public static func run(model: Model, target: BenchmarkTarget, steps: Int, byRange: Bool = false, warmUp: Int = 3) throws -> String {
        guard let backend = target.openCLBackend else {
            throw BenchmarkError.unknownDevice(spec: target.label, reason: "kernel profiles come from OpenCL queues",
                                               available: DeviceSelection.availableList())
        }
        guard steps >= 1 else { throw BenchmarkError.badRepeats(steps) }
        let trainCase = TrainingSuite.cases(.standard)[Model.allCases.firstIndex(of: model)!]
        guard let step = try trainCase.prepare(target) else { return "" }
        for _ in 0..<warmUp { step() }
        try backend.synchronize()
        try backend.resetKernelProfile()
        let start = Date()
        for _ in 0..<steps { step() }
        try backend.synchronize()
        let wall = Date().timeIntervalSince(start) / Double(steps)
        let timings = try backend.kernelProfile(byRange: byRange)
        let device = timings.reduce(0) { $0 + $1.deviceSeconds } / Double(steps)
        let launches = timings.reduce(0) { $0 + $1.launches }
        var table = TextTable(header: ["kernel", "range", "launches/step", "ms/step", "% of kernel time", "µs/launch"],
                              leftAligned: 2)
        for t in timings {
            let perStep = t.deviceSeconds / Double(steps)
            table.add([t.kernel, t.range.map { $0.map(String.init).joined(separator: "x") } ?? "all", String(format: "%.1f", Double(t.launches) / Double(steps)), Format.ms(perStep * 1e3),
                       String(format: "%.1f", device > 0 ? 100 * perStep / device : 0),
                       String(format: "%.1f", t.deviceSeconds / Double(t.launches) * 1e6)])
        }
        return """
            \(trainCase.name) on \(backend.name), \(steps) steps after \(warmUp) warm-up steps
            wall time \(Format.ms(wall * 1e3)) ms/step; kernels \(Format.ms(device * 1e3)) ms/step \
            (\(String(format: "%.0f", wall > 0 ? 100 * device / wall : 0))% of wall), \
            \(String(format: "%.1f", Double(launches) / Double(steps))) launches/step
            \(table.render())

            """
    }
}
