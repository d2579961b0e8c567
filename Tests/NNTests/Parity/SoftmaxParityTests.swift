import NNBenchKit
import XCTest
@testable import NN

/// Softmax and log-softmax forward and backward along every kind of axis,
/// and the fused softmax cross-entropy with and without label smoothing.
final class SoftmaxParityTests: XCTestCase {
    func testCatalogSoftmaxFamily() throws {
        try assertParity(CheckCatalog.softmax(ParityDevices.scale))
    }
}
