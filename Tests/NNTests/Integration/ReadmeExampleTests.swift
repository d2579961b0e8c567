import Foundation
import NN
import XCTest

/// The README's training example, run as written: it must keep compiling and
/// keep learning.
final class ReadmeExampleTests: XCTestCase {
    func testReadmeExampleLearnsQuadrants() throws {
        // --- README example start ---
        Random.manualSeed(0)
        let x = Tensor.uniform([256, 2], low: -1, high: 1, on: .cpu)
        let quadrant = x.slice(axis: 1, 0..<1) * x.slice(axis: 1, 1..<2)            // > 0 in quadrants I and III
        let labels = ((quadrant.sign() + 1) * 0.5).reshaped([256]).to(dtype: .int32)  // class 0 or 1
        let w1 = (Tensor.normal([2, 16], on: .cpu) * 0.5).requiringGrad(), b1 = Tensor.zeros([16], on: .cpu).requiringGrad()
        let w2 = (Tensor.normal([16, 2], on: .cpu) * 0.5).requiringGrad(), b2 = Tensor.zeros([2], on: .cpu).requiringGrad()
        let sgd = SGDHyperparameters(learningRate: 0.2, momentum: 0.9)
        let velocity = [w1, b1, w2, b2].map { $0.zerosLike() }
        for step in 1...500 {
            let logits = (x.matmul(w1) + b1).relu().matmul(w2) + b2
            let loss = Tensor.softmaxCrossEntropy(logits: logits, labels: labels).mean()
            [w1, b1, w2, b2].forEach { $0.zeroGrad() }
            loss.backward()
            for (p, v) in zip([w1, b1, w2, b2], velocity) { p.sgdStep(momentumBuffer: v, hyper: sgd, firstStep: step == 1) }
            // if step % 100 == 0 { print("step \(step): loss \(try loss.scalar())") }
        }
        // --- README example end ---
        let predicted = try withNoGrad { ((x.matmul(w1) + b1).relu().matmul(w2) + b2).argmax(axis: 1) }.toArray(as: Int32.self)
        let truth = try labels.toArray(as: Int32.self)
        let accuracy = Double(zip(predicted, truth).filter { $0 == $1 }.count) / Double(truth.count)
        XCTAssertGreaterThan(accuracy, 0.95, "the README example should learn the quadrant task")
    }

    /// The README's "Porting from PyTorch" block, run on the CPU; the test
    /// first checks the block here is the README's, character for character.
    func testReadmePortingExampleIsTheREADMEsAndRuns() throws {
        let source = try String(contentsOfFile: #filePath, encoding: .utf8)
        let readme = try String(contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../../README.md").standardized, encoding: .utf8)
        func between(_ text: String, _ start: String, _ end: String) -> String? {
            guard let a = text.range(of: start), let b = text.range(of: end, range: a.upperBound..<text.endIndex) else { return nil }
            return String(text[a.upperBound..<b.lowerBound])
        }
        let here = try XCTUnwrap(between(source, "// --- README porting start ---\n", "        // --- README porting end ---"))
            .split(separator: "\n", omittingEmptySubsequences: false).map { $0.dropFirst(8) }.joined(separator: "\n")
        let there = try XCTUnwrap(between(readme, "## Porting from PyTorch", "```\n\n(`Tests/NNTests"))
        XCTAssertEqual(try XCTUnwrap(there.components(separatedBy: "```swift\n").last), here)

        let previous = Device.default
        Device.default = .cpu
        defer { Device.default = previous }
        // --- README porting start ---
        let model = Sequential(Conv2d(1, 6, 5, padding: 2), ReLU(), MaxPool2d(2, 2), Flatten(),
                               Linear(6 * 14 * 14, 10))
        print(model)                                   // the module tree with shapes and parameter counts
        let copy = Sequential(Conv2d(1, 6, 5, padding: 2), ReLU(), MaxPool2d(2, 2), Flatten(),
                              Linear(6 * 14 * 14, 10))
        try copy.loadStateDict(model.stateDict())      // state dicts move between models
        var state = model.stateDict()
        state["4.bias"] = nil
        let keys = try copy.loadStateDict(state, strict: false)
        print(keys.missingKeys, keys.unexpectedKeys)   // ["4.bias"] []
        let labels = Tensor(int64: [3, 1])             // int64 labels, as PyTorch's
        let loss = CrossEntropyLoss()(model(Tensor.zeros([2, 1, 28, 28])), labels)
        loss.backward()
        model.parameters()[0].grad = nil               // gradients are settable
        for (name, module) in model.namedModules() where module is Linear { print(name) }
        let lstm = LSTM(10, 20, numLayers: 2)
        let (output, (h, c)) = lstm(Tensor.zeros([5, 3, 10]))   // out, (h_n, c_n) = lstm(x)
        print(output.shape, h.shape, c.shape)          // [5, 3, 20] [2, 3, 20] [2, 3, 20]
        // --- README porting end ---
        XCTAssertEqual(keys, IncompatibleKeys(missingKeys: ["4.bias"], unexpectedKeys: []))
        XCTAssertEqual([output.shape, h.shape, c.shape], [[5, 3, 20], [2, 3, 20], [2, 3, 20]])
        XCTAssertTrue(try loss.scalar().isFinite)
        XCTAssertNil(model.parameters()[0].grad)
        XCTAssertNotNil(model.parameters()[1].grad)
        XCTAssertEqual(try copy.stateDict()["0.weight"]!.toArray(), try model.stateDict()["0.weight"]!.toArray())
    }
}
