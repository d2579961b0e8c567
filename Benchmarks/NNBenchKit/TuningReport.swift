import Foundation
import NN

/// The text of `nnbench tune`: every candidate per shape class with its
/// time, the winner marked, and the candidates that could not run.
public enum TuningReport {
    public static func render(_ tuning: GEMMTuning, device: String) -> String {
        let origin = tuning.fromCache ? "from the cache" : String(format: "tuned in %.1f s", tuning.seconds)
        var lines = ["\(device): GEMM \(tuning.mode.rawValue), \(origin)" + (tuning.cacheFile.map { " (\($0.path))" } ?? "")]
        var table = TextTable(header: ["class", "config", "ms", "speed vs winner", ""], leftAligned: 2)
        for shapeClass in GEMMShapeClass.allCases {
            let trials = tuning.trials.filter { $0.shapeClass == shapeClass }
            let winner = tuning.winners[shapeClass]
            let best = trials.first { $0.config == winner }?.milliseconds
            for (i, trial) in trials.enumerated() {
                let ms = trial.milliseconds.map { Format.ms($0) } ?? "skipped"
                // The winner's speed relative to this candidate's: 1.00x for the winner.
                var ratio = "-"
                if let ms = trial.milliseconds, let best { ratio = String(format: "%.2fx", best / ms) }
                table.add([i == 0 ? shapeClass.rawValue : "", trial.config.description, ms, ratio,
                           trial.config == winner ? "<- chosen" : ""])
            }
        }
        lines += ["", table.render()]
        let skipped = tuning.trials.filter { $0.skipped != nil }
        if !skipped.isEmpty {
            lines += ["", "skipped (never chosen):"] + skipped.map { "  \($0.shapeClass.rawValue) \($0.config): \($0.skipped!)" }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
