import Foundation
import NNBackend
import Synchronization

/// Host memory for the CPU backend, 64-byte aligned (a cache line and an
/// AVX-512 vector), back to `CPUBufferPool` when the last reference goes
/// away.
///
/// `@unchecked Sendable`: the stored properties are constants, but `raw` is
/// a pointer, which Swift never treats as Sendable. The memory it points to
/// is written only by backend ops, ordered by their callers
/// (see `DeviceBuffer`).
final class CPUBuffer: DeviceBuffer, @unchecked Sendable {
    let count: Int
    let dtype: DType
    let raw: UnsafeMutableRawPointer

    init(count: Int, dtype: DType) {
        require(count >= 0, "CPUBackend.makeBuffer: negative count \(count)")
        self.count = count
        self.dtype = dtype
        raw = CPUBufferPool.shared.take(blockSize: CPUBufferPool.blockSize(bytes: count * dtype.byteSize))
    }

    deinit { CPUBufferPool.shared.recycle(raw, blockSize: CPUBufferPool.blockSize(bytes: byteCount)) }

    @inline(__always)
    func pointer<T>(_: T.Type) -> UnsafeMutablePointer<T> { raw.assumingMemoryBound(to: T.self) }
}

extension CPUBackend {
    /// The CPU buffer behind `buffer`; stops with the op's name when the
    /// buffer belongs to another backend.
    @inline(__always)
    func cpu(_ buffer: DeviceBuffer, _ op: StaticString) -> CPUBuffer {
        guard let b = buffer as? CPUBuffer else {
            requirementFailed("CPUBackend.\(op): buffer of type \(type(of: buffer)) belongs to another backend")
        }
        return b
    }

    @inline(__always)
    func floatType(_ buffer: DeviceBuffer, _ op: StaticString) -> DType {
        require(buffer.dtype.isFloatingPoint, "CPUBackend.\(op): expected a float buffer, got \(buffer.dtype)")
        return buffer.dtype
    }
}

/// Freed CPU buffers by size, kept for the next buffer of that size. A
/// training step makes the same sizes every time; without the pool each
/// op paid for an aligned allocation and its free, and each large buffer
/// for fresh pages (glibc maps big blocks anew and faults them in). Up to
/// `limit` bytes are kept (NN_CPU_POOL_MB, default the smaller of 1 GiB
/// and an eighth of the memory); past it, freed blocks go back to the
/// system. `CPUBackend.emptyCache()` returns them all.
final class CPUBufferPool: Sendable {
    static let shared = CPUBufferPool(limit: CPUBufferPool.limitFromEnvironment())

    /// `@unchecked Sendable`: a free block's address; nothing uses the
    /// memory while it is in the pool, and `take` hands it to one buffer.
    private struct Block: @unchecked Sendable {
        let raw: UnsafeMutableRawPointer
    }
    private struct Lists {
        /// Blocks up to `smallLimit` bytes by cache lines (index size / 64;
        /// no hashing on the small ops' path), larger ones by byte size.
        var small = [[Block]](repeating: [], count: CPUBufferPool.smallLimit / 64 + 1)
        var free: [Int: [Block]] = [:]
        var cachedBytes = 0
        /// Blocks allocated from the system (the rest came from the pool).
        var systemAllocations = 0
    }
    private let lists = Mutex(Lists())
    let limit: Int

    static let smallLimit = 64 << 10

    init(limit: Int) { self.limit = limit }

    static func limitFromEnvironment() -> Int {
        if let text = ProcessInfo.processInfo.environment["NN_CPU_POOL_MB"], let mb = Int(text), mb >= 0 { return mb << 20 }
        return min(1 << 30, Int(ProcessInfo.processInfo.physicalMemory / 8))
    }

    /// Whole cache lines (at least one), so nearby sizes share blocks.
    static func blockSize(bytes: Int) -> Int { max(64, (bytes + 63) & ~63) }

    var cachedBytes: Int { lists.withLock { $0.cachedBytes } }
    var systemAllocations: Int { lists.withLock { $0.systemAllocations } }

    func take(blockSize: Int) -> UnsafeMutableRawPointer {
        let cached: Block? = lists.withLock { lists in
            let found = blockSize <= CPUBufferPool.smallLimit ? lists.small[blockSize >> 6].popLast() : lists.free[blockSize]?.popLast()
            guard let block = found else {
                lists.systemAllocations += 1
                return nil
            }
            lists.cachedBytes -= blockSize
            return block
        }
        return cached?.raw ?? .allocate(byteCount: blockSize, alignment: 64)
    }

    func recycle(_ raw: UnsafeMutableRawPointer, blockSize: Int) {
        let block = Block(raw: raw)
        let kept = lists.withLock { lists in
            guard lists.cachedBytes + blockSize <= limit else { return false }
            if blockSize <= CPUBufferPool.smallLimit {
                lists.small[blockSize >> 6].append(block)
            } else {
                lists.free[blockSize, default: []].append(block)
            }
            lists.cachedBytes += blockSize
            return true
        }
        if !kept { raw.deallocate() }
    }

    /// Returns every cached block to the system.
    func empty() {
        let blocks = lists.withLock { lists in
            defer {
                lists.small = lists.small.map { _ in [] }
                lists.free = [:]
                lists.cachedBytes = 0
            }
            return lists.small.flatMap { $0 } + lists.free.values.flatMap { $0 }
        }
        for block in blocks { block.raw.deallocate() }
    }
}
