import XCTest
@testable import NN

/// The wording of programmer-mistake messages (they must name the op and the
/// shapes, devices or dtypes) and device selection errors.
final class ShapeErrorTests: XCTestCase {
    private func assertMentions(_ message: String, _ parts: [String], file: StaticString = #filePath, line: UInt = #line) {
        for part in parts {
            XCTAssertTrue(message.contains(part), "'\(message)' does not mention '\(part)'", file: file, line: line)
        }
    }

    func testNotBroadcastable() {
        let m = ShapeErrors.notBroadcastable("add", [2, 3], [4])
        assertMentions(m, ["add", "[2, 3]", "[4]", "broadcast"])
        XCTAssertTrue(m.hasPrefix("add"), m)
    }

    func testMismatch() {
        let m = ShapeErrors.mismatch("matmul", [3, 4], [5, 6], "inner dimensions differ")
        assertMentions(m, ["matmul", "[3, 4]", "[5, 6]", "inner dimensions differ"])
    }

    func testBadAxis() {
        let m = ShapeErrors.badAxis("softmax", axis: 3, shape: [2, 5])
        assertMentions(m, ["softmax", "3", "[2, 5]", "rank 2"])
        let n = ShapeErrors.badAxis("sum", axis: -4, shape: [7, 13, 31])
        assertMentions(n, ["sum", "-4", "[7, 13, 31]", "rank 3"])
    }

    func testBadRank() {
        let m = ShapeErrors.badRank("conv2d", shape: [3, 4], expected: "input [N, C, H, W]")
        assertMentions(m, ["conv2d", "[3, 4]", "input [N, C, H, W]"])
    }

    func testMixedDevicesAndDTypes() {
        let a = TT.f64([1, 2, 3, 4, 5, 6], [2, 3]), b = TT.f32([1, 2, 3, 4], [4])
        let d = ShapeErrors.mixedDevices("add", a, b)
        assertMentions(d, ["add", "[2, 3]", "[4]", "device", Device.cpu.description])
        let t = ShapeErrors.mixedDTypes("multiply", a, b)
        assertMentions(t, ["multiply", "[2, 3]", "[4]", "float64", "float32"])
    }

    func testDeviceNamedCPU() throws {
        for spec in ["cpu", "CPU"] {
            XCTAssertTrue(try Device.named(spec) == .cpu, spec)
        }
        XCTAssertEqual(Device.cpu.name, Device.cpu.description)
        XCTAssertFalse(Device.cpu.name.isEmpty)
        // auto is the CPU unless there is an OpenCL GPU, which `opencl` then
        // also picks.
        for spec in ["auto", ""] {
            let d = try Device.named(spec)
            if d != .cpu { XCTAssertTrue(d == (try Device.named("opencl")), "auto chose \(d)") }
        }
    }

    private func assertUnavailable(_ spec: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try Device.named(spec), spec, file: file, line: line) { error in
            guard let e = error as? DeviceError, case .unavailable(let s, let reason) = e else {
                return XCTFail("\(spec): expected DeviceError.unavailable, got \(error)", file: file, line: line)
            }
            XCTAssertEqual(s, spec, file: file, line: line)
            XCTAssertFalse(reason.isEmpty, file: file, line: line)
            assertMentions(e.description, [spec, "not available", reason], file: file, line: line)
        }
    }

    func testDeviceNamedOpenCLThrowsOrIsNotTheCPU() {
        // Without a usable OpenCL platform an explicit opencl is an error
        // that says why; it never silently runs on the CPU.
        for spec in ["opencl", "OpenCL"] {
            do {
                let d = try Device.named(spec)
                XCTAssertFalse(d == .cpu, "\(spec) fell back to the CPU")
            } catch {
                assertUnavailable(spec)
            }
        }
        assertUnavailable("opencl:99:99")
    }

    func testDeviceNamedUnknown() {
        XCTAssertThrowsError(try Device.named("tpu")) { error in
            XCTAssertEqual(error as? DeviceError, .unknown(spec: "tpu"))
            let text = (error as? DeviceError)?.description ?? ""
            // Names the bad value and what would have been accepted.
            assertMentions(text, ["'tpu'", "cpu", "auto", "opencl"])
        }
        XCTAssertThrowsError(try Device.named("cuda"))
    }
}
