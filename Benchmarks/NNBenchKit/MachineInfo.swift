import CBLAS
import Foundation
import NN

/// Where and how a run was made: the "machine" object of `--json`, so two
/// saved runs can be told apart when they are compared.
public struct MachineInfo: Codable, Equatable, Sendable {
    /// ISO 8601, UTC.
    public var date: String
    public var hostname: String
    public var os: String
    public var cpu: String
    public var cores: Int
    public var memoryBytes: UInt64
    /// OpenBLAS's build configuration and core, and its thread count.
    public var openblas: String
    public var devices: [DeviceDescription]
    /// The timing rule of the run ("quick", "standard" or "N repeats").
    public var timing: String
    /// The 1-minute load average when the run started (Linux): above a
    /// fraction of a core, other processes shared the CPU with the run.
    public var loadAverage: Double?
    /// The share of all cores, in percent, that other processes used while
    /// the run was timing (Linux; see `CPUContention`).
    public var otherProcessesCPUPercent: Double?

    public struct DeviceDescription: Codable, Equatable, Sendable {
        public var label: String
        public var description: String
    }

    enum CodingKeys: String, CodingKey {
        case date, hostname, os, cpu, cores, openblas, devices, timing
        case memoryBytes = "memory_bytes", loadAverage = "load_average"
        case otherProcessesCPUPercent = "other_processes_cpu_percent"
    }

    /// This machine, now, with `targets` described.
    public static func current(targets: [BenchmarkTarget], timing: String, loadAverage: Double?,
                               otherProcessesCPUPercent: Double?) -> MachineInfo {
        let info = ProcessInfo.processInfo
        let formatter = ISO8601DateFormatter()
        let devices = targets.map { target -> DeviceDescription in
            switch target {
            case .openBLAS:
                return DeviceDescription(label: "openblas", description: "raw cblas_sgemm, \(openBLASDescription), "
                                         + "\(CPUBackend.threadCount) threads")
            case .device(let label, let device):
                if let backend = device.backend as? OpenCLBackend {
                    let i = backend.info
                    return DeviceDescription(label: label, description: "OpenCL \(i.kind.rawValue) device \(i.name), \(i.computeUnits) compute units, "
                                             + "\(i.globalMemoryBytes >> 20) MiB, \(i.platformName) driver \(i.driverVersion)")
                }
                // The GEMM library and its kernels decide the GEMM-bound
                // cases; an OpenBLAS core forced by OPENBLAS_CORETYPE is
                // named as such.
                return DeviceDescription(label: label, description: "the library's CPU backend (\(cpuBackendDescription))")
            }
        }
        return MachineInfo(date: formatter.string(from: Date()), hostname: info.hostName, os: operatingSystem(),
                           cpu: cpuModel(), cores: info.activeProcessorCount, memoryBytes: info.physicalMemory,
                           openblas: openBLASDescription, devices: devices, timing: timing, loadAverage: loadAverage,
                           otherProcessesCPUPercent: otherProcessesCPUPercent)
    }

    /// "OpenBLAS 0.3.21 ... (core Haswell set by OPENBLAS_CORETYPE)".
    static var openBLASDescription: String {
        let config = openblas_get_config().map { String(cString: $0) } ?? "OpenBLAS"
        let corrected = OpenBLASCore.correction.map { ", corrected at start: \($0)" } ?? ""
        return "\(config.trimmingCharacters(in: .whitespaces)) (\(OpenBLASCore.coreDescription)\(corrected))"
    }

    /// "GEMM: oneDNN 2.6.3 (...) ...; 2 threads; vector kernels x86-64-v4
    /// (AVX-512)", and why oneDNN is not used where it is not.
    static var cpuBackendDescription: String {
        let fallback = CPUGEMMLibrary.fallbackReason.map { " (\($0))" } ?? ""
        return "GEMM: \(CPUGEMMLibrary.description)\(fallback); "
            + "loops and products on \(CPUBackend.threadCount) threads; vector kernels \(CPUBackend.vectorLevel)"
    }

    /// The 1-minute load average from /proc/loadavg (nil elsewhere).
    public static func currentLoadAverage() -> Double? {
        guard let text = try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8),
              let first = text.split(separator: " ").first else { return nil }
        return Double(first)
    }

    /// PRETTY_NAME from /etc/os-release, else Foundation's version string.
    static func operatingSystem() -> String {
        if let text = try? String(contentsOfFile: "/etc/os-release", encoding: .utf8),
           let line = text.split(separator: "\n").first(where: { $0.hasPrefix("PRETTY_NAME=") }) {
            return line.dropFirst("PRETTY_NAME=".count).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
        }
        return ProcessInfo.processInfo.operatingSystemVersionString
    }

    /// "model name" from /proc/cpuinfo (Linux), else "unknown".
    static func cpuModel() -> String {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("model name") }),
              let colon = line.firstIndex(of: ":") else { return "unknown" }
        return line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
    }
}
