import Foundation

/// Training progress for a person watching: on a terminal, one line redrawn
/// in place (step/total, loss, accuracy, samples/s, ETA); otherwise (a log
/// file, CI) a plain line every `plainEvery` steps and at the end.
///
/// It writes to standard error by default, so a program's standard output
/// carries only its results.
public final class ProgressBar {
    public let total: Int
    public let label: String
    private let output: FileHandle
    private let isTerminal: Bool
    private let plainEvery: Int
    private let start = Date()
    private var lastDraw = Date.distantPast
    private var samples = 0

    public init(total: Int, label: String, output: FileHandle = .standardError, isTerminal: Bool? = nil,
                plainEvery: Int? = nil) {
        self.total = max(total, 1)
        self.label = label
        self.output = output
        self.isTerminal = isTerminal ?? (isatty(output.fileDescriptor) != 0)
        self.plainEvery = plainEvery ?? max(1, total / 4)
    }

    /// Reports that `step` (1-based) of `total` is done, having processed
    /// `batchSize` more samples, with the running loss and accuracy.
    public func update(step: Int, batchSize: Int, loss: Double, accuracy: Double? = nil) {
        samples += batchSize
        let now = Date()
        let done = step >= total
        if isTerminal {
            // Redrawing more than ~20 times a second costs more than it shows.
            guard done || now.timeIntervalSince(lastDraw) >= 0.05 else { return }
            lastDraw = now
            write("\r\u{1B}[2K" + line(step: step, loss: loss, accuracy: accuracy, now: now) + (done ? "\n" : ""))
        } else if done || step % plainEvery == 0 {
            write(line(step: step, loss: loss, accuracy: accuracy, now: now) + "\n")
        }
    }

    /// The text of one report (without terminal control codes).
    func line(step: Int, loss: Double, accuracy: Double?, now: Date) -> String {
        let elapsed = max(now.timeIntervalSince(start), 1e-9)
        let fraction = Double(step) / Double(total)
        let width = 24, filled = Int(fraction * Double(width))
        let bar = String(repeating: "=", count: filled) + (filled < width ? ">" : "") + String(repeating: " ", count: max(0, width - filled - 1))
        var text = "\(label) [\(bar)] \(step)/\(total) loss \(String(format: "%.4f", loss))"
        if let accuracy { text += " acc \(String(format: "%.2f%%", accuracy * 100))" }
        text += " \(Int(Double(samples) / elapsed)) samples/s"
        if step < total {
            text += " ETA \(ProgressBar.clock(elapsed / fraction - elapsed))"
        } else {
            text += " \(ProgressBar.clock(elapsed))"
        }
        return text
    }

    static func clock(_ seconds: Double) -> String {
        guard seconds.isFinite else { return "--:--" }
        let s = Int(seconds.rounded())
        return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%d:%02d", s / 60, s % 60)
    }

    private func write(_ text: String) { output.write(Data(text.utf8)) }
}
