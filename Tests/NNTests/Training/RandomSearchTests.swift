import Foundation
import XCTest
@testable import NN

/// Random search (issue 12): ranges, reproducible sampling on log and
/// linear scales, coarse-to-fine narrowing, ranking and the result files.
final class RandomSearchTests: XCTestCase {
    func testParsesRanges() throws {
        let lr = try SearchRange("lr", parsing: "1e-4...1e-1:log")
        XCTAssertEqual(lr, try SearchRange("lr", 1e-4, 0.1, scale: .log))
        XCTAssertEqual(try SearchRange("dropout", parsing: "0...0.5"), try SearchRange("dropout", 0, 0.5))
        assertThrowsDescribing(["'0...1e-1:log'", "positive bounds"]) { try SearchRange("lr", parsing: "0...1e-1:log") }
        assertThrowsDescribing(["'0.5...0.1'", "low <= high"]) { try SearchRange("m", parsing: "0.5...0.1") }
        assertThrowsDescribing(["'1e-3'", "LOW...HIGH"]) { try SearchRange("lr", parsing: "1e-3") }
        assertThrowsDescribing(["'1...2:cubic'", "'log' or 'linear'"]) { try SearchRange("lr", parsing: "1...2:cubic") }
    }

    func testValuesOnEachScale() throws {
        let log = try SearchRange("lr", 1e-4, 1e-0, scale: .log), linear = try SearchRange("p", 0, 0.5)
        XCTAssertEqual(log.value(at: 0), 1e-4, accuracy: 1e-18)
        XCTAssertEqual(log.value(at: 0.5), 1e-2, accuracy: 1e-15)
        XCTAssertEqual(log.value(at: 0.75), 1e-1, accuracy: 1e-14)
        XCTAssertEqual(linear.value(at: 0.5), 0.25)
    }

    func testSamplingIsReproducibleInRangeAndLogUniform() throws {
        let ranges = [try SearchRange("lr", 1e-4, 1, scale: .log), try SearchRange("p", 0, 0.5)]
        let search = RandomSearch(ranges: ranges, trials: 400, seed: 7)
        let points = search.sample(round: 0, ranges: ranges)
        XCTAssertEqual(points, RandomSearch(ranges: ranges, trials: 400, seed: 7).sample(round: 0, ranges: ranges))
        XCTAssertNotEqual(points, RandomSearch(ranges: ranges, trials: 400, seed: 8).sample(round: 0, ranges: ranges))
        XCTAssert(points.allSatisfy { (1e-4...1).contains($0["lr"]!) && (0...0.5).contains($0["p"]!) })
        // Log-uniform: each decade gets about a quarter of the points (100 +- 4 sigma).
        for decade in 0..<4 {
            let low = pow(10, Double(decade - 4)), high = low * 10
            let n = points.filter { $0["lr"]! >= low && $0["lr"]! < high }.count
            XCTAssert((65...135).contains(n), "decade \(low)..<\(high): \(n) of 400")
        }
    }

    func testRoundsNarrowAroundTheBestTrials() throws {
        // The score peaks at lr = 1e-2; the second round samples inside the
        // span of the best quarter, so it lands closer on average.
        let range = try SearchRange("lr", 1e-5, 1, scale: .log)
        let search = RandomSearch(ranges: [range], trials: 40, rounds: 2, seed: 3)
        var seen: [Double] = []
        let trials = search.run { values in
            seen.append(values["lr"]!)
            let distance = abs(log10(values["lr"]!) + 2)
            return SearchTrial.Score(validationAccuracy: 1 - distance / 10, validationLoss: distance)
        }
        XCTAssertEqual(trials.count, 80)
        XCTAssertEqual(trials.map(\.score.validationAccuracy), trials.map(\.score.validationAccuracy).sorted(by: >), "best first")
        let first = seen.prefix(40).map { abs(log10($0) + 2) }, second = seen.suffix(40).map { abs(log10($0) + 2) }
        XCTAssertLessThan(second.reduce(0, +) / 40, first.reduce(0, +) / 40 / 2)
        let bestOfFirst = Array(first.sorted().prefix(10))
        XCTAssert(second.allSatisfy { $0 <= bestOfFirst.max()! * 1.5 + 1e-9 }, "round 2 stays near the best quarter of round 1")
        XCTAssertEqual(trials.filter { $0.round == 2 }.count, 40)
    }

    func testNarrowingKeepsInsideTheOriginalRange() throws {
        let range = try SearchRange("p", 0, 1)
        let narrowed = range.narrowed(around: [0.4, 0.6])
        XCTAssertEqual(narrowed.low, 0.35, accuracy: 1e-12)
        XCTAssertEqual(narrowed.high, 0.65, accuracy: 1e-12)
        XCTAssertEqual(range.narrowed(around: [0, 1]), range)
        XCTAssertEqual(range.narrowed(around: [0.5]).low, 0.4, accuracy: 1e-12)
    }

    func testRankingCSVAndJSON() throws {
        let a = SearchTrial(round: 1, index: 1, values: ["lr": 0.1], score: .init(validationAccuracy: 0.9, validationLoss: 0.3))
        let b = SearchTrial(round: 1, index: 2, values: ["lr": 0.01], score: .init(validationAccuracy: 0.95, validationLoss: 0.2))
        let c = SearchTrial(round: 1, index: 3, values: ["lr": 10], score: .init(validationAccuracy: .nan, validationLoss: .nan))
        let d = SearchTrial(round: 2, index: 1, values: ["lr": 0.02], score: .init(validationAccuracy: 0.95, validationLoss: 0.1))
        let ranked = RandomSearch.ranked([a, b, c, d])
        // Accuracy first, the lower loss breaking the tie, a diverged trial last.
        XCTAssertEqual(ranked.map { [$0.round, $0.index] }, [[2, 1], [1, 2], [1, 1], [1, 3]])
        XCTAssertEqual(RandomSearch.csv(ranked, names: ["lr"]).split(separator: "\n").prefix(3),
                       ["rank,round,trial,lr,val_accuracy,val_loss", "1,2,1,0.02,0.95,0.1", "2,1,2,0.01,0.95,0.2"])
        let rows = try XCTUnwrap(JSONSerialization.jsonObject(with: RandomSearch.json(ranked)) as? [[String: Any]])
        XCTAssertEqual(rows.count, 4)
        XCTAssert(rows[3]["val_accuracy"] is NSNull, "a diverged trial is null, not NaN")
        let svg = RandomSearch.svg(ranked, ranges: [try SearchRange("lr", 1e-3, 10, scale: .log)])
        XCTAssertEqual(svg.components(separatedBy: "<circle").count - 1, 3, "one point per scored trial")
    }
}
