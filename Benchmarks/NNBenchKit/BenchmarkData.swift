import NN

/// Operands for the cases: random values (so no kernel takes a shortcut on
/// zeros), made on the target before timing starts.
enum BenchmarkData {
    /// A float32 buffer of `count` uniform values in [-1, 1) on `backend`,
    /// filled on the device itself (nothing crosses from the host).
    static func randomBuffer(_ backend: any Backend, count: Int, seed: UInt64) -> DeviceBuffer {
        let buffer = backend.makeBuffer(count: count, dtype: .float32)
        backend.fillUniform(buffer, count: count, low: -1, high: 1, seed: seed, stream: 0)
        return buffer
    }

    /// A float32 buffer of zeros (outputs: touched once so the timed runs
    /// do not pay first-touch page faults).
    static func zeroBuffer(_ backend: any Backend, count: Int) -> DeviceBuffer {
        let buffer = backend.makeBuffer(count: count, dtype: .float32)
        backend.fill(buffer, value: 0, offset: 0, count: count)
        return buffer
    }
}

/// Host memory for raw OpenBLAS calls, aligned as the CPU backend aligns its
/// buffers (64 bytes) so the reference gets the same memory layout, and
/// freed with the case.
final class HostMatrix {
    let count: Int
    let pointer: UnsafeMutablePointer<Float>

    /// `count` uniform values in [-1, 1), the same Philox values the device
    /// buffers get for the same seed.
    init(count: Int, seed: UInt64) {
        self.count = count
        pointer = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) * 4, alignment: 64)
            .bindMemory(to: Float.self, capacity: max(count, 1))
        for blockIndex in 0..<(count + 3) / 4 {
            let block = Philox.block(UInt64(blockIndex), seed: seed, stream: 0)
            for i in 4 * blockIndex..<min(count, 4 * blockIndex + 4) {
                pointer[i] = -1 + 2 * Philox.unitFloat(Philox.word(block, i))
            }
        }
    }

    deinit { pointer.deallocate() }
}
