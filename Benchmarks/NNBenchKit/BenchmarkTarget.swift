import Foundation
import NN

/// What a case is timed on: a library device (the CPU backend or an OpenCL
/// device), or raw OpenBLAS called directly, the reference the CPU backend's
/// GEMM is held to.
public enum BenchmarkTarget {
    case device(label: String, Device)
    case openBLAS

    /// The name results carry: "cpu", "opencl:<platform>:<device>" or
    /// "openblas".
    public var label: String {
        switch self {
        case .device(let label, _): return label
        case .openBLAS: return "openblas"
        }
    }

    /// Waits for the work queued on the target, so the clock is read only
    /// after it is done (OpenBLAS returns when it has finished).
    func synchronize() throws {
        if case .device(_, let device) = self { try device.backend.synchronize() }
    }

    /// The OpenCL backend behind this target, if it is one.
    var openCLBackend: OpenCLBackend? {
        if case .device(_, let device) = self { return device.backend as? OpenCLBackend }
        return nil
    }

    /// The device of a library target (nil for raw OpenBLAS).
    public var device: Device? {
        if case .device(_, let device) = self { return device }
        return nil
    }
}

/// Turns the `--devices` list into targets, and lists what can be used.
public enum DeviceSelection {
    /// Every device the library can use: the CPU backend, then each OpenCL
    /// device, in `OpenCLDevices.all()` order.
    public static func allTargets() throws -> [BenchmarkTarget] {
        try targets(Device.available().map(\.spec))
    }

    /// Targets for `specs` ("cpu", "opencl", "opencl:<p>:<d>"), without
    /// duplicates. An unknown or unavailable name throws with the list of
    /// devices this machine has, so the user can pick one.
    public static func targets(_ specs: [String]) throws -> [BenchmarkTarget] {
        var result: [BenchmarkTarget] = []
        for raw in specs {
            let spec = raw.trimmingCharacters(in: .whitespaces)
            guard !spec.isEmpty else { continue }
            let device: Device
            do {
                device = try Device.named(spec)
            } catch {
                throw BenchmarkError.unknownDevice(spec: spec, reason: "\(error)", available: availableList())
            }
            let label = (device.backend as? OpenCLBackend)?.info.spec ?? "cpu"
            if !result.contains(where: { $0.label == label }) { result.append(.device(label: label, device)) }
        }
        guard !result.isEmpty else {
            throw BenchmarkError.noDevices(available: availableList())
        }
        return result
    }

    /// "cpu, opencl:0:0 (...)" for error messages.
    public static func availableList() -> String {
        Device.available().map { $0.description.hasPrefix($0.spec) ? $0.description : "\($0.spec) (\($0.description))" }
            .joined(separator: "; ")
    }

    /// The text of `nnbench devices`: one block per device.
    public static func describeDevices() -> String {
        var lines = ["cpu", "  CPU backend, \(ProcessInfo.processInfo.activeProcessorCount) cores, "
                     + "\(ProcessInfo.processInfo.physicalMemory >> 20) MiB",
                     "  \(MachineInfo.cpuBackendDescription)"]
        do {
            let devices = try OpenCLDevices.all()
            if devices.isEmpty { lines.append("(no OpenCL devices)") }
            for info in devices {
                lines.append(info.spec)
                lines.append("  name:           \(info.name)")
                lines.append("  platform:       \(info.platformName)")
                lines.append("  type:           \(info.kind.rawValue)")
                lines.append("  compute units:  \(info.computeUnits)")
                lines.append("  global memory:  \(info.globalMemoryBytes >> 20) MiB (largest allocation \(info.maxAllocationBytes >> 20) MiB)")
                lines.append("  local memory:   \(info.localMemoryBytes >> 10) KiB, work-groups up to \(info.maxWorkGroupSize)")
                lines.append("  float64:        \(info.supportsFloat64 ? "yes" : "no")")
                lines.append("  version:        \(info.deviceVersion)")
                lines.append("  driver:         \(info.driverVersion)")
            }
        } catch {
            lines.append("(no OpenCL: \(error))")
        }
        let auto = Device.automatic()
        lines.append("auto (NN_BACKEND unset or auto): \((auto.device.backend as? OpenCLBackend)?.info.spec ?? "cpu"), \(auto.reason)")
        return lines.joined(separator: "\n")
    }
}
