import CPUKernels
import Dispatch
import Foundation
import NNBackend
import Synchronization

/// The threads the CPU backend's loops use: `$NN_NUM_THREADS` if set,
/// otherwise the cores this process may run on. Under `mpirun`, which binds
/// each rank to its cores, that is the rank's share, so that ranks do not
/// fight over the same core (Foundation's activeProcessorCount ignores the
/// affinity mask). Read once: on Linux, activeProcessorCount opens two
/// cgroup files per call, which cost a third of a LeNet-5 training step
/// when asked per op.
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
    let pool = CPUThreadPool.shared
    let chunks = min(pool.threadCount, count / max(grain, 1))
    if chunks <= 1 {
        if count > 0 { body(0..<count) }
        return
    }
    pool.run(chunks: chunks) { c in body(count * c / chunks..<count * (c + 1) / chunks) }
}

/// The CPU backend's worker threads, one per core but the caller's, which
/// every parallel loop and every matrix product shares.
///
/// Why a pool of our own: a recurrent layer alternates, 64 times a
/// sequence each way, a small GEMM with a small cell loop, each a few tens
/// of microseconds. With the GEMM library's threads and Dispatch's taking
/// turns, each hand-off either woke a parked thread (tens of microseconds)
/// or left the other library's threads spinning on the core the next loop
/// wanted. Here one set of threads does both: the matrix libraries run
/// single-threaded inside the pool's chunks (`CPUBackend.gemm` cuts C into
/// blocks), and a worker keeps spinning for `spinTime` after a job, so the
/// next one starts within a microsecond; idle longer, it parks on a
/// semaphore and uses no CPU.
///
/// A job is fork-join: the caller publishes it for as many workers as it
/// has chunks beyond its own, takes chunks itself, and returns when each of
/// those workers has checked in, so none can still hold a job when the next
/// is published; the others skip it without touching it (and a parked one
/// is not woken). One job runs at a time: a parallel loop inside a chunk,
/// or on another thread while a job runs, runs inline on its own thread
/// (the cores are busy anyway).
final class CPUThreadPool: Sendable {
    static let shared = CPUThreadPool(threads: processorCount)

    /// How long an idle worker spins before it parks: longer than the gaps
    /// between the ops of a training step, short enough that a program
    /// that stops computing stops burning the cores at once.
    static let spinTime: UInt64 = 1_000_000  // ns

    /// Threads a job runs on, the caller's included.
    let threadCount: Int
    private let workers: [Worker]
    private let state: SharedState

    init(threads: Int) {
        // A JobWord counts participants in 16 bits.
        threadCount = min(max(1, threads), 1 << 16)
        let state = SharedState()
        self.state = state
        workers = (1..<threadCount).map { index in Worker(index: index, state: state) }
    }

    /// Runs `body(c)` for every c in 0..<chunks on the pool's threads,
    /// returning when all have run.
    func run(chunks: Int, _ body: (Int) -> Void) {
        if chunks <= 1 || workers.isEmpty
            || !state.busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged {
            for c in 0..<chunks { body(c) }
            return
        }
        // `body` is not @Sendable: callers capture the raw pointers of the
        // buffers they read and write. Each chunk touches its own part, and
        // run returns only when every worker has let go of the job (the
        // slot is cleared before withoutActuallyEscaping checks that the
        // closure did not escape).
        let participants = min(chunks - 1, workers.count)
        withoutActuallyEscaping(body) { body in
            state.job.publish(body, chunks: chunks)
            state.nextChunk.store(0, ordering: .relaxed)
            state.finishedWorkers.store(0, ordering: .relaxed)
            // Only the caller that holds `busy` writes the word.
            let job = JobWord(state.generation.load(ordering: .relaxed)).next(participants: participants)
            state.generation.store(job.value, ordering: .sequentiallyConsistent)
            for worker in workers[..<participants] { worker.wakeIfParked() }
            state.runChunks(body, chunks)
            var spins = 0
            while state.finishedWorkers.load(ordering: .acquiring) < participants { CPUThreadPool.pause(&spins) }
            state.job.clear()
        }
        state.busy.store(false, ordering: .releasing)
    }

    /// One turn of a spin-wait: the CPU's pause, and from the 1024th turn
    /// on a yield of the core. A worker the caller waits for may not be
    /// running at all when there are more threads than cores (ranks of an
    /// MPI job on a shared machine, another program): spinning on, the
    /// caller would hold the core that worker needs for the rest of its
    /// time slice.
    @inline(__always)
    static func pause(_ spins: inout Int) {
        spins += 1
        if spins < 1024 { nn_cpu_relax() } else { sched_yield() }
    }

