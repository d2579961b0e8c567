import CPUKernels
import Foundation
@testable import NN
import XCTest

/// The recurrent cells (recurrent_cells.c) and optimizer updates
/// (optimizer_steps.c) of the CPU backend: float32 at every
/// instruction-set level this CPU supports against the float64 version of
/// the same loops on the same inputs. (The float64 versions themselves are
/// checked against numerical gradients and PyTorch's values by the module
/// and optimizer tests.)
final class CPUFusedKernelTests: CPUKernelLevelTestCase {

    /// |float32 - float64| <= tolerance * max(1, |float64|), element by element.
    private func assertClose(_ got: [Float], _ exact: [Double], _ tolerance: Double, _ what: String,
                             file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(got.count, exact.count, what, file: file, line: line)
        for (i, (g, e)) in zip(got, exact).enumerated() where abs(Double(g) - e) > tolerance * max(1, abs(e)) {
            XCTFail("\(what)[\(i)]: \(g), float64 \(e)", file: file, line: line)
            return
        }
    }

    // MARK: Recurrent cells

    /// The operands of one step, as named arrays of doubles.
    private struct CellOperands {
        var arrays: [String: [Double]]
        static let names = ["gates", "hidden_gates", "bias_ih", "bias_hh", "hidden_prev", "hidden_out", "cell_prev",
                            "cell_out", "output_grad", "carry", "cell_grad", "grad_gates", "grad_hidden_gates"]
    }

    /// Runs forward then backward on copies of `operands` in T, returning
    /// every array afterwards.
    private func runCell<T: BinaryFloatingPoint>(_ cell: Int32, _ operands: CellOperands, batch: Int, hidden: Int,
                                                 _: T.Type, forward: (UnsafePointer<nn_cell_step>, Int64, Int64) -> Void,
                                                 backward: (UnsafePointer<nn_cell_step>, Int64, Int64) -> Void) -> [String: [Double]] {
        var storage = operands.arrays.mapValues { $0.map { T($0) } }
        var pointers: [String: UnsafeMutablePointer<T>] = [:]
        for (name, values) in storage {
            let p = UnsafeMutablePointer<T>.allocate(capacity: max(values.count, 1))
            p.initialize(from: values, count: values.count)
            pointers[name] = p
        }
        defer { pointers.values.forEach { $0.deallocate() } }
        var s = nn_cell_step()
        s.hidden = Int64(hidden)
        s.gates = UnsafeMutableRawPointer(pointers["gates"])
        s.hidden_gates = UnsafeRawPointer(pointers["hidden_gates"])
        s.bias_ih = UnsafeRawPointer(pointers["bias_ih"])
        s.bias_hh = UnsafeRawPointer(pointers["bias_hh"])
        s.hidden_prev = UnsafeRawPointer(pointers["hidden_prev"])
        s.hidden_out = UnsafeMutableRawPointer(pointers["hidden_out"])
        s.cell_prev = UnsafeRawPointer(pointers["cell_prev"])
        s.cell_out = UnsafeMutableRawPointer(pointers["cell_out"])
        s.output_grad = UnsafeRawPointer(pointers["output_grad"])
        s.carry = UnsafeMutableRawPointer(pointers["carry"])
        s.cell_grad = UnsafeMutableRawPointer(pointers["cell_grad"])
        s.grad_gates = UnsafeMutableRawPointer(pointers["grad_gates"])
        s.grad_hidden_gates = UnsafeMutableRawPointer(pointers["grad_hidden_gates"])
        withUnsafePointer(to: s) { step in
            // Two row ranges, as two threads would take them.
            let half = Int64(batch / 2)
            forward(step, 0, half)
            forward(step, half, Int64(batch))
            backward(step, 0, half)
            backward(step, half, Int64(batch))
        }
        for (name, p) in pointers { storage[name] = Array(UnsafeBufferPointer(start: p, count: storage[name]!.count)) }
        return storage.mapValues { $0.map { Double($0) } }
    }

