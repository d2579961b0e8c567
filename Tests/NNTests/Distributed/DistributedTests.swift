import Foundation
import NN
@testable import NNDistributed
import XCTest

/// Data-parallel training over Open MPI, run the way a user runs it:
/// `mpirun -np 2 --oversubscribe` with the rank programs of
/// Tests/DistributedCheck and with nntrain. Without Open MPI these skip
/// (fail with CI=true).
final class DistributedTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("distributed-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    private func weights(_ name: String, in folder: URL) throws -> [String: [Float]] {
        try Checkpoint.load(from: folder.appendingPathComponent("\(name).safetensors"), on: .cpu).mapValues { try $0.toArray() }
    }

    /// The largest |a - b| of a tensor relative to the largest |b|, over all tensors.
    private func relativeDifference(_ a: [String: [Float]], _ b: [String: [Float]]) -> Float {
        XCTAssertEqual(Set(a.keys), Set(b.keys))
        return a.keys.map { name -> Float in
            let x = a[name]!, y = b[name]!
            let difference = zip(x, y).map { abs($0 - $1) }.max() ?? 0
            return difference / max(y.map(abs).max() ?? 0, 1e-12)
        }.max() ?? 0
    }

    private func trainArguments(_ optimizer: String, batch: Int, out: URL) -> [String] {
        ["train", "--optimizer", optimizer, "--batch", "\(batch)", "--steps", "20", "--out", out.path]
    }

    /// One process with batch 64, without MPI: what two ranks of 32 must match.
    private func singleProcess(_ optimizer: String, _ extra: [String] = []) throws -> [String: [Float]] {
        let out = directory.appendingPathComponent("single-\(optimizer)\(extra.joined())")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        let result = try ChildProcess.run("nn-distributed-check", trainArguments(optimizer, batch: 64, out: out) + ["--single"] + extra,
                                          environment: ["NN_BACKEND": "cpu", "OPENBLAS_NUM_THREADS": "1"])
        XCTAssertEqual(result.status, 0, result.stderr)
        return try weights("final-rank0", in: out)
    }

    /// Two ranks of batch 32 each (`backends`: NN_BACKEND of rank 0 and 1).
    private func twoRanks(_ optimizer: String, backends: (String, String) = ("cpu", "cpu"), bucketMB: Double? = nil,
                          _ extra: [String] = [], timeout: Double = 120) throws -> (URL, MPIJob.Result) {
        let out = directory.appendingPathComponent("two-\(optimizer)-\(backends.0)-\(backends.1)\(extra.joined())")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        let arguments = trainArguments(optimizer, batch: 32, out: out) + (bucketMB.map { ["--bucket-mb", "\($0)"] } ?? []) + extra
        let result = try MPIJob.run(["-np", "1", "-x", "NN_BACKEND=\(backends.0)", "nn-distributed-check"] + arguments
                                    + [":", "-np", "1", "-x", "NN_BACKEND=\(backends.1)", "nn-distributed-check"] + arguments,
                                    timeout: timeout)
        XCTAssertEqual(result.status, 0, result.output)
        XCTAssertFalse(result.timedOut, result.output)
        return (out, result)
    }

    func testTwoRanksOfBatch32EndWhereOneProcessOfBatch64EndsWithSGDMomentum() throws {
        let reference = try singleProcess("sgd")
        // Small buckets: the conv, fc1 and fc2 gradients travel apart.
        let (out, result) = try twoRanks("sgd", bucketMB: 0.001)
        let rank0 = try weights("final-rank0", in: out), rank1 = try weights("final-rank1", in: out)
        XCTAssertEqual(rank0, rank1, "the ranks' weights differ after 20 steps")
        XCTAssertLessThan(relativeDifference(rank0, reference), 1e-5)
        XCTAssertNotEqual(rank0, try weights("after-broadcast-rank0", in: out), "no training happened")
        // Every bucket of every step started from a hook, during backward.
        XCTAssertTrue(result.output.contains("3 buckets, 60 started during backward"), result.output)
    }

    func testTwoRanksOfBatch32EndWhereOneProcessOfBatch64EndsWithAdam() throws {
        let reference = try singleProcess("adam")
        let (out, _) = try twoRanks("adam")
        let rank0 = try weights("final-rank0", in: out)
        XCTAssertEqual(rank0, try weights("final-rank1", in: out))
        XCTAssertLessThan(relativeDifference(rank0, reference), 1e-5)
    }

    /// One rank on OpenCL (PoCL here), one on the CPU backend: the
    /// gradients meet in host memory. Tolerance as above; the backends
    /// themselves agree to about 1e-6 per op (the parity suite).
    func testARankOnOpenCLAndARankOnTheCPUMatchOneProcess() throws {
        guard (try? Device.named("opencl")) != nil else {
            if ProcessInfo.processInfo.environment["CI"] == "true" { XCTFail("no OpenCL device (CI has PoCL)") }
            throw XCTSkip("no OpenCL device")
        }
        for optimizer in ["sgd", "adam"] {
            let reference = try singleProcess(optimizer)
            // The first OpenCL run may compile the kernels (PoCL: a minute).
            let (out, result) = try twoRanks(optimizer, backends: ("opencl", "cpu"), timeout: 400)
            XCTAssertTrue(result.output.contains("rank 0: 20 steps on opencl"), result.output)
            // Only gradients are averaged: each backend's optimizer step
            // rounds on its own, so the ranks may part by rounding.
            let rank0 = try weights("final-rank0", in: out)
            XCTAssertLessThan(relativeDifference(try weights("final-rank1", in: out), rank0), 1e-6, "\(optimizer): the ranks' weights differ")
            XCTAssertLessThan(relativeDifference(rank0, reference), 1e-5, optimizer)
        }
    }

    func testGradientsAccumulatedInsideNoSyncMatchOneProcess() throws {
        let reference = try singleProcess("sgd")
        let (out, _) = try twoRanks("sgd", ["--accumulate"])
        let rank0 = try weights("final-rank0", in: out)
        XCTAssertEqual(rank0, try weights("final-rank1", in: out))
        XCTAssertLessThan(relativeDifference(rank0, reference), 1e-5)
    }

    /// "aux" gets a gradient on rank 1 only (rank 0 counts zeros, and both
    /// take the mean); "spare" on no rank, so it keeps no gradient and the
    /// optimizer leaves it alone.
    func testParametersWithoutAGradientOnSomeOrAllRanks() throws {
        let (out, _) = try twoRanks("sgd", ["--uneven"])
        let rank0 = try weights("final-rank0", in: out), start = try weights("after-broadcast-rank0", in: out)
        XCTAssertEqual(rank0, try weights("final-rank1", in: out))
        XCTAssertNotEqual(rank0["aux.weight"], start["aux.weight"], "aux was not trained on rank 0")
        XCTAssertEqual(rank0["spare.weight"], start["spare.weight"])
        XCTAssertEqual(rank0["spare.bias"], start["spare.bias"])
    }

    func testMistakesInADataParallelStepStopWithAMessage() throws {
        for (flag, message) in [("--double-backward", "DataParallel: a second backward() reached a parameter"),
                                ("--collective-in-step", "ProcessGroup.allReduce: called between backward() and "
                                 + "DataParallel.synchronizeGradients()")] {
            let out = directory.appendingPathComponent(flag)
            try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
            let result = try MPIJob.run(["-np", "2", "-x", "NN_BACKEND=cpu", "nn-distributed-check"]
                                        + trainArguments("sgd", batch: 32, out: out) + [flag], timeout: 60)
            XCTAssertFalse(result.timedOut, result.output)
            XCTAssertNotEqual(result.status, 0, flag)
            XCTAssertTrue(result.output.contains(message), result.output)
        }
    }

    /// As PyTorch DDP with broadcast_buffers: batch statistics per rank, and
    /// rank 0's running statistics on every rank after each step.
    func testBatchNormRunningStatisticsAreRank0sOnEveryRank() throws {
        let (out, _) = try twoRanks("sgd", ["--batchnorm"])
        let rank0 = try weights("final-rank0", in: out)
        XCTAssertEqual(rank0, try weights("final-rank1", in: out))
        XCTAssertNotEqual(rank0["norm.running_mean"], [0, 0, 0, 0])
        XCTAssertNotEqual(rank0["norm.running_mean"], try weights("after-broadcast-rank0", in: out)["norm.running_mean"])
    }

    func testDataParallelGivesDifferentlySeededRanksRank0sWeights() throws {
        let (out, _) = try twoRanks("sgd")
        let before0 = try weights("before-rank0", in: out), before1 = try weights("before-rank1", in: out)
        XCTAssertGreaterThan(relativeDifference(before1, before0), 0.1, "the ranks started alike: the test proves nothing")
        XCTAssertEqual(try weights("after-broadcast-rank0", in: out), before0)
        XCTAssertEqual(try weights("after-broadcast-rank1", in: out), before0)
    }

    func testCollectivesOnTensors() throws {
        let result = try MPIJob.run(["-np", "2", "-x", "NN_BACKEND=cpu", "nn-distributed-check", "collectives"])
        XCTAssertEqual(result.status, 0, result.output)
        XCTAssertTrue(result.output.contains("rank 0 of 2 (local 0 of 2)"), result.output)
        XCTAssertTrue(result.output.contains("rank 1 of 2 (local 1 of 2)"), result.output)
        XCTAssertEqual(result.output.components(separatedBy: "collectives ok").count - 1, 2, result.output)
        XCTAssertTrue(result.output.contains("allReduce: the processes disagree: rank 0: sum of float32 [2]; rank 1: sum of float32 [3]"),
                      result.output)
    }

    // MARK: Faults

    func testARankKilledBySIGKILLEndsTheJobNamingTheRankWithin30Seconds() throws {
        let result = try MPIJob.run(["-np", "2", "-x", "NN_BACKEND=cpu", "nn-distributed-check", "die", "1"], timeout: 60)
        XCTAssertFalse(result.timedOut, "the job hung after a rank died:\n\(result.output)")
        XCTAssertLessThan(result.seconds, 30)
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.output.contains("rank 1") && result.output.contains("signal 9"), result.output)
    }

    func testARankThatThrowsEndsTheJobNamingTheRankAndTheError() throws {
        let result = try MPIJob.run(["-np", "2", "-x", "NN_BACKEND=cpu", "nn-distributed-check", "throw", "1"], timeout: 60)
        XCTAssertFalse(result.timedOut, "the job hung after a rank threw:\n\(result.output)")
        XCTAssertLessThan(result.seconds, 30)
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.output.contains("rank 1 of 2 (") && result.output.contains("/nonexistent/train-images-idx3-ubyte"),
                      result.output)
    }

    // MARK: Open MPI

    /// The constants and symbol names OpenMPI.swift uses, against what
    /// <mpi.h> says, compiled with mpicc.
    func testOpenMPIConstantsMatchMPIHeader() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/mpicc") else {
            if ProcessInfo.processInfo.environment["CI"] == "true" { XCTFail("mpicc not found (libopenmpi-dev)") }
            throw XCTSkip("mpicc not found (libopenmpi-dev)")
        }
        let source = directory.appendingPathComponent("abi.c"), binary = directory.appendingPathComponent("abi")
        let symbols = ["MPI_COMM_WORLD": "ompi_mpi_comm_world", "MPI_FLOAT": "ompi_mpi_float", "MPI_DOUBLE": "ompi_mpi_double",
                       "MPI_INT32_T": "ompi_mpi_int32_t", "MPI_INT64_T": "ompi_mpi_int64_t", "MPI_BYTE": "ompi_mpi_byte",
                       "MPI_SUM": "ompi_mpi_op_sum", "MPI_MAX": "ompi_mpi_op_max", "MPI_MIN": "ompi_mpi_op_min",
                       "MPI_INFO_NULL": "ompi_mpi_info_null", "MPI_ERRORS_RETURN": "ompi_mpi_errors_return"]
        let checks = symbols.sorted { $0.key < $1.key }.map { macro, symbol in
            "    printf(\"\(macro) %d\\n\", (void *)\(macro) == dlsym(RTLD_DEFAULT, \"\(symbol)\"));"
        }
        try """
        #define _GNU_SOURCE
        #include <dlfcn.h>
        #include <mpi.h>
        #include <stdio.h>
        int main(void) {
            printf("success %d serialized %d shared %d in_place %ld\\n", MPI_SUCCESS, MPI_THREAD_SERIALIZED,
                   MPI_COMM_TYPE_SHARED, (long)MPI_IN_PLACE);
            printf("error_string %d processor_name %d library_version %d\\n", MPI_MAX_ERROR_STRING, MPI_MAX_PROCESSOR_NAME,
                   MPI_MAX_LIBRARY_VERSION_STRING);
        \(checks.joined(separator: "\n"))
            return 0;
        }
        """.write(to: source, atomically: true, encoding: .utf8)
        let compile = Process()
        compile.executableURL = URL(fileURLWithPath: "/usr/bin/mpicc")
        compile.arguments = [source.path, "-o", binary.path, "-ldl"]
        try compile.run()
        compile.waitUntilExit()
        XCTAssertEqual(compile.terminationStatus, 0)
        let run = Process(), pipe = Pipe()
        run.executableURL = binary
        run.standardOutput = pipe
        try run.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        run.waitUntilExit()
        XCTAssertTrue(output.contains("success \(OpenMPI.success) serialized \(OpenMPI.threadSerialized) "
                                      + "shared \(OpenMPI.commTypeShared) in_place \(Int(bitPattern: OpenMPI.inPlace))"), output)
        XCTAssertTrue(output.contains("error_string \(OpenMPI.maxErrorString) processor_name \(OpenMPI.maxProcessorName) "
                                      + "library_version \(OpenMPI.maxLibraryVersionString)"), output)
        for macro in symbols.keys {
            XCTAssertTrue(output.contains("\(macro) 1"), "\(macro) is not \(symbols[macro]!) in <mpi.h>:\n\(output)")
        }
    }

    // MARK: nntrain --distributed

    private func json(_ url: URL) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any] ?? [:]
    }

    func testNNTrainMNISTLeNetOnTwoRanksTrainsWritesAsRank0AndResumes() throws {
        let metrics = directory.appendingPathComponent("lenet.json"), checkpoint = directory.appendingPathComponent("lenet.ckpt")
        let common = ["nntrain", "mnist-lenet", "--distributed", "--data", "synthetic", "--batch-size", "16", "--backend", "cpu",
                      "--json", metrics.path]
        let whole = directory.appendingPathComponent("whole.safetensors"), resumedWeights = directory.appendingPathComponent("resumed.safetensors")
        let uninterrupted = try MPIJob.run(["-np", "2"] + common + ["--epochs", "3", "--lr-schedule", "none", "--save", whole.path])
        XCTAssertEqual(uninterrupted.status, 0, uninterrupted.output)
        let first = try MPIJob.run(["-np", "2"] + common + ["--epochs", "2", "--lr-schedule", "none", "--checkpoint", checkpoint.path])
        XCTAssertEqual(first.status, 0, first.output)
        XCTAssertTrue(first.output.contains("distributed: 2 ranks"), first.output)
        // Rank 0 alone reports.
        XCTAssertEqual(first.output.components(separatedBy: "test accuracy").count - 1, 1, first.output)
        var result = try json(metrics)
        XCTAssertEqual(result["world_size"] as? Int, 2)
        XCTAssertGreaterThan(result["samples_per_second"] as? Double ?? 0, 0)
        XCTAssertGreaterThan(result["test_accuracy"] as? Double ?? 0, 0.8, first.output)
        XCTAssertTrue(FileManager.default.fileExists(atPath: checkpoint.path))

        // Every rank resumes from rank 0's checkpoint.
        let resumed = try MPIJob.run(["-np", "2"] + common + ["--epochs", "3", "--lr-schedule", "none", "--resume", checkpoint.path,
                                                              "--save", resumedWeights.path])
        XCTAssertEqual(resumed.status, 0, resumed.output)
        XCTAssertTrue(resumed.output.contains("resumed from \(checkpoint.path) after epoch 2"), resumed.output)
        result = try json(metrics)
        XCTAssertEqual(result["epochs"] as? Int, 3)
        // Stopped after 2 epochs and resumed: the weights of a run never stopped, bit for bit.
        let a = try Checkpoint.load(from: whole, on: .cpu).mapValues { try $0.toArray() }
        let b = try Checkpoint.load(from: resumedWeights, on: .cpu).mapValues { try $0.toArray() }
        XCTAssertEqual(a, b)

        // One process cannot resume a two-process run: its data order differs.
        let alone = try ChildProcess.run("nntrain", ["mnist-lenet", "--data", "synthetic", "--batch-size", "16", "--backend", "cpu",
                                                     "--epochs", "4", "--lr-schedule", "none", "--resume", checkpoint.path])
        XCTAssertNotEqual(alone.status, 0)
        XCTAssertTrue(alone.stderr.contains("2 processes") && alone.stderr.contains("1 process;"), alone.stderr)
    }

    func testNNTrainCharLSTMOnTwoRanks() throws {
        let text = directory.appendingPathComponent("text.txt"), metrics = directory.appendingPathComponent("lstm.json")
        try String(repeating: "to be or not to be, that is the question. ", count: 200).write(to: text, atomically: true, encoding: .utf8)
        let result = try MPIJob.run(["-np", "2", "nntrain", "char-lstm", "--distributed", "--data", text.path, "--steps", "30",
                                     "--batch-size", "4", "--seq-len", "16", "--hidden-size", "32", "--embedding-size", "8",
                                     "--eval-every", "15", "--log-every", "15", "--backend", "cpu", "--json", metrics.path])
        XCTAssertEqual(result.status, 0, result.output)
        XCTAssertEqual(result.output.components(separatedBy: "validation loss").count - 1, 3, result.output)
        let values = try json(metrics)
        XCTAssertEqual(values["world_size"] as? Int, 2)
        let loss = values["val_loss"] as? Double ?? .nan
        XCTAssertLessThan(loss, log(Double(Set("to be or not to be, that is the question. ").count)), "no learning in 30 steps")
    }

    func testNNTrainRanksThatCannotReadTheDataEndTheJobNamingTheRank() throws {
        let data = directory.appendingPathComponent("bad-mnist")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        for name in ["t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"] {
            try Data("not a gzip file".utf8).write(to: data.appendingPathComponent(name))
        }
        let result = try MPIJob.run(["-np", "2", "nntrain", "mnist-lenet", "--distributed", "--data", data.path, "--backend", "cpu"],
                                    timeout: 60)
        XCTAssertFalse(result.timedOut, result.output)
        XCTAssertLessThan(result.seconds, 30)
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.output.contains(" of 2 (") && result.output.contains("t10k-images-idx3-ubyte.gz"), result.output)
    }

    func testAMissingMPILibraryIsAnErrorNamingWhatWasTried() throws {
        let result = try ChildProcess.run("nntrain", ["mnist-lenet", "--distributed", "--data", "synthetic", "--epochs", "1"],
                                          environment: ["NN_MPI_LIBRARY": "/nonexistent/libmpi.so.40"])
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.stderr.contains("Open MPI not found (tried /nonexistent/libmpi.so.40: "), result.stderr)
    }
}
