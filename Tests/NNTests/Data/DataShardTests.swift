import XCTest
@testable import NN

/// Shards of an epoch for data-parallel training (PyTorch's
/// DistributedSampler): disjoint, together the epoch, padded to equal size
/// for training, and batch k of N shards of batch b = batch k of batch N·b.
final class DataShardTests: XCTestCase {
    private func dataset(_ count: Int) -> Dataset {
        Dataset(features: (0..<count).map(Float.init), featureShape: [1], labels: (0..<count).map { Int32($0 % 3) })
    }

    func testShardsAreDisjointAndTogetherTheEpoch() {
        let order = DataLoader.permutation(count: 10, seed: 4, stream: 2)
        let parts = (0..<3).map { DataShard(rank: $0, count: 3, padded: false).part(of: order) }
        XCTAssertEqual(parts.map(\.count), [4, 3, 3])
        XCTAssertEqual(parts.flatMap { $0 }.sorted(), Array(0..<10))
        XCTAssertEqual(parts[1], [order[1], order[4], order[7]])
    }

    func testPaddedShardsRepeatTheFirstSamplesAsPyTorchDoes() {
        // torch DistributedSampler(10 samples, num_replicas=4, shuffle=False): indices + indices[:2], then [rank::4].
        let order = Array(0..<10)
        let parts = (0..<4).map { DataShard(rank: $0, count: 4).part(of: order) }
        XCTAssertEqual(parts, [[0, 4, 8], [1, 5, 9], [2, 6, 0], [3, 7, 1]])
        XCTAssertEqual(DataShard(rank: 0, count: 4).sampleCount(of: 10), 3)
        XCTAssertEqual(DataShard(rank: 3, count: 4, padded: false).sampleCount(of: 10), 2)
        // More ranks than samples: padding wraps around the order again.
        XCTAssertEqual(DataShard(rank: 4, count: 5).part(of: [7, 8]), [7])
        XCTAssertEqual(DataShard(rank: 4, count: 5, padded: false).part(of: [7, 8]), [])
    }

    func testBatchKOfTwoShardsIsBatchKOfOneLoaderWithTwiceTheBatch() {
        let data = dataset(130)
        let whole = DataLoader(data, batchSize: 64, shuffle: true, seed: 9, device: .cpu)
        let shards = (0..<2).map { DataLoader(data, batchSize: 32, shuffle: true, seed: 9, shard: DataShard(rank: $0, count: 2), device: .cpu) }
        XCTAssertEqual(shards.map(\.batchCount), [3, 3])
        XCTAssertEqual(shards.map(\.sampleCount), [65, 65])
        for epoch in 0..<3 {
            let batches = whole.batchIndices(epoch: epoch), parts = shards.map { $0.batchIndices(epoch: epoch) }
            for k in 0..<2 {
                XCTAssertEqual((parts[0][k] + parts[1][k]).sorted(), batches[k].sorted(), "epoch \(epoch) batch \(k)")
            }
        }
    }

    func testSequenceBatchesShardsTakeTheirWindowsOfTheWholeBatch() throws {
        let tokens = (0..<200).map { Int32($0 % 50) }
        let whole = SequenceBatches(tokens: tokens, sequenceLength: 5, batchSize: 4).random(step: 3, seed: 1, on: .cpu)
        let batches = SequenceBatches(tokens: tokens, sequenceLength: 5, batchSize: 4)
        let parts = (0..<2).map { batches.random(step: 3, seed: 1, on: .cpu, shard: DataShard(rank: $0, count: 2)) }
        // [T, B] time-major: column b of the whole batch is window b.
        let all = try whole.inputs.toArray(as: Int32.self)
        for (rank, part) in parts.enumerated() {
            XCTAssertEqual(part.inputs.shape, [5, 2])
            let mine = try part.inputs.toArray(as: Int32.self)
            for t in 0..<5 {
                XCTAssertEqual([mine[t * 2], mine[t * 2 + 1]], [all[t * 4 + rank], all[t * 4 + rank + 2]])
            }
        }
    }

    func testACheckpointOfAShardedRunRecordsTheNumberOfProcessesNotTheRank() {
        let data = dataset(20)
        let rank0 = TrainingProgress.DataOrder(DataLoader(data, batchSize: 4, shard: DataShard(rank: 0, count: 2), device: .cpu))
        let rank1 = TrainingProgress.DataOrder(DataLoader(data, batchSize: 4, shard: DataShard(rank: 1, count: 2), device: .cpu))
        XCTAssertEqual(rank0, rank1)
        XCTAssertEqual(rank0.processes, 2)
        XCTAssertEqual(TrainingProgress.DataOrder(DataLoader(data, batchSize: 4, shard: DataShard(rank: 0, count: 1), device: .cpu)),
                       TrainingProgress.DataOrder(DataLoader(data, batchSize: 4, device: .cpu)))
        XCTAssertNotEqual(rank0, TrainingProgress.DataOrder(DataLoader(data, batchSize: 4, device: .cpu)))
    }
}
