import Foundation
import XCTest
@testable import NN

/// Training diagnostics (issue 12): values worked out by hand for the
/// update/weight ratio, the histograms and the dead or saturated units;
/// the files, with the PNG checked by the library's own inflate and CRC.
final class DiagnosticsTests: XCTestCase {
    func testHistogramOnTheDevice() throws {
        let diagnostics = try TrainingDiagnostics(bins: 4)
        // Edges 0, 1, 2, 3 over [0, 4]: counts 1, 1, 1 and 3 (the max in the last bin).
        let x = Tensor([0, 1, 2, 3, 4, 4], shape: [2, 3], on: .cpu)
        XCTAssertEqual(try diagnostics.histogramTensor(x).toArray(), [6, 5, 4, 3, 0, 4])

        // More elements than one chunk (65,536): i % 10 in ten bins, 20,000 each.
        let many = Tensor((0..<200_000).map { Float($0 % 10) }, shape: [200_000], on: .cpu)
        let tenBins = try TrainingDiagnostics(bins: 10)
        let cumulative = try tenBins.histogramTensor(many).toArray()
        XCTAssertEqual(Array(cumulative.prefix(10)), (0..<10).map { Float(200_000 - 20_000 * $0) })
    }

    /// w = [3, 4] (norm 5), gradient [6, 8], lr 0.1: the step is [-0.6, -0.8]
    /// (norm 1) and the new weight [2.4, 3.2] (norm 4): ratio 0.25, above
    /// 1e-2, so a warning naming the layer.
    func testUpdateRatioByHandAndItsWarning() throws {
        let model = Sequential(Linear(2, 1, bias: false, device: .cpu))
        let weight = model.namedParameters()[0].parameter
        weight.value = Tensor([3, 4], shape: [1, 2], on: .cpu)
        let sgd = SGD(model.parameters(), learningRate: 0.1)
        let diagnostics = try TrainingDiagnostics()
        diagnostics.printsWarnings = false
        sgd.zeroGrad()
        (model(Tensor([6, 8], shape: [1, 2], on: .cpu))).sum().backward()
        diagnostics.beforeStep(model)
        sgd.step()
        diagnostics.afterStep(model)
        try diagnostics.afterEpoch(model, epoch: 1)
        XCTAssertEqual(diagnostics.ratios.count, 1)
        XCTAssertEqual(diagnostics.ratios[0].layer, "0.weight")
        XCTAssertEqual(diagnostics.ratios[0].value, 0.25, accuracy: 1e-6)
        XCTAssertEqual(diagnostics.warnings.count, 1)
        XCTAssert(diagnostics.warnings[0].contains("layer 0.weight") && diagnostics.warnings[0].contains("learning rate too high?"),
                  diagnostics.warnings[0])
        // The gradient's histogram: [6, 8] in two halves of [6, 8].
        let gradient = try XCTUnwrap(diagnostics.histograms.first { $0.kind == .gradient })
        XCTAssertEqual(gradient.low, 6)
        XCTAssertEqual(gradient.high, 8)
        XCTAssertEqual(gradient.counts.reduce(0, +), 2)
    }

    func testDeadAndSaturatedUnits() throws {
        // For inputs 1 and 2: unit 0 (x) lives, unit 1 (-x) and unit 2 (-1) are dead.
        let relu = Sequential(Linear(1, 3, device: .cpu), ReLU())
        let linear = relu.namedParameters()
        linear[0].parameter.value = Tensor([1, -1, 0], shape: [3, 1], on: .cpu)
        linear[1].parameter.value = Tensor([0, 0, -1], shape: [3], on: .cpu)
        // tanh(10 x) saturates for x = 1, 2; tanh(0.1 x) does not: half.
        let tanh = Sequential(Linear(1, 2, bias: false, device: .cpu), Tanh())
        tanh.namedParameters()[0].parameter.value = Tensor([10, 0.1], shape: [2, 1], on: .cpu)
        let probe = Tensor([1, 2], shape: [2, 1], on: .cpu)
        for (model, measure, expected) in [(relu, "dead ReLU", 2.0 / 3), (tanh, "saturated tanh", 0.5)] {
            let diagnostics = try TrainingDiagnostics(probe: probe)
            try diagnostics.afterEpoch(model, epoch: 1)
            let fraction = try XCTUnwrap(diagnostics.unitFractions.first)
            XCTAssertEqual(fraction.measure, measure)
            XCTAssertEqual(fraction.layer, "1 \(measure == "dead ReLU" ? "ReLU" : "Tanh")")
            XCTAssertEqual(fraction.value, expected, accuracy: 1e-6)
            XCTAssertEqual(diagnostics.histograms.map(\.layer), ["0 Linear", fraction.layer], "one activation histogram per layer")
        }
    }

