import Foundation
import XCTest
@testable import NN

/// Learning-rate schedules against PyTorch's documented sequences.
final class ScheduleTests: XCTestCase {
    private func optimizer(_ lr: Double) -> SGD { SGD([OptimTest.parameter([0])], learningRate: lr) }

    /// lr at epochs 0...epochs (epoch 0 before any step()).
    private func sequence(_ scheduler: any LRScheduler, epochs: Int) -> [Double] {
        [scheduler.learningRate] + (0..<epochs).map { _ in
            scheduler.step()
            return scheduler.learningRate
        }
    }

    func testStepLR() {
        // PyTorch's docs: lr = 0.05 if epoch < 30, 0.005 if 30 <= epoch < 60,
        // 0.0005 if 60 <= epoch < 90.
        let lrs = sequence(StepLR(optimizer(0.05), stepSize: 30, gamma: 0.1), epochs: 89)
        for (epoch, lr) in lrs.enumerated() {
            let expected = epoch < 30 ? 0.05 : (epoch < 60 ? 0.005 : 0.0005)
            XCTAssertEqual(lr, expected, accuracy: 1e-15, "epoch \(epoch)")
        }
    }

    func testExponentialLR() {
        // lr = 0.1 * 0.9^epoch
        let lrs = sequence(ExponentialLR(optimizer(0.1), gamma: 0.9), epochs: 20)
        for (epoch, lr) in lrs.enumerated() {
            XCTAssertEqual(lr, 0.1 * Foundation.pow(0.9, Double(epoch)), accuracy: 1e-15, "epoch \(epoch)")
        }
    }

    func testCosineAnnealingLR() {
        // PyTorch's docs: eta_t = eta_min + (eta_max - eta_min) (1 + cos(T_cur / T_max pi)) / 2,
        // and past T_max the same cosine climbs back.
        let scheduler = CosineAnnealingLR(optimizer(0.1), tMax: 10, etaMin: 0.001)
        let lrs = sequence(scheduler, epochs: 35)
        for (epoch, lr) in lrs.enumerated() {
            let expected = 0.001 + (0.1 - 0.001) * (1 + Foundation.cos(Double(epoch) / 10 * Double.pi)) / 2
            XCTAssertEqual(lr, expected, accuracy: 1e-14, "epoch \(epoch)")
        }
        XCTAssertEqual(lrs[5], 0.0505, accuracy: 1e-15)
        XCTAssertEqual(lrs[10], 0.001, accuracy: 1e-15)
        XCTAssertEqual(lrs[20], 0.1, accuracy: 1e-14)
    }

    func testSchedulesSetTheOptimizersRateAndChain() throws {
        // The rate the optimizer steps with is the scheduler's; a rate set by
        // hand carries on multiplicatively, as PyTorch's chainable schedulers.
        let p = OptimTest.parameter([0])
        let sgd = SGD([p], learningRate: 1)
        let scheduler = ExponentialLR(sgd, gamma: 0.5)
        scheduler.step()
        XCTAssertEqual(sgd.learningRate, 0.5)
        _ = try OptimTest.linear(sgd, p, [1], steps: 1)
        XCTAssertEqual(try TT.values(p.value), [-0.5])
        sgd.learningRate = 0.1
        scheduler.step()
        XCTAssertEqual(sgd.learningRate, 0.05, accuracy: 1e-17)
        XCTAssertEqual(scheduler.lastEpoch, 2)
    }

    func testReduceLROnPlateau() {
        // patience 2: a cut after the third epoch in a row without improvement.
        let opt = optimizer(1)
        let plateau = ReduceLROnPlateau(opt, factor: 0.5, patience: 2)
        let metrics = [1.0, 0.9, 0.95, 0.95, 0.95, 0.95, 0.95, 0.95, 0.8, 0.85]
        var lrs: [Double] = []
        for m in metrics {
            plateau.step(m)
            lrs.append(opt.learningRate)
        }
        // epochs 3, 4 bad (1, 2), epoch 5 bad 3 > 2: cut; epochs 6, 7 bad 1, 2;
        // epoch 8 bad 3: cut; epoch 9 improves.
        XCTAssertEqual(lrs, [1, 1, 1, 1, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25])
        XCTAssertEqual(plateau.best, 0.8)
    }

    func testReduceLROnPlateauCooldownThresholdAndMinimum() {
        // cooldown 2: after a cut, two epochs do not count as bad.
        let opt = optimizer(1)
        let plateau = ReduceLROnPlateau(opt, factor: 0.1, patience: 0, cooldown: 2, minLearningRate: 0.005)
        var lrs: [Double] = []
        for m in [1.0, 1, 1, 1, 1, 1, 1, 1] {
            plateau.step(m)
            lrs.append(opt.learningRate)
        }
        // e1 best; e2 bad 1 > 0: cut to 0.1, cooldown 2; e3, e4 cooldown; e5
        // cut to 0.01; e6, e7 cooldown; e8 cut to max(0.001, 0.005) = 0.005.
        assertTensorValues(lrs, [1, 0.1, 0.1, 0.1, 0.01, 0.01, 0.01, 0.005], abs: 1e-15, rel: 0)

        // Relative threshold 1e-4: 0.99995 is not better than 1 (it must be
        // below 1 - 1e-4); 0.9998 is.
        let rel = ReduceLROnPlateau(optimizer(1))
        rel.step(1)
        XCTAssertFalse(rel.isBetter(0.99995))
        XCTAssertTrue(rel.isBetter(0.9998))
        // Absolute threshold, max mode.
        let abs = ReduceLROnPlateau(optimizer(1), mode: .max, threshold: 0.1, thresholdMode: .absolute)
        abs.step(1)
        XCTAssertFalse(abs.isBetter(1.05))
        XCTAssertTrue(abs.isBetter(1.15))
    }

    func testReduceLROnPlateauDefaultsArePyTorchs() {
        // mode min, factor 0.1, patience 10: the first cut comes on the 11th
        // epoch without improvement.
        let opt = optimizer(0.1)
        let plateau = ReduceLROnPlateau(opt)
        plateau.step(1)
        for epoch in 1...10 {
            plateau.step(1)
            XCTAssertEqual(opt.learningRate, 0.1, "bad epoch \(epoch)")
        }
        plateau.step(1)
        XCTAssertEqual(opt.learningRate, 0.01, accuracy: 1e-17)
    }
}