    func testCellsAtEveryLevelAgreeWithFloat64() {
        let batch = 5, hidden = 37  // 37: vector lanes plus a tail
        let cells: [(Int32, String, Int)] = [(Int32(NN_CELL_RNN_TANH), "rnn tanh", 1), (Int32(NN_CELL_RNN_RELU), "rnn relu", 1),
                                             (Int32(NN_CELL_LSTM), "lstm", 4), (Int32(NN_CELL_GRU), "gru", 3)]
        var rng = SplitMix64(seed: 41)
        for (cell, name, gates) in cells {
            for withBiases in [true, false] {
                for withOutputGrad in [true, false] {
                    let g = gates * hidden
                    func values(_ n: Int, _ scale: Double = 2) -> [Double] { rng.floats(n).map { $0 * scale } }
                    var arrays: [String: [Double]] = [
                        "gates": values(batch * g, 3), "hidden_prev": values(batch * hidden, 1),
                        "hidden_out": [Double](repeating: 0, count: batch * hidden),
                        "carry": values(batch * hidden, 1), "grad_gates": [Double](repeating: 0, count: batch * g),
                    ]
                    if withBiases { arrays["bias_ih"] = values(g, 1); arrays["bias_hh"] = values(g, 1) }
                    if withOutputGrad { arrays["output_grad"] = values(batch * hidden, 1) }
                    if cell == Int32(NN_CELL_LSTM) {
                        arrays["cell_prev"] = values(batch * hidden)
                        arrays["cell_out"] = [Double](repeating: 0, count: batch * hidden)
                        arrays["cell_grad"] = values(batch * hidden, 1)
                    }
                    if cell == Int32(NN_CELL_GRU) {
                        arrays["hidden_gates"] = values(batch * g, 3)
                        arrays["grad_hidden_gates"] = [Double](repeating: 0, count: batch * g)
                    }
                    let operands = CellOperands(arrays: arrays)
                    let exact = runCell(cell, operands, batch: batch, hidden: hidden, Double.self,
                                        forward: { nn_cell_forward_f64(cell, $0, $1, $2) },
                                        backward: { nn_cell_backward_f64(cell, $0, $1, $2) })
                    forEachLevel { level in
                        let got = runCell(cell, operands, batch: batch, hidden: hidden, Float.self,
                                          forward: { nn_cell_forward_f32(cell, $0, $1, $2) },
                                          backward: { nn_cell_backward_f32(cell, $0, $1, $2) })
                        for array in CellOperands.names where exact[array] != nil {
                            assertClose(got[array]!.map { Float($0) }, exact[array]!, 2e-6,
                                        "\(name) biases \(withBiases) output grad \(withOutputGrad) level \(level) \(array)")
                        }
                    }
                }
            }
        }
    }

    // MARK: Optimizer updates

    /// One update of `count` elements in T from the same starting values.
    private func runStep<T: BinaryFloatingPoint>(_: T.Type, _ arrays: [[Double]],
                                                 _ body: ([UnsafeMutablePointer<T>]) -> Void) -> [[Double]] {
        let pointers = arrays.map { values -> UnsafeMutablePointer<T> in
            let p = UnsafeMutablePointer<T>.allocate(capacity: values.count)
            p.initialize(from: values.map { T($0) }, count: values.count)
            return p
        }
        defer { pointers.forEach { $0.deallocate() } }
        body(pointers)
        return zip(pointers, arrays).map { p, a in (0..<a.count).map { Double(p[$0]) } }
    }

