import Foundation

/// Per-epoch metrics of a training run, written as CSV and drawn as an SVG
/// loss/accuracy curve. Both files are written atomically.
public struct MetricsLog: Sendable {
    public struct Epoch: Equatable, Codable, Sendable {
        public var epoch: Int
        public var trainLoss: Double
        public var trainAccuracy: Double?
        public var validationLoss: Double?
        public var validationAccuracy: Double?
        public var seconds: Double

        public init(epoch: Int, trainLoss: Double, trainAccuracy: Double? = nil, validationLoss: Double? = nil,
                    validationAccuracy: Double? = nil, seconds: Double) {
            self.epoch = epoch
            self.trainLoss = trainLoss
            self.trainAccuracy = trainAccuracy
            self.validationLoss = validationLoss
            self.validationAccuracy = validationAccuracy
            self.seconds = seconds
        }
    }

    public private(set) var epochs: [Epoch] = []

    public init() {}

    /// A log that starts with `epochs` (a resumed run's earlier epochs).
    public init(epochs: [Epoch]) { self.epochs = epochs }

    public mutating func append(_ epoch: Epoch) { epochs.append(epoch) }

    /// epoch,train_loss,train_accuracy,val_loss,val_accuracy,seconds (empty
    /// cells for metrics not measured).
    public func csv() -> String {
        func cell(_ v: Double?) -> String { v.map { String($0) } ?? "" }
        return (["epoch,train_loss,train_accuracy,val_loss,val_accuracy,seconds"] + epochs.map {
            "\($0.epoch),\($0.trainLoss),\(cell($0.trainAccuracy)),\(cell($0.validationLoss)),\(cell($0.validationAccuracy)),\($0.seconds)"
        }).joined(separator: "\n") + "\n"
    }

    public func writeCSV(to path: String) throws {
        try Data(csv().utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
    }

    /// Two panels side by side: loss (train, validation) and accuracy.
    public func svg(width: Int = 800, height: Int = 320) -> String {
        let panelWidth = Double(width) / 2
        var body = ""
        body += panel(x: 0, width: panelWidth, height: Double(height), title: "loss",
                      series: [("train", "#1f77b4", epochs.map(\.trainLoss)),
                               ("validation", "#ff7f0e", epochs.compactMap(\.validationLoss))])
        body += panel(x: panelWidth, width: panelWidth, height: Double(height), title: "accuracy",
                      series: [("train", "#1f77b4", epochs.compactMap(\.trainAccuracy)),
                               ("validation", "#ff7f0e", epochs.compactMap(\.validationAccuracy))])
        return """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(width)" height="\(height)" viewBox="0 0 \(width) \(height)" \
        font-family="sans-serif" font-size="11">
        <rect width="100%" height="100%" fill="white"/>
        \(body)</svg>

        """
    }

    public func writeSVG(to path: String) throws {
        try Data(svg().utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
    }

    private func panel(x: Double, width: Double, height: Double, title: String,
                       series: [(name: String, color: String, values: [Double])]) -> String {
        let left = x + 48, right = x + width - 12, top = 24.0, bottom = height - 32
        let all = series.flatMap(\.values).filter(\.isFinite)
        guard let lo = all.min(), let hi = all.max() else {
            return "<text x=\"\(x + width / 2)\" y=\"\(height / 2)\" text-anchor=\"middle\">no \(title) data</text>\n"
        }
        let span = hi > lo ? hi - lo : Swift.max(abs(hi), 1)
        let count = Swift.max(epochs.count, 2)
        func px(_ i: Int) -> Double { left + (right - left) * Double(i) / Double(count - 1) }
        func py(_ v: Double) -> Double { bottom - (bottom - top) * (v - lo) / span }
        var out = "<text x=\"\(x + width / 2)\" y=\"16\" text-anchor=\"middle\" font-weight=\"bold\">\(title)</text>\n"
        out += "<line x1=\"\(left)\" y1=\"\(bottom)\" x2=\"\(right)\" y2=\"\(bottom)\" stroke=\"#888\"/>\n"
        out += "<line x1=\"\(left)\" y1=\"\(top)\" x2=\"\(left)\" y2=\"\(bottom)\" stroke=\"#888\"/>\n"
        for v in [lo, (lo + hi) / 2, hi] {
            out += "<text x=\"\(left - 4)\" y=\"\(py(v) + 4)\" text-anchor=\"end\">\(String(format: "%.3g", v))</text>\n"
        }
        out += "<text x=\"\((left + right) / 2)\" y=\"\(height - 8)\" text-anchor=\"middle\">epoch</text>\n"
        for (index, s) in series.enumerated() where !s.values.isEmpty {
            let points = s.values.enumerated().map { "\(px($0.offset)),\(py($0.element))" }.joined(separator: " ")
            out += "<polyline fill=\"none\" stroke=\"\(s.color)\" stroke-width=\"2\" points=\"\(points)\"/>\n"
            out += "<text x=\"\(right - 4)\" y=\"\(top + 14 * Double(index + 1))\" text-anchor=\"end\" fill=\"\(s.color)\">\(s.name)</text>\n"
        }
        return out
    }
}
