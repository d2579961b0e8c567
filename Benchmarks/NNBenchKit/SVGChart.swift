import Foundation

/// `--svg`: a grouped horizontal bar chart of every result's speed relative
/// to the CPU backend (baseline median / result median), one group per
/// case, one bar per device, on a log axis so 0.1x and 10x are equally far
/// from 1x. Each measured bar is a `<rect class="bar">` carrying its suite,
/// case, device and ratio as data attributes; quoted PyTorch times are drawn
/// as `class="reference"`.
public enum SVGChart {
    static let palette = ["#4e79a7", "#f28e2b", "#e15759", "#59a14f", "#b07aa1", "#76b7b2", "#edc948", "#ff9da7", "#9c755f"]
    static let fixedColors = ["openblas": "#7f7f7f", "pytorch": "#bab0ac"]

    // Geometry in px.
    static let barHeight = 11.0, barGap = 2.0, groupGap = 9.0, suiteGap = 30.0
    static let plotWidth = 560.0, top = 76.0, charWidth = 6.1

    private struct Bar {
        let device: String
        let ratio: Double
        let medianMs: Double
        let quoted: Bool
    }

    private struct Group {
        let suite: String
        let name: String
        let bars: [Bar]
    }

    public static func render(_ report: BenchmarkReport) -> String {
        let devices = orderedDevices(report)
        let baseline = devices.contains("cpu") ? "cpu" : devices.first { $0 != "openblas" } ?? devices.first ?? "cpu"
        let groups = makeGroups(report, devices: devices, baseline: baseline)
        let ratios = groups.flatMap { $0.bars.map(\.ratio) }
        // Whole decades around every ratio and 1x.
        let low = floor(log10(min(ratios.min() ?? 1, 1) * 0.999)), high = ceil(log10(max(ratios.max() ?? 1, 1) * 1.001))
        let decades = (Swift.max(low, -4), Swift.min(Swift.max(high, low + 1), 4))

        let labelWidth = min(Double(groups.map(\.name.count).max() ?? 10) * charWidth + 16, 560)
        let left = labelWidth + 10
        func x(_ ratio: Double) -> Double {
            let clamped = min(max(log10(ratio), decades.0), decades.1)
            return left + (clamped - decades.0) / (decades.1 - decades.0) * plotWidth
        }

        var body: [String] = []
        var y = top
        var currentSuite = ""
        for group in groups {
            if group.suite != currentSuite {
                currentSuite = group.suite
                y += currentSuite == groups.first?.suite ? 0 : suiteGap - groupGap
                body.append(text(x: 10, y: y + 12, group.suite, attributes: "class=\"suite\" font-weight=\"bold\" font-size=\"14\""))
                y += 20
            }
            let groupHeight = Double(group.bars.count) * (barHeight + barGap)
            body.append(text(x: labelWidth, y: y + groupHeight / 2 + 4, group.name, attributes: "text-anchor=\"end\""))
            for bar in group.bars {
                let end = x(bar.ratio)
                let color = fixedColors[bar.device] ?? palette[(devices.firstIndex(of: bar.device) ?? 0) % palette.count]
                let tooltip = "\(group.suite) \(group.name) on \(bar.device)\(bar.quoted ? " (quoted)" : ""): "
                    + "\(Format.ratio(bar.ratio)) of \(baseline), \(Format.ms(bar.medianMs)) ms"
                let attributes = [
                    "class=\"\(bar.quoted ? "reference" : "bar")\"",
                    "data-suite=\"\(escape(group.suite))\"", "data-case=\"\(escape(group.name))\"",
                    "data-device=\"\(escape(bar.device))\"", "data-ratio=\"\(String(format: "%.4f", bar.ratio))\"",
                    "x=\"\(f(left))\"", "y=\"\(f(y))\"", "width=\"\(f(max(end - left, 1)))\"", "height=\"\(f(barHeight))\"",
                    "fill=\"\(color)\"" + (bar.quoted ? " fill-opacity=\"0.6\" stroke=\"#555\" stroke-dasharray=\"3,2\"" : ""),
                ]
                body.append("<rect \(attributes.joined(separator: " "))><title>\(escape(tooltip))</title></rect>")
                body.append(text(x: max(end, left) + 4, y: y + barHeight - 2, Format.ratio(bar.ratio), attributes: "font-size=\"9\" fill=\"#333\""))
                y += barHeight + barGap
            }
            y += groupGap
        }
        let plotBottom = y
        let width = left + plotWidth + 60, height = plotBottom + 30

        var svg: [String] = [
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>",
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(f(width))\" height=\"\(f(height))\" "
                + "viewBox=\"0 0 \(f(width)) \(f(height))\" font-family=\"Helvetica, Arial, sans-serif\" font-size=\"11\">",
            "<rect class=\"background\" x=\"0\" y=\"0\" width=\"\(f(width))\" height=\"\(f(height))\" fill=\"white\"/>",
            text(x: 10, y: 20, "nnbench: speed relative to \(baseline) (\(baseline) median / device median; log scale, right is faster)",
                 attributes: "font-size=\"14\" font-weight=\"bold\""),
            text(x: 10, y: 38, "\(report.machine.date), \(report.machine.cpu), \(report.machine.cores) cores, timing \(report.machine.timing)",
                 attributes: "fill=\"#555\""),
        ]
        // Legend.
        var legendX = 10.0
        let legendDevices = devices + (report.references.isEmpty || devices.contains("pytorch") ? [] : ["pytorch"])
        for device in legendDevices {
            let color = fixedColors[device] ?? palette[(devices.firstIndex(of: device) ?? 0) % palette.count]
            svg.append("<rect class=\"legend\" x=\"\(f(legendX))\" y=\"48\" width=\"12\" height=\"12\" fill=\"\(color)\"/>")
            let label = device == "pytorch" && !devices.contains("pytorch") ? "pytorch (quoted)" : device
            svg.append(text(x: legendX + 16, y: 58, label))
            legendX += 16 + Double(label.count) * charWidth + 18
        }
        // Decade grid lines, 1x emphasized.
        for decade in stride(from: decades.0, through: decades.1, by: 1) {
            let gx = x(pow(10, decade))
            let isOne = decade == 0
            svg.append("<line class=\"grid\" x1=\"\(f(gx))\" y1=\"\(f(top - 4))\" x2=\"\(f(gx))\" y2=\"\(f(plotBottom))\" "
                       + "stroke=\"\(isOne ? "#000" : "#ccc")\" stroke-width=\"\(isOne ? 1.5 : 1)\"/>")
            svg.append(text(x: gx, y: plotBottom + 14, Format.ratio(pow(10, decade)), attributes: "text-anchor=\"middle\" fill=\"#555\""))
        }
        svg += body
        svg.append("</svg>")
        return svg.joined(separator: "\n") + "\n"
    }

    public static func write(_ report: BenchmarkReport, to path: String) throws {
        try BenchmarkReport.write(Data(render(report).utf8), to: path)
    }

    /// Devices in the order they first appear, raw OpenBLAS first.
    private static func orderedDevices(_ report: BenchmarkReport) -> [String] {
        var devices: [String] = []
        for r in report.results where !devices.contains(r.device) { devices.append(r.device) }
        return devices.filter { $0 == "openblas" } + devices.filter { $0 != "openblas" }
    }

    /// One group per case; a bar per result whose case has a baseline time.
    private static func makeGroups(_ report: BenchmarkReport, devices: [String], baseline: String) -> [Group] {
        var keys: [(String, String)] = []
        for r in report.results where !keys.contains(where: { $0 == (r.suite, r.case) }) { keys.append((r.suite, r.case)) }
        return keys.compactMap { suite, name in
            let rows = report.results.filter { $0.suite == suite && $0.case == name }
            guard let base = rows.first(where: { $0.device == baseline })?.medianMs else { return nil }
            var bars = devices.compactMap { device in
                rows.first { $0.device == device }.map { Bar(device: device, ratio: base / $0.medianMs, medianMs: $0.medianMs, quoted: false) }
            }
            bars += report.references.filter { $0.suite == suite && $0.case == name }.map {
                Bar(device: $0.device, ratio: base / $0.medianMs, medianMs: $0.medianMs, quoted: true)
            }
            return Group(suite: suite, name: name, bars: bars)
        }
    }

    private static func text(x: Double, y: Double, _ content: String, attributes: String = "") -> String {
        "<text x=\"\(f(x))\" y=\"\(f(y))\"\(attributes.isEmpty ? "" : " " + attributes)>\(escape(content))</text>"
    }

    private static func f(_ value: Double) -> String { String(format: "%.1f", value) }

    /// Text and attribute values with XML's five special characters escaped.
    static func escape(_ s: String) -> String {
        var out = ""
        for ch in s {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            default: out.append(ch)
            }
        }
        return out
    }
}
