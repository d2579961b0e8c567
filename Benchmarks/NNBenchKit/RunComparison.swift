import Foundation

/// `nnbench compare A.json B.json`: for every (suite, case, device) timed in
/// both runs, the two medians and B's speed relative to A (A median / B
/// median: above 1, B is faster), with a geometric mean per suite and
/// device so a change across many cases reads as one number.
public enum RunComparison {
    public static func render(_ a: BenchmarkReport, _ b: BenchmarkReport, nameA: String = "A", nameB: String = "B") -> String {
        var lines = [
            "A = \(nameA): \(summary(a.machine))",
            "B = \(nameB): \(summary(b.machine))",
            "B vs A = A median / B median (above 1: B is faster).",
            "",
        ]
        var table = TextTable(header: ["suite", "case", "device", "A ms", "B ms", "B vs A"], leftAligned: 3)
        var ratiosBySuiteDevice: [String: [Double]] = [:]
        var order: [String] = []
        var onlyA = 0
        for r in a.results {
            guard let other = b.result(suite: r.suite, case: r.case, device: r.device) else {
                onlyA += 1
                continue
            }
            let ratio = r.medianMs / other.medianMs
            table.add([r.suite, r.case, r.device, Format.ms(r.medianMs), Format.ms(other.medianMs), Format.ratio(ratio)])
            let key = "\(r.suite)\t\(r.device)"
            if ratiosBySuiteDevice[key] == nil { order.append(key) }
            ratiosBySuiteDevice[key, default: []].append(ratio)
        }
        let onlyB = b.results.filter { a.result(suite: $0.suite, case: $0.case, device: $0.device) == nil }.count
        if table.rows.isEmpty {
            lines.append("The two runs have no (suite, case, device) in common.")
        } else {
            lines.append(table.render())
            lines.append("")
            var means = TextTable(header: ["suite", "device", "cases", "geometric mean B vs A"])
            for key in order {
                let parts = key.split(separator: "\t").map(String.init)
                let ratios = ratiosBySuiteDevice[key]!
                let mean = exp(ratios.map { log($0) }.reduce(0, +) / Double(ratios.count))
                means.add([parts[0], parts[1], "\(ratios.count)", Format.ratio(mean)])
            }
            lines.append(means.render())
        }
        if onlyA + onlyB > 0 {
            lines.append("")
            lines.append("Not compared: \(onlyA) result(s) only in A, \(onlyB) only in B.")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func summary(_ m: MachineInfo) -> String {
        "\(m.date), \(m.hostname), \(m.cpu), \(m.cores) cores, timing \(m.timing), devices "
            + m.devices.map(\.label).joined(separator: ", ")
    }
}
