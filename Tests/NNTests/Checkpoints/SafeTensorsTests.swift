import Foundation
import XCTest
@testable import NN

/// safetensors writing and reading: byte-level golden files, files written
/// by the reference (Rust/Python) library, round trips through modules, and
/// atomic writes.
final class SafeTensorsTests: XCTestCase {
    /// The state dict of Sequential(Linear(4, 3), ReLU(), Linear(3, 2)) that
    /// Fixtures/make_fixtures.py writes.
    static func mlpState() -> [(name: String, tensor: Tensor)] {
        [("0.weight", Tensor((0..<12).map { (Float($0) - 5) / 8 }, shape: [3, 4], on: .cpu)),
         ("0.bias", Tensor([0.5, -0.25, 0.125], on: .cpu)),
         ("2.weight", Tensor((0..<6).map { (Float($0) - 3) / 4 }, shape: [2, 3], on: .cpu)),
         ("2.bias", Tensor([0.0625, -0.5], on: .cpu))]
    }

    static func mlp() -> Sequential { Sequential(Linear(4, 3, device: .cpu), ReLU(), Linear(3, 2, device: .cpu)) }

    /// Fixtures/mlp.safetensors, byte for byte, as safetensors 0.8 wrote it.
    static let mlpGolden: [UInt8] = hexBytes([
        "18010000000000007b225f5f6d657461646174615f5f223a7b22666f726d6174223a227074227d2c22302e6269617322",
        "3a7b226474797065223a22463332222c227368617065223a5b335d2c22646174615f6f666673657473223a5b302c3132",
        "5d7d2c22302e776569676874223a7b226474797065223a22463332222c227368617065223a5b332c345d2c2264617461",
        "5f6f666673657473223a5b31322c36305d7d2c22322e62696173223a7b226474797065223a22463332222c2273686170",
        "65223a5b325d2c22646174615f6f666673657473223a5b36302c36385d7d2c22322e776569676874223a7b2264747970",
        "65223a22463332222c227368617065223a5b322c335d2c22646174615f6f666673657473223a5b36382c39325d7d7d20",
        "0000003f000080be0000003e000020bf000000bf0000c0be000080be000000be000000000000003e0000803e0000c03e",
        "0000003f0000203f0000403f0000803d000000bf000040bf000000bf000080be000000000000803e0000003f",
    ])

    static func hexBytes(_ lines: [String]) -> [UInt8] {
        let hex = Array(lines.joined().utf8)
        func nibble(_ c: UInt8) -> UInt8 { c <= 57 ? c - 48 : c - 87 }
        return stride(from: 0, to: hex.count, by: 2).map { nibble(hex[$0]) << 4 | nibble(hex[$0 + 1]) }
    }

    private func values(_ t: Tensor?) throws -> [Float] { try XCTUnwrap(t).toArray(as: Float.self) }

    // MARK: Golden bytes

    func testWriterMatchesTheReferenceBytes() throws {
        let ours = try SafeTensors.encode(Self.mlpState(), metadata: ["format": "pt"])
        XCTAssertEqual(ours, Self.mlpGolden)
        XCTAssertEqual(ours, try DataTestFiles.bytes(DataTestFiles.fixture("mlp.safetensors")), "the Python-written fixture")
        // The same through a module's state dict (PyTorch's names and order).
        let model = Self.mlp()
        try model.loadStateDict(Dictionary(uniqueKeysWithValues: Self.mlpState()))
        let directory = try DataTestFiles.temporaryDirectory(for: self)
        let url = directory.appendingPathComponent("mlp.safetensors")
        try model.save(checkpoint: url, metadata: ["format": "pt"])
        XCTAssertEqual(try DataTestFiles.bytes(url), Self.mlpGolden)
    }

