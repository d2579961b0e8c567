import Foundation
import NN

/// `nnbench startup`: how long a process takes to reach its first OpenCL
/// kernel and its first GEMM, counted from the process's own start (the
/// kernel's record of it, so dynamic loading and Swift's runtime set-up are
/// included). Run it twice: the second run is the warm start, programs and
/// GEMM tuning loaded from their caches.
public enum StartupReport {
    /// Seconds since this process started, from /proc/self/stat (field 22,
    /// the start time in clock ticks after boot) and /proc/uptime; nil where
    /// /proc is missing.
    public static func secondsSinceProcessStart() -> Double? {
        guard let stat = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8),
              let uptimeText = try? String(contentsOfFile: "/proc/uptime", encoding: .utf8),
              let uptime = Double(uptimeText.split(separator: " ").first ?? ""),
              let close = stat.lastIndex(of: ")") else { return nil }
        // Fields after the command name, which may hold spaces: state is 3.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 19, let ticks = Double(fields[19]) else { return nil }
        return uptime - ticks / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// Creates the device for `spec`, runs one elementwise kernel, then one
    /// float32 GEMM (which loads or runs the tuning), and renders each
    /// milestone's time since the process started.
    public static func run(spec: String) throws -> String {
        var rows: [(String, Double?)] = [("process start -> this command", secondsSinceProcessStart())]
        let device: Device
        do {
            device = try Device.named(spec)
        } catch {
            throw BenchmarkError.unknownDevice(spec: spec, reason: "\(error)", available: DeviceSelection.availableList())
        }
        rows.append(("device ready (platform, context, queue)", secondsSinceProcessStart()))
        let x = Tensor.ones([64], on: device)
        _ = try (x + x).toArray()
        rows.append(("first kernel done (add of 64 floats, read back)", secondsSinceProcessStart()))
        let a = Tensor.ones([64, 64], on: device)
        _ = try a.matmul(a).toArray()
        rows.append(("first GEMM done (64x64x64, read back)", secondsSinceProcessStart()))
        var table = TextTable(header: ["milestone", "seconds since process start"], leftAligned: 1)
        for (name, seconds) in rows { table.add([name, seconds.map { String(format: "%.3f", $0) } ?? "n/a"]) }
        var lines = ["\(device.name)", table.render()]
        if let backend = device.backend as? OpenCLBackend {
            let tuning = backend.currentGEMMTuning
            let programs = backend.keepsProgramBinaries
                ? "\(backend.programsLoadedFromCache) loaded from the library's cache, \(backend.programsCompiled) compiled"
                : "\(backend.programsCompiled) built through the driver (whose own cache, as PoCL's, may hold them)"
            lines.append("kernel programs: \(programs); GEMM tuning: "
                         + (tuning.map { $0.fromCache ? "loaded from the cache" : String(format: "searched (%.1f s)", $0.seconds) }
                            ?? "off (NN_TUNE=off)"))
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
