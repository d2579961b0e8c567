import Foundation

/// Where tensors live and compute: one backend instance.
///
/// `Device.default` is chosen on first use from `NN_BACKEND` (`cpu`, `auto`,
/// `opencl`, `opencl:<platform>:<device>`); programs that want a thrown error
/// rather than a stop for a bad value call `Device.named(_:)` themselves and
/// assign the result to `Device.default`.
public struct Device: CustomStringConvertible {
    public let backend: any Backend

    public init(_ backend: any Backend) { self.backend = backend }

    /// The OpenBLAS CPU backend.
    public static let cpu = Device(CPUBackend.shared)

    private static let defaultLock = NSLock()
    nonisolated(unsafe) private static var chosenDefault: Device?

    /// The device new tensors go to when none is named.
    public static var `default`: Device {
        get {
            defaultLock.lock()
            defer { defaultLock.unlock() }
            if let chosen = chosenDefault { return chosen }
            let spec = ProcessInfo.processInfo.environment["NN_BACKEND"] ?? "auto"
            do {
                let device = try named(spec)
                chosenDefault = device
                return device
            } catch {
                preconditionFailure("NN_BACKEND=\(spec): \(error)")
            }
        }
        set {
            defaultLock.lock()
            chosenDefault = newValue
            defaultLock.unlock()
        }
    }

    /// The device a `NN_BACKEND`-style name selects.
    ///
    /// `auto` takes the first OpenCL GPU when there is one and the CPU
    /// otherwise; this build has no OpenCL backend yet, so `auto` is the CPU
    /// and an explicit `opencl...` throws rather than silently running on
    /// the CPU.
    public static func named(_ spec: String) throws -> Device {
        let lowered = spec.lowercased()
        switch lowered {
        case "cpu", "auto", "":
            return .cpu
        case _ where lowered == "opencl" || lowered.hasPrefix("opencl:"):
            throw DeviceError.unavailable(spec: spec, reason: "this build has no OpenCL backend yet")
        default:
            throw DeviceError.unknown(spec: spec)
        }
    }

    public var name: String { backend.name }
    public var description: String { backend.name }

    public static func == (a: Device, b: Device) -> Bool { a.backend === b.backend }
    public static func != (a: Device, b: Device) -> Bool { !(a == b) }
}

/// Why a device could not be selected.
public enum DeviceError: Error, CustomStringConvertible, Equatable {
    case unknown(spec: String)
    case unavailable(spec: String, reason: String)

    public var description: String {
        switch self {
        case .unknown(let spec):
            return "unknown backend '\(spec)'; expected cpu, auto, opencl or opencl:<platform>:<device>"
        case .unavailable(let spec, let reason):
            return "backend '\(spec)' is not available: \(reason)"
        }
    }
}
