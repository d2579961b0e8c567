import Dispatch
import Foundation
import NNBackend

/// The threads the CPU backend's loops use: `$NN_NUM_THREADS` if set,
/// otherwise the cores this process may run on. Under `mpirun`, which binds
/// each rank to its cores, that is the rank's share, so that ranks do not
/// fight over the same core (Foundation's activeProcessorCount ignores the
/// affinity mask; OpenBLAS reads it too). Read once: on Linux,
/// activeProcessorCount opens two cgroup files per call, which cost a third
/// of a LeNet-5 training step when asked per op.
let processorCount: Int = {
    if let text = ProcessInfo.processInfo.environment["NN_NUM_THREADS"], let threads = Int(text), threads >= 1 {
        return threads
    }
    let cores = ProcessInfo.processInfo.activeProcessorCount
    if let allowed = allowedCoreCount(), allowed >= 1 { return min(cores, allowed) }
    return cores
}()

/// The cores in this process's affinity mask, from Linux's
/// /proc/self/status ("Cpus_allowed_list:\t0-3,6"); nil elsewhere.
func allowedCoreCount() -> Int? {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
          let line = status.split(separator: "\n").first(where: { $0.hasPrefix("Cpus_allowed_list:") }),
          let list = line.split(separator: ":").last?.trimmingCharacters(in: .whitespaces) else { return nil }
    var count = 0
    for range in list.split(separator: ",") {
        let ends = range.split(separator: "-").compactMap { Int($0) }
        guard let first = ends.first, let last = ends.last, last >= first else { return nil }
        count += last - first + 1
    }
    return count
}

/// Splits 0..<count into contiguous chunks run on all cores, when there is
/// enough work for threads to pay (`grain` elements per chunk at least).
/// Small ranges run inline on the caller's thread.
@inline(__always)
func parallelFor(_ count: Int, grain: Int = 1 << 15, _ body: (Range<Int>) -> Void) {
    let cores = processorCount
    let chunks = min(cores, count / max(grain, 1))
    if chunks <= 1 {
        if count > 0 { body(0..<count) }
        return
    }
    // `body` is not @Sendable: callers capture the raw pointers of the
    // buffers they read and write. Each chunk touches its own range, and
    // concurrentPerform returns only when every chunk has run, so sharing
    // the closure across its threads is safe.
    withoutActuallyEscaping(body) { body in
        nonisolated(unsafe) let body = body
        DispatchQueue.concurrentPerform(iterations: chunks) { c in
            let start = count * c / chunks
            let end = count * (c + 1) / chunks
            body(start..<end)
        }
    }
}
