import Foundation
import XCTest
@testable import NN

final class PoolingModuleTests: XCTestCase {
    /// 1..16 as one 4x4 plane.
    private let grid4 = TT.f64((1...16).map(Double.init), [1, 1, 4, 4])
    /// 1..9 as one 3x3 plane.
    private let grid3 = TT.f64((1...9).map(Double.init), [1, 1, 3, 3])

    /// PyTorch's adaptive average pooling written as its loops, with the
    /// window bounds in floating point: floor(i·in/out) ..< ceil((i+1)·in/out).
    static func referenceAdaptive(_ x: [Double], planes: Int, height: Int, width: Int, outH: Int, outW: Int) -> [Double] {
        var y = [Double](repeating: 0, count: planes * outH * outW)
        for p in 0..<planes {
            for i in 0..<outH {
                let h0 = Int(floor(Double(i * height) / Double(outH))), h1 = Int(ceil(Double((i + 1) * height) / Double(outH)))
                for j in 0..<outW {
                    let w0 = Int(floor(Double(j * width) / Double(outW))), w1 = Int(ceil(Double((j + 1) * width) / Double(outW)))
                    var sum = 0.0
                    for h in h0..<h1 { for w in w0..<w1 { sum += x[(p * height + h) * width + w] } }
                    y[(p * outH + i) * outW + j] = sum / Double((h1 - h0) * (w1 - w0))
                }
            }
        }
        return y
    }

    // MARK: MaxPool2d

    func testMaxPoolHandWorked() throws {
        let y = MaxPool2d(2)(grid4)
        XCTAssertEqual(y.shape, [1, 1, 2, 2])
        XCTAssertEqual(try TT.values(y), [6, 8, 14, 16])
        // Kernel 2, stride 1: every 2x2 window's bottom-right corner.
        XCTAssertEqual(try TT.values(MaxPool2d(2, stride: 1)(grid3)), [5, 6, 8, 9])
        // Kernel 3, stride 2, padding 1 on 4x4 (padding is -inf): windows
        // rows/columns -1...1 and 1...3.
        XCTAssertEqual(try TT.values(MaxPool2d(3, stride: 2, padding: 1)(grid4)), [6, 8, 14, 16])
        // Non-square kernel [1, 2] and stride [1, 2]: the larger of each pair in a row.
        let negated = TT.f64((1...16).map { Double(($0 * 7) % 16) - 8 }, [1, 1, 4, 4])
        let values = try TT.values(negated)
        let expected = (0..<8).map { Swift.max(values[2 * $0], values[2 * $0 + 1]) }
        XCTAssertEqual(try TT.values(MaxPool2d([1, 2])(negated)), expected)
    }

    func testMaxPoolSettingsAndSingleImage() throws {
        let pool = MaxPool2d(3, stride: [2, 1], padding: 1)
        XCTAssertTrue(pool.kernelSize == (3, 3) && pool.stride == (2, 1) && pool.padding == (1, 1))
        XCTAssertTrue(MaxPool2d(2).stride == (2, 2), "stride defaults to the kernel")
        XCTAssertTrue(MaxPool2d((2, 3), stride: (1, 2)).stride == (1, 2))
        XCTAssertEqual("\(MaxPool2d(2))", "MaxPool2d(kernelSize: (2, 2))")
        XCTAssertEqual("\(pool)", "MaxPool2d(kernelSize: (3, 3), stride: (2, 1), padding: (1, 1))")
        XCTAssertTrue(MaxPool2d(2).stateDict().isEmpty)
        let single = MaxPool2d(2)(TT.f64((1...16).map(Double.init), [1, 4, 4]))
        XCTAssertEqual(single.shape, [1, 2, 2])
        XCTAssertEqual(try TT.values(single), [6, 8, 14, 16])
    }

