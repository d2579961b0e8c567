import Foundation
import XCTest
@testable import NN

/// Loss values against numbers worked out by hand (the arithmetic is in the
/// comments), and PyTorch's documented examples.
final class LossValueTests: XCTestCase {
    private func value(_ t: Tensor) throws -> Double { try t.scalarDouble() }

    func testMSEAndL1() throws {
        let x = TT.f64([1, 2, 3], [3]), y = TT.f64([1.5, 2, 1], [3])
        // differences -0.5, 0, 2: squares 0.25, 0, 4; magnitudes 0.5, 0, 2
        XCTAssertEqual(try value(MSELoss()(x, y)), 4.25 / 3, accuracy: 1e-15)
        XCTAssertEqual(try value(MSELoss(reduction: .sum)(x, y)), 4.25, accuracy: 1e-15)
        XCTAssertEqual(try TT.values(MSELoss(reduction: .none)(x, y)), [0.25, 0, 4])
        XCTAssertEqual(try value(L1Loss()(x, y)), 2.5 / 3, accuracy: 1e-15)
        XCTAssertEqual(try value(MAELoss(reduction: .sum)(x, y)), 2.5, accuracy: 1e-15)
        XCTAssertEqual(try TT.values(L1Loss(reduction: .none)(x, y)), [0.5, 0, 2])
        // float32 on the default path, shape [] result.
        let loss = MSELoss()(TT.f32([1, 2, 3], [1, 3]), TT.f32([1.5, 2, 1], [1, 3]))
        XCTAssertEqual(loss.shape, [])
        XCTAssertEqual(try loss.scalar(), Float(4.25 / 3), accuracy: 1e-6)
    }

    func testL1GradientIsZeroWhereEqual() throws {
        let x = TT.f64([1, 2, 3], [3]).requiringGrad()
        L1Loss(reduction: .sum)(x, TT.f64([0, 2, 5], [3])).backward()
        XCTAssertEqual(try TT.values(x.grad!), [1, 0, -1])
    }

    func testCrossEntropy() throws {
        let logits = TT.f64([1, 2, 3, 0, 0, 0], [2, 3]), labels = TT.i32([2, 0])
        // Row 1: -log(e^3 / (e + e^2 + e^3)) = log(1 + e^-1 + e^-2).
        // Row 2: uniform logits, -log(1/3) = log 3.
        let row1 = Foundation.log(1 + Foundation.exp(-1.0) + Foundation.exp(-2.0)), row2 = Foundation.log(3.0)
        XCTAssertEqual(row1, 0.40760596444438, accuracy: 1e-13)
        XCTAssertEqual(try value(CrossEntropyLoss()(logits, labels)), (row1 + row2) / 2, accuracy: 1e-14)
        XCTAssertEqual(try value(CrossEntropyLoss(reduction: .sum)(logits, labels)), row1 + row2, accuracy: 1e-14)
        assertTensorValues(try TT.values(CrossEntropyLoss(reduction: .none)(logits, labels)), [row1, row2], abs: 1e-14, rel: 0)

        // Label smoothing 0.1: (1 - s) * nll + s * mean_c(-log p_c). For row
        // 1 the -log p are row1 + (2, 1, 0), mean row1 + 1: row1 + 0.1.
        // Row 2 is uniform: log 3 whatever s.
        let smoothed = CrossEntropyLoss(reduction: .none, labelSmoothing: 0.1)(logits, labels)
        assertTensorValues(try TT.values(smoothed), [row1 + 0.1, row2], abs: 1e-14, rel: 0)

        // Class weights [1, 2, 3]: targets 2 and 0 weigh 3 and 1; the mean
        // divides by their sum, 4.
        let w = TT.f64([1, 2, 3], [3])
        XCTAssertEqual(try value(CrossEntropyLoss(weight: w)(logits, labels)), (3 * row1 + row2) / 4, accuracy: 1e-14)
        XCTAssertEqual(try value(CrossEntropyLoss(weight: w, reduction: .sum)(logits, labels)), 3 * row1 + row2,
                       accuracy: 1e-14)
        // Weighted and smoothed, row 1 alone: (1 - s) 3 nll + s / C * sum_c w_c (-log p_c)
        // = 0.9 * 3 * row1 + 0.1 / 3 * (1 (row1 + 2) + 2 (row1 + 1) + 3 row1), over weight 3.
        let one = CrossEntropyLoss(weight: w, labelSmoothing: 0.1)(TT.f64([1, 2, 3], [1, 3]), TT.i32([2]))
        XCTAssertEqual(try value(one), (0.9 * 3 * row1 + 0.1 / 3 * (6 * row1 + 4)) / 3, accuracy: 1e-14)
    }

