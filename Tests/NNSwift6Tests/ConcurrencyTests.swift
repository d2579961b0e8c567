import Foundation
import NN
import XCTest

/// What a client package in Swift 6 language mode (complete concurrency
/// checking) does with the library: this target builds in Swift 6 mode, so
/// each test compiling at all shows that tensors, models and devices cross
/// task boundaries; running them shows that what crosses gives the results
/// of running the same work one piece after another.
final class ConcurrencyTests: XCTestCase {
    /// A classifier with dropout (so it draws random numbers), made and
    /// trained entirely inside `Random.withSeed(seed)`.
    private static func trainedModel(seed: UInt64, steps: Int, on device: Device = .cpu) throws
        -> (losses: [Float], state: [[Float]]) {
        try Random.withSeed(seed) {
            let model = Sequential(Linear(6, 64, device: device), ReLU(), Dropout(0.25), Linear(64, 3, device: device))
            let optimizer = SGD(model.parameters(), learningRate: 0.1, momentum: 0.9)
            let criterion = CrossEntropyLoss()
            let x = Tensor.normal([64, 6], on: device)
            let labels = Tensor(int64: (0..<64).map { Int64($0 % 3) }, on: device)
            var losses: [Float] = []
            for _ in 0..<steps {
                optimizer.zeroGrad()
                let loss = criterion(model(x), labels)
                loss.backward()
                optimizer.step()
                losses.append(try loss.scalar())
            }
            return (losses, try model.stateDict().map { try $0.tensor.toArray() })
        }
    }

    /// The example: a tensor and a model made here, used in a
    /// detached task.
    func testATensorAndAModelCrossIntoADetachedTask() async throws {
        let x = Tensor.normal([3, 4], on: .cpu)
        let model = Sequential(Linear(4, 2, device: .cpu), Tanh())
        let here = try model(x).toArray()
        let there = try await Task.detached { try model(x).toArray() }.value
        XCTAssertEqual(there, here)
        XCTAssertEqual(here.count, 6)
    }

    /// Two models trained at the same time on two threads end exactly where
    /// the same two trainings end one after the other: same losses at every
    /// step, same weights, bit for bit (dropout included, each training
    /// drawing from its own seeded sequence).
    func testTwoModelsTrainedAtOnceMatchTrainingThemOneAfterTheOther() async throws {
        try await checkTwoTrainingsAtOnce(on: .cpu, steps: 80)
    }

    /// The same on one OpenCL device that both tasks share: their launches
    /// interleave on its one queue (the backend's queue mutex keeps each
    /// launch's argument setting and enqueue together) and each training
    /// still ends where it ends alone. Skipped without an OpenCL device
    /// (CI has PoCL).
    func testTwoModelsTrainedAtOnceOnOneOpenCLDeviceMatchOneAfterTheOther() async throws {
        guard let device = try? Device.named("opencl") else { throw XCTSkip("no OpenCL device") }
        try await checkTwoTrainingsAtOnce(on: device, steps: 30)
    }

    private func checkTwoTrainingsAtOnce(on device: Device, steps: Int) async throws {
        let seeds: [UInt64] = [11, 12]
        let sequential = try seeds.map { try Self.trainedModel(seed: $0, steps: steps, on: device) }
        XCTAssertNotEqual(sequential[0].losses, sequential[1].losses, "the two trainings should differ")
        XCTAssertLessThan(sequential[0].losses.last!, sequential[0].losses.first!, "training should lower the loss")

        let concurrent = try await withThrowingTaskGroup(of: (Int, [Float], [[Float]]).self) { group in
            for (i, seed) in seeds.enumerated() {
                group.addTask {
                    let run = try Self.trainedModel(seed: seed, steps: steps, on: device)
                    return (i, run.losses, run.state)
                }
            }
            var results = [(losses: [Float], state: [[Float]])](repeating: ([], []), count: seeds.count)
            for try await (i, losses, state) in group { results[i] = (losses, state) }
            return results
        }
        for i in seeds.indices {
            XCTAssertEqual(concurrent[i].losses, sequential[i].losses, "\(device.name), training \(i): losses")
            XCTAssertEqual(concurrent[i].state, sequential[i].state, "\(device.name), training \(i): weights")
        }
    }