    func testMaxPoolGradientCheck() {
        // Distinct values, so no window has a tie at its maximum.
        let x = TT.f64(TT.distinct(2 * 3 * 7 * 6, seed: 31), [2, 3, 7, 6])
        assertModuleGradientCheck(MaxPool2d(2), input: x, "kernel 2")
        assertModuleGradientCheck(MaxPool2d([3, 2], stride: [2, 1], padding: [1, 0]), input: x, "non-square, padded")
    }

    // MARK: AvgPool2d

    func testAvgPoolHandWorked() throws {
        XCTAssertEqual(try TT.values(AvgPool2d(2)(grid4)), [3.5, 5.5, 11.5, 13.5])
        // Kernel 2, stride 2, padding 1 on 3x3: the windows see {1}, {2, 3},
        // {4, 7}, {5, 6, 8, 9}; the divisor is 4 with padding counted, else
        // the number of real cells.
        XCTAssertEqual(try TT.values(AvgPool2d(2, padding: 1)(grid3)), [0.25, 1.25, 2.75, 7])
        XCTAssertEqual(try TT.values(AvgPool2d(2, padding: 1, countIncludePad: false)(grid3)), [1, 2.5, 5.5, 7])
        XCTAssertEqual("\(AvgPool2d(2, padding: 1, countIncludePad: false))",
                       "AvgPool2d(kernelSize: (2, 2), padding: (1, 1), countIncludePad: false)")
        XCTAssertTrue(AvgPool2d((3, 1), stride: (1, 1)).stride == (1, 1))
    }

    func testAvgPoolGradientCheck() {
        let x = TT.f64(TT.random(2 * 2 * 7 * 6, seed: 32), [2, 2, 7, 6])
        for include in [true, false] {
            assertModuleGradientCheck(AvgPool2d([3, 2], stride: [2, 1], padding: 1, countIncludePad: include), input: x,
                                      "countIncludePad \(include)")
        }
        assertModuleGradientCheck(AvgPool2d(2), input: x, "kernel 2")
    }

    // MARK: AdaptiveAvgPool2d

    func testAdaptiveHandWorked() throws {
        // 3x3 -> 2x2: rows and columns 0..<2 and 1..<3 (overlapping).
        let y = AdaptiveAvgPool2d(2)(grid3)
        XCTAssertEqual(y.shape, [1, 1, 2, 2])
        assertTensorValues(try TT.values(y), [3, 4, 6, 7])
        // Global average pooling.
        let global = AdaptiveAvgPool2d(1)(grid4)
        XCTAssertEqual(global.shape, [1, 1, 1, 1])
        XCTAssertEqual(try TT.values(global), [8.5])
        XCTAssertEqual("\(AdaptiveAvgPool2d([3, 2]))", "AdaptiveAvgPool2d((3, 2))")
    }

    func testAdaptiveWindowsArePyTorchs() {
        for (inSize, outSize) in [(5, 3), (7, 2), (10, 4), (3, 5), (6, 3), (1, 1), (13, 13)] {
            for i in 0..<outSize {
                let start = Int(floor(Double(i * inSize) / Double(outSize)))
                let end = Int(ceil(Double((i + 1) * inSize) / Double(outSize)))
                XCTAssertEqual(Tensor.adaptivePoolWindow(i, inSize: inSize, outSize: outSize), start..<end, "\(inSize) -> \(outSize), \(i)")
            }
        }
    }

