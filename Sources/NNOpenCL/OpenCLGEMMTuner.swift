import Dispatch
import Foundation
import NNBackend
import Synchronization

/// What GEMM tuning found on one device: the winner per shape class and
/// every candidate's time, or why it was skipped.
public struct GEMMTuning: Sendable {
    public struct Trial: Sendable {
        public let shapeClass: GEMMShapeClass
        public let config: GEMMConfig
        /// The class's probes, each the best of five runs, summed; nil when
        /// skipped.
        public let milliseconds: Double?
        /// Why the candidate did not run (a build failure, a work-group
        /// limit, a device error).
        public let skipped: String?
    }

    public let mode: GEMMTuneMode
    public let winners: [GEMMShapeClass: GEMMConfig]
    public let trials: [Trial]
    /// How long the search took; 0 when the result came from the cache.
    public let seconds: Double
    /// The cache file read or written (nil when caching is off).
    public let cacheFile: URL?
    public let fromCache: Bool
}

extension OpenCLBackend {
    /// The GEMM config for an m x n x k product of `dtype`: the parity
    /// suite's override, else the tuned winner of its shape class (tuning
    /// on first use), else the untuned default. float64 runs untuned.
    func gemmConfig(m: Int, n: Int, k: Int, dtype: DType) -> GEMMConfig {
        let (override, errorPending) = queueState.withLock { ($0.gemmOverride, $0.pendingError != nil) }
        if let override { return override }
        let untuned = GEMMConfig.untuned(for: info).fitted(n: n, mode: .off)
        guard tuneMode != .off, dtype == .float32 else { return untuned }
        let tuning = gemmTuning.withLock { tuning -> GEMMTuning? in
            // Tuning synchronizes; an error the caller's earlier work left
            // must reach the caller's next download, not a tuning trial.
            if tuning == nil && !errorPending {
                do {
                    tuning = try searchGEMMTuning(mode: tuneMode, force: false, candidates: nil)
                } catch {
                    // Tuning needs the device; whatever failed will fail the
                    // real product too and be reported there.
                    tuning = GEMMTuning(mode: tuneMode, winners: [:], trials: [], seconds: 0, cacheFile: nil, fromCache: false)
                }
            }
            return tuning
        }
        guard let tuning, let winner = tuning.winners[GEMMShapeClass.of(m: m, n: n, k: k)] else { return untuned }
        return winner.fitted(n: n, mode: tuning.mode)
    }

    /// The tuning in effect (nil before the first float32 GEMM with tuning on).
    public var currentGEMMTuning: GEMMTuning? {
        gemmTuning.withLock { $0 }
    }

    /// Tunes GEMM on this device in `mode` (reading the cache unless
    /// `force`), writes the cache, makes the result current and returns it.
    /// `candidates` replaces the mode's list (tests give it one that fails).
    @discardableResult
    public func tuneGEMM(mode: GEMMTuneMode, force: Bool = false, candidates: [GEMMConfig]? = nil) throws -> GEMMTuning {
        try gemmTuning.withLock { tuning in
            let result = try searchGEMMTuning(mode: mode, force: force, candidates: candidates)
            tuning = result
            return result
        }
    }

