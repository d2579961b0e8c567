import Foundation

/// One hyperparameter's search range: uniform in [low, high], or uniform in
/// log space (the course's advice for learning rates and weight decay,
/// whose effect is multiplicative).
public struct SearchRange: Equatable, Sendable, CustomStringConvertible {
    public enum Scale: String, Sendable { case linear, log }

    public let name: String
    public let low: Double
    public let high: Double
    public let scale: Scale

    public init(_ name: String, _ low: Double, _ high: Double, scale: Scale = .linear) throws {
        guard low.isFinite && high.isFinite && low <= high else {
            throw SearchRangeError(text: "\(low)...\(high)", reason: "the bounds must be finite with low <= high")
        }
        guard scale == .linear || low > 0 else {
            throw SearchRangeError(text: "\(low)...\(high):log", reason: "a log range needs positive bounds")
        }
        (self.name, self.low, self.high, self.scale) = (name, low, high, scale)
    }

    /// Parses "LOW...HIGH" or "LOW...HIGH:log" (e.g. "1e-4...1e-1:log").
    public init(_ name: String, parsing text: String) throws {
        var body = Substring(text), scale = Scale.linear
        if let colon = text.lastIndex(of: ":") {
            guard let parsed = Scale(rawValue: String(text[text.index(after: colon)...])) else {
                throw SearchRangeError(text: text, reason: "the scale after ':' must be 'log' or 'linear'")
            }
            scale = parsed
            body = text[..<colon]
        }
        let parts = body.components(separatedBy: "...")
        guard parts.count == 2, let low = Double(parts[0]), let high = Double(parts[1]) else {
            throw SearchRangeError(text: text, reason: "expected LOW...HIGH or LOW...HIGH:log, e.g. 1e-4...1e-1:log")
        }
        do {
            try self.init(name, low, high, scale: scale)
        } catch let error as SearchRangeError {
            throw SearchRangeError(text: text, reason: error.reason)  // the user's spelling, not the parsed numbers
        }
    }

    /// The value at u in [0, 1).
    public func value(at u: Double) -> Double {
        switch scale {
        case .linear: return low + (high - low) * u
        case .log: return Foundation.exp(Foundation.log(low) + (Foundation.log(high) - Foundation.log(low)) * u)
        }
    }

    /// The range spanned by `values` (in this range's scale), widened by a
    /// quarter of that span on each side and kept inside this range: the
    /// next, finer round of a coarse-to-fine search.
    public func narrowed(around values: [Double]) -> SearchRange {
        guard let lo = values.min(), let hi = values.max() else { return self }
        let forward: (Double) -> Double = scale == .log ? { Foundation.log($0) } : { $0 }
        let back: (Double) -> Double = scale == .log ? { Foundation.exp($0) } : { $0 }
        let span = forward(hi) - forward(lo)
        let margin = span > 0 ? span / 4 : (forward(high) - forward(low)) / 10
        let newLow = Swift.max(low, back(forward(lo) - margin)), newHigh = Swift.min(high, back(forward(hi) + margin))
        // Rounding in exp/log can cross the bounds by an ulp: clamp.
        return try! SearchRange(name, Swift.min(newLow, newHigh), Swift.max(newLow, newHigh), scale: scale)
    }

    public var description: String { "\(name) \(low)...\(high)\(scale == .log ? ":log" : "")" }
}

/// A range that cannot be used, with the text given and why.
public struct SearchRangeError: Error, CustomStringConvertible, Sendable {
    public let text: String
    public let reason: String
    public var description: String { "'\(text)': \(reason)" }
}

