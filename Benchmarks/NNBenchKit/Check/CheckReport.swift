import Foundation

/// The text `nnbench check` prints for one device: one row per op with
/// its worst error, then every failing case in full.
public enum CheckReport {
    public static func render(_ summaries: [CheckSummary], device: String) -> String {
        var table = TextTable(header: ["op", "result", "runs", "worst error", "of tolerance", "tolerance"], leftAligned: 2)
        for s in summaries {
            let result = s.passed ? (s.skipped == s.cases ? "skipped" : "pass") : "FAIL"
            let cases = s.skipped > 0 ? "\(s.cases - s.skipped) (+\(s.skipped) skipped)" : "\(s.cases)"
            table.add([s.op, result, cases, s.worst.map(errorText) ?? "-", s.worst.map(usageText) ?? "-",
                       s.worst.map { "\($0.tolerance)" } ?? "-"])
        }
        let failed = summaries.flatMap(\.failed)
        let total = summaries.reduce(0) { $0 + $1.cases - $1.skipped }
        var lines = ["\(device): \(failed.isEmpty ? "pass" : "FAIL"), \(total - failed.count) of \(total) runs agree with the CPU backend (a case runs once per GEMM variant)",
                     "", table.render()]
        if !failed.isEmpty {
            lines += ["", "failures:"] + failed.map { "  \(caseName($0)): \($0.message ?? "no result")" }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    public static func caseName(_ outcome: CheckOutcome) -> String {
        "\(outcome.op) \(outcome.shape)" + (outcome.variant.map { " [gemm \($0)]" } ?? "")
    }

    /// The worst case's error in its tolerance's own terms.
    static func errorText(_ outcome: CheckOutcome) -> String {
        guard let agreement = outcome.agreement else { return "error" }
        switch outcome.tolerance {
        case .exact: return agreement.error == 0 ? "bit-exact" : "\(Int(agreement.error)) differ"
        case .elementwise: return String(format: "%.2e abs", agreement.error)
        case .norm: return String(format: "%.2e rel", agreement.error)
        }
    }

    static func usageText(_ outcome: CheckOutcome) -> String {
        guard let usage = outcome.agreement?.usage, usage.isFinite else { return "-" }
        return String(format: "%.0f%%", usage * 100)
    }
}
