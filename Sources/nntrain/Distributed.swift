import ArgumentParser
import Foundation
import NN
import NNDistributed

/// --distributed: data-parallel training over MPI (the programs that train).
struct DistributedOptions: ParsableArguments {
    @Flag(help: ArgumentHelp("Data-parallel training over MPI: start with mpirun -np N (Open MPI). --batch-size is per rank; "
                             + "every rank trains on its shard of each epoch and the gradients are averaged; rank 0 prints "
                             + "and writes the files."))
    var distributed = false

    @Option(name: .customLong("bucket-mb"), help: "With --distributed: the size of the gradient buckets averaged together, in MiB.")
    var bucketMB: Double = 25

    func validate() throws {
        try OptionChecks.positive(bucketMB, "--bucket-mb")
    }
}

/// This process's place in a training run: alone, or one rank of an MPI
/// job. Only rank 0 prints and writes files.
struct TrainingRank {
    /// nil when not --distributed.
    let group: ProcessGroup?
    let bucketMB: Double

    var rank: Int { group?.rank ?? 0 }
    var size: Int { group?.size ?? 1 }
    var isPrimary: Bool { rank == 0 }

    /// Prints on rank 0 only.
    func say(_ line: String) {
        if isPrimary { print(line) }
    }

    /// This rank's part of every epoch (padded: the same steps on every
    /// rank, for training; unpadded: each sample once, for evaluation).
    func shard(padded: Bool) -> DataShard? {
        group.map { DataShard(rank: $0.rank, count: $0.size, padded: padded) }
    }

    /// Averages `model`'s gradients over the ranks (nil alone); makes every
    /// rank start from rank 0's weights.
    func dataParallel(_ model: Module) throws -> DataParallel? {
        try group.map { try DataParallel(model, group: $0, bucketCapacityMB: bucketMB) }
    }

    /// Sums over the ranks (the values themselves alone).
    func sum(_ values: [Double]) throws -> [Double] {
        try group?.allReduce(values) ?? values
    }

    /// The JSON fields of every training program: world_size, and with
    /// `samples` trained in `seconds`, samples_per_second.
    func jsonFields(samples: Double, seconds: Double) -> [String: Any] {
        ["world_size": size, "samples_per_second": seconds > 0 ? samples / seconds : 0]
    }

    /// Runs `body` alone, or as one rank of an MPI job with --distributed.
    /// A rank's error is printed naming the rank and ends the whole job
    /// (the other ranks would wait for it forever), so mpirun exits non-zero.
    static func run(_ options: DistributedOptions, _ body: (TrainingRank) throws -> Void) throws {
        guard options.distributed else { return try body(TrainingRank(group: nil, bucketMB: options.bucketMB)) }
        let group = try ProcessGroup.world()
        let rank = TrainingRank(group: group, bucketMB: options.bucketMB)
        rank.say("distributed: \(group.size) ranks (\(group.libraryVersion)); rank 0 on \(group.processorName)")
        group.run { try body(rank) }
    }
}