/// Random search over hyperparameters, coarse to fine (the course notes:
/// random beats grid search, since a few hyperparameters matter far more
/// than others and a grid wastes trials repeating the same values of those).
///
///     let search = RandomSearch(ranges: [try SearchRange("lr", parsing: "1e-4...1e-1:log")], trials: 20, rounds: 2, seed: 0)
///     let trials = try search.run { values in
///         let accuracy = ... train with values["lr"]! and return the validation accuracy ...
///         return SearchTrial.Score(validationAccuracy: accuracy, validationLoss: loss)
///     }
///     try RandomSearch.writeCSV(trials, to: "search.csv")
///
/// Each round samples `trials` points, every hyperparameter independently
/// from its range, with a counter-based Philox draw of (seed, round, trial,
/// hyperparameter): the same seed gives the same trials on every machine.
/// After a round, each range shrinks to the span of the best
/// `keepFraction` of all trials so far (widened a little; see
/// `SearchRange.narrowed`).
public struct RandomSearch {
    public var ranges: [SearchRange]
    public var trials: Int
    public var rounds: Int
    public var seed: UInt64
    /// The share of the best trials that sets the next round's ranges.
    public var keepFraction: Double

    public init(ranges: [SearchRange], trials: Int, rounds: Int = 1, seed: UInt64 = 0, keepFraction: Double = 0.25) {
        require(!ranges.isEmpty, "RandomSearch: no ranges to search")
        require(Set(ranges.map(\.name)).count == ranges.count, "RandomSearch: a hyperparameter appears twice in \(ranges.map(\.name))")
        require(trials >= 1 && rounds >= 1, "RandomSearch: trials \(trials) and rounds \(rounds) must be at least 1")
        require(keepFraction > 0 && keepFraction <= 1, "RandomSearch: keepFraction \(keepFraction) must be in (0, 1]")
        (self.ranges, self.trials, self.rounds, self.seed, self.keepFraction) = (ranges, trials, rounds, seed, keepFraction)
    }

    /// The points of `round` (0-based) drawn from `ranges`.
    public func sample(round: Int, ranges: [SearchRange]) -> [[String: Double]] {
        (0..<trials).map { trial in
            Dictionary(uniqueKeysWithValues: ranges.enumerated().map { r, range in
                let counter = trial * ranges.count + r
                return (range.name, range.value(at: Double(Philox.uniform(counter, seed: seed, stream: UInt64(round)))))
            })
        }
    }

    /// Runs every round, calling `evaluate` once per trial, and returns the
    /// trials best first (highest validation accuracy, then lowest loss).
    public func run(_ evaluate: ([String: Double]) throws -> SearchTrial.Score) rethrows -> [SearchTrial] {
        var done: [SearchTrial] = [], current = ranges
        for round in 0..<rounds {
            for (index, values) in sample(round: round, ranges: current).enumerated() {
                done.append(SearchTrial(round: round + 1, index: index + 1, values: values, score: try evaluate(values)))
            }
            let keep = Array(RandomSearch.ranked(done).prefix(Swift.max(1, Int((Double(done.count) * keepFraction).rounded()))))
            current = current.map { range in range.narrowed(around: keep.compactMap { $0.values[range.name] }) }
        }
        return RandomSearch.ranked(done)
    }

    /// Best first; trials that failed (NaN accuracy) last.
    public static func ranked(_ trials: [SearchTrial]) -> [SearchTrial] {
        trials.sorted { a, b in
            let (x, y) = (a.score.validationAccuracy, b.score.validationAccuracy)
            if x.isNaN != y.isNaN { return !x.isNaN }
            if x != y { return x > y }
            return a.score.validationLoss < b.score.validationLoss
        }
    }
}

/// One point of a search and how it scored.
public struct SearchTrial: Equatable, Codable, Sendable {
    public struct Score: Equatable, Codable, Sendable {
        public var validationAccuracy: Double
        public var validationLoss: Double
        public init(validationAccuracy: Double, validationLoss: Double) {
            self.validationAccuracy = validationAccuracy
            self.validationLoss = validationLoss
        }
    }
    public var round: Int
    public var index: Int
    public var values: [String: Double]
    public var score: Score
}