    func testWriterOrderPaddingAndEscapes() throws {
        // Largest alignment first (F64, F32, I32), then names by bytes; header padded with spaces to 8.
        let bytes = try SafeTensors.encode([
            ("b", Tensor(int32: [1, -2], on: .cpu)),
            ("a", Tensor(int32: [3], on: .cpu)),
            ("Z", Tensor([1], on: .cpu)),
            ("é", Tensor([2], on: .cpu)),
            ("z", Tensor(float64: [0.5], shape: [], on: .cpu)),
            ("e", Tensor([], shape: [0, 2], on: .cpu)),
        ], metadata: ["q\"\\": "line\n\t\u{1}é", "a": "1"])
        let length = Int(bytes[0]) | Int(bytes[1]) << 8
        XCTAssertEqual(length % 8, 0)
        let header = String(decoding: bytes[8..<8 + length], as: UTF8.self)
        let expected = #"{"__metadata__":{"a":"1","q\"\\":"line\n\t\u0001é"},"z":{"dtype":"F64","shape":[],"data_offsets":[0,8]},"#
            + #""Z":{"dtype":"F32","shape":[1],"data_offsets":[8,12]},"e":{"dtype":"F32","shape":[0,2],"data_offsets":[12,12]},"#
            + #""é":{"dtype":"F32","shape":[1],"data_offsets":[12,16]},"a":{"dtype":"I32","shape":[1],"data_offsets":[16,20]},"#
            + #""b":{"dtype":"I32","shape":[2],"data_offsets":[20,28]}}"#
        XCTAssertEqual(header.trimmingCharacters(in: .whitespaces), expected)
        XCTAssertEqual(bytes.count, 8 + length + 28)

        let back = try SafeTensors.decode(bytes, on: .cpu)
        XCTAssertEqual(back.metadata, ["q\"\\": "line\n\t\u{1}é", "a": "1"])
        XCTAssertEqual(back.tensors.map(\.name), ["z", "Z", "e", "é", "a", "b"])
        let d = back.dictionary
        XCTAssertEqual(try d["z"]!.toArray(as: Double.self), [0.5])
        XCTAssertEqual(d["z"]!.shape, [])
        XCTAssertEqual(try d["b"]!.toArray(as: Int32.self), [1, -2])
        XCTAssertEqual(d["e"]!.shape, [0, 2])
        XCTAssertEqual(try values(d["é"]), [2])
    }

    // MARK: Files written by the reference library

    func testReadsPythonWrittenFiles() throws {
        let mlp = try SafeTensors.decode(DataTestFiles.bytes(DataTestFiles.fixture("mlp.safetensors")), on: .cpu)
        XCTAssertEqual(mlp.metadata, ["format": "pt"])
        for (name, tensor) in Self.mlpState() {
            XCTAssertEqual(mlp.dictionary[name]?.shape, tensor.shape, name)
            XCTAssertEqual(try values(mlp.dictionary[name]), try tensor.toArray(as: Float.self), name)
        }

        let all = try Checkpoint.read(from: DataTestFiles.fixture("dtypes.safetensors"), on: .cpu)
        XCTAssertEqual(all.metadata, ["note": "tab\there, quote \" and é"])
        let d = all.dictionary
        XCTAssertEqual(d["f64"]?.dtype, .float64)
        XCTAssertEqual(try d["f64"]!.toArray(as: Double.self), [1.5, -2.25, 1e-300, 3])
        XCTAssertEqual(try d["i32"]!.toArray(as: Int32.self), [-7, 0, Int32.max])
        XCTAssertEqual(d["i64"]?.dtype, .int64)
        XCTAssertEqual(try d["i64"]!.toArray(as: Int64.self), [Int64(Int32.min), 5])
        XCTAssertEqual(d["f16"]?.dtype, .float32)
        XCTAssertEqual(try values(d["f16"]), [1.5, -0.0009765625, 65504])
        XCTAssertEqual(d["empty"]?.shape, [0, 3])
        XCTAssertEqual(d["scalar"]?.shape, [])
        XCTAssertEqual(try values(d["scalar"]), [0.75])
    }

    func testPyTorchStateDictGivesTheSameOutputs() throws {
        let model = Self.mlp()
        try model.load(checkpoint: DataTestFiles.fixture("mlp.safetensors"))
        let io = try Checkpoint.load(from: DataTestFiles.fixture("mlp_io.safetensors"), on: .cpu)
        let output = try model(XCTUnwrap(io["input"])).toArray(as: Float.self)
        let expected = try values(io["output"])
        XCTAssertEqual(output.count, 4)
        for (a, b) in zip(output, expected) { XCTAssertEqual(a, b, accuracy: 1e-6) }
    }

    func testBatchNormWithInt64Counter() throws {
        let bn = BatchNorm1d(3, device: .cpu)
        try bn.load(checkpoint: DataTestFiles.fixture("batchnorm1d.safetensors"))
        let state = bn.stateDict()
        XCTAssertEqual(try values(state["running_mean"]), [0.125, -0.375, 1.5])
        XCTAssertEqual(try values(state["weight"]), [1, 0.5, 2])
        XCTAssertEqual(try state["num_batches_tracked"]!.toArray(as: Int32.self), [7])
    }