    /// Tasks running backward through the same model at once add their
    /// gradients into its parameters, none lost. The inputs are small
    /// integers and the loss is a plain sum, so every gradient is an exact
    /// integer and the total is the same in any order of addition.
    func testBackwardPassesThroughOneModelFromManyTasksAllAccumulate() async throws {
        let model = Linear(5, 3, device: .cpu)
        let tasks = 8, passes = 25, rows = 16
        let inputs = (0..<tasks).map { t in
            Tensor((0..<rows * 5).map { Float(($0 * 7 + t * 3) % 11) - 5 }, shape: [rows, 5], on: .cpu)
        }
        // d(sum of outputs)/dW[o, i] = sum over rows of x[:, i]; /db[o] = rows.
        var columnSums = [Float](repeating: 0, count: 5)
        for x in inputs {
            for (k, v) in try x.toArray().enumerated() { columnSums[k % 5] += v }
        }
        let expectedWeight = (0..<3).flatMap { _ in columnSums.map { $0 * Float(passes) } }
        let expectedBias = [Float](repeating: Float(rows * tasks * passes), count: 3)

        await withTaskGroup(of: Void.self) { group in
            for x in inputs {
                group.addTask {
                    for _ in 0..<passes { model(x).sum().backward() }
                }
            }
        }
        XCTAssertEqual(try model.weight.grad!.toArray(), expectedWeight)
        XCTAssertEqual(try model.bias!.grad!.toArray(), expectedBias)
    }

    /// An LBFGS handed to another task steps there as it steps here, and
    /// steps from several tasks at once run one after the other: every
    /// closure call is counted, none interleaved with another step's.
    func testAnLBFGSStepsInOtherTasks() async throws {
        // f(w) = sum((w - 3)^2) from w = 0: one strong-Wolfe step lands on 3.
        func problem() -> (Parameter, LBFGS) {
            let w = Parameter(Tensor.zeros([4], on: .cpu))
            return (w, LBFGS([w], maxIterations: 5, lineSearch: .strongWolfe))
        }
        @Sendable func closure(_ w: Parameter, _ lbfgs: LBFGS) -> () throws -> Tensor {
            return {
                lbfgs.zeroGrad()
                let loss = ((w.value - 3) * (w.value - 3)).sum()
                loss.backward()
                return loss
            }
        }
        let (hereW, here) = problem(), (thereW, there) = problem()
        try here.step(closure(hereW, here))
        _ = try await Task.detached { try there.step(closure(thereW, there)) }.value
        XCTAssertEqual(try thereW.value.toArray(), try hereW.value.toArray())
        XCTAssertEqual(there.functionEvaluations, here.functionEvaluations)
        XCTAssertEqual(try hereW.value.toArray(), [3, 3, 3, 3])

        let (sharedW, shared) = problem(), steps = 6
        let perStep = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<steps {
                group.addTask {
                    var calls = 0
                    let body = closure(sharedW, shared)
                    try shared.step { calls += 1; return try body() }
                    return calls
                }
            }
            return try await group.reduce(0, +)
        }
        XCTAssertEqual(shared.functionEvaluations, perStep, "every closure call counted once")
        XCTAssertEqual(try sharedW.value.toArray(), [3, 3, 3, 3])
    }

    /// `Device.default`, the random sequence and gradient mode are shared or
    /// task-local as documented, and safe to touch from many tasks.
    func testProcessWideStateFromManyTasks() async throws {
        let before = Random.state
        let pairs = await withTaskGroup(of: [UInt64].self) { group in
            for _ in 0..<8 {
                group.addTask { (0..<100).map { _ in Random.next().stream } }
            }
            var all: [UInt64] = []
            for await streams in group { all += streams }
            return all
        }
        // Every draw got a stream of its own.
        XCTAssertEqual(Set(pairs).count, 800)
        XCTAssertEqual(Random.state.stream, before.stream + 800)

        let off = await Task.detached { withNoGrad { GradMode.enabled } }.value
        XCTAssertFalse(off)
        XCTAssertTrue(GradMode.enabled)
        let names = await withTaskGroup(of: String.self) { group in
            for _ in 0..<4 { group.addTask { Device.cpu.name } }
            return await group.reduce(into: []) { $0.append($1) }
        }
        XCTAssertEqual(names, Array(repeating: "cpu", count: 4))
    }
}