    func testCrossEntropyShapes() throws {
        // [C] with target [] is one sample.
        let single = CrossEntropyLoss()(TT.f64([1, 2, 3], [3]), TT.i32([2], []))
        XCTAssertEqual(try value(single), Foundation.log(1 + Foundation.exp(-1.0) + Foundation.exp(-2.0)), accuracy: 1e-14)
        // [N, C, d] with target [N, d]: the class axis is 1.
        let x = TT.uniform([2, 3, 4], seed: 7), t = TT.i32([0, 1, 2, 0, 2, 2, 1, 0], [2, 4])
        let perPosition = CrossEntropyLoss(reduction: .none)(x, t)
        XCTAssertEqual(perPosition.shape, [2, 4])
        let xv = try TT.values(x), tv = try TT.values(t)
        var expected: [Double] = []
        for n in 0..<2 {
            for d in 0..<4 {
                let logits = (0..<3).map { xv[n * 12 + $0 * 4 + d] }
                let lse = Foundation.log(logits.map { Foundation.exp($0) }.reduce(0, +))
                expected.append(lse - logits[Int(tv[n * 4 + d])])
            }
        }
        assertTensorValues(try TT.values(perPosition), expected, abs: 1e-14, rel: 0)
    }

    func testCrossEntropyWithProbabilityTargets() throws {
        // Target probabilities (0.25, 0.75) on logits (0, log 3): softmax is
        // (0.25, 0.75), so the loss is the entropy -0.25 log 0.25 - 0.75 log 0.75.
        let logits = TT.f64([0, Foundation.log(3.0)], [1, 2]), target = TT.f64([0.25, 0.75], [1, 2])
        let entropy = -0.25 * Foundation.log(0.25) - 0.75 * Foundation.log(0.75)
        XCTAssertEqual(try value(CrossEntropyLoss()(logits, target)), entropy, accuracy: 1e-15)
        // One-hot probabilities give the same as class indices.
        let x = TT.f64([1, 2, 3, 0, 0, 0], [2, 3])
        XCTAssertEqual(try value(CrossEntropyLoss(labelSmoothing: 0.2)(x, TT.f64([0, 0, 1, 1, 0, 0], [2, 3]))),
                       try value(CrossEntropyLoss(labelSmoothing: 0.2)(x, TT.i32([2, 0]))), accuracy: 1e-14)
    }

    func testNLL() throws {
        let logp = TT.f64([-0.5, -1.5, -2.5, -0.1, -3, -4], [2, 3]), labels = TT.i32([1, 0])
        // -x[0, 1] = 1.5, -x[1, 0] = 0.1
        XCTAssertEqual(try value(NLLLoss()(logp, labels)), 0.8, accuracy: 1e-15)
        XCTAssertEqual(try value(NLLLoss(reduction: .sum)(logp, labels)), 1.6, accuracy: 1e-15)
        assertTensorValues(try TT.values(NLLLoss(reduction: .none)(logp, labels)), [1.5, 0.1], abs: 1e-15, rel: 0)
        // weights [2, 5, 1]: (5 * 1.5 + 2 * 0.1) / (5 + 2) = 7.7 / 7 = 1.1
        XCTAssertEqual(try value(NLLLoss(weight: TT.f64([2, 5, 1], [3]))(logp, labels)), 1.1, accuracy: 1e-15)
        // LogSoftmax + NLL is cross-entropy.
        let x = TT.uniform([5, 7], seed: 3), t = TT.i32([0, 6, 3, 3, 1])
        XCTAssertEqual(try value(NLLLoss()(x.logSoftmax(axis: 1), t)), try value(CrossEntropyLoss()(x, t)), accuracy: 1e-14)
    }

