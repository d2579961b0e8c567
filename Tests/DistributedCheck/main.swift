// The rank programs of the distributed tests (Tests/NNTests/Distributed),
// started by `mpirun` or alone:
//
//   nn-distributed-check train --optimizer sgd|adam --batch B --steps S --out DIR [--single] [--bucket-mb M]
//                              [--accumulate] [--uneven] [--batchnorm]
//       trains a small CNN (conv, max-pool, two linear layers) on fixed
//       random data; each rank starts from its own seed (rank 0: seed 1,
//       rank 1: seed 2, ...) so that the broadcast has something to do, and
//       writes DIR/before-rank<r>.safetensors, DIR/after-broadcast-rank<r>
//       and DIR/final-rank<r>; --single trains in this process alone, without MPI.
//       --accumulate: each step is two backward passes of half the batch,
//       the first inside noSync. --uneven: a layer "aux" that only odd ranks
//       use and a layer "spare" that no rank uses. --batchnorm: BatchNorm2d
//       after the convolution. Mistakes that must stop with a message:
//       --double-backward (two backward passes, no noSync) and
//       --collective-in-step (an allReduce before synchronizeGradients).
//   nn-distributed-check collectives
//       allReduce, broadcast, allGather and barrier on tensors of the
//       default device, and a shape mismatch that every rank must refuse.
//   nn-distributed-check die RANK | throw RANK
//       every rank sums in a loop; RANK kills itself with SIGKILL, or
//       throws (a missing data file), after a few rounds.
import Foundation
import NN
import NNDistributed

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("nn-distributed-check: \(message)\n".utf8))
    exit(2)
}

func value(_ name: String, in arguments: [String]) -> String? {
    arguments.firstIndex(of: name).flatMap { $0 + 1 < arguments.count ? arguments[$0 + 1] : nil }
}

let arguments = Array(CommandLine.arguments.dropFirst())
guard let command = arguments.first else { fail("no command") }
if let spec = ProcessInfo.processInfo.environment["NN_BACKEND"] {
    do { Device.default = try Device.named(spec) } catch { fail("\(error)") }
}

/// The model: small enough for a test, with each kind of layer whose
/// gradient the buckets carry (convolution, linear; no BatchNorm, whose
/// per-rank statistics would make the runs differ by design).
final class SmallCNN: Module, @unchecked Sendable {
    let conv = Conv2d(1, 4, kernelSize: 3), fc1 = Linear(100, 16), fc2 = Linear(16, 5)
    let norm: BatchNorm2d?
    /// --uneven: aux adds to the output on odd ranks only; spare is never used.
    let aux: Linear?, spare: Linear?
    let useAux: Bool

    init(batchNorm: Bool, uneven: Bool, rank: Int) {
        norm = batchNorm ? BatchNorm2d(4) : nil
        (aux, spare) = uneven ? (Linear(16, 5), Linear(16, 5)) : (nil, nil)
        useAux = uneven && rank % 2 == 1
        super.init()
        register(module: "conv", conv)
        if let norm { register(module: "norm", norm) }
        register(module: "fc1", fc1)
        register(module: "fc2", fc2)
        if let aux, let spare {
            register(module: "aux", aux)
            register(module: "spare", spare)
        }
    }

    override func forward(_ x: Tensor) -> Tensor {
        var c = conv(x)
        if let norm { c = norm(c) }
        let h = fc1(c.relu().maxPool2d(kernel: (2, 2)).reshaped([x.shape[0], 100])).tanh()
        return useAux ? fc2(h) + aux!(h) : fc2(h)
    }
}

/// 64 · 20 samples of [1, 12, 12] noise with labels 0..<5, the same for every rank.
func fixedData() -> Dataset {
    let count = 64 * 20, size = 144
    let features = (0..<count * size).map { Philox.normal($0, seed: 7, stream: 0) }
    let labels = (0..<count).map { Int32(Philox.word(Philox.block(UInt64($0), seed: 7, stream: 1), 0) % 5) }
    return Dataset(features: features, featureShape: [1, 12, 12], labels: labels)
}

