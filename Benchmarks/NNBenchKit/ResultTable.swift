/// The table `nnbench run` prints on stdout: per suite, one block per case
/// with a row per device. Ratios are speeds relative to a reference (the
/// reference's median time over the row's): above 1 the row is faster.
public enum ResultTable {
    /// The device every row is compared with, and the suite-specific second
    /// reference: raw OpenBLAS for GEMM, PyTorch for the training steps.
    static let baseline = "cpu"

    static func secondReference(_ suite: String) -> String? {
        switch suite {
        case Suite.gemm.rawValue: return "openblas"
        case Suite.train.rawValue: return "pytorch"
        default: return nil
        }
    }

    static func rateHeader(_ suite: String) -> String {
        switch suite {
        case Suite.gemm.rawValue, Suite.conv.rawValue: return "GFLOP/s"
        case Suite.elementwise.rawValue, Suite.softmax.rawValue: return "GB/s"
        default: return ""
        }
    }

    static func explanation(_ suite: String) -> String {
        switch suite {
        case Suite.gemm.rawValue:
            return "C = op(A) op(B), MxNxK with transposes (T = transposed); GFLOP/s from 2MNK; "
                + "openblas = raw cblas_sgemm in the same run"
        case Suite.conv.rawValue:
            return "input HxWxC -> K filters RxS, stride s, padding p, batch b, no bias; GFLOP/s from 2*N*K*P*Q*C*R*S"
        case Suite.rnn.rawValue:
            return "one LSTM/GRU module over the sequence, forward + backward (weights and input)"
        case Suite.elementwise.rawValue, Suite.softmax.rawValue:
            return "GB/s from the bytes read plus written at the minimum"
        case Suite.train.rawValue:
            return "one step: forward, loss, backward, optimizer update; pytorch = the same step in PyTorch on the CPU, timed in this run"
        case Suite.small.rawValue:
            return "the tensor API on tiny tensors, 1,000 ops per repeat: the median in ms is microseconds per op"
        default:
            return ""
        }
    }

    public static func render(_ report: BenchmarkReport) -> String {
        var suites: [String] = []
        for r in report.results where !suites.contains(r.suite) { suites.append(r.suite) }
        return ([header(report.machine)] + suites.map { render(suite: $0, report) }).joined(separator: "\n\n") + "\n"
    }

    /// Where and how the numbers were taken, and what each device label is.
    static func header(_ m: MachineInfo) -> String {
        var lines = ["nnbench \(m.date): \(m.cpu), \(m.cores) cores, \(m.memoryBytes >> 30) GiB, \(m.os); timing \(m.timing)"
                     + (m.loadAverage.map { String(format: "; load average %.2f at start", $0) } ?? "")
                     + (m.otherProcessesCPUPercent.map { String(format: "; other processes used %.0f%% of the CPU meanwhile", $0) } ?? "")]
        lines += m.devices.map { "  \($0.label): \($0.description)" }
        return lines.joined(separator: "\n")
    }

    static func render(suite: String, _ report: BenchmarkReport) -> String {
        let rows = report.results.filter { $0.suite == suite }
        let second = secondReference(suite)
        var header = ["case", "device", "median ms", "min ms", "max ms"]
        let rateTitle = rateHeader(suite)
        if !rateTitle.isEmpty { header.append(rateTitle) }
        header.append("vs \(baseline)")
        if let second { header.append("vs \(second)") }
        var table = TextTable(header: header)

        var caseOrder: [String] = []
        for r in rows where !caseOrder.contains(r.case) { caseOrder.append(r.case) }
        for name in caseOrder {
            let measured = rows.filter { $0.case == name }
            // The second reference first when it was measured (OpenBLAS,
            // PyTorch), last when it is quoted (older reports).
            let ordered = measured.filter { $0.device == second } + measured.filter { $0.device != second }
            let baselineMs = measured.first { $0.device == baseline }?.medianMs
            let secondMs = measured.first { $0.device == second }?.medianMs
                ?? report.references.first { $0.suite == suite && $0.case == name && $0.device == second }?.medianMs
            for (i, r) in ordered.enumerated() {
                var row = [i == 0 ? name : "", r.device, Format.ms(r.medianMs), Format.ms(r.minMs), Format.ms(r.maxMs)]
                if !rateTitle.isEmpty { row.append((r.gflops ?? r.gbps).map(Format.rate) ?? "") }
                row.append(Format.ratio(baselineMs.map { $0 / r.medianMs }))
                if second != nil { row.append(Format.ratio(secondMs.map { $0 / r.medianMs })) }
                table.add(row)
            }
            for ref in report.references where ref.suite == suite && ref.case == name {
                var row = [ordered.isEmpty ? name : "", "\(ref.device) (quoted)", Format.ms(ref.medianMs), "", ""]
                if !rateTitle.isEmpty { row.append("") }
                row.append(Format.ratio(baselineMs.map { $0 / ref.medianMs }))
                if second != nil { row.append(ref.device == second ? "1.00x" : "-") }
                table.add(row)
            }
        }
        let title = "\(suite): \(explanation(suite)). Ratios = reference median / row median (above 1: faster)."
        return title + "\n" + table.render()
    }
}
