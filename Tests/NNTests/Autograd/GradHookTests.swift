import XCTest
@testable import NN

/// Post-accumulate-grad hooks on parameters (what data-parallel training
/// starts its bucket allreduces from).
final class GradHookTests: XCTestCase {
    func testAHookRunsOncePerBackwardWithTheFinishedGradient() throws {
        let w = Parameter(Tensor([1, 2], shape: [2], on: .cpu))
        var seen: [[Float]] = []
        w.registerPostAccumulateGradHook { seen.append(try! $0.toArray()) }
        // w is used twice: the hook sees the sum of both paths, once.
        let x = Tensor([3, 4], shape: [2], on: .cpu)
        ((w.value * x).sum() + (w.value * w.value).sum()).backward()
        XCTAssertEqual(seen, [[3 + 2, 4 + 4]])
        // A second pass without zeroGrad: the hook gets the accumulated gradient.
        (w.value * x).sum().backward()
        XCTAssertEqual(seen.last, [5 + 3, 8 + 4])
        XCTAssertEqual(seen.count, 2)
    }

    func testHooksRunInTheOrderTheBackwardPassFinishesParameters() {
        let first = Parameter(Tensor([1], shape: [1], on: .cpu)), second = Parameter(Tensor([2], shape: [1], on: .cpu))
        var order: [String] = []
        first.registerPostAccumulateGradHook { _ in order.append("first") }
        second.registerPostAccumulateGradHook { _ in order.append("second") }
        // second is used last in the forward pass, so its gradient is done first.
        ((first.value * 3).tanh() * second.value).sum().backward()
        XCTAssertEqual(order, ["second", "first"])
    }

    func testAHookStaysWhenTheParameterGetsANewValueAndGoesWhenRemoved() throws {
        let w = Parameter(Tensor([1], shape: [1], on: .cpu))
        var calls = 0
        let handle = w.registerPostAccumulateGradHook { _ in calls += 1 }
        try w.assign(Tensor([5], shape: [1], on: .cpu))
        (w.value * 2).sum().backward()
        XCTAssertEqual(calls, 1)
        w.value = Tensor([7], shape: [1], on: .cpu)
        (w.value * 2).sum().backward()
        XCTAssertEqual(calls, 2)
        handle.remove()
        (w.value * 2).sum().backward()
        XCTAssertEqual(calls, 2)
    }
}
