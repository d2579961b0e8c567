import Dispatch
import Foundation
import Synchronization
import XCTest
@testable import NNCPU

/// The CPU backend's thread pool: every chunk of every job runs exactly
/// once, whether the workers were spinning or parked, whether a loop is
/// nested in a chunk or two threads start jobs at once.
final class CPUThreadPoolTests: XCTestCase {
    /// Runs one job of `chunks` and returns how often each chunk ran.
    private static func counts(_ pool: CPUThreadPool, chunks: Int) -> [Int] {
        let hits = Mutex([Int](repeating: 0, count: chunks))
        pool.run(chunks: chunks) { c in hits.withLock { $0[c] += 1 } }
        return hits.withLock { $0 }
    }

    func testEveryChunkRunsOnceInManyJobsBackToBack() {
        // More threads than cores too: a worker that is not scheduled in
        // time must still check in before the next job is published.
        for threads in [2, 3, 5] {
            let pool = CPUThreadPool(threads: threads)
            XCTAssertEqual(pool.threadCount, threads)
            for job in 0..<3_000 {
                let chunks = 1 + job % 7
                let ran = Self.counts(pool, chunks: chunks)
                if ran != [Int](repeating: 1, count: chunks) {
                    XCTFail("\(threads) threads, job \(job): chunks ran \(ran) times")
                    return
                }
            }
        }
    }

    func testParkedWorkersWakeForTheNextJob() {
        let pool = CPUThreadPool(threads: 3)
        XCTAssertEqual(Self.counts(pool, chunks: 3), [1, 1, 1])
        for _ in 0..<5 {
            // Longer than the spin: the workers park on their semaphores.
            Thread.sleep(forTimeInterval: Double(CPUThreadPool.spinTime) / 1e9 * 3)
            let threads = Mutex<Set<UInt>>([])
            let hits = Mutex([Int](repeating: 0, count: 12))
            pool.run(chunks: 12) { c in
                hits.withLock { $0[c] += 1 }
                // Long enough that a woken worker takes some chunks.
                Thread.sleep(forTimeInterval: 0.002)
                threads.withLock { _ = $0.insert(UInt(pthread_self())) }
            }
            XCTAssertEqual(hits.withLock { $0 }, [Int](repeating: 1, count: 12))
            XCTAssertGreaterThan(threads.withLock { $0.count }, 1, "a parked worker took part")
        }
    }

    func testALoopInsideAChunkRunsInlineAndCompletes() {
        let pool = CPUThreadPool(threads: 2)
        let inner = Mutex([Int](repeating: 0, count: 4 * 5))
        pool.run(chunks: 4) { outer in
            pool.run(chunks: 5) { c in inner.withLock { $0[outer * 5 + c] += 1 } }
        }
        XCTAssertEqual(inner.withLock { $0 }, [Int](repeating: 1, count: 20))
    }

    func testJobsFromSeveralThreadsAtOnceAllComplete() {
        let pool = CPUThreadPool(threads: 2)
        let failures = Atomic<Int>(0)
        DispatchQueue.concurrentPerform(iterations: 4) { _ in
            for job in 0..<500 {
                let chunks = 2 + job % 5
                if Self.counts(pool, chunks: chunks) != [Int](repeating: 1, count: chunks) {
                    failures.add(1, ordering: .relaxed)
                }
            }
        }
        XCTAssertEqual(failures.load(ordering: .relaxed), 0)
    }

    func testParallelForCoversTheRangeInContiguousChunks() {
        for count in [0, 1, 7, 100_003] {
            let seen = Mutex([Int](repeating: 0, count: count))
            parallelFor(count, grain: 1_000) { r in
                seen.withLock { for i in r { $0[i] += 1 } }
            }
            XCTAssertEqual(seen.withLock { $0 }, [Int](repeating: 1, count: count), "count \(count)")
        }
        XCTAssertEqual(CPUThreadPool.shared.threadCount, processorCount)
    }
}