    func testBCE() throws {
        // -log 0.8 and -log(1 - 0.3)
        let x = TT.f64([0.8, 0.3], [2]), y = TT.f64([1, 0], [2])
        XCTAssertEqual(try value(BCELoss()(x, y)), -(Foundation.log(0.8) + Foundation.log(0.7)) / 2, accuracy: 1e-15)
        XCTAssertEqual(try value(BCELoss(reduction: .sum)(x, y)), 0.22314355131420976 + 0.35667494393873245, accuracy: 1e-15)
        // Soft target 0.25 at 0.5: -(0.25 log 0.5 + 0.75 log 0.5) = log 2.
        XCTAssertEqual(try value(BCELoss()(TT.f64([0.5], [1]), TT.f64([0.25], [1]))), Foundation.log(2.0), accuracy: 1e-15)
        // Per-element weights.
        XCTAssertEqual(try value(BCELoss(weight: TT.f64([2, 0], [2]), reduction: .sum)(x, y)), 2 * 0.22314355131420976,
                       accuracy: 1e-15)
    }

    func testBCEClampsTheLogAtMinus100() throws {
        // log 0 = -inf is clamped to -100, as PyTorch: a certain wrong answer
        // costs 100, a certain right one 0.
        let x = TT.f64([0, 1, 0, 1], [4]).requiringGrad(), y = TT.f64([1, 0, 0, 1], [4])
        let losses = BCELoss(reduction: .none)(x, y)
        XCTAssertEqual(try TT.values(losses), [100, 100, 0, 0])
        losses.sum().backward()
        // (x - y) / max(x (1 - x), 1e-12): finite where the log was clamped.
        XCTAssertEqual(try TT.values(x.grad!), [-1e12, 1e12, 0, 0])
        XCTAssertEqual(try BCELoss()(TT.f32([0, 1], [2]), TT.f32([1, 0], [2])).scalar(), 100)
    }

    func testBCEWithLogits() throws {
        // softplus(-x) for y = 1, softplus(x) for y = 0:
        // x = 0, y = 1: log 2; x = 2, y = 0: log(1 + e^2); x = -3, y = 1: log(1 + e^3).
        let x = TT.f64([0, 2, -3], [3]), y = TT.f64([1, 0, 1], [3])
        let expected = [Foundation.log(2.0), Foundation.log(1 + Foundation.exp(2.0)), Foundation.log(1 + Foundation.exp(3.0))]
        assertTensorValues(try TT.values(BCEWithLogitsLoss(reduction: .none)(x, y)), expected, abs: 1e-15, rel: 1e-15)
        XCTAssertEqual(try value(BCEWithLogitsLoss()(x, y)), expected.reduce(0, +) / 3, accuracy: 1e-15)
        // Matches sigmoid + BCE where both are fine.
        let z = TT.uniform([4, 5], seed: 11, low: -4, high: 4), t = TT.uniform([4, 5], seed: 12, low: 0, high: 1)
        XCTAssertEqual(try value(BCEWithLogitsLoss()(z, t)), try value(BCELoss()(z.sigmoid(), t)), accuracy: 1e-12)
        // posWeight 2 doubles the positive term: 2 log(1 + e^3) at x = -3, y = 1;
        // negatives (x = 2, y = 0) are unchanged.
        let weighted = BCEWithLogitsLoss(posWeight: TT.f64([2], [1]), reduction: .none)(x, y)
        assertTensorValues(try TT.values(weighted), [2 * expected[0], expected[1], 2 * expected[2]], abs: 1e-15, rel: 1e-15)
    }

    func testBCEWithLogitsIsStableForLargeLogits() throws {
        // Neither overflow (exp(100)) nor cancellation: log(1 + e^-50) = e^-50 to double precision.
        let x = TT.f64([100, -100, 50, -800], [4]), y = TT.f64([0, 1, 1, 0], [4])
        let got = try TT.values(BCEWithLogitsLoss(reduction: .none)(x, y))
        assertTensorValues(got, [100, 100, Foundation.exp(-50.0), 0], abs: 0, rel: 1e-14)
        let f = try BCEWithLogitsLoss(reduction: .none)(TT.f32([100, -100, 30], [3]), TT.f32([0, 1, 1], [3])).toArray()
        XCTAssertEqual(f[0], 100)
        XCTAssertEqual(f[1], 100)
        XCTAssertEqual(f[2], Float(Foundation.exp(-30.0)), accuracy: 1e-20)
    }

