import Dispatch
import Foundation

/// Splits 0..<count into contiguous chunks run on all cores, when there is
/// enough work for threads to pay (`grain` elements per chunk at least).
/// Small ranges run inline on the caller's thread.
/// Read once: on Linux, activeProcessorCount opens two cgroup files per
/// call, which cost a third of a LeNet-5 training step when asked per op.
let processorCount = ProcessInfo.processInfo.activeProcessorCount

@inline(__always)
func parallelFor(_ count: Int, grain: Int = 1 << 15, _ body: (Range<Int>) -> Void) {
    let cores = processorCount
    let chunks = min(cores, count / max(grain, 1))
    if chunks <= 1 {
        if count > 0 { body(0..<count) }
        return
    }
    DispatchQueue.concurrentPerform(iterations: chunks) { c in
        let start = count * c / chunks
        let end = count * (c + 1) / chunks
        body(start..<end)
    }
}
