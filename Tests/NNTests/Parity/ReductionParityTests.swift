import NNBenchKit
import XCTest
@testable import NN

/// Reductions, argmax, gather and scatter-add, including rows that leave
/// work-groups partially filled (lengths 1, 3, 127..129, and long rows),
/// which run the local-memory tree.
final class ReductionParityTests: XCTestCase {
    func testCatalogReductions() throws {
        try assertParity(CheckCatalog.reductions(ParityDevices.scale))
    }
}
