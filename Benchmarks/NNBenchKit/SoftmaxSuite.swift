import NN

/// Row softmax over 1024 classes at 1M and 16M floats, forward and backward,
/// rated in GB/s of bytes read plus written.
enum SoftmaxSuite {
    static func shapes(_ scale: Scale) -> [(label: String, rows: Int, classes: Int)] {
        switch scale {
        case .standard, .large: return [("1M", 1 << 10, 1024), ("16M", 1 << 14, 1024)]
        case .tiny: return [("1000", 10, 100)]
        }
    }

    static func cases(_ scale: Scale) -> [BenchmarkCase] {
        shapes(scale).flatMap { shape -> [BenchmarkCase] in
            let n = shape.rows * shape.classes
            let view = AxisView(outer: shape.rows, axis: shape.classes, inner: 1)
            let name = "\(shape.rows)x\(shape.classes) (\(shape.label))"
            return [
                // Forward reads x and writes y (the row max and sum stay in
                // registers or cache): 8 bytes per element at the minimum.
                BenchmarkCase(.softmax, "softmax \(name)", work: .bytes(8 * Double(n))) { device in
                    let backend = device.backend
                    let x = BenchmarkData.randomBuffer(backend, count: n, seed: 31)
                    let y = BenchmarkData.zeroBuffer(backend, count: n)
                    return { backend.softmax(x, out: y, view: view, log: false) }
                },
                // Backward reads y and dL/dy and writes dL/dx: 12 bytes.
                BenchmarkCase(.softmax, "softmax backward \(name)", work: .bytes(12 * Double(n))) { device in
                    let backend = device.backend
                    let x = BenchmarkData.randomBuffer(backend, count: n, seed: 31)
                    let y = BenchmarkData.zeroBuffer(backend, count: n)
                    backend.softmax(x, out: y, view: view, log: false)
                    let grad = BenchmarkData.randomBuffer(backend, count: n, seed: 32)
                    let gx = BenchmarkData.zeroBuffer(backend, count: n)
                    return { backend.softmaxBackward(y: y, gradOut: grad, gradX: gx, view: view, log: false) }
                },
            ]
        }
    }
}
