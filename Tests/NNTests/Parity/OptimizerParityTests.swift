import NNBenchKit
import XCTest
@testable import NN

/// Three in-place steps of SGD (plain, momentum with dampening, Nesterov),
/// Adam and AdamW, Adagrad and RMSprop (centered or not, with or without
/// momentum), and the float64 kernels where the device has them.
final class OptimizerParityTests: XCTestCase {
    func testCatalogSteps() throws {
        try assertParity(CheckCatalog.optimizers(ParityDevices.scale))
    }
}
