import ArgumentParser
import Foundation
import NN
import NNBenchKit
import NNDistributed

struct Distributed: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Under mpirun -np N: the allreduce bandwidth (4 KiB-64 MiB), the train models' step and gradient sizes, "
            + "and the projected data-parallel speed-up on 10 and 100 Gb/s networks.",
        discussion: "Rank 0 prints the tables. Example: mpirun -np 2 .build/release/nnbench distributed --json allreduce.json "
            + "(as root, add --allow-run-as-root).")

    @Option(name: .long, help: ArgumentHelp("The device every rank trains on (default: $NN_BACKEND or cpu).", valueName: "device"))
    var device: String?

    @Flag(name: .long, help: "Fewer repeats (a quick look, not a figure to quote).")
    var quick = false

    @Option(name: .long, help: ArgumentHelp("Write the report as JSON to this file (rank 0).", valueName: "file"))
    var json: String?

    func run() throws {
        let chosen = try Device.named(device ?? ProcessInfo.processInfo.environment["NN_BACKEND"] ?? "cpu")
        Device.default = chosen
        let group = try ProcessGroup.world()
        group.run {
            let report = try DistributedBenchmark.run(group: group, quick: quick, device: chosen)
            guard group.rank == 0 else { return }
            print(DistributedBenchmark.render(report), terminator: "")
            if let json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                try encoder.encode(report).write(to: URL(fileURLWithPath: json), options: .atomic)
            }
        }
    }
}
