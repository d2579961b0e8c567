import XCTest
@testable import NN

/// Convolution and pooling, forward and both backwards.
final class ConvolutionParityTests: XCTestCase {
    static let geometries = [
        Conv2dGeometry(batch: 1, inChannels: 1, inHeight: 1, inWidth: 1, outChannels: 1, kernelH: 1, kernelW: 1),
        Conv2dGeometry(batch: 2, inChannels: 3, inHeight: 7, inWidth: 9, outChannels: 4, kernelH: 3, kernelW: 2,
                       stride: (2, 1), padding: (1, 2), dilation: (2, 1)),
        Conv2dGeometry(batch: 3, inChannels: 1, inHeight: 28, inWidth: 28, outChannels: 6, kernelH: 5, kernelW: 5,
                       padding: (2, 2)),
        Conv2dGeometry(batch: 2, inChannels: 6, inHeight: 14, inWidth: 13, outChannels: 16, kernelH: 5, kernelW: 5),
        Conv2dGeometry(batch: 1, inChannels: 5, inHeight: 11, inWidth: 11, outChannels: 7, kernelH: 3, kernelW: 3,
                       stride: (3, 3), padding: (1, 1)),
    ]

    func testConvForwardAndBackward() throws {
        for g in Self.geometries {
            let inputCount = g.inputShape.reduce(1, *), outputCount = g.outputShape.reduce(1, *)
            try assertParity("conv2d \(g.inputShape) w \(g.weightShape) out \(g.outputShape)",
                             [.random(inputCount, seed: 1), .random(g.weightShape.reduce(1, *), seed: 2),
                              .random(g.outChannels, seed: 3), .random(outputCount, seed: 4)], .norm(rel: 1e-5)) { backend, x in
                let out = backend.makeBuffer(count: outputCount, dtype: .float32)
                let gx = backend.makeBuffer(count: inputCount, dtype: .float32)
                let gw = backend.makeBuffer(count: g.weightShape.reduce(1, *), dtype: .float32)
                let gb = backend.makeBuffer(count: g.outChannels, dtype: .float32)
                backend.conv2dForward(input: x[0], weight: x[1], bias: x[2], out: out, geometry: g)
                backend.conv2dBackwardData(gradOut: x[3], weight: x[1], gradInput: gx, geometry: g)
                backend.conv2dBackwardFilter(input: x[0], gradOut: x[3], gradWeight: gw, gradBias: gb, geometry: g)
                return [out, gx, gw, gb]
            }
        }
    }

    func testPooling() throws {
        let geometries = [
            Pool2dGeometry(batch: 1, channels: 1, inHeight: 1, inWidth: 1, kernel: (1, 1)),
            Pool2dGeometry(batch: 2, channels: 3, inHeight: 28, inWidth: 28, kernel: (2, 2)),
            Pool2dGeometry(batch: 2, channels: 2, inHeight: 7, inWidth: 9, kernel: (3, 3), stride: (2, 2), padding: (1, 1)),
            Pool2dGeometry(batch: 1, channels: 5, inHeight: 13, inWidth: 11, kernel: (4, 2), stride: (3, 1), padding: (2, 1)),
        ]
        for g in geometries {
            let inCount = g.inputShape.reduce(1, *), outCount = g.outputShape.reduce(1, *)
            for includePad in [true, false] {
                try assertParity("pool \(g.inputShape) k (\(g.kernelH),\(g.kernelW)) pad \(includePad)",
                                 [.random(inCount, seed: 5), .random(outCount, seed: 6)], .elementwise(rel: 1e-5, abs: 1e-6)) { backend, x in
                    let maxOut = backend.makeBuffer(count: outCount, dtype: .float32)
                    let indices = backend.makeBuffer(count: outCount, dtype: .int32)
                    let maxGrad = backend.makeBuffer(count: inCount, dtype: .float32)
                    let avgOut = backend.makeBuffer(count: outCount, dtype: .float32)
                    let avgGrad = backend.makeBuffer(count: inCount, dtype: .float32)
                    backend.maxPool2dForward(input: x[0], out: maxOut, indices: indices, geometry: g)
                    backend.maxPool2dBackward(gradOut: x[1], indices: indices, gradInput: maxGrad, geometry: g)
                    backend.avgPool2dForward(input: x[0], out: avgOut, geometry: g, countIncludePad: includePad)
                    backend.avgPool2dBackward(gradOut: x[1], gradInput: avgGrad, geometry: g, countIncludePad: includePad)
                    return [maxOut, indices, maxGrad, avgOut, avgGrad]
                }
            }
        }
    }
}