    func testBCEWithLogitsGradientAtZero() throws {
        // d/dx = sigmoid(x) - y = 0.5 - y at x = 0 (a zero-initialized output
        // layer): a kinked formula (relu, abs) would get this wrong.
        let x = TT.f64([0, 0, 0], [3]).requiringGrad()
        BCEWithLogitsLoss(reduction: .sum)(x, TT.f64([1, 0, 0.25], [3])).backward()
        XCTAssertEqual(try TT.values(x.grad!), [-0.5, 0.5, 0.25])
        let w = TT.f64([0, 0], [2]).requiringGrad()
        // With posWeight 3: (1 - y) - (1 + 2 y) sigmoid(-0) = -1.5 at y = 1, 0.5 at y = 0.
        BCEWithLogitsLoss(posWeight: TT.f64([3], [1]), reduction: .sum)(w, TT.f64([1, 0], [2])).backward()
        XCTAssertEqual(try TT.values(w.grad!), [-1.5, 0.5])
    }

    func testMultiMargin() throws {
        // PyTorch's documented example: x = [0.1, 0.2, 0.4, 0.8], y = 3:
        // ((1 - 0.8 + 0.1) + (1 - 0.8 + 0.2) + (1 - 0.8 + 0.4)) / 4 = 0.325.
        let x = TT.f64([0.1, 0.2, 0.4, 0.8], [1, 4]), y = TT.i32([3])
        XCTAssertEqual(try value(MultiMarginLoss()(x, y)), 0.325, accuracy: 1e-15)
        // p = 2: (0.09 + 0.16 + 0.36) / 4
        XCTAssertEqual(try value(MultiMarginLoss(p: 2)(x, y)), 0.1525, accuracy: 1e-15)
        // margin 0.5: only 0.4 is within it: (0.5 - 0.8 + 0.4) / 4 = 0.025
        XCTAssertEqual(try value(MultiMarginLoss(margin: 0.5)(x, y)), 0.025, accuracy: 1e-15)
        // A correct class far ahead costs nothing; class 0 as target costs
        // (1.1 + 1.3 + 1.7) / 4 = 1.025. Mean of the two rows, and weights.
        let two = TT.f64([0.1, 0.2, 0.4, 0.8, 5, 0, 0, 0], [2, 4]), t = TT.i32([0, 0])
        assertTensorValues(try TT.values(MultiMarginLoss(reduction: .none)(two, t)), [1.025, 0], abs: 1e-15, rel: 0)
        XCTAssertEqual(try value(MultiMarginLoss()(two, t)), 0.5125, accuracy: 1e-15)
        XCTAssertEqual(try value(MultiMarginLoss(weight: TT.f64([2, 1, 1, 1], [4]), reduction: .sum)(two, t)), 2.05,
                       accuracy: 1e-15)
        // [C] with target [] is one sample.
        XCTAssertEqual(try value(MultiMarginLoss()(TT.f64([0.1, 0.2, 0.4, 0.8], [4]), TT.i32([3], []))), 0.325,
                       accuracy: 1e-15)
    }

    func testLossesRunInFloat32() throws {
        let x = TT.f32([0.2, -0.4, 1.5, 0.3, 0.1, -2], [2, 3]), labels = TT.i32([2, 1])
        let pairs: [(String, Tensor, Tensor)] = [
            ("ce", CrossEntropyLoss()(x, labels), CrossEntropyLoss()(x.to(dtype: .float64), labels)),
            ("nll", NLLLoss()(x, labels), NLLLoss()(x.to(dtype: .float64), labels)),
            ("hinge", MultiMarginLoss()(x, labels), MultiMarginLoss()(x.to(dtype: .float64), labels)),
            ("bcel", BCEWithLogitsLoss()(x, x.sigmoid()), BCEWithLogitsLoss()(x.to(dtype: .float64), x.to(dtype: .float64).sigmoid())),
        ]
        for (name, f32, f64) in pairs {
            XCTAssertEqual(f32.dtype, .float32, name)
            XCTAssertEqual(try f32.scalarDouble(), try f64.scalarDouble(), accuracy: 1e-6, name)
        }
    }
}
