@testable import NN
@testable import NNOpenCL
import XCTest

/// What the world can do wrong on an OpenCL device comes back as a thrown,
/// readable error: a device that is not there, memory that cannot be had, a
/// kernel that does not build.
final class OpenCLErrorTests: XCTestCase {
    func testMissingDeviceListsWhatWasFound() throws {
        let backends = try ParityDevices.all()
        XCTAssertThrowsError(try Device.named("opencl:9:9")) { error in
            guard case DeviceError.unavailable(let spec, let reason) = error else { return XCTFail("unexpected \(error)") }
            XCTAssertEqual(spec, "opencl:9:9")
            for backend in backends { XCTAssert(reason.contains(backend.info.name), "'\(reason)' should list \(backend.info.name)") }
        }
        XCTAssertThrowsError(try Device.named("opencl:x")) { XCTAssertEqual($0 as? DeviceError, .unknown(spec: "opencl:x")) }
    }

    func testExplicitOpenCLSelectsAnOpenCLDevice() throws {
        _ = try ParityDevices.all()
        let device = try Device.named("opencl")
        XCTAssert(device.backend is OpenCLBackend)
        XCTAssert(device == (try Device.named(device.name.components(separatedBy: " ")[0])), "one backend per device")
    }

    func testOversizedAllocationThrowsAtTheNextDownload() throws {
        for shared in try ParityDevices.all() {
            // A private backend, so the recorded error cannot leak into other tests.
            let backend = try OpenCLBackend(device: shared.info, cache: false)
            let tooMany = Int(backend.info.maxAllocationBytes / 4) + 1024
            let huge = backend.makeBuffer(count: tooMany, dtype: .float32)
            backend.fill(huge, value: 1, offset: 0, count: 16)
            let small = backend.makeBuffer([Float(1), 2, 3])
            XCTAssertThrowsError(try backend.download(small, as: Float.self)) { error in
                XCTAssert("\(error)".contains("clCreateBuffer"), "\(error)")
            }
            // The error is reported once (the ops queued after it were
            // skipped); the backend then works again.
            let fresh = backend.makeBuffer([Float(1), 2, 3])
            XCTAssertEqual(try backend.download(fresh, as: Float.self), [1, 2, 3])
            // Touching the failed buffer again reports it again.
            backend.fill(huge, value: 2, offset: 0, count: 16)
            XCTAssertThrowsError(try backend.synchronize())
        }
    }

    func testKernelBuildFailureCarriesTheBuildLog() throws {
        for backend in try ParityDevices.all() {
            XCTAssertThrowsError(try backend.queueState.withLock {
                try $0.programs.buildFromSource("kernel void broken(global float* x) { x[0] = undefined_name; }",
                                                options: "-cl-std=CL1.2", name: "broken")
            }) { error in
                guard case OpenCLError.build(let program, _, let log) = error else { return XCTFail("unexpected \(error)") }
                XCTAssertEqual(program, "broken")
                XCTAssert(log.contains("undefined_name"), "the build log should name the problem: \(log)")
            }
        }
    }

    func testStatusNames() {
        XCTAssertEqual(OpenCLError.name(of: -5), "CL_OUT_OF_RESOURCES")
        XCTAssertEqual(OpenCLError.name(of: -4), "CL_MEM_OBJECT_ALLOCATION_FAILURE")
        XCTAssertEqual("\(OpenCLError.call(operation: "clFinish", code: -36))", "OpenCL error CL_INVALID_COMMAND_QUEUE (-36) in clFinish")
    }
}
