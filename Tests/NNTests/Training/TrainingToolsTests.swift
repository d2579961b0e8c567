import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import XCTest
@testable import NN

final class ProgressBarTests: XCTestCase {
    func testPlainLinesWhenNotATerminal() throws {
        let pipe = Pipe()
        let bar = ProgressBar(total: 8, label: "epoch 1/2", output: pipe.fileHandleForWriting, isTerminal: false, plainEvery: 4)
        for step in 1...8 { bar.update(step: step, batchSize: 16, loss: 1.0 / Double(step), accuracy: 0.5) }
        try pipe.fileHandleForWriting.close()
        let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let lines = text.split(separator: "\n")
        XCTAssertEqual(lines.count, 2, "steps 4 and 8 only: \(text)")
        XCTAssert(lines[0].contains("4/8") && lines[0].contains("loss 0.2500") && lines[0].contains("acc 50.00%") && lines[0].contains("ETA"))
        XCTAssert(lines[1].contains("8/8") && lines[1].contains("loss 0.1250") && !lines[1].contains("ETA"))
        XCTAssertFalse(text.contains("\u{1B}"), "no terminal control codes in plain mode")
    }

    func testTerminalRedrawsOneLine() throws {
        let pipe = Pipe()
        let bar = ProgressBar(total: 3, label: "train", output: pipe.fileHandleForWriting, isTerminal: true)
        for step in 1...3 { bar.update(step: step, batchSize: 1, loss: 0.5) }
        try pipe.fileHandleForWriting.close()
        let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        XCTAssert(text.hasPrefix("\r\u{1B}[2K"), "redraws in place")
        XCTAssert(text.hasSuffix("\n") && text.filter { $0 == "\n" }.count == 1, "one newline, at the end: \(text.debugDescription)")
        XCTAssert(text.contains("3/3"))
    }

    func testClock() {
        XCTAssertEqual(ProgressBar.clock(65), "1:05")
        XCTAssertEqual(ProgressBar.clock(3725), "1:02:05")
        XCTAssertEqual(ProgressBar.clock(.infinity), "--:--")
    }
}

final class EarlyStoppingTests: XCTestCase {
    func testStopsAfterPatienceAndRestoresBest() throws {
        final class One: Module, @unchecked Sendable {
            var weight: Parameter!
            override init() {
                super.init()
                weight = register(parameter: "weight", Tensor([0], on: .cpu))
            }
        }
        let model = One()
        let stopper = EarlyStopping(patience: 2)
        let losses = [1.0, 0.5, 0.7, 0.6, 0.55]
        var stoppedAt: Int?
        for (epoch, loss) in losses.enumerated() {
            try model.weight.assign(Tensor([Float(epoch)], on: .cpu))
            if stopper.update(loss, epoch: epoch, model: model) { stoppedAt = epoch; break }
        }
        XCTAssertEqual(stoppedAt, 4, "epochs 2, 3, 4 did not improve on 0.5; patience 2 stops at the third")
        XCTAssertEqual(stopper.bestEpoch, 1)
        XCTAssertEqual(stopper.best, 0.5)
        try stopper.restoreBest(into: model)
        XCTAssertEqual(try model.weight.value.toArray(), [1], "the weights of epoch 1 come back")
    }

    func testMinDeltaAndMaxMode() {
        let model = Module()
        let stopper = EarlyStopping(patience: 0, minDelta: 0.1, mode: .max)
        XCTAssertFalse(stopper.update(0.90, epoch: 0, model: model))
        XCTAssertTrue(stopper.update(0.95, epoch: 1, model: model), "an improvement smaller than minDelta does not count")
        XCTAssertEqual(stopper.best, 0.90)
    }
}

final class MetricsLogTests: XCTestCase {
    func testCSVAndSVG() throws {
        var log = MetricsLog()
        log.append(.init(epoch: 1, trainLoss: 0.9, trainAccuracy: 0.7, validationLoss: 1.0, validationAccuracy: 0.65, seconds: 2))
        log.append(.init(epoch: 2, trainLoss: 0.5, trainAccuracy: 0.85, seconds: 2.5))
        XCTAssertEqual(log.csv(), """
            epoch,train_loss,train_accuracy,val_loss,val_accuracy,seconds
            1,0.9,0.7,1.0,0.65,2.0
            2,0.5,0.85,,,2.5

            """)
        let svg = log.svg()
        let parser = XMLParser(data: Data(svg.utf8))
        XCTAssertTrue(parser.parse(), "the SVG is well-formed XML: \(parser.parserError.map { "\($0)" } ?? "")")
        XCTAssertEqual(svg.components(separatedBy: "<polyline").count - 1, 4, "train/val loss and accuracy curves")

        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("metrics-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try log.writeCSV(to: dir.appendingPathComponent("m.csv").path)
        XCTAssertEqual(try String(contentsOf: dir.appendingPathComponent("m.csv"), encoding: .utf8), log.csv())
    }
}
