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
}
