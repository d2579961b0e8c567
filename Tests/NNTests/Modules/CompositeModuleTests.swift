import XCTest
@testable import NN

/// Modules built from modules (issue 12): the RBF unit as a cascade of a
/// squared-distance module and an exponential module, the ResNet basic
/// block and a small ResNet, and Network-in-Network blocks.
final class CompositeModuleTests: XCTestCase {
    private func input(_ shape: [Int], seed: UInt64 = 1) -> Tensor {
        let count = shape.reduce(1, *)
        return Tensor(float64: (0..<count).map { Double(Philox.uniform($0, seed: seed, stream: 0)) * 2 - 1 }, shape: shape, on: .cpu)
    }

    func testSquaredDistanceAndRBFByHand() throws {
        let distance = SquaredDistance(2, 3, dtype: .float64, device: .cpu)
        MT.set(distance.weight, [1, 0, 1, 2, -1, 1])
        let x = TT.f64([0, 0, 1, 2], [2, 2])
        // ‖(0,0)-(1,0)‖² = 1, ‖(0,0)-(1,2)‖² = 5, ‖(0,0)-(-1,1)‖² = 2; (1,2): 4, 0, 5.
        XCTAssertEqual(try TT.values(distance(x)), [1, 5, 2, 4, 0, 5])

        let rbf = RBF(2, 3, gamma: 0.5, dtype: .float64, device: .cpu)
        MT.set(rbf.distance.weight, [1, 0, 1, 2, -1, 1])
        assertClose(try TT.values(rbf(x)), [1, 5, 2, 4, 0, 5].map { exp(-0.5 * $0) }, relTol: 1e-15, absTol: 0)
        XCTAssertEqual(rbf.stateDict().map(\.name), ["distance.weight"])
    }

    func testRBFGradientsWholeAndPerPart() {
        let rbf = RBF(3, 4, gamma: 0.7, dtype: .float64, device: .cpu)
        let x = input([5, 3])
        assertModuleGradientCheck(rbf, input: x, "the cascade")
        assertModuleGradientCheck(rbf.distance, input: x, "the squared-distance part")
        assertModuleGradientCheck(rbf.exponential, input: input([5, 4], seed: 2), "the exponential part")
    }

    func testBasicBlockGradientsWithIdentityAndProjection() {
        let identity = BasicBlock(2, 2, dtype: .float64, device: .cpu)
        XCTAssertNil(identity.downsample)
        assertModuleGradientCheck(identity, input: input([2, 2, 4, 4]), "identity shortcut")
        let projected = BasicBlock(2, 3, stride: 2, dtype: .float64, device: .cpu)
        XCTAssertEqual(projected(input([2, 2, 5, 5])).shape, [2, 3, 3, 3])
        assertModuleGradientCheck(projected, input: input([2, 2, 5, 5]), "1x1 projection with stride 2")
        XCTAssertEqual(projected.stateDict().map(\.name).filter { $0.hasPrefix("downsample") },
                       ["downsample.0.weight", "downsample.1.weight", "downsample.1.bias", "downsample.1.running_mean",
                        "downsample.1.running_var", "downsample.1.num_batches_tracked"])
    }

    func testResNetShapesNamesAndGradients() {
        let net = ResNet(widths: [4, 6, 8], dtype: .float64, device: .cpu)
        XCTAssertEqual(net(input([2, 1, 28, 28])).shape, [2, 10])
        let names = net.namedParameters().map(\.name)
        XCTAssertEqual(Array(names.prefix(4)), ["conv1.weight", "bn1.weight", "bn1.bias", "layer1.0.conv1.weight"])
        XCTAssert(names.contains("layer2.0.downsample.0.weight") && names.contains("fc.weight"), "\(names)")
        XCTAssertFalse(names.contains("layer1.0.downsample.0.weight"), "the first stage keeps its width and resolution")
        // conv1 4*9, bn 8; per stage: two 3x3 convs, two BNs, a projection where the width changes.
        let expected = 36 + 8 + (4 * 4 * 9 * 2 + 16) + (4 * 6 * 9 + 6 * 6 * 9 + 24 + 4 * 6 + 12)
            + (6 * 8 * 9 + 8 * 8 * 9 + 32 + 6 * 8 + 16) + (8 * 10 + 10)
        XCTAssertEqual(net.parameterCount, expected)
        assertModuleGradientCheck(ResNet(classes: 3, widths: [2, 3], dtype: .float64, device: .cpu), input: input([2, 1, 6, 6]),
                                  "a two-stage ResNet end to end")
    }

    func testNetworkInNetwork() {
        let block = NetworkInNetwork.block(2, 3, kernelSize: 3, padding: 1, dtype: .float64, device: .cpu)
        XCTAssertEqual(block.stateDict().map(\.name), ["0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias"])
        assertModuleGradientCheck(block, input: input([2, 2, 4, 4]), "a NiN block")
        let classifier = NetworkInNetwork.classifier(dtype: .float64, device: .cpu)
        classifier.eval()
        XCTAssertEqual(classifier(input([2, 1, 28, 28])).shape, [2, 10])
    }
}
