import NNBackend

/// Random fills (Kernels/random.cl): Philox4x32-10 and the float transforms
/// of `Philox`, one work-item per block of four elements, bit for bit the
/// CPU backend's values. The affine parameters are rounded to Float here,
/// exactly as the CPU backend rounds them.
extension OpenCLBackend {
    public func fillUniform(_ buffer: DeviceBuffer, count: Int, low: Double, high: Double, seed: UInt64, stream: UInt64) {
        fillRandom("fill_uniform", buffer, count, seed, stream, Float(low), Float(high - low), "fillUniform")
    }

    public func fillNormal(_ buffer: DeviceBuffer, count: Int, mean: Double, std: Double, seed: UInt64, stream: UInt64) {
        fillRandom("fill_normal", buffer, count, seed, stream, Float(mean), Float(std), "fillNormal")
    }

    public func fillDropoutMask(_ buffer: DeviceBuffer, count: Int, p: Double, seed: UInt64, stream: UInt64) {
        require(p >= 0 && p < 1, "OpenCLBackend.fillDropoutMask: p = \(p) must be in [0, 1)")
        fillRandom("fill_dropout", buffer, count, seed, stream, Float(p), Float(1) / (Float(1) - Float(p)), "fillDropoutMask")
    }

    private func fillRandom(_ kernel: String, _ buffer: DeviceBuffer, _ count: Int, _ seed: UInt64, _ stream: UInt64,
                            _ p0: Float, _ p1: Float, _ op: StaticString) {
        let b = cl(buffer, op)
        require(b.dtype.isFloatingPoint && count >= 0 && count <= b.count,
                     "OpenCLBackend.\(op): \(count) elements into a buffer of \(b.count) \(b.dtype)")
        require(count <= Int(Int32.max) - 3, "OpenCLBackend.\(op): \(count) elements exceed the kernel's 32-bit range")
        launch(.random, kernel, dtype: b.dtype, global: (count + 3) / 4,
               .buffer(b), .int(count),
               .uint(UInt32(truncatingIfNeeded: seed)), .uint(UInt32(truncatingIfNeeded: seed >> 32)),
               .uint(UInt32(truncatingIfNeeded: stream)), .uint(UInt32(truncatingIfNeeded: stream >> 32)),
               .float(p0), .float(p1))
    }
}