    func testHalfPrecisionConversions() {
        XCTAssertEqual(SafeTensors.floatFromHalf(0x3C00), 1)
        XCTAssertEqual(SafeTensors.floatFromHalf(0xC000), -2)
        XCTAssertEqual(SafeTensors.floatFromHalf(0x0001), 0x1p-24)
        XCTAssertEqual(SafeTensors.floatFromHalf(0x7BFF), 65504)
        XCTAssertEqual(SafeTensors.floatFromHalf(0x7C00), .infinity)
        XCTAssertTrue(SafeTensors.floatFromHalf(0x7E00).isNaN)
        XCTAssertEqual(SafeTensors.floatFromHalf(0x8000).sign, .minus)
        // BF16: the top half of a float32.
        let header = Array(#"{"b":{"dtype":"BF16","shape":[2],"data_offsets":[0,4]}}"#.utf8)
        var file = withUnsafeBytes(of: UInt64(header.count).littleEndian, Array.init) + header
        file += [0xC0, 0x3F, 0x20, 0xC0]  // 1.5, -2.5
        XCTAssertEqual(try SafeTensors.decode(file, on: .cpu).dictionary["b"]?.toArray(as: Float.self), [1.5, -2.5])
    }

    // MARK: Round trips and files

    func testModuleRoundTripThroughAFile() throws {
        let directory = try DataTestFiles.temporaryDirectory(for: self)
        let url = directory.appendingPathComponent("model.safetensors")
        Random.manualSeed(11)
        let source = Sequential(Linear(5, 4, device: .cpu), ReLU(), BatchNorm1d(4, device: .cpu), Linear(4, 3, device: .cpu))
        _ = source(Tensor.normal([6, 5], on: .cpu))  // moves the running statistics and the counter
        try source.save(checkpoint: url, metadata: ["epoch": "3"])
        XCTAssertEqual(try Checkpoint.read(from: url, on: .cpu).metadata, ["epoch": "3"])

        let target = Sequential(Linear(5, 4, device: .cpu), ReLU(), BatchNorm1d(4, device: .cpu), Linear(4, 3, device: .cpu))
        try target.load(checkpoint: url)
        for ((name, a), (otherName, b)) in zip(source.stateDict(), target.stateDict()) {
            XCTAssertEqual(name, otherName)
            XCTAssertEqual(a.dtype, b.dtype, name)
            XCTAssertEqual(a.shape, b.shape, name)
            XCTAssertEqual(try a.toArray(), try b.toArray(), name)
        }
        XCTAssertTrue(target.stateDict().contains { $0.name == "2.num_batches_tracked" })
        // Overwriting leaves one file and no temporary files behind.
        try target.save(checkpoint: url)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path), ["model.safetensors"])
    }

    func testFloat64AndInt32TensorsRoundTrip() throws {
        let directory = try DataTestFiles.temporaryDirectory(for: self)
        let url = directory.appendingPathComponent("t.safetensors")
        try Checkpoint.save([("d", Tensor(float64: [1.0 / 3, -1e300], on: .cpu)), ("i", Tensor(int32: [Int32.min, 7], shape: [1, 2], on: .cpu))],
                            to: url)
        let back = try Checkpoint.load(from: url, on: .cpu)
        XCTAssertEqual(try back["d"]!.toArray(as: Double.self), [1.0 / 3, -1e300])
        XCTAssertEqual(back["i"]!.shape, [1, 2])
        XCTAssertEqual(try back["i"]!.toArray(as: Int32.self), [Int32.min, 7])
    }

    func testFailedWritesLeaveNothingBehind() throws {
        let directory = try DataTestFiles.temporaryDirectory(for: self)
        let missing = directory.appendingPathComponent("no/such/dir/m.safetensors")
        assertThrowsDescribing([missing.path, "temporary file"]) { try Checkpoint.save(Self.mlpState(), to: missing) }
        // A directory in the way of the rename: the error names it, the temporary file is gone.
        let blocked = directory.appendingPathComponent("blocked.safetensors")
        try FileManager.default.createDirectory(at: blocked.appendingPathComponent("inner"), withIntermediateDirectories: true)
        assertThrowsDescribing([blocked.path, "rename"]) { try Checkpoint.save(Self.mlpState(), to: blocked) }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path), ["blocked.safetensors"])
        assertThrowsDescribing(["nothing.safetensors", "cannot read"]) {
            try Checkpoint.load(from: directory.appendingPathComponent("nothing.safetensors"))
        }
    }

    func testMismatchedModelReportsEverythingAndChangesNothing() throws {
        let model = Sequential(Linear(4, 3, device: .cpu), ReLU(), Linear(3, 5, device: .cpu), Linear(5, 1, device: .cpu))
        let before = try model.stateDict().map { try $0.tensor.toArray() }
        let url = DataTestFiles.fixture("mlp.safetensors")
        do {
            try model.load(checkpoint: url)
            XCTFail("expected a mismatch")
        } catch let error as CheckpointError {
            XCTAssertEqual(error.file, url.path)
            XCTAssertEqual(error.problems.count, 4, "\(error)")
            let text = "\(error)"
            for fragment in ["'2.weight': shape [2, 3], expected [5, 3]", "'2.bias': shape [2], expected [5]", "missing '3.weight'", "missing '3.bias'"] {
                XCTAssertTrue(text.contains(fragment), "\(text) lacks \(fragment)")
            }
        }
        XCTAssertEqual(try model.stateDict().map { try $0.tensor.toArray() }, before)
    }
}
