import XCTest
@testable import NN

/// Every loss, with every reduction, through the numerical gradient checker
/// (float64 on the CPU). Inputs stay away from kinks (|x - y| = 0 for L1,
/// hinge corners), where a central difference is not a derivative.
final class LossGradientTests: XCTestCase {
    private let reductions = Reduction.allCases

    func testMSEAndL1() {
        let x = TT.f64(TT.random(12, seed: 1), [3, 4])
        let y = TT.f64(TT.random(12, seed: 1).enumerated().map { $0.element + (($0.offset % 2 == 0) ? 0.3 : -0.25) }, [3, 4])
        for r in reductions {
            assertGradientCheck([x, y], "MSE \(r)") { MSELoss(reduction: r)($0[0], $0[1]) }
            assertGradientCheck([x, y], "L1 \(r)") { L1Loss(reduction: r)($0[0], $0[1]) }
        }
    }

    func testCrossEntropy() {
        let logits = TT.f64(TT.random(20, seed: 2, low: -2, high: 2), [4, 5]), labels = TT.i32([0, 4, 2, 2])
        let weight = TT.f64([0.5, 1, 2, 1.5, 0.25], [5])
        for r in reductions {
            for s in [0, 0.2] {
                assertGradientCheck([logits, labels], "CE \(r) smoothing \(s)") {
                    CrossEntropyLoss(reduction: r, labelSmoothing: s)($0[0], $0[1])
                }
                assertGradientCheck([logits, labels], "weighted CE \(r) smoothing \(s)") {
                    CrossEntropyLoss(weight: weight, reduction: r, labelSmoothing: s)($0[0], $0[1])
                }
            }
        }
        // [N, C, d1, d2] with target [N, d1, d2], and [C] with target [].
        let image = TT.f64(TT.random(2 * 3 * 2 * 2, seed: 3), [2, 3, 2, 2]), pixels = TT.i32([0, 1, 2, 2, 1, 0, 0, 1], [2, 2, 2])
        for r in reductions {
            assertGradientCheck([image, pixels], "CE per pixel \(r)") { CrossEntropyLoss(reduction: r)($0[0], $0[1]) }
        }
        assertGradientCheck([TT.f64([0.3, -1, 2], [3]), TT.i32([1], [])], "CE single") { CrossEntropyLoss()($0[0], $0[1]) }
    }

    func testCrossEntropyWithProbabilityTargets() {
        let logits = TT.f64(TT.random(12, seed: 4, low: -2, high: 2), [3, 4])
        let probs = TT.f64(TT.random(12, seed: 5, low: 0.05, high: 1), [3, 4]).softmax(axis: 1)
        for r in reductions {
            assertGradientCheck([logits, probs], "CE soft \(r)") { CrossEntropyLoss(reduction: r, labelSmoothing: 0.1)($0[0], $0[1]) }
            assertGradientCheck([logits, probs], "weighted CE soft \(r)") {
                CrossEntropyLoss(weight: TT.f64([1, 2, 0.5, 3], [4]), reduction: r)($0[0], $0[1])
            }
        }
    }

    func testNLL() {
        let logp = TT.f64(TT.random(15, seed: 6, low: -3, high: 0), [5, 3]), labels = TT.i32([0, 2, 1, 1, 2])
        for r in reductions {
            assertGradientCheck([logp, labels], "NLL \(r)") { NLLLoss(reduction: r)($0[0], $0[1]) }
            assertGradientCheck([logp, labels], "weighted NLL \(r)") {
                NLLLoss(weight: TT.f64([3, 1, 0.5], [3]), reduction: r)($0[0], $0[1])
            }
        }
        let image = TT.f64(TT.random(12, seed: 7), [2, 3, 2]), pixels = TT.i32([0, 2, 1, 1], [2, 2])
        assertGradientCheck([image, pixels], "NLL per pixel") { NLLLoss()($0[0], $0[1]) }
    }

    func testBCE() {
        // Probabilities and targets both get gradients (PyTorch's BCE has a
        // target gradient too).
        let x = TT.f64(TT.random(10, seed: 8, low: 0.05, high: 0.95), [2, 5])
        let y = TT.f64(TT.random(10, seed: 9, low: 0, high: 1), [2, 5])
        let w = TT.f64(TT.random(5, seed: 10, low: 0.5, high: 2), [5])
        for r in reductions {
            assertGradientCheck([x, y], "BCE \(r)") { BCELoss(reduction: r)($0[0], $0[1]) }
            assertGradientCheck([x, y], "weighted BCE \(r)") { BCELoss(weight: w, reduction: r)($0[0], $0[1]) }
        }
    }

    func testBCEWithLogits() {
        let x = TT.f64(TT.random(12, seed: 11, low: -4, high: 4), [3, 4])
        let y = TT.f64(TT.random(12, seed: 12, low: 0, high: 1), [3, 4])
        let posWeight = TT.f64([0.5, 2, 3, 1], [4]), w = TT.f64([2, 1, 0.5], [3, 1])
        for r in reductions {
            assertGradientCheck([x, y], "BCEWithLogits \(r)") { BCEWithLogitsLoss(reduction: r)($0[0], $0[1]) }
            assertGradientCheck([x, y, posWeight], "BCEWithLogits posWeight \(r)") {
                BCEWithLogitsLoss(posWeight: $0[2], reduction: r)($0[0], $0[1])
            }
            assertGradientCheck([x, y], "BCEWithLogits weight + posWeight \(r)") {
                BCEWithLogitsLoss(weight: w, posWeight: posWeight, reduction: r)($0[0], $0[1])
            }
        }
    }

    func testMultiMargin() {
        // Scores spaced so no margin - x_y + x_i is within epsilon of 0.
        let x = TT.f64(TT.distinct(20, seed: 13, spacing: 0.173), [5, 4]), labels = TT.i32([0, 3, 1, 2, 3])
        for r in reductions {
            for p in [1, 2] {
                assertGradientCheck([x, labels], "MultiMargin p \(p) \(r)") { MultiMarginLoss(p: p, reduction: r)($0[0], $0[1]) }
                assertGradientCheck([x, labels], "weighted MultiMargin p \(p) \(r)") {
                    MultiMarginLoss(p: p, margin: 0.7, weight: TT.f64([1, 2, 0.5, 1.5], [4]), reduction: r)($0[0], $0[1])
                }
            }
        }
    }

    func testGradientsReachOnlyWhatNeedsThem() throws {
        // An int32 target and a target without requiresGrad get nothing; the
        // input's gradient has its shape.
        let x = TT.f64([0.2, -0.3, 1, 0.5], [2, 2]).requiringGrad()
        let y = TT.f64([1, 0, 0, 1], [2, 2])
        BCEWithLogitsLoss()(x, y).backward()
        XCTAssertEqual(x.grad?.shape, [2, 2])
        XCTAssertNil(y.grad)
    }
}