    func testPNGIsValid() throws {
        let pixels: [UInt8] = [0, 64, 128, 255, 32, 16]
        let png = PNG.grayscale(width: 3, height: 2, pixels: pixels)
        XCTAssertEqual(Array(png.prefix(8)), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        XCTAssertEqual(Array(png.suffix(12)), [0, 0, 0, 0, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82], "IEND and its CRC")
        // IHDR: length 13, "IHDR", width 3, height 2, depth 8, grayscale; CRC by the library's own CRC-32.
        XCTAssertEqual(Array(png[8..<16]), [0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52])
        XCTAssertEqual(Array(png[16..<29]), [0, 0, 0, 3, 0, 0, 0, 2, 8, 0, 0, 0, 0])
        let crc = UInt32(png[29]) << 24 | UInt32(png[30]) << 16 | UInt32(png[31]) << 8 | UInt32(png[32])
        XCTAssertEqual(crc, Gzip.crc32(Array(png[12..<29])))
        // IDAT: zlib header, then deflate that the hand-written inflater reads back as filtered rows.
        let length = Int(png[33]) << 24 | Int(png[34]) << 16 | Int(png[35]) << 8 | Int(png[36])
        XCTAssertEqual(Array(png[37..<41]), Array("IDAT".utf8))
        let stream = Array(png[41..<41 + length])
        let rows = try stream.withUnsafeBufferPointer { try Inflate.decompress($0, from: 2).output }
        XCTAssertEqual(rows, [0, 0, 64, 128, 0, 255, 32, 16])
    }

    func testTrainerWritesTheFiles() throws {
        let directory = try DataTestFiles.temporaryDirectory(for: self)
        Random.manualSeed(1)
        let model = Sequential(Linear(16, 4, device: .cpu), ReLU(), Linear(4, 2, device: .cpu))
        let features = (0..<(32 * 16)).map { Float(Philox.uniform($0, seed: 2, stream: 0)) }
        let data = Dataset(features: features, featureShape: [16], labels: (0..<32).map { Int32($0 % 2) })
        let diagnostics = try TrainingDiagnostics(directory: directory, probe: data.featuresTensor(on: .cpu), imageSide: 4)
        var trainer = Trainer(epochs: 2)
        trainer.showProgress = false
        trainer.monitor = diagnostics
        try trainer.fit(model, optimizer: SGD(model.parameters(), learningRate: 0.01), loss: CrossEntropyLoss(),
                        on: DataLoader(data, batchSize: 8, device: .cpu))
        XCTAssertEqual(diagnostics.ratios.count, 2 * 4 * 2, "2 epochs x 4 steps x 2 weights")
        for name in ["update_ratios.csv", "histograms.csv", "units.csv", "histograms-epoch-2.svg", "filters-epoch-2.png"] {
            XCTAssert(FileManager.default.fileExists(atPath: directory.appendingPathComponent(name).path), name)
        }
        let csv = try String(contentsOf: directory.appendingPathComponent("update_ratios.csv"), encoding: .utf8)
        XCTAssertEqual(csv.split(separator: "\n").count, 1 + 16)
        // 4 units of 16 = 4 x 4 pixels: a 2 x 2 grid of tiles scaled 8x, 1-pixel gaps.
        let png = try [UInt8](Data(contentsOf: directory.appendingPathComponent("filters-epoch-2.png")))
        XCTAssertEqual(Array(png[16..<24]), [0, 0, 0, 67, 0, 0, 0, 67])
    }

    /// The same measurements on every OpenCL device as on the CPU.
    func testOnOpenCLAsOnTheCPU() throws {
        let values = (0..<3000).map { Float(Philox.normal($0, seed: 4, stream: 0)) }
        let diagnostics = try TrainingDiagnostics(bins: 12)
        func measure(_ device: Device) throws -> [Float] {
            let x = try Tensor(values, shape: [30, 100], on: .cpu).to(device)
            let dead = diagnostics.unitFraction(x.relu(), after: ReLU())!.1
            let saturated = diagnostics.unitFraction(x.tanh(), after: Tanh())!.1
            return try diagnostics.histogramTensor(x).toArray() + [try dead.toArray()[0], try saturated.toArray()[0]]
        }
        let cpu = try measure(.cpu)
        XCTAssertEqual(cpu[0], 3000, "every value is at least the minimum")
        for backend in try ParityDevices.all() {
            let cl = try measure(Device(backend))
            XCTAssertEqual(Array(cl.prefix(14)), Array(cpu.prefix(14)), "histogram on \(Device(backend))")
            assertClose(cl.suffix(2).map(Double.init), cpu.suffix(2).map(Double.init), relTol: 0, absTol: 1e-3, "fractions on \(Device(backend))")
        }
    }
}
