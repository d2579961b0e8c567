import Synchronization
import XCTest
@testable import NN

/// Post-accumulate-grad hooks on parameters (what data-parallel training
/// starts its bucket allreduces from).
final class GradHookTests: XCTestCase {
    func testAHookRunsOncePerBackwardWithTheFinishedGradient() throws {
        let w = Parameter(Tensor([1, 2], shape: [2], on: .cpu))
        // Hooks are @Sendable (a backward pass may run on any task).
        let seen = Mutex<[[Float]]>([])
        w.registerPostAccumulateGradHook { g in seen.withLock { $0.append(try! g.toArray()) } }
        // w is used twice: the hook sees the sum of both paths, once.
        let x = Tensor([3, 4], shape: [2], on: .cpu)
        ((w.value * x).sum() + (w.value * w.value).sum()).backward()
        XCTAssertEqual(seen.withLock { $0 }, [[3 + 2, 4 + 4]])
        // A second pass without zeroGrad: the hook gets the accumulated gradient.
        (w.value * x).sum().backward()
        XCTAssertEqual(seen.withLock { $0.last }, [5 + 3, 8 + 4])
        XCTAssertEqual(seen.withLock { $0.count }, 2)
    }

    func testHooksRunInTheOrderTheBackwardPassFinishesParameters() {
        let first = Parameter(Tensor([1], shape: [1], on: .cpu)), second = Parameter(Tensor([2], shape: [1], on: .cpu))
        let order = Mutex<[String]>([])
        first.registerPostAccumulateGradHook { _ in order.withLock { $0.append("first") } }
        second.registerPostAccumulateGradHook { _ in order.withLock { $0.append("second") } }
        // second is used last in the forward pass, so its gradient is done first.
        ((first.value * 3).tanh() * second.value).sum().backward()
        XCTAssertEqual(order.withLock { $0 }, ["second", "first"])
    }

    func testAHookStaysWhenTheParameterGetsANewValueAndGoesWhenRemoved() throws {
        let w = Parameter(Tensor([1], shape: [1], on: .cpu))
        let calls = Mutex(0)
        let handle = w.registerPostAccumulateGradHook { _ in calls.withLock { $0 += 1 } }
        try w.assign(Tensor([5], shape: [1], on: .cpu))
        (w.value * 2).sum().backward()
        XCTAssertEqual(calls.withLock { $0 }, 1)
        w.value = Tensor([7], shape: [1], on: .cpu)
        (w.value * 2).sum().backward()
        XCTAssertEqual(calls.withLock { $0 }, 2)
        handle.remove()
        (w.value * 2).sum().backward()
        XCTAssertEqual(calls.withLock { $0 }, 2)
    }
}