extension RandomSearch {
    /// rank,round,trial,<hyperparameters...>,val_accuracy,val_loss, best first.
    public static func csv(_ trials: [SearchTrial], names: [String]) -> String {
        var lines = ["rank,round,trial," + names.joined(separator: ",") + ",val_accuracy,val_loss"]
        for (rank, t) in trials.enumerated() {
            let values = names.map { t.values[$0].map { String($0) } ?? "" }
            lines.append((["\(rank + 1)", "\(t.round)", "\(t.index)"] + values
                          + ["\(t.score.validationAccuracy)", "\(t.score.validationLoss)"]).joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The trials as JSON (best first), NaN written as null.
    public static func json(_ trials: [SearchTrial]) -> Data {
        let rows: [[String: Any]] = trials.enumerated().map { rank, t in
            func number(_ v: Double) -> Any { v.isFinite ? v : NSNull() }
            return ["rank": rank + 1, "round": t.round, "trial": t.index, "values": t.values.mapValues(number),
                    "val_accuracy": number(t.score.validationAccuracy), "val_loss": number(t.score.validationLoss)]
        }
        // Plain numbers, strings and nulls: serialization cannot fail.
        return try! JSONSerialization.data(withJSONObject: rows, options: [.prettyPrinted, .sortedKeys])
    }

    /// One scatter panel per hyperparameter: validation accuracy (y)
    /// against the value (x, on a log axis for log ranges), each round in
    /// its own colour.
    public static func svg(_ trials: [SearchTrial], ranges: [SearchRange], panelWidth: Int = 260, height: Int = 240) -> String {
        let colors = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd"]
        let scored = trials.filter { $0.score.validationAccuracy.isFinite }
        let accuracies = scored.map(\.score.validationAccuracy)
        let yLow = accuracies.min() ?? 0, yHigh = accuracies.max() ?? 1
        let ySpan = yHigh > yLow ? yHigh - yLow : 1
        var body = ""
        for (p, range) in ranges.enumerated() {
            let x0 = Double(p * panelWidth), left = x0 + 44, right = x0 + Double(panelWidth) - 10, top = 24.0, bottom = Double(height) - 52
            let forward: (Double) -> Double = range.scale == .log ? { Foundation.log10($0) } : { $0 }
            let xLow = forward(range.low), xSpan = forward(range.high) - xLow > 0 ? forward(range.high) - xLow : 1
            func px(_ v: Double) -> Double { left + (right - left) * (forward(v) - xLow) / xSpan }
            func py(_ a: Double) -> Double { bottom - (bottom - top) * (a - yLow) / ySpan }
            body += "<text x=\"\(x0 + Double(panelWidth) / 2)\" y=\"16\" text-anchor=\"middle\" font-weight=\"bold\">\(range.name)</text>\n"
            body += "<line x1=\"\(left)\" y1=\"\(bottom)\" x2=\"\(right)\" y2=\"\(bottom)\" stroke=\"#888\"/>\n"
            body += "<line x1=\"\(left)\" y1=\"\(top)\" x2=\"\(left)\" y2=\"\(bottom)\" stroke=\"#888\"/>\n"
            for v in [range.low, range.high] {
                body += "<text x=\"\(px(v))\" y=\"\(bottom + 14)\" text-anchor=\"middle\">\(String(format: "%.3g", v))</text>\n"
            }
            for a in [yLow, yHigh] {
                body += "<text x=\"\(left - 4)\" y=\"\(py(a) + 4)\" text-anchor=\"end\">\(String(format: "%.3g", a))</text>\n"
            }
            body += "<text x=\"\((left + right) / 2)\" y=\"\(bottom + 28)\" text-anchor=\"middle\">\(range.scale == .log ? "log scale" : "")</text>\n"
            for t in scored {
                guard let v = t.values[range.name] else { continue }
                body += "<circle cx=\"\(px(v))\" cy=\"\(py(t.score.validationAccuracy))\" r=\"3\" fill=\"\(colors[(t.round - 1) % colors.count])\"/>\n"
            }
        }
        let width = panelWidth * Swift.max(ranges.count, 1)
        return """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(width)" height="\(height)" viewBox="0 0 \(width) \(height)" \
        font-family="sans-serif" font-size="11">
        <rect width="100%" height="100%" fill="white"/>
        <text x="4" y="\(height - 6)" fill="#555">validation accuracy by hyperparameter; colour: round</text>
        \(body)</svg>

        """
    }
}
