import NNBenchKit
import XCTest
@testable import NN

/// Data movement is exact: transpose, slice, concatenate, strided copies,
/// accumulating unslice, copy, fill and conversions.
final class LayoutParityTests: XCTestCase {
    func testCatalogLayout() throws {
        try assertParity(CheckCatalog.layout())
    }

    /// int64 tensors (PyTorch's labels) on the device: stored exactly,
    /// converted to int32 saturating (so an out-of-range label stays out of
    /// range), and taken as labels by the loss, as on the CPU.
    func testInt64TensorsOnTheDevice() throws {
        let values: [Int64] = [1 << 32, -(1 << 40), 3, -100, 0]
        let logits = Tensor([2, 0, 1, 0, 3, 0], shape: [2, 3], on: .cpu)
        let expected = try CrossEntropyLoss()(logits, Tensor(int32: [0, 2], on: .cpu)).scalar()
        for backend in try ParityDevices.all() {
            let device = Device(backend)
            let wide = Tensor(int64: values, on: device)
            XCTAssertEqual(try wide.toArray(as: Int64.self), values, backend.name)
            XCTAssertEqual(try wide.to(dtype: .int32).toArray(as: Int32.self), [Int32.max, Int32.min, 3, -100, 0], backend.name)
            XCTAssertEqual(try wide.to(dtype: .float32).toArray(), values.map { Float($0) }, backend.name)
            XCTAssertEqual(try Tensor(int32: [-5, 7], on: device).to(dtype: .int64).toArray(as: Int64.self), [-5, 7], backend.name)
            XCTAssertEqual(try Tensor.full([3], 9, dtype: .int64, on: device).toArray(as: Int64.self), [9, 9, 9], backend.name)
            let loss = try CrossEntropyLoss()(try logits.to(device), Tensor(int64: [0, 2], on: device)).scalar()
            XCTAssertEqual(loss, expected, accuracy: 1e-6, backend.name)
        }
        // Layout ops move int64 as 64-bit patterns, on the CPU and the devices.
        let big: [Int64] = [1 << 40, -3, 5, -(1 << 50), 7, 1 << 33]
        for device in [Device.cpu] + (try ParityDevices.all()).map({ Device($0) }) {
            let m = Tensor(int64: big, shape: [2, 3], on: device)
            XCTAssertEqual(try m.transposed().toArray(as: Int64.self), [1 << 40, -(1 << 50), -3, 7, 5, 1 << 33], device.name)
            XCTAssertEqual(try m.slice(axis: 1, 1..<3).toArray(as: Int64.self), [-3, 5, 7, 1 << 33], device.name)
            XCTAssertEqual(try Tensor.concatenate([m, m], axis: 1).toArray(as: Int64.self).count, 12, device.name)
            XCTAssertEqual(try Tensor.concatenate([m, m], axis: 1).toArray(as: Int64.self)[3...5], [1 << 40, -3, 5], device.name)
            XCTAssertEqual(try m.gather(axis: 1, indices: Tensor(int32: [2, 0], shape: [2, 1], on: device)).toArray(as: Int64.self),
                           [5, -(1 << 50)], device.name)
        }
    }
}