    /// The search itself, inside `gemmTuning`'s mutex (so a search runs
    /// once at a time); its trials enqueue through the ordinary ops. Work
    /// other threads enqueue meanwhile runs between the trials and slows
    /// them; an error it leaves could be taken by a trial's synchronize
    /// (that trial is skipped, the error does not reach its own thread).
    private func searchGEMMTuning(mode: GEMMTuneMode, force: Bool, candidates: [GEMMConfig]?) throws -> GEMMTuning {
        let cache = GEMMTuningCache.fromEnvironment(for: info, mode: mode)
        if !force, let cache, let cached = cache.load() { return cached }
        // Earlier work's error is the caller's, not a candidate's.
        try synchronize()
        let start = DispatchTime.now().uptimeNanoseconds
        var trials: [GEMMTuning.Trial] = [], winners: [GEMMShapeClass: GEMMConfig] = [:]
        let candidates = candidates ?? GEMMConfig.candidates(mode: mode)
        for shapeClass in GEMMShapeClass.allCases {
            let operands = shapeClass.probes.map { probe in
                (probe, [probe.m * probe.k, probe.k * probe.n, probe.m * probe.n].enumerated().map { i, count -> DeviceBuffer in
                    let buffer = makeBuffer(count: count, dtype: .float32)
                    fillUniform(buffer, count: count, low: -1, high: 1, seed: 7, stream: UInt64(i))
                    return buffer
                })
            }
            func trial(_ config: GEMMConfig) -> GEMMTuning.Trial {
                var total = 0.0
                do {
                    try checkRunnable(config)
                    for (probe, buffers) in operands {
                        var best = Double.infinity
                        for run in 0..<6 {
                            let t0 = DispatchTime.now().uptimeNanoseconds
                            // Fitted to the probe's width, as gemmConfig fits the
                            // winner to each real product.
                            enqueueGEMM(config.fitted(n: probe.n, mode: mode), batch: 1, m: probe.m, n: probe.n, k: probe.k, alpha: 1,
                                        a: MatrixOperand(buffers[0], ld: probe.k), strideA: 0,
                                        b: MatrixOperand(buffers[1], ld: probe.n), strideB: 0, beta: 0,
                                        c: MatrixOperand(buffers[2], ld: probe.n), strideC: 0)
                            try synchronize()
                            // Run 0 warms up (PoCL compiles for the launch size).
                            if run > 0 { best = min(best, Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6) }
                        }
                        total += best
                    }
                } catch {
                    return .init(shapeClass: shapeClass, config: config, milliseconds: nil, skipped: "\(error)")
                }
                return .init(shapeClass: shapeClass, config: config, milliseconds: total, skipped: nil)
            }
            // quick: every block at k-slice 256 and the tiled kernel, then
            // the winner's block at the other slices; full: everything.
            var classTrials = candidates.filter { mode == .full || $0.kernel == .tiled || $0.kSlice == 256 }.map(trial)
            if mode != .full, let best = fastest(classTrials), best.kernel == .vector {
                classTrials += candidates.filter { $0.kernel == .vector && $0.rows == best.rows && $0.width == best.width
                    && $0.kSlice != 256 }.map(trial)
            }
            winners[shapeClass] = fastest(classTrials)
            trials += classTrials
        }
        let tuning = GEMMTuning(mode: mode, winners: winners, trials: trials,
                                seconds: Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9,
                                cacheFile: cache?.file, fromCache: false)
        cache?.store(tuning)
        return tuning
    }

    private func fastest(_ trials: [GEMMTuning.Trial]) -> GEMMConfig? {
        trials.filter { $0.milliseconds != nil }.min { $0.milliseconds! < $1.milliseconds! }?.config
    }

    /// Throws why `config` cannot run here: its program does not build, or
    /// the device cannot run the tiled kernel's 256 work-items per group.
    func checkRunnable(_ config: GEMMConfig) throws {
        let name = config.kernel == .tiled ? "gemm_tiled" : "gemm_vector"
        try queueState.withLock { state in
            let kernel = try state.programs.kernel(.gemm, name, dtype: .float32, defines: config.defines)
            let limit = state.programs.maxWorkGroupSize(kernel)
            if config.kernel == .tiled, limit < 256 {
                throw OpenCLError.unsupported(device: info.name, what: "gemm_tiled needs 256 work-items per group, the kernel can have \(limit)")
            }
        }
    }
}

/// Tuning results on disk, one JSON file per (device, driver, GEMM source,
/// mode) under `NN_TUNE_CACHE` (default ~/.cache/swift-nn/tuning; `off`
/// disables it), beside the program cache. Written atomically; a file that
/// does not parse, or was made for another device or source, is ignored
/// with one warning on stderr and replaced by the next tuning.
struct GEMMTuningCache {
    let file: URL
    let key: String

