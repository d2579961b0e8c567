import NNBenchKit
import XCTest
@testable import NN

/// RNN, LSTM, GRU and Embedding on every OpenCL device against the CPU
/// backend: outputs, final states and every gradient. Weights are drawn
/// from the counter-based streams, so both sides start bit-identical.
final class RecurrentParityTests: XCTestCase {
    private func makeLayer(_ cell: RecurrentCell, on device: Device, numLayers: Int, batchFirst: Bool) -> RNNBase {
        Random.manualSeed(77)
        switch cell {
        case .rnnTanh: return RNN(5, 9, numLayers: numLayers, batchFirst: batchFirst, device: device)
        case .rnnReLU: return RNN(5, 9, numLayers: numLayers, nonlinearity: .relu, batchFirst: batchFirst, device: device)
        case .lstm: return LSTM(5, 9, numLayers: numLayers, batchFirst: batchFirst, device: device)
        case .gru: return GRU(5, 9, numLayers: numLayers, batchFirst: batchFirst, device: device)
        }
    }

    /// Output, h_n, c_n, then the gradients of the input, h0, c0 and every
    /// parameter, from a loss that weighs every output and final state.
    private func run(_ cell: RecurrentCell, on device: Device, numLayers: Int, batchFirst: Bool) throws -> [(String, [Double])] {
        let layer = makeLayer(cell, on: device, numLayers: numLayers, batchFirst: batchFirst)
        let (T, B) = (7, 3)
        let x = try HostArray.random(T * B * 5, seed: 1).tensor(batchFirst ? [B, T, 5] : [T, B, 5], on: device).requiringGrad()
        let h0 = try HostArray.random(numLayers * B * 9, seed: 2).tensor([numLayers, B, 9], on: device).requiringGrad()
        let c0 = try HostArray.random(numLayers * B * 9, seed: 3).tensor([numLayers, B, 9], on: device).requiringGrad()
        let r = layer.run(x, h0: h0, c0: cell == .lstm ? c0 : nil)
        let weights = try HostArray.random(r.output.count, seed: 4).tensor(r.output.shape, on: device)
        var loss = (r.output * weights).sum() + (r.h * r.h).sum()
        if let c = r.c { loss = loss + (c * 0.5).sum() }
        loss.backward()
        var results: [(String, [Double])] = [("output", try TT.values(r.output)), ("h_n", try TT.values(r.h)),
                                             ("dx", try TT.values(x.grad!)), ("dh0", try TT.values(h0.grad!))]
        if let c = r.c { results += [("c_n", try TT.values(c)), ("dc0", try TT.values(c0.grad!))] }
        for (name, p) in layer.namedParameters() { results.append(("d\(name)", try TT.values(p.grad!))) }
        return results
    }

    func testLayersForwardAndBackward() throws {
        let devices = try ParityDevices.all()
        for cell in RecurrentCell.allCases {
            for (numLayers, batchFirst) in [(1, false), (2, true)] {
                let expected = try run(cell, on: .cpu, numLayers: numLayers, batchFirst: batchFirst)
                for backend in devices {
                    let actual = try run(cell, on: Device(backend), numLayers: numLayers, batchFirst: batchFirst)
                    for ((name, a), (_, e)) in zip(actual, expected) {
                        // Sums over time of float32 GEMMs: compared as a whole.
                        compare(a, e, .norm(rel: 1e-5), "\(cell) \(numLayers) layer(s) \(name) on \(backend.name)")
                    }
                }
            }
        }
    }

    /// A char-LSTM-shaped model (Embedding, LSTM, Linear) trained three Adam
    /// steps on each backend ends with the same losses and updates.
    func testCharModelTrainsIdentically() throws {
        func train(on device: Device) throws -> (losses: [Double], moved: [[Double]]) {
            Random.manualSeed(5)
            let embedding = Embedding(11, 6, device: device), lstm = LSTM(6, 13, device: device)
            let head = Linear(13, 11, device: device)
            let parameters = embedding.parameters() + lstm.parameters() + head.parameters()
            let initial = try parameters.map { try TT.values($0.value) }
            let optimizer = Adam(parameters, learningRate: 0.01)
            let tokens: [Int32] = (0..<36).map { (i: Int) -> Int32 in Int32((i * 7 + 3) % 11) }
            let inputs = Tensor(int32: tokens, shape: [4, 9], on: device)
            let targets = Tensor(int32: tokens.map { (t: Int32) -> Int32 in (t + 1) % 11 }, shape: [36], on: device)
            var losses: [Double] = []
            for _ in 0..<3 {
                let (out, _) = lstm(embedding(inputs).transposed(0, 1), state: nil)  // [9, 4, 13]
                let logits = head(out.transposed(0, 1).reshaped([36, 13]))
                let loss = Tensor.softmaxCrossEntropy(logits: logits, labels: targets).mean()
                optimizer.zeroGrad()
                loss.backward()
                _ = clipGradNorm(parameters, maxNorm: 1)
                optimizer.step()
                losses.append(try loss.scalarDouble())
            }
            let moved = try zip(parameters, initial).map { p, p0 in zip(try TT.values(p.value), p0).map { $0 - $1 } }
            return (losses, moved)
        }
        let cpu = try train(on: .cpu)
        XCTAssertLessThan(cpu.losses.last!, cpu.losses.first!, "the reference run should learn")
        for backend in try ParityDevices.all() {
            let cl = try train(on: Device(backend))
            compare(cl.losses, cpu.losses, .elementwise(rel: 1e-4, abs: 1e-5), "losses on \(backend.name)")
            for (i, (a, e)) in zip(cl.moved, cpu.moved).enumerated() {
                compare(a, e, .norm(rel: 1e-3), "update of parameter \(i) on \(backend.name)")
            }
        }
    }

    /// The fused cell ops on their own, float64 where the device has it:
    /// one step forward and backward with offsets inside larger buffers.
    func testCatalogCellOps() throws {
        try assertParity(CheckCatalog.recurrentCells())
    }

    func testEmbedding() throws {
        func run(on device: Device) throws -> [[Double]] {
            Random.manualSeed(9)
            let embedding = Embedding(13, 7, device: device)
            let indices = Tensor(int32: (0..<40).map { Int32(($0 * 5) % 13) }, shape: [8, 5], on: device)
            let y = embedding(indices)
            let w = try HostArray.random(y.count, seed: 3).tensor(y.shape, on: device)
            (y * w).sum().backward()
            return [try TT.values(y), try TT.values(embedding.weight.grad!)]
        }
        let expected = try run(on: .cpu)
        for backend in try ParityDevices.all() {
            let actual = try run(on: Device(backend))
            compare(actual[0], expected[0], .exact, "embedding lookup on \(backend.name)")
            compare(actual[1], expected[1], .elementwise(rel: 1e-6, abs: 1e-7), "embedding gradient on \(backend.name)")
        }
    }
}

private extension HostArray {
    /// A tensor of these values on `device`.
    func tensor(_ shape: [Int], on device: Device) throws -> Tensor {
        Tensor(buffer: upload(to: device.backend), shape: shape, device: device)
    }
}
