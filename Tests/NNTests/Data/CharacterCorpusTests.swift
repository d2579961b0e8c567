import XCTest
@testable import NN

final class CharacterCorpusTests: XCTestCase {
    func testVocabularyIsSortedAndRoundTrips() throws {
        let corpus = CharacterCorpus(text: "to be,\nor not é")
        XCTAssertEqual(String(String.UnicodeScalarView(corpus.vocabulary)), "\n ,benorté")
        XCTAssertEqual(corpus.tokens.count, 15)
        XCTAssertEqual(corpus.decode(corpus.tokens), "to be,\nor not é")
        XCTAssertEqual(corpus.encode("note"), [5, 6, 8, 4])
        XCTAssertNil(corpus.encode("toad"), "'a' is not in the vocabulary")
        let (train, validation) = corpus.split(trainFraction: 0.8)
        XCTAssertEqual(train, Array(corpus.tokens[..<12]))
        XCTAssertEqual(validation, Array(corpus.tokens[12...]))
    }

    func testFilesThatCannotBeUsedThrow() throws {
        let dir = try DataTestFiles.temporaryDirectory(for: self)
        let empty = dir.appendingPathComponent("empty.txt"), binary = dir.appendingPathComponent("binary.txt")
        try Data().write(to: empty)
        try Data([0x66, 0xFF, 0xFE]).write(to: binary)
        XCTAssertThrowsError(try CharacterCorpus(contentsOf: empty)) { XCTAssert("\($0)".contains("empty"), "\($0)") }
        XCTAssertThrowsError(try CharacterCorpus(contentsOf: binary)) { XCTAssert("\($0)".contains("not UTF-8"), "\($0)") }
        XCTAssertThrowsError(try CharacterCorpus(contentsOf: dir.appendingPathComponent("missing.txt")))
    }

    func testBatchesAreTimeMajorWithShiftedTargets() throws {
        let tokens = (0..<100).map { Int32($0) }
        let batches = SequenceBatches(tokens: tokens, sequenceLength: 5, batchSize: 3)
        let (inputs, targets) = batches.random(step: 4, seed: 1, on: .cpu)
        XCTAssertEqual(inputs.shape, [5, 3])
        XCTAssertEqual(targets.shape, [15])
        let x = try inputs.toArray(as: Int32.self), y = try targets.toArray(as: Int32.self)
        for b in 0..<3 {
            for t in 0..<5 {
                XCTAssertEqual(y[t * 3 + b], x[t * 3 + b] + 1, "target is the next token")
                if t > 0 { XCTAssertEqual(x[t * 3 + b], x[(t - 1) * 3 + b] + 1, "a window is contiguous in time") }
            }
        }
        // A function of (seed, step) only.
        XCTAssertEqual(try batches.random(step: 4, seed: 1, on: .cpu).inputs.toArray(as: Int32.self), x)
        XCTAssertNotEqual(try batches.random(step: 5, seed: 1, on: .cpu).inputs.toArray(as: Int32.self), x)
    }

    func testSequentialCoversEveryWindowOnce() throws {
        let tokens = (0..<23).map { Int32($0) }
        let batches = SequenceBatches(tokens: tokens, sequenceLength: 5, batchSize: 3).sequential(on: .cpu)
        // Windows start at 0, 5, 10, 15 (a window needs 6 tokens): batches of 3 and 1.
        XCTAssertEqual(batches.map(\.inputs.shape), [[5, 3], [5, 1]])
        XCTAssertEqual(try batches[0].inputs.toArray(as: Int32.self).prefix(3), [0, 5, 10])
        XCTAssertEqual(try batches[1].targets.toArray(as: Int32.self), [16, 17, 18, 19, 20])
    }
}