    /// Divisible, non-divisible (5x7 -> 3x2), one axis each, and larger
    /// outputs than inputs, against PyTorch's loops; float32 too.
    func testAdaptiveMatchesPyTorchsLoops() throws {
        for (h, w, oh, ow) in [(4, 6, 2, 3), (5, 7, 3, 2), (6, 7, 3, 3), (5, 8, 2, 4), (2, 3, 3, 4), (5, 7, 1, 1), (5, 7, 5, 7)] {
            let x = TT.random(2 * 3 * h * w, seed: UInt64(h * 100 + w))
            let expected = Self.referenceAdaptive(x, planes: 6, height: h, width: w, outH: oh, outW: ow)
            let pool = AdaptiveAvgPool2d([oh, ow])
            let y = pool(TT.f64(x, [2, 3, h, w]))
            XCTAssertEqual(y.shape, [2, 3, oh, ow])
            assertTensorValues(try TT.values(y), expected, abs: 1e-14, rel: 1e-13, "\(h)x\(w) -> \(oh)x\(ow)")
            assertTensorValues(try TT.values(pool(TT.f32(x, [2, 3, h, w]))), expected, abs: 1e-6, rel: 1e-5, "float32 \(h)x\(w)")
            // The tensor op gives the same.
            assertTensorValues(try TT.values(TT.f64(x, [2, 3, h, w]).adaptiveAvgPool2d(outputSize: (oh, ow))), expected,
                               abs: 1e-14, rel: 1e-13)
            let single = pool(TT.f64(Array(x[0..<(3 * h * w)]), [3, h, w]))
            XCTAssertEqual(single.shape, [3, oh, ow])
        }
    }

    /// The layer reuses its pooling matrices while the input size holds and
    /// rebuilds them when it changes.
    func testAdaptiveFollowsTheInputSize() throws {
        let pool = AdaptiveAvgPool2d([3, 2])
        for (h, w) in [(5, 7), (5, 7), (8, 5), (5, 7)] {
            let x = TT.random(h * w, seed: UInt64(h + w))
            assertTensorValues(try TT.values(pool(TT.f64(x, [1, 1, h, w]))),
                               Self.referenceAdaptive(x, planes: 1, height: h, width: w, outH: 3, outW: 2), abs: 1e-14, rel: 1e-13)
        }
    }

    func testAdaptiveGradientCheck() {
        assertModuleGradientCheck(AdaptiveAvgPool2d([3, 2]), input: TT.f64(TT.random(2 * 2 * 5 * 7, seed: 33), [2, 2, 5, 7]), "5x7 -> 3x2")
        assertModuleGradientCheck(AdaptiveAvgPool2d([4, 5]), input: TT.f64(TT.random(3 * 2 * 3, seed: 34), [1, 3, 2, 3]), "2x3 -> 4x5")
        assertModuleGradientCheck(AdaptiveAvgPool2d(1), input: TT.f64(TT.random(2 * 3 * 4, seed: 35), [2, 1, 3, 4]), "global")
    }

    // MARK: Messages

    func testBadInputMessagesNameTheLayerAndShapes() {
        let pool = MaxPool2d(2)
        XCTAssertNil(pool.inputProblem([8, 6, 28, 28]))
        assertMentions(pool.inputProblem([28, 28]), ["MaxPool2d(kernelSize: (2, 2))", "[28, 28]", "[N, C, H, W]"])
        assertMentions(pool.inputProblem([1, 1, 1, 5]), ["MaxPool2d(kernelSize: (2, 2))", "[1, 1, 1, 5]", "1x5", "2x2 kernel"])
        let avg = AvgPool2d(3, padding: 1)
        XCTAssertNil(avg.inputProblem([1, 1, 1, 1]), "1 + 2 padding fits a 3x3 kernel")
        assertMentions(AvgPool2d([3, 4], padding: [1, 0]).inputProblem([2, 3, 1, 3]),
                       ["AvgPool2d(kernelSize: (3, 4), padding: (1, 0))", "[2, 3, 1, 3]", "3x3 after padding", "3x4 kernel"])
        assertMentions(AdaptiveAvgPool2d(2).inputProblem([4, 5]), ["AdaptiveAvgPool2d((2, 2))", "[4, 5]", "[N, C, H, W]"])
        assertMentions(AdaptiveAvgPool2d(2).inputProblem([1, 1, 0, 5]), ["AdaptiveAvgPool2d((2, 2))", "[1, 1, 0, 5]", "empty"])
    }

    private func assertMentions(_ message: String?, _ parts: [String], file: StaticString = #filePath, line: UInt = #line) {
        guard let message else { return XCTFail("expected a message", file: file, line: line) }
        for part in parts {
            XCTAssertTrue(message.contains(part), "'\(message)' does not mention '\(part)'", file: file, line: line)
        }
    }
}
