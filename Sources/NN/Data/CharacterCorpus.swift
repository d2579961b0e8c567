import Foundation

/// A text as a sequence of character indices, for character-level language
/// models. Characters are Unicode scalars (Python's `str` characters, so a
/// vocabulary matches the usual PyTorch char-RNN scripts), numbered in
/// sorted order.
public struct CharacterCorpus: Sendable {
    /// The distinct characters, sorted; a character's index is its id.
    public let vocabulary: [Unicode.Scalar]
    /// The text as ids.
    public let tokens: [Int32]
    private let ids: [Unicode.Scalar: Int32]

    public init(text: String) {
        let scalars = Array(text.unicodeScalars)
        vocabulary = Set(scalars).sorted { $0.value < $1.value }
        ids = Dictionary(uniqueKeysWithValues: vocabulary.enumerated().map { ($1, Int32($0)) })
        tokens = scalars.map { [ids] in ids[$0]! }
    }

    /// Reads a UTF-8 text file; throws `DataFileError` when it cannot be
    /// read, is not UTF-8 or is empty.
    public init(contentsOf url: URL) throws {
        let bytes = try DataFiles.read(url)
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw DataFileError(file: url.path, message: "not UTF-8 text")
        }
        guard !text.isEmpty else { throw DataFileError(file: url.path, message: "the file is empty") }
        self.init(text: text)
    }

    /// The ids of `text`, or nil when it has a character outside the
    /// vocabulary.
    public func encode(_ text: String) -> [Int32]? {
        var result: [Int32] = []
        for scalar in text.unicodeScalars {
            guard let id = ids[scalar] else { return nil }
            result.append(id)
        }
        return result
    }

    public func decode(_ tokens: [Int32]) -> String {
        var text = String.UnicodeScalarView()
        text.append(contentsOf: tokens.map { vocabulary[Int($0)] })
        return String(text)
    }

    /// The first `fraction` of the tokens and the rest (the usual
    /// contiguous train/validation split of a corpus).
    public func split(trainFraction fraction: Double) -> (train: [Int32], validation: [Int32]) {
        require(fraction > 0 && fraction < 1, "CharacterCorpus.split: fraction \(fraction) outside (0, 1)")
        let cut = Int(Double(tokens.count) * fraction)
        return (Array(tokens[..<cut]), Array(tokens[cut...]))
    }
}

/// Batches of windows of a token sequence for next-token prediction, laid
/// out time-major for the recurrent layers: inputs [T, B] and targets [T, B]
/// flattened to [T * B], target = the input shifted by one.
public struct SequenceBatches: Sendable {
    public let tokens: [Int32]
    public let sequenceLength: Int
    public let batchSize: Int

    public init(tokens: [Int32], sequenceLength: Int, batchSize: Int) {
        require(sequenceLength >= 1 && batchSize >= 1,
                     "SequenceBatches: sequenceLength \(sequenceLength) and batchSize \(batchSize) must be positive")
        require(tokens.count > sequenceLength,
                     "SequenceBatches: \(tokens.count) tokens are too few for windows of \(sequenceLength) + 1")
        self.tokens = tokens
        self.sequenceLength = sequenceLength
        self.batchSize = batchSize
    }

    /// A batch of windows at random offsets (training). The offsets are a
    /// function of (seed, step) only: a counter-based Philox draw, so a run
    /// is reproducible and can be resumed at any step.
    ///
    /// With a `shard` (data-parallel training, `batchSize` being the batch
    /// of all processes together), this process's windows of that batch:
    /// windows rank, rank + count, ... (`batchSize / count` of them).
    public func random(step: Int, seed: UInt64, on device: Device, shard: DataShard? = nil) -> (inputs: Tensor, targets: Tensor) {
        let range = UInt64(tokens.count - sequenceLength)
        var windows = Array(0..<batchSize)
        if let shard {
            require(batchSize % shard.count == 0,
                    "SequenceBatches.random: batch size \(batchSize) does not divide into \(shard.count) equal shards")
            windows = shard.part(of: windows)
        }
        let starts = windows.map { b -> Int in
            let block = Philox.block(UInt64(b), seed: seed, stream: UInt64(step))
            let word = UInt64(Philox.word(block, 0)) << 32 | UInt64(Philox.word(block, 1))
            return Int(word % range)
        }
        return batch(starts: starts, on: device)
    }

    /// Consecutive non-overlapping windows covering the tokens once (the
    /// tail shorter than a window is left out), `batchSize` windows per
    /// batch, the last batch possibly smaller (evaluation). With a `shard`,
    /// this process's batches of them: batches rank, rank + count, ...
    public func sequential(on device: Device, shard: DataShard? = nil) -> [(inputs: Tensor, targets: Tensor)] {
        let starts = Array(stride(from: 0, to: tokens.count - sequenceLength, by: sequenceLength))
        let firsts = Array(stride(from: 0, to: starts.count, by: batchSize))
        return (shard.map { DataShard(rank: $0.rank, count: $0.count, padded: false).part(of: firsts) } ?? firsts).map { first in
            batch(starts: Array(starts[first..<min(first + batchSize, starts.count)]), on: device)
        }
    }

    private func batch(starts: [Int], on device: Device) -> (inputs: Tensor, targets: Tensor) {
        let T = sequenceLength, B = starts.count
        var inputs = [Int32](repeating: 0, count: T * B), targets = inputs
        for (b, start) in starts.enumerated() {
            for t in 0..<T {
                inputs[t * B + b] = tokens[start + t]
                targets[t * B + b] = tokens[start + t + 1]
            }
        }
        return (Tensor(int32: inputs, shape: [T, B], on: device), Tensor(int32: targets, shape: [T * B], on: device))
    }
}
