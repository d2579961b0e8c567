import NNBenchKit
import XCTest
@testable import NN

/// Convolution (forward and both backwards, with every GEMM kernel) and
/// max/average pooling forward and backward, at geometries with strides,
/// padding, dilation and non-square kernels.
final class ConvolutionParityTests: XCTestCase {
    func testCatalogConvolution() throws {
        try assertParity(CheckCatalog.convolution(ParityDevices.scale))
    }

    func testCatalogPooling() throws {
        try assertParity(CheckCatalog.pooling(ParityDevices.scale))
    }
}