    /// A job's number and how many workers take part, in one word, so that
    /// a worker reads the two together: read apart, a slow worker could
    /// pair one job's number with the next job's count.
    private struct JobWord {
        let value: Int
        init(_ value: Int) { self.value = value }
        var participants: Int { value & 0xFFFF }
        func next(participants: Int) -> JobWord { JobWord(((value >> 16) + 1) << 16 | participants) }
    }

    /// What the caller and the workers share.
    private final class SharedState: Sendable {
        /// The current job's JobWord; a worker looks at a job when it sees
        /// a word it has not seen.
        let generation = Atomic<Int>(0)
        let nextChunk = Atomic<Int>(0)
        let finishedWorkers = Atomic<Int>(0)
        /// A caller owns the pool.
        let busy = Atomic<Bool>(false)
        let job = JobSlot()

        /// Takes chunks until there are none left.
        @inline(__always)
        func runChunks(_ body: (Int) -> Void, _ chunks: Int) {
            while true {
                let c = nextChunk.wrappingAdd(1, ordering: .relaxed).oldValue
                if c >= chunks { return }
                body(c)
            }
        }
    }

    /// The current job's body and chunk count. `@unchecked Sendable`:
    /// written by the caller before it bumps the generation (releasing)
    /// and after every worker has finished (acquiring), read by workers in
    /// between, so no access overlaps a write.
    private final class JobSlot: @unchecked Sendable {
        private var body: ((Int) -> Void)?
        private(set) var chunks = 0

        func publish(_ body: @escaping (Int) -> Void, chunks: Int) {
            self.body = body
            self.chunks = chunks
        }

        func clear() { body = nil }

        var current: (Int) -> Void { body! }
    }

    /// One worker thread: spins on the generation, then parks.
    private final class Worker: Sendable {
        /// Set by a worker about to park; whoever resets it (the worker
        /// itself on finding work after all, or a caller) decides who
        /// consumes the semaphore's signal.
        private let parked = Atomic<Bool>(false)
        private let wake = DispatchSemaphore(value: 0)

        /// 0 for the first worker: it takes part in every job of two or
        /// more chunks, the second in those of three or more, ...
        private let position: Int

        init(index: Int, state: SharedState) {
            position = index - 1
            let thread = Thread { [self] in self.loop(state) }
            thread.name = "nn-cpu-\(index)"
            thread.start()
        }

        /// Called by a caller after publishing a job.
        func wakeIfParked() {
            if parked.exchange(false, ordering: .sequentiallyConsistent) { wake.signal() }
        }

        private func loop(_ state: SharedState) -> Never {
            var seen = 0
            while true {
                var generation = state.generation.load(ordering: .acquiring)
                var spins = 0
                var start = DispatchTime.now().uptimeNanoseconds
                while generation == seen {
                    CPUThreadPool.pause(&spins)
                    if spins & 255 == 0 && DispatchTime.now().uptimeNanoseconds - start > CPUThreadPool.spinTime {
                        park(state, seen: seen)
                        spins = 0
                        start = DispatchTime.now().uptimeNanoseconds
                    }
                    generation = state.generation.load(ordering: .acquiring)
                }
                seen = generation
                guard position < JobWord(generation).participants else { continue }
                runJob(state)
                state.finishedWorkers.add(1, ordering: .releasing)
            }
        }

        /// Not inlined so that the worker's reference to the job's closure
        /// ends when it returns, before the worker checks in: the caller
        /// then holds the only one (withoutActuallyEscaping checks that).
        @inline(never)
        private func runJob(_ state: SharedState) {
            state.runChunks(state.job.current, state.job.chunks)
        }

        /// Sleeps until a caller publishes a job after `seen` that this
        /// worker takes part in. Either the worker sees a new word after
        /// raising its flag and takes the flag back, or a caller that needs
        /// it takes the flag and signals.
        private func park(_ state: SharedState, seen: Int) {
            parked.store(true, ordering: .sequentiallyConsistent)
            if state.generation.load(ordering: .sequentiallyConsistent) != seen,
               parked.exchange(false, ordering: .sequentiallyConsistent) {
                return
            }
            wake.wait()
        }
    }
}