func train(_ arguments: [String]) throws {
    guard let out = value("--out", in: arguments), let batch = value("--batch", in: arguments).flatMap(Int.init),
          let steps = value("--steps", in: arguments).flatMap(Int.init) else { fail("train needs --out, --batch and --steps") }
    let optimizerName = value("--optimizer", in: arguments) ?? "sgd"
    let single = arguments.contains("--single"), accumulate = arguments.contains("--accumulate")
    let group = single ? nil : try ProcessGroup.world()
    let rank = group?.rank ?? 0
    let directory = URL(fileURLWithPath: out)

    Random.manualSeed(UInt64(1 + rank))
    let model = SmallCNN(batchNorm: arguments.contains("--batchnorm"), uneven: arguments.contains("--uneven"), rank: rank)
    try model.save(checkpoint: directory.appendingPathComponent("before-rank\(rank).safetensors"))
    let parallel = try group.map {
        try DataParallel(model, group: $0, bucketCapacityMB: value("--bucket-mb", in: arguments).flatMap(Double.init) ?? 25)
    }
    try model.save(checkpoint: directory.appendingPathComponent("after-broadcast-rank\(rank).safetensors"))

    let optimizer: any Optimizer = optimizerName == "adam"
        ? Adam(model.parameters(), learningRate: 1e-3) : SGD(model.parameters(), learningRate: 0.05, momentum: 0.9)
    let loader = DataLoader(fixedData(), batchSize: batch, shuffle: true, seed: 3,
                            shard: group.map { DataShard(rank: $0.rank, count: $0.size) })
    let loss = CrossEntropyLoss()
    var step = 0, startedEarly = 0
    for epoch in 0... {
        for batch in loader.batches(epoch: epoch) where step < steps {
            optimizer.zeroGrad()
            if accumulate {
                // Two halves, each loss halved: the gradient of the whole batch's mean.
                let half = batch.count / 2
                func halfBackward(_ range: Range<Int>) {
                    (loss(model(batch.inputs.slice(axis: 0, range)), batch.labels.slice(axis: 0, range)) * 0.5).backward()
                }
                if let parallel { parallel.noSync { halfBackward(0..<half) } } else { halfBackward(0..<half) }
                halfBackward(half..<batch.count)
            } else {
                loss(model(batch.inputs), batch.labels).backward()
                if arguments.contains("--double-backward") { loss(model(batch.inputs), batch.labels).backward() }
            }
            if arguments.contains("--collective-in-step") { _ = try group?.allReduce([1]) }
            try parallel?.synchronizeGradients()
            if let aux = model.aux, let spare = model.spare {
                if aux.parameters().contains(where: { $0.grad == nil }) { fail("rank \(rank): aux has no averaged gradient") }
                if spare.parameters().contains(where: { $0.grad != nil }) { fail("rank \(rank): spare got a gradient") }
            }
            startedEarly += parallel?.bucketsStartedDuringBackward ?? 0
            optimizer.step()
            step += 1
        }
        if step == steps { break }
    }
    try model.save(checkpoint: directory.appendingPathComponent("final-rank\(rank).safetensors"))
    print("rank \(rank): \(steps) steps on \(Device.default.name), \(parallel?.bucketCount ?? 0) buckets, "
          + "\(startedEarly) started during backward")
}

func collectives() throws {
    let group = try ProcessGroup.world()
    let (rank, size) = (group.rank, group.size)
    func check(_ what: String, _ got: [Float], _ expected: [Float]) {
        if got != expected { fail("rank \(rank): \(what) gave \(got), expected \(expected)") }
    }
    let summed = try group.allReduce(Tensor([Float(rank), 1, -2], shape: [3])).toArray()
    check("allReduce sum", summed, [Float((0..<size).reduce(0, +)), Float(size), Float(-2 * size)])
    check("allReduce max", try group.allReduce(Tensor([Float(rank)]), .max).toArray(), [Float(size - 1)])
    let counts = try group.allReduce(Tensor(int32: [Int32(rank + 1)], shape: [1]), .min).toArray(as: Int32.self)
    if counts != [1] { fail("rank \(rank): allReduce min of int32 gave \(counts)") }
    check("broadcast", try group.broadcast(Tensor([Float(rank + 10), 5]), from: size - 1).toArray(), [Float(size - 1 + 10), 5])
    let gathered = try group.allGather(Tensor([Float(rank), Float(rank * rank)], shape: [2, 1]))
    check("allGather", try gathered.flatMap { try $0.toArray() }, (0..<size).flatMap { [Float($0), Float($0 * $0)] })
    if gathered.contains(where: { $0.shape != [2, 1] }) { fail("rank \(rank): allGather shapes \(gathered.map(\.shape))") }
    try group.barrier()
    do {
        _ = try group.allReduce(Tensor.zeros([rank + 2]))
        fail("rank \(rank): allReduce of differently shaped tensors did not throw")
    } catch let error as DistributedError {
        guard case .mismatch = error else { fail("rank \(rank): \(error)") }
        print("rank \(rank): refused: \(error)")
    }
    print("rank \(rank) of \(size) (local \(group.localRank) of \(group.localSize)) on \(group.processorName), "
          + "\(group.libraryVersion): collectives ok")
}

func fault(_ kind: String, _ arguments: [String]) throws {
    guard let victim = arguments.dropFirst().first.flatMap(Int.init) else { fail("\(kind) needs a rank") }
    let group = try ProcessGroup.world()
    group.run {
        for round in 0..<6000 {
            if group.rank == victim && round == 5 {
                if kind == "die" { kill(getpid(), SIGKILL) }
                _ = try IDX.read(contentsOf: URL(fileURLWithPath: "/nonexistent/train-images-idx3-ubyte"))
            }
            _ = try group.allReduce([Double(round)])
            usleep(5000)
        }
    }
    fail("rank \(group.rank): the loop ended without rank \(victim)'s fault")
}

switch command {
case "train":
    // A rank's error ends the job (see ProcessGroup.run) instead of leaving
    // the other rank waiting until the test's time limit.
    if arguments.contains("--single") { try train(arguments) } else { try ProcessGroup.world().run { try train(arguments) } }
case "collectives": try collectives()
case "die", "throw": try fault(command, arguments)
default: fail("unknown command \(command)")
}
