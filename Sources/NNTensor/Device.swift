import Foundation
import NNBackend
import NNCPU
import NNOpenCL
import Synchronization

/// Where tensors live and compute: one backend instance.
///
/// `Device.default` is chosen on first use from `NN_BACKEND` (`cpu`, `auto`,
/// `opencl`, `opencl:<platform>:<device>`); programs that want a thrown error
/// rather than a stop for a bad value call `Device.named(_:)` themselves and
/// assign the result to `Device.default`.
public struct Device: CustomStringConvertible, Sendable {
    /// The backend, held without a reference count: every tensor holds a
    /// Device and is copied on every op, and the count of the one shared
    /// backend was a fifth of the retains of a small op. A backend a Device
    /// is made for lives to the end of the process (`keptAlive`), as the
    /// library's own are per-process singletons anyway.
    public var backend: any Backend { unownedBackend }
    private unowned(unsafe) let unownedBackend: any Backend

    public init(_ backend: any Backend) {
        Device.keptAlive.withLock { kept in
            if !kept.contains(where: { $0 === backend }) { kept.append(backend) }
        }
        unownedBackend = backend
    }

    /// Every backend a Device was made for, for the life of the process.
    private static let keptAlive = Mutex<[any Backend]>([])

    /// The CPU backend.
    public static let cpu = Device(CPUBackend.shared)

    /// The default once chosen or set; every task of the process shares it.
    /// Every op that names no device reads it, so a read is one atomic
    /// load of the published box, no lock; choosing and setting are
    /// serialized by `choosing`. A box is never freed (a few bytes per
    /// assignment to `Device.default`), so a reader still holding the one
    /// an assignment replaced never sees it go.
    private final class Published: Sendable {
        let device: Device
        init(_ device: Device) { self.device = device }
    }
    /// The box's address (0: none yet); an integer, since Swift does not
    /// share pointers between tasks.
    private static let published = Atomic<UInt>(0)
    private static let choosing = Mutex(())

    private static var publishedDefault: Device? {
        UnsafeRawPointer(bitPattern: published.load(ordering: .acquiring))
            .map { Unmanaged<Published>.fromOpaque($0).takeUnretainedValue().device }
    }

    private static func publish(_ device: Device) {
        published.store(UInt(bitPattern: Unmanaged.passRetained(Published(device)).toOpaque()), ordering: .releasing)
    }

    /// The device new tensors go to when none is named.
    public static var `default`: Device {
        get {
            if let device = publishedDefault { return device }
            return choosing.withLock { _ in
                if let device = publishedDefault { return device }
                let spec = ProcessInfo.processInfo.environment["NN_BACKEND"] ?? "auto"
                do {
                    let device = try named(spec)
                    publish(device)
                    return device
                } catch {
                    requirementFailed("NN_BACKEND=\(spec): \(error)")
                }
            }
        }
        set {
            choosing.withLock { _ in publish(newValue) }
        }
    }

    /// The device a `NN_BACKEND`-style name selects:
    /// - `cpu`: the CPU backend;
    /// - `opencl`: the first OpenCL GPU, else the first OpenCL device;
    /// - `opencl:<platform>:<device>`: that OpenCL device (indices as
    ///   `OpenCLDevices.all()` and `nnbench devices` list them);
    /// - `auto`: the first OpenCL GPU if there is one, otherwise the CPU.
    ///
    /// An explicit `opencl...` that cannot be had throws, listing what was
    /// found; it never falls back to the CPU. Each OpenCL device gets one
    /// backend per process, so naming it twice gives the same device.
    public static func named(_ spec: String) throws -> Device {
        let lowered = spec.lowercased()
        if lowered == "cpu" { return .cpu }
        if lowered == "auto" || lowered.isEmpty { return automatic().device }
        guard lowered == "opencl" || lowered.hasPrefix("opencl:") else { throw DeviceError.unknown(spec: spec) }
        let devices: [OpenCLDeviceInfo]
        do {
            devices = try OpenCLDevices.all()
        } catch {
            throw DeviceError.unavailable(spec: spec, reason: "\(error)")
        }
        let found = devices.isEmpty ? "no OpenCL devices" : devices.map(\.description).joined(separator: "; ")
        if lowered == "opencl" {
            guard let first = devices.first(where: { $0.kind == .gpu }) ?? devices.first else {
                throw DeviceError.unavailable(spec: spec, reason: found)
            }
            return try opencl(first)
        }
        let parts = lowered.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 3, let p = Int(parts[1]), let d = Int(parts[2]) else { throw DeviceError.unknown(spec: spec) }
        guard let info = devices.first(where: { $0.platformIndex == p && $0.deviceIndex == d }) else {
            throw DeviceError.unavailable(spec: spec, reason: "no device \(p):\(d); found: \(found)")
        }
        return try opencl(info)
    }

    /// What `auto` picks, and why: the first OpenCL GPU, otherwise the CPU.
    /// `auto` promises the best device that works, so a missing loader, no
    /// GPU, or a GPU whose context cannot be created means the CPU, not a
    /// stop; `reason` says which (`nnbench devices` prints it).
    public static func automatic() -> (device: Device, reason: String) {
        let devices: [OpenCLDeviceInfo]
        do {
            devices = try OpenCLDevices.all()
        } catch {
            return (.cpu, "\(error)")
        }
        guard let gpu = devices.first(where: { $0.kind == .gpu }) else {
            let others = devices.map { "\($0.spec) \($0.name) (\($0.kind.rawValue))" }.joined(separator: ", ")
            return (.cpu, "no OpenCL GPU" + (others.isEmpty ? "" : "; found \(others)"))
        }
        do {
            return (try opencl(gpu), "the first OpenCL GPU")
        } catch {
            return (.cpu, "the OpenCL GPU \(gpu.spec) \(gpu.name) could not be opened: \(error)")
        }
    }

    /// One backend per OpenCL device and process, by spec.
    private static let openCLBackends = Mutex<[String: OpenCLBackend]>([:])

    /// The process's backend for an OpenCL device, created on first use.
    public static func opencl(_ info: OpenCLDeviceInfo) throws -> Device {
        try openCLBackends.withLock { backends in
            if let backend = backends[info.spec] { return Device(backend) }
            let backend = try OpenCLBackend(device: info)
            backends[info.spec] = backend
            return Device(backend)
        }
    }

    /// Every device this process can use: the CPU backend, then each OpenCL
    /// device (none when no OpenCL platform is installed).
    public static func available() -> [(spec: String, description: String)] {
        [("cpu", "CPU backend")] + ((try? OpenCLDevices.all()) ?? []).map { ($0.spec, $0.description) }
    }

    public var name: String { backend.name }
    public var description: String { backend.name }

    public static func == (a: Device, b: Device) -> Bool { a.backend === b.backend }
    public static func != (a: Device, b: Device) -> Bool { !(a == b) }
}

/// Why a device could not be selected.
public enum DeviceError: Error, CustomStringConvertible, Equatable, Sendable {
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