    func testOptimizerStepsAtEveryLevelAgreeWithFloat64() {
        let n = 1_003
        var rng = SplitMix64(seed: 43)
        let param = rng.floats(n), grad = rng.floats(n).map { $0 * 0.1 }
        let state = rng.floats(n).map { $0 * 0.01 }, positive = rng.floats(n).map { abs($0) * 0.01 + 1e-4 }
        // Elements b..<e in two ranges, as two threads would take them.
        func halves(_ body: (Int64, Int64) -> Void) { body(0, Int64(n / 2)); body(Int64(n / 2), Int64(n)) }

        for (momentum, nesterov, first) in [(0.0, 0, 0), (0.9, 0, 1), (0.9, 0, 0), (0.9, 1, 0), (0.9, 1, 1)] {
            var h = nn_sgd_hyper(learning_rate: 0.05, weight_decay: 1e-3, momentum: momentum, dampening: 0.1,
                                 nesterov: Int32(nesterov), first_step: Int32(first))
            let arrays = [param, grad, state]
            let exact = runStep(Double.self, arrays) { p in halves { nn_sgd_step_f64(&h, p[0], p[1], momentum == 0 ? nil : p[2], $0, $1) } }
            forEachLevel { level in
                let got = runStep(Float.self, arrays) { p in halves { nn_sgd_step_f32(&h, p[0], p[1], momentum == 0 ? nil : p[2], $0, $1) } }
                for (i, what) in ["param", "momentum buffer"].enumerated() {
                    assertClose(got[i == 0 ? 0 : 2].map { Float($0) }, exact[i == 0 ? 0 : 2], 1e-6,
                                "sgd momentum \(momentum) nesterov \(nesterov) first \(first) level \(level) \(what)")
                }
            }
        }
        for decoupled in [0, 1] {
            let adam = AdamHyperparameters(learningRate: 1e-3, weightDecay: 0.01, decoupledWeightDecay: decoupled == 1)
            let scalars = adam.stepScalars(step: 3)
            var h = nn_adam_hyper(beta1: adam.beta1, beta2: adam.beta2, one_minus_beta1: 1 - adam.beta1,
                                  one_minus_beta2: 1 - adam.beta2, epsilon: adam.epsilon, weight_decay: adam.weightDecay,
                                  step_size: scalars.stepSize, root_correction2: scalars.rootCorrection2, decay: scalars.decay,
                                  decoupled: Int32(decoupled))
            let arrays = [param, grad, state, positive]
            let exact = runStep(Double.self, arrays) { p in halves { nn_adam_step_f64(&h, p[0], p[1], p[2], p[3], $0, $1) } }
            forEachLevel { level in
                let got = runStep(Float.self, arrays) { p in halves { nn_adam_step_f32(&h, p[0], p[1], p[2], p[3], $0, $1) } }
                for i in [0, 2, 3] {
                    assertClose(got[i].map { Float($0) }, exact[i], 1e-6, "adam decoupled \(decoupled) level \(level) array \(i)")
                }
            }
        }
        var adagrad = nn_adagrad_hyper(learning_rate: 0.01, weight_decay: 1e-3, epsilon: 1e-10)
        let adagradArrays = [param, grad, positive]
        let adagradExact = runStep(Double.self, adagradArrays) { p in halves { nn_adagrad_step_f64(&adagrad, p[0], p[1], p[2], $0, $1) } }
        forEachLevel { level in
            let got = runStep(Float.self, adagradArrays) { p in halves { nn_adagrad_step_f32(&adagrad, p[0], p[1], p[2], $0, $1) } }
            assertClose(got[0].map { Float($0) }, adagradExact[0], 1e-6, "adagrad level \(level) param")
            assertClose(got[2].map { Float($0) }, adagradExact[2], 1e-6, "adagrad level \(level) sum")
        }
        for (centered, momentum) in [(false, 0.0), (true, 0.0), (false, 0.9), (true, 0.9)] {
            var h = nn_rmsprop_hyper(learning_rate: 0.01, alpha: 0.99, one_minus_alpha: 1 - 0.99, epsilon: 1e-8,
                                     weight_decay: 1e-3, momentum: momentum)
            // grad_avg small against square_avg, so the centered root stays real.
            let arrays = [param, grad, positive, state.map { $0 * 0.1 }, state]
            func step<T>(_ p: [UnsafeMutablePointer<T>], _ body: (UnsafeMutablePointer<T>?, UnsafeMutablePointer<T>?) -> Void) {
                body(centered ? p[3] : nil, momentum != 0 ? p[4] : nil)
            }
            let exact = runStep(Double.self, arrays) { p in
                step(p) { ga, buf in halves { nn_rmsprop_step_f64(&h, p[0], p[1], p[2], ga, buf, $0, $1) } }
            }
            forEachLevel { level in
                let got = runStep(Float.self, arrays) { p in
                    step(p) { ga, buf in halves { nn_rmsprop_step_f32(&h, p[0], p[1], p[2], ga, buf, $0, $1) } }
                }
                for i in [0, 2, 3, 4] {
                    assertClose(got[i].map { Float($0) }, exact[i], 1e-6, "rmsprop centered \(centered) momentum \(momentum) level \(level) array \(i)")
                }
            }
        }
    }
}
