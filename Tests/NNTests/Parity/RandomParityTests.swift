import NNBenchKit
import XCTest
@testable import NN

/// Random fills and dropout masks must be bit-identical on every backend.
final class RandomParityTests: XCTestCase {
    func testCatalogFillsAreBitIdentical() throws {
        let cases = CheckCatalog.random(ParityDevices.scale)
        XCTAssert(cases.allSatisfy { if case .exact = $0.tolerance { return true } else { return false } })
        try assertParity(cases)
    }
}
