import NN

/// The per-op cost of the tensor API on tiny tensors, where launching and
/// bookkeeping (shape checks, broadcast layouts, graph recording) is the
/// whole time: add of 64 floats without and with autograd recording, ReLU
/// of 64 floats recorded, a 16x16 matmul, add + backward, and a 5-op MLP
/// forward + backward (matmul, add, relu, matmul, sum). Each repeat runs
/// the op 1,000 times (10 at the tiny scale of the tests), so the median
/// in ms is microseconds per op.
enum SmallOpsSuite {
    static func cases(_ scale: Scale) -> [BenchmarkCase] {
        let repeatsPerSample = scale == .tiny ? 10 : 1000
        func small(_ name: String, _ make: @escaping (Device) -> () -> Void) -> BenchmarkCase {
            BenchmarkCase(.small, "\(name) x\(repeatsPerSample)", work: .none) { device in
                let op = make(device)
                return { for _ in 0..<repeatsPerSample { op() } }
            }
        }
        return [
            small("add 64") { device in
                let a = Tensor.uniform([64], on: device), b = Tensor.uniform([64], on: device)
                return { _ = withNoGrad { a + b } }
            },
            small("add 64 recorded") { device in
                let a = Tensor.uniform([64], on: device).requiringGrad(), b = Tensor.uniform([64], on: device)
                return { _ = a + b }
            },
            small("relu 64 recorded") { device in
                let a = Tensor.uniform([64], low: -1, high: 1, on: device).requiringGrad()
                return { _ = a.relu() }
            },
            small("matmul 16x16") { device in
                let a = Tensor.uniform([16, 16], on: device), b = Tensor.uniform([16, 16], on: device)
                return { _ = withNoGrad { a.matmul(b) } }
            },
            small("add 64 + backward") { device in
                let a = Tensor.uniform([64], on: device).requiringGrad(), b = Tensor.uniform([64], on: device)
                return {
                    a.zeroGrad()
                    (a + b).sum().backward()
                }
            },
            small("tiny MLP 5 ops + backward") { device in
                let x = Tensor.uniform([4, 8], on: device)
                let w1 = Tensor.uniform([8, 8], on: device).requiringGrad(), b1 = Tensor.uniform([8], on: device).requiringGrad()
                let w2 = Tensor.uniform([8, 2], on: device).requiringGrad()
                return {
                    [w1, b1, w2].forEach { $0.zeroGrad() }
                    (x.matmul(w1) + b1).relu().matmul(w2).sum().backward()
                }
            },
        ]
    }
}
