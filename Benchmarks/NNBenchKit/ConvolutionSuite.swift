import NN

/// Convolution forward, backward-data and backward-filter on LeNet-5's two
/// layers and DeepBench training layers scaled to batch 8, each pass a case.
enum ConvolutionSuite {
    struct Layer {
        let label: String
        let geometry: Conv2dGeometry

        /// "lenet1 28x28x1->6 5x5 p2 b64" (input H x W x C, as DeepBench
        /// lists its layers).
        var name: String {
            let g = geometry
            var text = "\(label)\(label.isEmpty ? "" : " ")\(g.inHeight)x\(g.inWidth)x\(g.inChannels)->\(g.outChannels) \(g.kernelH)x\(g.kernelW)"
            if g.strideH > 1 { text += " s\(g.strideH)" }
            if g.padH > 0 { text += " p\(g.padH)" }
            return text + " b\(g.batch)"
        }

        /// Every pass multiplies and adds each (output, filter tap) pair
        /// once: 2 N K P Q C R S, padding taps included (they are computed).
        var flops: Double {
            let g = geometry
            return 2 * Double(g.batch * g.outChannels * g.outHeight * g.outWidth) * Double(g.patchSize)
        }
    }

    enum Pass: String, CaseIterable {
        case forward, backwardData = "backward-data", backwardFilter = "backward-filter"
    }

    static func layers(_ scale: Scale) -> [Layer] {
        func conv(_ label: String, n: Int, c: Int, h: Int, w: Int, k: Int, r: Int, stride: Int = 1, pad: Int = 0) -> Layer {
            Layer(label: label, geometry: Conv2dGeometry(batch: n, inChannels: c, inHeight: h, inWidth: w, outChannels: k,
                                                         kernelH: r, kernelW: r, stride: (stride, stride), padding: (pad, pad)))
        }
        switch scale {
        case .standard, .large:
            return [
                // LeNet-5 at the batch of the train suite.
                conv("lenet1", n: 64, c: 1, h: 28, w: 28, k: 6, r: 5, pad: 2),
                conv("lenet2", n: 64, c: 6, h: 14, w: 14, k: 16, r: 5),
                // DeepBench training layers (GoogLeNet 5x5 and 1x1 inception
                // branches, a VGG/ResNet 3x3, the ResNet stem), batch 8.
                conv("", n: 8, c: 192, h: 28, w: 28, k: 32, r: 5, pad: 2),
                conv("", n: 8, c: 64, h: 54, w: 54, k: 64, r: 3, pad: 1),
                conv("", n: 8, c: 832, h: 7, w: 7, k: 256, r: 1),
                conv("", n: 8, c: 3, h: 224, w: 224, k: 64, r: 7, stride: 2, pad: 3),
            ]
        case .tiny:
            return [conv("tiny", n: 2, c: 3, h: 9, w: 9, k: 4, r: 3, pad: 1)]
        }
    }

    static func cases(_ scale: Scale) -> [BenchmarkCase] {
        layers(scale).flatMap { layer in
            Pass.allCases.map { pass in
                BenchmarkCase(.conv, "\(layer.name) \(pass.rawValue)", work: .flops(layer.flops)) { device in
                    body(layer.geometry, pass, device.backend)
                }
            }
        }
    }

    /// One pass without bias, so the work is exactly the convolution's.
    static func body(_ g: Conv2dGeometry, _ pass: Pass, _ backend: any Backend) -> () -> Void {
        let inputCount = g.inputShape.reduce(1, *), weightCount = g.weightShape.reduce(1, *)
        let outputCount = g.outputShape.reduce(1, *)
        switch pass {
        case .forward:
            let x = BenchmarkData.randomBuffer(backend, count: inputCount, seed: 11)
            let w = BenchmarkData.randomBuffer(backend, count: weightCount, seed: 12)
            let y = BenchmarkData.zeroBuffer(backend, count: outputCount)
            return { backend.conv2dForward(input: x, weight: w, bias: nil, out: y, geometry: g) }
        case .backwardData:
            let dy = BenchmarkData.randomBuffer(backend, count: outputCount, seed: 13)
            let w = BenchmarkData.randomBuffer(backend, count: weightCount, seed: 12)
            let dx = BenchmarkData.zeroBuffer(backend, count: inputCount)
            return { backend.conv2dBackwardData(gradOut: dy, weight: w, gradInput: dx, geometry: g) }
        case .backwardFilter:
            let x = BenchmarkData.randomBuffer(backend, count: inputCount, seed: 11)
            let dy = BenchmarkData.randomBuffer(backend, count: outputCount, seed: 13)
            let dw = BenchmarkData.zeroBuffer(backend, count: weightCount)
            return { backend.conv2dBackwardFilter(input: x, gradOut: dy, gradWeight: dw, gradBias: nil, geometry: g) }
        }
    }
}
