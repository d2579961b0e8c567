import Foundation

/// How much of the machine other processes used while a run was timing.
///
/// On a shared machine (CI runners, a box where builds run) other processes
/// take cores from the cases, and every multi-threaded time comes out slow
/// and noisy. The load average at the start misses work that starts later,
/// so the run samples the kernel's CPU counters at both ends: the machine's
/// busy time (/proc/stat) minus this process's own (/proc/self/stat, which
/// includes the OpenBLAS, GCD and PoCL worker threads) is what everyone else
/// used. Linux only; elsewhere nothing is reported.
struct CPUContention {
    private let machineBusy: Double
    private let machineTotal: Double
    private let ownBusy: Double

    /// A sample now, or nil when the counters cannot be read.
    init?() {
        guard let stat = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
              let cpuLine = stat.split(separator: "\n").first(where: { $0.hasPrefix("cpu ") }),
              let own = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8),
              let close = own.lastIndex(of: ")") else { return nil }
        // cpu  user nice system idle iowait irq softirq steal ...
        let ticks = cpuLine.split(separator: " ").dropFirst().compactMap { Double($0) }
        guard ticks.count >= 5 else { return nil }
        machineTotal = ticks.reduce(0, +)
        machineBusy = machineTotal - ticks[3] - ticks[4]
        // After "(comm)": state is field 3, utime and stime fields 14 and 15.
        let fields = own[own.index(after: close)...].split(separator: " ")
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        ownBusy = user + system
    }

    /// The share of all cores (0...1) that other processes kept busy between
    /// `start` and this sample.
    func othersShare(since start: CPUContention) -> Double? {
        let total = machineTotal - start.machineTotal
        guard total > 0 else { return nil }
        let others = (machineBusy - start.machineBusy) - (ownBusy - start.ownBusy)
        return min(max(others / total, 0), 1)
    }
}