    static func fromEnvironment(for device: OpenCLDeviceInfo, mode: GEMMTuneMode) -> GEMMTuningCache? {
        let env = ProcessInfo.processInfo.environment
        let directory: URL
        if let value = env["NN_TUNE_CACHE"] {
            if value.isEmpty || value == "off" || value == "0" { return nil }
            directory = URL(fileURLWithPath: value)
        } else {
            directory = cacheHome().appendingPathComponent("swift-nn/tuning")
        }
        let key = stableHash([device.platformName, device.name, device.driverVersion, device.deviceVersion,
                              KernelFamily.gemm.source, mode.rawValue, "gemm-tuning-1"])
        return GEMMTuningCache(file: directory.appendingPathComponent("gemm-\(key).json"), key: key)
    }

    func load() -> GEMMTuning? {
        guard FileManager.default.fileExists(atPath: file.path) else { return nil }
        do {
            let data = try Data(contentsOf: file)
            guard let root = try JSONSerialization.jsonObject(with: data) as? [String: Any] else { throw Problem("not a JSON object") }
            guard root["key"] as? String == key else { throw Problem("made for another device, driver or kernel source") }
            guard let modeName = root["mode"] as? String, let mode = GEMMTuneMode(rawValue: modeName),
                  let winnerNames = root["winners"] as? [String: String] else { throw Problem("no mode or winners") }
            var winners: [GEMMShapeClass: GEMMConfig] = [:]
            for (className, configName) in winnerNames {
                guard let shapeClass = GEMMShapeClass(rawValue: className), let config = GEMMConfig(parsing: configName) else {
                    throw Problem("unknown winner \(className): \(configName)")
                }
                winners[shapeClass] = config
            }
            var trials: [GEMMTuning.Trial] = []
            for row in root["trials"] as? [[String: Any]] ?? [] {
                guard let shapeClass = (row["class"] as? String).flatMap(GEMMShapeClass.init(rawValue:)),
                      let config = (row["config"] as? String).flatMap(GEMMConfig.init(parsing:)) else { throw Problem("bad trial") }
                trials.append(.init(shapeClass: shapeClass, config: config, milliseconds: row["ms"] as? Double,
                                    skipped: row["skipped"] as? String))
            }
            return GEMMTuning(mode: mode, winners: winners, trials: trials, seconds: 0, cacheFile: file, fromCache: true)
        } catch {
            warnOnce("swift-nn: ignoring the GEMM tuning cache \(file.path) (\(error)); tuning again")
            return nil
        }
    }

    /// Best effort: a cache that cannot be written only costs a re-tune.
    func store(_ tuning: GEMMTuning) {
        let trials: [[String: Any]] = tuning.trials.map { t in
            var row: [String: Any] = ["class": t.shapeClass.rawValue, "config": t.config.description]
            if let ms = t.milliseconds { row["ms"] = ms }
            if let skipped = t.skipped { row["skipped"] = skipped }
            return row
        }
        let root: [String: Any] = ["key": key, "mode": tuning.mode.rawValue, "seconds": tuning.seconds,
                                   "winners": Dictionary(uniqueKeysWithValues: tuning.winners.map { ($0.key.rawValue, $0.value.description) }),
                                   "trials": trials]
        guard let data = try? JSONSerialization.data(withJSONObject: root, options: [.prettyPrinted, .sortedKeys]) else { return }
        try? FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try? data.write(to: file, options: .atomic)
    }

    private struct Problem: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }
}

/// Prints `message` on stderr the first time it is given in this process:
/// the library's one kind of output, for caches it had to ignore.
func warnOnce(_ message: String) {
    guard warned.withLock({ $0.insert(message).inserted }) else { return }
    FileHandle.standardError.write(Data((message + "\n").utf8))
}

private let warned = Mutex(Set<String>())

/// $XDG_CACHE_HOME, else ~/.cache: where the program and tuning caches live.
func cacheHome() -> URL {
    ProcessInfo.processInfo.environment["XDG_CACHE_HOME"].map { URL(fileURLWithPath: $0) }
        ?? URL(fileURLWithPath: NSHomeDirectory()).appendingPathComponent(".cache")
}

/// FNV-1a, 64 bit, of `parts` (each ended by a zero byte): stable across
/// runs and platforms, unlike Hasher.
func stableHash(_ parts: [String]) -> String {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for part in parts {
        for byte in part.utf8 + [0] {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
    }
    return String(hash, radix: 16)
}
