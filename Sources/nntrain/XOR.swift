import ArgumentParser
import Foundation
import NN

/// The course's XOR problem learned from a random initialization: a 2-8-2
/// tanh network trained full-batch with softmax cross-entropy and SGD with
/// momentum, written with tensors and autograd only.
struct XOR: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Learn XOR with a small MLP from random initialization.")

    @OptionGroup var options: CommonOptions

    @Option(help: "Full-batch training steps.")
    var steps: Int = 300

    @Option(help: "Hidden units.")
    var hidden: Int = 8

    @Option(help: "Learning rate.")
    var lr: Double = 0.1

    func validate() throws {
        try OptionChecks.atLeastOne(steps, "--steps")
        try OptionChecks.atLeastOne(hidden, "--hidden")
        try OptionChecks.positive(lr, "--lr")
    }

    func run() throws {
        let device = try options.selectDevice()
        Random.manualSeed(options.seed)
        let start = Date()

        let x = Tensor([0, 0, 0, 1, 1, 0, 1, 1], shape: [4, 2])
        let labels = Tensor(int32: [0, 1, 1, 0])
        // Xavier/Glorot-uniform weights, zero biases.
        func xavier(_ fanIn: Int, _ fanOut: Int) -> Tensor {
            let bound = (6.0 / Double(fanIn + fanOut)).squareRoot()
            return Tensor.uniform([fanIn, fanOut], low: -bound, high: bound).requiringGrad()
        }
        let params = [xavier(2, hidden), Tensor.zeros([hidden]).requiringGrad(),
                      xavier(hidden, 2), Tensor.zeros([2]).requiringGrad()]
        let momentum = params.map { $0.zerosLike() }
        let hyper = SGDHyperparameters(learningRate: lr, momentum: 0.9)

        func forward() -> Tensor { (x.matmul(params[0]) + params[1]).tanh().matmul(params[2]) + params[3] }

        var loss: Float = .nan
        for step in 1...steps {
            let l = Tensor.softmaxCrossEntropy(logits: forward(), labels: labels).mean()
            params.forEach { $0.zeroGrad() }
            l.backward()
            for (p, m) in zip(params, momentum) { p.sgdStep(momentumBuffer: m, hyper: hyper, firstStep: step == 1) }
            if step == 1 || step % 50 == 0 || step == steps {
                loss = try l.scalar()
                try TrainingFailure.checkFinite(Double(loss), step: step)
                print("step \(step)/\(steps)  loss \(String(format: "%.4f", loss))")
            }
        }

        let logits = withNoGrad { forward() }
        let predicted = try logits.argmax(axis: 1).toArray(as: Int32.self)
        let probabilities = try withNoGrad { logits.softmax() }.toArray()
        let accuracy = Double(zip(predicted, [0, 1, 1, 0] as [Int32]).filter { $0 == $1 }.count) / 4
        for (i, input) in ["0 0", "0 1", "1 0", "1 1"].enumerated() {
            print("xor(\(input)) = \(predicted[i])   p(1) = \(String(format: "%.3f", probabilities[2 * i + 1]))")
        }
        let seconds = Date().timeIntervalSince(start)
        print("accuracy \(Int(accuracy * 100))%  loss \(String(format: "%.4f", loss))  \(String(format: "%.2f", seconds)) s on \(device)")
        try options.writeJSON(["accuracy": accuracy, "loss": Double(loss), "steps": steps, "seconds": seconds,
                               "backend": device.name])
    }
}
