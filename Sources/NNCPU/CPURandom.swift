import NNBackend

/// Random fills through the shared Philox definitions: one generator call per
/// block of four elements, blocks spread over the cores.
extension CPUBackend {
    public func fillUniform(_ buffer: DeviceBuffer, count: Int, low: Double, high: Double, seed: UInt64, stream: UInt64) {
        let lo = Float(low), scale = Float(high - low)
        fillRandom(buffer, count, seed, stream, "fillUniform") { i, b in lo + scale * Philox.unitFloat(Philox.word(b, i)) }
    }

    public func fillNormal(_ buffer: DeviceBuffer, count: Int, mean: Double, std: Double, seed: UInt64, stream: UInt64) {
        let m = Float(mean), s = Float(std)
        fillRandom(buffer, count, seed, stream, "fillNormal") { i, b in m + s * Philox.normal(i, b) }
    }

    public func fillDropoutMask(_ buffer: DeviceBuffer, count: Int, p: Double, seed: UInt64, stream: UInt64) {
        require(p >= 0 && p < 1, "CPUBackend.fillDropoutMask: p = \(p) must be in [0, 1)")
        let drop = Float(p), scale = Float(1) / (Float(1) - Float(p))
        fillRandom(buffer, count, seed, stream, "fillDropoutMask") { i, b in
            Philox.unitFloat(Philox.word(b, i)) < drop ? 0 : scale
        }
    }

    /// buffer[i] = value(i, Philox block i / 4), stored in the buffer's dtype.
    @inline(__always)
    private func fillRandom(_ buffer: DeviceBuffer, _ count: Int, _ seed: UInt64, _ stream: UInt64, _ op: StaticString,
                            _ value: (Int, Philox.Block) -> Float) {
        let b = cpu(buffer, op)
        require(count <= b.count, "CPUBackend.\(op): \(count) elements into a buffer of \(b.count)")
        func run<T: CPUScalar>(_: T.Type) {
            let p = b.pointer(T.self)
            parallelFor((count + 3) / 4, grain: 1 << 12) { blocks in
                for j in blocks {
                    let block = Philox.block(UInt64(j), seed: seed, stream: stream)
                    for i in 4 * j..<min(4 * j + 4, count) { p[i] = T(value(i, block)) }
                }
            }
        }
        switch floatType(b, op) {
        case .float64: run(Double.self)
        default: run(Float.self)
        }
    }
}
