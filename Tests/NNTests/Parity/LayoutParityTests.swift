import NNBenchKit
import XCTest
@testable import NN

/// Data movement is exact: transpose, slice, concatenate, strided copies,
/// accumulating unslice, copy, fill and conversions.
final class LayoutParityTests: XCTestCase {
    func testCatalogLayout() throws {
        try assertParity(CheckCatalog.layout())
    }
}
