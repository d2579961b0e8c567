import Foundation
import NNBackend
import Synchronization

/// The source of (seed, stream) pairs for random tensors and dropout.
///
/// Every random op takes the next stream of the current seed, so a program
/// that calls `Random.manualSeed(s)` and then does the same things gets the
/// same numbers on every backend (the values depend only on seed, stream and
/// element index).
///
/// The sequence is the process's, shared by every task, unless a task runs
/// its work inside `Random.withSeed(_:_:)`: then that work (and the child
/// tasks it starts; a detached task does not inherit it) draws from a
/// sequence of its own, as with a PyTorch generator, so two models trained
/// at once on two threads draw what each would alone.
public enum Random {
    /// A sequence of streams: the seed and the next stream.
    final class Source: Sendable {
        let state: Mutex<(seed: UInt64, stream: UInt64)>
        init(seed: UInt64) { state = Mutex((seed, 0)) }
    }

    private static let global = Source(seed: 0x5EED)
    @TaskLocal private static var local: Source?

    private static var current: Source { local ?? global }

    /// Restarts the sequence of streams from `seed` (PyTorch's manual_seed):
    /// the process's, or inside `withSeed` that task's own.
    public static func manualSeed(_ newSeed: UInt64) {
        current.state.withLock { $0 = (newSeed, 0) }
    }

    /// Runs `body` with a sequence of its own starting at `seed` (stream 0),
    /// leaving the process's sequence as it was. Child tasks started inside
    /// `body` (a task group's, `async let`) share the new sequence.
    public static func withSeed<R>(_ seed: UInt64, _ body: () throws -> R) rethrows -> R {
        try $local.withValue(Source(seed: seed), operation: body)
    }

    /// Where the sequence stands: the seed and the next stream. A training
    /// checkpoint saves it so that dropout after a resume draws what it
    /// would have drawn.
    public static var state: (seed: UInt64, stream: UInt64) {
        get { current.state.withLock { $0 } }
        set { current.state.withLock { $0 = newValue } }
    }

    /// The pair the next random op will use, then advances.
    public static func next() -> (seed: UInt64, stream: UInt64) {
        current.state.withLock { state in
            state.stream += 1
            return (state.seed, state.stream - 1)
        }
    }
}

extension Tensor {
    /// Uniform values in [low, high).
    public static func uniform(_ shape: [Int], low: Double = 0, high: Double = 1, dtype: DType = .float32,
                               on device: Device = .default) -> Tensor {
        let t = empty(shape, dtype: dtype, on: device), r = Random.next()
        device.backend.fillUniform(t.buffer, count: t.count, low: low, high: high, seed: r.seed, stream: r.stream)
        return t
    }

    /// Normal values with the given mean and standard deviation.
    public static func normal(_ shape: [Int], mean: Double = 0, std: Double = 1, dtype: DType = .float32,
                              on device: Device = .default) -> Tensor {
        let r = Random.next()
        return normal(shape, mean: mean, std: std, dtype: dtype, on: device, seed: r.seed, stream: r.stream)
    }

    /// Normal values from a given seed and stream, leaving the global random
    /// state alone (the gradient checker's fixed projection).
    package static func normal(_ shape: [Int], mean: Double = 0, std: Double = 1, dtype: DType,
                               on device: Device, seed: UInt64, stream: UInt64) -> Tensor {
        let t = empty(shape, dtype: dtype, on: device)
        device.backend.fillNormal(t.buffer, count: t.count, mean: mean, std: std, seed: seed, stream: stream)
        return t
    }

    /// Inverted dropout: in training, zeroes each element with probability p
    /// and scales the rest by 1 / (1 - p), so evaluation needs no rescaling.
    /// Outside training (or with p == 0) it is the identity.
    public func dropout(p: Double, training: Bool = true) -> Tensor {
        require(p >= 0 && p <= 1, "dropout: probability \(p) outside [0, 1] for input \(shape)")
        guard training && p > 0 else { return self }
        if p == 1 { return self * 0 }
        let mask = emptyLike(), r = Random.next()
        backend.fillDropoutMask(mask.buffer, count: count, p: p, seed: r.seed, stream: r.stream)
        return self * mask
    }
}
