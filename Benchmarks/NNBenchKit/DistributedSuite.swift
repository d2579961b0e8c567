import Dispatch
import Foundation
import NN
import NNDistributed

/// `nnbench distributed`, run under `mpirun -np N`: what data-parallel
/// training costs here, and what it would cost on a cluster.
///
/// - The allreduce bandwidth of the job for buffers of 4 KiB to 64 MiB
///   (float sums in place, as `DataParallel` sends its buckets): the time of
///   one call (the slowest rank's median of repeated averages of 10 calls),
///   the algorithm bandwidth (bytes / time) and the bus bandwidth (×
///   2(p−1)/p, what each rank's link carries in a ring, as nccl-tests
///   report it).
/// - The compute time of a training step of the nnbench train models at
///   the batch each rank runs, every rank stepping at once (one core each
///   under mpirun's binding), and their gradient bytes.
/// - A cost model: a ring allreduce moves 2(p−1)/p of the gradient bytes
///   over each rank's link and takes 2(p−1) latency-bound steps, so one
///   step on p nodes takes T(p) = T_compute + 2(p−1)·α + 2(p−1)/p · G / B
///   without overlap, and max(T_compute, allreduce) with perfect overlap;
///   the speed-up over one node at the same per-rank batch is p·T_compute / T(p).
public enum DistributedBenchmark {
    public struct Bandwidth: Codable, Equatable, Sendable {
        public let bytes: Int
        public let microseconds: Double
        /// bytes / time, in GB/s (10^9).
        public let algorithmGBps: Double
        /// algorithmGBps × 2(p−1)/p.
        public let busGBps: Double
    }

    public struct ModelStep: Codable, Equatable, Sendable {
        public let name: String
        public let batch: Int
        public let parameters: Int
        public var gradientBytes: Int { parameters * 4 }
        /// The slowest rank's median step time, without gradient averaging.
        public let computeMilliseconds: Double
        /// The measured allreduce of the gradient bytes in this job.
        public let allreduceMilliseconds: Double
    }

    public struct Network: Codable, Equatable, Sendable {
        public let name: String
        public let gigabitsPerSecond: Double
        /// Per message step: an assumption, stated in the report.
        public let latencyMicroseconds: Double

        /// Typical MPI figures: TCP over 10 GbE, and an RDMA fabric (InfiniBand HDR/RoCE) at 100 Gb/s.
        public static let standard = [Network(name: "10 Gb/s Ethernet (TCP)", gigabitsPerSecond: 10, latencyMicroseconds: 30),
                                      Network(name: "100 Gb/s RDMA", gigabitsPerSecond: 100, latencyMicroseconds: 3)]

        /// Ring allreduce of `bytes` over `nodes` nodes, in milliseconds.
        public func allreduceMilliseconds(bytes: Int, nodes: Int) -> Double {
            let p = Double(nodes)
            let latency = 2 * (p - 1) * latencyMicroseconds * 1e-3
            let transfer = 2 * (p - 1) / p * Double(bytes) / (gigabitsPerSecond * 1e9 / 8) * 1e3
            return latency + transfer
        }
    }

    public struct Projection: Codable, Equatable, Sendable {
        public let model: String
        public let network: String
        public let nodes: Int
        public let allreduceMilliseconds: Double
        public let speedupWithoutOverlap: Double
        public let speedupWithOverlap: Double
    }

    public struct Report: Codable, Sendable {
        public let worldSize: Int
        public let library: String
        public let host: String
        public let device: String
        public let bandwidth: [Bandwidth]
        public let models: [ModelStep]
        public let networks: [Network]
        public let projections: [Projection]
    }

    /// 4 KiB, 16 KiB, ..., 64 MiB.
    public static let standardSizes = (0...7).map { 4096 << (2 * $0) }
    public static let nodeCounts = [2, 4, 8, 16, 32, 64]

    /// Runs the measurements on every rank of `group` (all ranks must call
    /// it); the report is the same on every rank.
    public static func run(group: ProcessGroup, sizes: [Int] = standardSizes, quick: Bool = false,
                           device: Device = .default) throws -> Report {
        let bandwidth = try sizes.map { bytes -> Bandwidth in
            let seconds = try allreduceSeconds(floats: bytes / 4, group: group, quick: quick)
            let p = Double(group.size)
            let algorithm = Double(bytes) / seconds / 1e9
            return Bandwidth(bytes: bytes, microseconds: seconds * 1e6, algorithmGBps: algorithm,
                             busGBps: group.size > 1 ? algorithm * 2 * (p - 1) / p : algorithm)
        }
        let models: [(String, Int, () -> TrainingModel)] = [
            ("LeNet-5 SGD-momentum", 32, { LeNet5Model(batch: 32, on: device) }),
            ("char-LSTM emb 64 hidden 256, T 64", 32,
             { CharLSTMModel(vocabulary: 65, embeddingSize: 64, hiddenSize: 256, batch: 32, steps: 64, on: device) }),
        ]
        let steps = try models.map { name, batch, make -> ModelStep in
            let model = make()
            let compute = try computeSeconds(model, on: device, group: group, quick: quick)
            let allreduce = try allreduceSeconds(floats: model.parameterCount, group: group, quick: quick)
            return ModelStep(name: name, batch: batch, parameters: model.parameterCount,
                             computeMilliseconds: compute * 1e3, allreduceMilliseconds: allreduce * 1e3)
        }
        var projections: [Projection] = []
        for step in steps {
            for network in Network.standard {
                for nodes in nodeCounts {
                    let allreduce = network.allreduceMilliseconds(bytes: step.gradientBytes, nodes: nodes)
                    let compute = step.computeMilliseconds, p = Double(nodes)
                    projections.append(Projection(model: step.name, network: network.name, nodes: nodes, allreduceMilliseconds: allreduce,
                                                  speedupWithoutOverlap: p * compute / (compute + allreduce),
                                                  speedupWithOverlap: p * compute / max(compute, allreduce)))
                }
            }
        }
        return Report(worldSize: group.size, library: group.libraryVersion, host: group.processorName, device: device.name,
                      bandwidth: bandwidth, models: steps, networks: Network.standard, projections: projections)
    }

