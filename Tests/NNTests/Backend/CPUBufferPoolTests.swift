import XCTest
import NN
@testable import NNCPU

/// The CPU backend keeps freed buffers for the next one of their size, so
/// a warm training step takes all its memory from the pool.
final class CPUBufferPoolTests: XCTestCase {
    func testAWarmTrainingStepAllocatesNothingFromTheSystem() throws {
        let model = Sequential(Linear(20, 32, device: .cpu), ReLU(), Dropout(0.1), Linear(32, 5, device: .cpu))
        let optimizer = Adam(model.parameters(), learningRate: 1e-3)
        let criterion = CrossEntropyLoss()
        let x = Tensor.normal([16, 20], on: .cpu)
        let labels = Tensor(int64: (0..<16).map { Int64($0 % 5) }, on: .cpu)
        func step() throws -> Float {
            optimizer.zeroGrad()
            let loss = criterion(model(x), labels)
            loss.backward()
            optimizer.step()
            return try loss.scalar()
        }
        let first = try step()
        _ = try step()
        let before = CPUBackend.systemAllocations
        var last = first
        for _ in 0..<5 { last = try step() }
        XCTAssertEqual(CPUBackend.systemAllocations, before, "warm steps should reuse the pool's buffers")
        XCTAssertLessThan(last, first, "and still train")
    }

    func testBlocksAreReusedByByteSizeAndTheLimitHolds() {
        let pool = CPUBufferPool(limit: 256)
        XCTAssertEqual(CPUBufferPool.blockSize(bytes: 0), 64)
        XCTAssertEqual(CPUBufferPool.blockSize(bytes: 65), 128)
        let a = pool.take(blockSize: 128)
        pool.recycle(a, blockSize: 128)
        XCTAssertEqual(pool.cachedBytes, 128)
        XCTAssertEqual(pool.take(blockSize: 128), a, "the freed block comes back for its size")
        XCTAssertEqual(pool.systemAllocations, 1)
        let big = pool.take(blockSize: 512)
        pool.recycle(big, blockSize: 512)  // over the 256-byte limit: freed, not kept
        XCTAssertEqual(pool.cachedBytes, 0)
        pool.recycle(a, blockSize: 128)
        pool.empty()
        XCTAssertEqual(pool.cachedBytes, 0)
        XCTAssertEqual(pool.systemAllocations, 2)
    }
}
