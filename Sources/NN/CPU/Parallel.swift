import Dispatch
import Foundation

/// Splits 0..<count into contiguous chunks run on all cores, when there is
/// enough work for threads to pay (`grain` elements per chunk at least).
/// Small ranges run inline on the caller's thread.
@inline(__always)
func parallelFor(_ count: Int, grain: Int = 1 << 15, _ body: (Range<Int>) -> Void) {
    let cores = ProcessInfo.processInfo.activeProcessorCount
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
