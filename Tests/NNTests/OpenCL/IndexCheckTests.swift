import Foundation
import XCTest
@testable import NN

/// Bad indices on OpenCL: gather (and Embedding over it), scatter-add and
/// cross-entropy's labels report the first one at the next read-back,
/// naming the op and the index (before: silently 0, a zero row, or a NaN
/// loss that Trainer.fit blamed on the learning rate). The CPU backend
/// stops at the op itself (ReleaseMessageTests).
final class IndexCheckTests: XCTestCase {
    private func device() throws -> Device {
        guard let shared = try ParityDevices.all().first else { throw XCTSkip("no OpenCL device") }
        return Device(shared)
    }

    private func assertIndexError(_ pieces: [String], _ body: () throws -> Void, line: UInt = #line) {
        XCTAssertThrowsError(try body(), line: line) { error in
            guard case OpenCLError.indexOutOfRange = error else { return XCTFail("not an index error: \(error)", line: line) }
            for piece in pieces { XCTAssert("\(error)".contains(piece), "'\(piece)' missing from: \(error)", line: line) }
        }
    }

    func testGatherAndEmbeddingReportTheFirstBadIndex() throws {
        let device = try device()
        let x = Tensor([1, 2, 3, 4, 5, 6], shape: [2, 3], on: device)
        let indices = Tensor(int32: [0, 3, 1, 2], shape: [2, 2], on: device)
        assertIndexError(["gather", "index 3", "element 1", "0..<3"]) { _ = try x.gather(axis: 1, indices: indices).toArray() }
        // Reported once: the next read-back is clean.
        XCTAssertEqual(try x.gather(axis: 1, indices: Tensor(int32: [2, 0, 1, 1], shape: [2, 2], on: device)).toArray(),
                       [3, 1, 5, 5])
        let negative = Tensor(int32: [0, 0, -1, 0], shape: [2, 2], on: device)
        assertIndexError(["gather", "index -1"]) { _ = try x.gather(axis: 1, indices: negative).toArray() }

        Random.manualSeed(3)
        let embedding = Embedding(10, 4, device: device)
        assertIndexError(["gather", "index 10", "0..<10"]) {
            _ = try embedding(Tensor(int32: [2, 10, 4], on: device)).toArray()
        }
    }

    func testScatterAddReportsABadIndex() throws {
        let device = try device()
        guard let backend = device.backend as? OpenCLBackend else { throw XCTSkip("not OpenCL") }
        let src = backend.makeBuffer([Float](repeating: 1, count: 4))
        let indices = backend.makeBuffer([Int32(0), 1, 7, 1])
        let out = backend.makeBuffer([Float](repeating: 0, count: 3))
        backend.scatterAdd(src, indices: indices, out: out, view: AxisView(outer: 1, axis: 3, inner: 1), indexCount: 4)
        assertIndexError(["scatterAdd", "index 7", "element 2", "0..<3"]) { try backend.synchronize() }
        // The good indices were added; the bad one was skipped.
        XCTAssertEqual(try backend.download(out, as: Float.self), [1, 2, 0])
    }

    func testCrossEntropyReportsALabelOutOfRange() throws {
        let device = try device()
        let logits = Tensor.zeros([3, 10], on: device)
        let labels = Tensor(int32: [1, 12, 3], on: device)
        assertIndexError(["softmaxCrossEntropy", "index 12", "element 1", "0..<10"]) {
            _ = try Tensor.softmaxCrossEntropy(logits: logits, labels: labels).mean().toArray()
        }
    }
}
