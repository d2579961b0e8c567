import XCTest
@testable import NN

/// Mean/std normalization fitted on a training split and applied to others.
final class StandardizerTests: XCTestCase {
    // Three samples of two features; the second feature is constant.
    private let train = Dataset(features: [1, 5, 2, 5, 6, 5], featureShape: [2], labels: [0, 1, 0])

    func testPerFeatureFit() {
        let s = Standardizer.fit(train)
        XCTAssertTrue(s.isPerFeature)
        XCTAssertEqual(s.mean, [3, 5])
        // Population std of 1, 2, 6: sqrt(14 / 3).
        XCTAssertEqual(s.std[0], Float((14.0 / 3).squareRoot()), accuracy: 1e-6)
        XCTAssertEqual(s.std[1], 1, "a constant feature keeps std 1")
        let normalized = s.apply(train)
        let first = stride(from: 0, to: 6, by: 2).map { normalized.features[$0] }
        XCTAssertEqual(first.reduce(0, +), 0, accuracy: 1e-6)
        XCTAssertEqual(first.map { $0 * $0 }.reduce(0, +) / 3, 1, accuracy: 1e-6)
        XCTAssertEqual(stride(from: 1, to: 6, by: 2).map { normalized.features[$0] }, [0, 0, 0])
        XCTAssertEqual(normalized.classLabels, train.classLabels)
    }

    func testScalarFitAndApplyingToOtherSplits() throws {
        let s = Standardizer.fit(train, perFeature: false)
        XCTAssertFalse(s.isPerFeature)
        XCTAssertEqual(s.mean, [4])
        // Values 1 5 2 5 6 5: deviations -3 1 -2 1 2 1, variance 20 / 6.
        XCTAssertEqual(s.std[0], Float((20.0 / 6).squareRoot()), accuracy: 1e-6)
        let validation = Dataset(features: [4, 14], featureShape: [2], labels: [1])
        XCTAssertEqual(s.apply(validation).features[0], 0)
        XCTAssertEqual(s.apply(validation).features[1], 10 / s.std[0], accuracy: 1e-6)
    }

    func testTensorApplyMatchesDatasetApply() throws {
        for perFeature in [true, false] {
            let s = Standardizer.fit(train, perFeature: perFeature)
            let onDevice = try s.apply(train.featuresTensor(on: .cpu)).toArray(as: Float.self)
            let onHost = s.apply(train).features
            for (a, b) in zip(onDevice, onHost) { XCTAssertEqual(a, b, accuracy: 1e-6) }
        }
        let images = Dataset(features: (0..<8).map { Float($0) }, featureShape: [1, 2, 2], labels: [0, 1])
        let s = Standardizer.fit(images)
        XCTAssertEqual(s.mean, [2, 3, 4, 5])
        let x = s.apply(images.featuresTensor(on: .cpu))
        XCTAssertEqual(x.shape, [2, 1, 2, 2])
        XCTAssertEqual(try x.toArray(as: Float.self), s.apply(images).features)
    }
}
