import XCTest
@testable import NN

/// Recurrent layers load state dicts written in PyTorch's layout
/// (Fixtures/make_fixtures.py: nn.LSTM(3, 4, num_layers=2) and
/// nn.GRU(3, 4) names, shapes and gate order) and reproduce the outputs of
/// PyTorch's equations, on the CPU and on every OpenCL device; a saved
/// model reloads to the same outputs.
final class RecurrentCheckpointTests: XCTestCase {
    private func devices() throws -> [Device] { [.cpu] + (try ParityDevices.all()).map { Device($0) } }

    private func assertClose(_ actual: Tensor, _ expected: Tensor?, _ what: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let e = try XCTUnwrap(expected, "\(what) missing from the fixture", file: file, line: line)
        XCTAssertEqual(actual.shape, e.shape, what, file: file, line: line)
        for (i, (a, b)) in zip(try actual.toArray(), try e.toArray()).enumerated() where Swift.abs(a - b) > 1e-5 {
            return XCTFail("\(what): element \(i) is \(a), expected \(b)", file: file, line: line)
        }
    }

    func testLSTMLoadsPyTorchLayoutAndRuns() throws {
        for device in try devices() {
            let lstm = LSTM(3, 4, numLayers: 2, device: device)
            try lstm.load(checkpoint: DataTestFiles.fixture("lstm.safetensors"))
            let io = try Checkpoint.load(from: DataTestFiles.fixture("lstm_io.safetensors"), on: device)
            let (output, state) = lstm(try XCTUnwrap(io["input"]), state: (try XCTUnwrap(io["h0"]), try XCTUnwrap(io["c0"])))
            try assertClose(output, io["output"], "LSTM output on \(device)")
            try assertClose(state.h, io["h_n"], "LSTM h_n on \(device)")
            try assertClose(state.c, io["c_n"], "LSTM c_n on \(device)")
        }
    }

    func testGRULoadsPyTorchLayoutAndRuns() throws {
        for device in try devices() {
            let gru = GRU(3, 4, device: device)
            try gru.load(checkpoint: DataTestFiles.fixture("gru.safetensors"))
            let io = try Checkpoint.load(from: DataTestFiles.fixture("gru_io.safetensors"), on: device)
            let (output, hn) = gru(try XCTUnwrap(io["input"]), hidden: try XCTUnwrap(io["h0"]))
            try assertClose(output, io["output"], "GRU output on \(device)")
            try assertClose(hn, io["h_n"], "GRU h_n on \(device)")
        }
    }

    /// Save, reload into a fresh model: same names, bytes and outputs.
    func testRoundTrip() throws {
        let lstm = LSTM(3, 4, numLayers: 2, device: .cpu)
        try lstm.load(checkpoint: DataTestFiles.fixture("lstm.safetensors"))
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("lstm-roundtrip-\(UUID()).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try lstm.save(checkpoint: url)
        let saved = try Checkpoint.load(from: url, on: .cpu)
        let original = try Checkpoint.load(from: DataTestFiles.fixture("lstm.safetensors"), on: .cpu)
        XCTAssertEqual(Set(saved.keys), Set(original.keys))
        for (name, tensor) in original { XCTAssertEqual(try saved[name]!.toArray(), try tensor.toArray(), name) }

        Random.manualSeed(99)
        let fresh = LSTM(3, 4, numLayers: 2, device: .cpu)
        try fresh.load(checkpoint: url)
        let x = Tensor.normal([6, 2, 3], on: .cpu)
        XCTAssertEqual(try fresh(x).toArray(), try lstm(x).toArray())
    }

    /// A state dict for another shape is refused with every mismatch named.
    func testMismatchedStateDictIsRefused() throws {
        let gru = GRU(3, 5, device: .cpu)
        XCTAssertThrowsError(try gru.load(checkpoint: DataTestFiles.fixture("gru.safetensors"))) { error in
            let text = "\(error)"
            XCTAssert(text.contains("'weight_ih_l0': shape [12, 3], expected [15, 3]"), text)
            XCTAssert(text.contains("'bias_hh_l0': shape [12], expected [15]"), text)
        }
    }
}