    /// One allreduce of `floats` floats: the slowest rank's median of
    /// repeated averages of 10 back-to-back calls, each batch started
    /// together (a barrier).
    static func allreduceSeconds(floats: Int, group: ProcessGroup, quick: Bool) throws -> Double {
        var buffer = [Float](repeating: 1, count: max(floats, 1))
        for _ in 0..<3 { try group.allReduce(&buffer) }
        var averages: [Double] = []
        for _ in 0..<(quick ? 3 : 7) {
            try group.barrier()
            let start = DispatchTime.now().uptimeNanoseconds
            for _ in 0..<10 { try group.allReduce(&buffer) }
            averages.append(Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9 / 10)
        }
        return try group.allReduce([Measurement(samples: averages).median], .max)[0]
    }

    /// A training step's compute time, every rank stepping at once: the
    /// slowest rank's median.
    static func computeSeconds(_ model: TrainingModel, on device: Device, group: ProcessGroup, quick: Bool) throws -> Double {
        for _ in 0..<3 { model.step() }
        try device.backend.synchronize()
        try group.barrier()
        var samples: [Double] = []
        for _ in 0..<(quick ? 5 : 20) {
            let start = DispatchTime.now().uptimeNanoseconds
            model.step()
            try device.backend.synchronize()
            samples.append(Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9)
        }
        return try group.allReduce([Measurement(samples: samples).median], .max)[0]
    }

    private static func table(_ header: [String], rows: [[String]], leftAligned: Int = 1) -> String {
        var table = TextTable(header: header, leftAligned: leftAligned)
        rows.forEach { table.add($0) }
        return table.render()
    }

    /// The report as text tables.
    public static func render(_ report: Report) -> String {
        func bytes(_ n: Int) -> String { n >= 1 << 20 ? "\(n >> 20) MiB" : "\(n >> 10) KiB" }
        var lines = ["allreduce of float sums, \(report.worldSize) ranks on \(report.host), \(report.library)", ""]
        lines.append(table( ["bytes", "time (us)", "algorithm GB/s", "bus GB/s"],
                                      rows: report.bandwidth.map {
                                          [bytes($0.bytes), String(format: "%.1f", $0.microseconds),
                                           String(format: "%.2f", $0.algorithmGBps), String(format: "%.2f", $0.busGBps)]
                                      }))
        lines.append("")
        lines.append("training step per rank on \(report.device), \(report.worldSize) ranks stepping at once (slowest rank's median)")
        lines.append("")
        lines.append(table( ["model", "batch/rank", "parameters", "gradient", "compute (ms)", "allreduce here (ms)"],
                                      rows: report.models.map {
                                          [$0.name, "\($0.batch)", "\($0.parameters)", String(format: "%.2f MB", Double($0.gradientBytes) / 1e6),
                                           String(format: "%.2f", $0.computeMilliseconds), String(format: "%.3f", $0.allreduceMilliseconds)]
                                      }))
        lines.append("")
        lines.append("projected speed-up over one node, one rank per node at the compute time above (weak scaling: batch per rank fixed);")
        lines.append("ring allreduce: 2(p-1) steps of latency a and 2(p-1)/p of the gradient bytes over each link:")
        lines.append("  T(p) = compute + 2(p-1)a + 2(p-1)/p * G/B; speed-up p*compute/T(p) (no overlap), p*compute/max(compute, allreduce) (full overlap)")
        for network in report.networks {
            lines.append("")
            lines.append("\(network.name): B = \(String(format: "%g", network.gigabitsPerSecond)) Gb/s, a = \(String(format: "%g", network.latencyMicroseconds)) us (assumed)")
            var rows: [[String]] = []
            for model in report.models {
                let projections = report.projections.filter { $0.model == model.name && $0.network == network.name }
                rows.append([model.name + " allreduce ms"] + projections.map { String(format: "%.2f", $0.allreduceMilliseconds) })
                rows.append(["  speed-up, no overlap"] + projections.map { String(format: "%.1f", $0.speedupWithoutOverlap) })
                rows.append(["  speed-up, full overlap"] + projections.map { String(format: "%.1f", $0.speedupWithOverlap) })
            }
            lines.append(table( ["nodes"] + nodeCounts.map(String.init), rows: rows))
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
