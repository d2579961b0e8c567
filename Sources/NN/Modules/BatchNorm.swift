import Synchronization

/// Batch normalization over every axis but the channel axis 1, with PyTorch's
/// semantics (`torch.nn.modules.batchnorm._BatchNorm`). `BatchNorm1d` (and
/// the 2-D variant for images) are this class with a check of the input
/// rank.
///
/// In training mode (or always, with `trackRunningStats: false`) the input is
/// normalized with the batch mean and the biased batch variance, and the
/// running statistics move towards the batch's:
///
///     running_mean = (1 - momentum) * running_mean + momentum * mean
///     running_var  = (1 - momentum) * running_var  + momentum * var * n / (n - 1)
///
/// with n the number of values per channel (the unbiased variance, as
/// PyTorch). `momentum: nil` uses the cumulative average instead (factor
/// 1 / num_batches_tracked). In evaluation mode the running statistics
/// normalize. The output is y = (x - mean) / sqrt(var + eps) * weight + bias.
///
/// State dict (PyTorch's names and order): `weight`, `bias` [C] (ones and
/// zeros; absent without `affine`), then the buffers `running_mean`,
/// `running_var` [C] (zeros and ones) and `num_batches_tracked` (absent
/// without `trackRunningStats`). `num_batches_tracked` is a shape-[] int32
/// tensor here (int64 in PyTorch): the counter is updated on the host and
/// uploaded, and int64 tensors are storage only, so `loadStateDict`
/// converts PyTorch's int64 (or a float) to it, as PyTorch's copy casts.
/// `@unchecked Sendable` (see `Module`): its settings are `let`s, and its
/// momentum and running statistics change under `state`'s lock.
open class BatchNormBase: Module, @unchecked Sendable {
    public let numFeatures: Int
    public let eps: Double
    /// nil: cumulative moving average (what `updateBatchNorm` sets while it
    /// recomputes the statistics).
    public var momentum: Double? {
        get { state.withLock { $0.momentum } }
        set { state.withLock { $0.momentum = newValue } }
    }
    public let affine: Bool
    public let trackRunningStats: Bool

    /// Scale [C] (nil without `affine`).
    public let weight: Parameter?
    /// Shift [C] (nil without `affine`).
    public let bias: Parameter?
    /// Buffers (nil without `trackRunningStats`).
    public let runningMean: Parameter?
    public let runningVar: Parameter?
    public let numBatchesTracked: Parameter?

    private struct State {
        var momentum: Double?
        /// The number of batches the running statistics have seen, kept on
        /// the host so that training never waits for the device to read the
        /// counter; re-read when the buffer was replaced (a loaded
        /// checkpoint).
        var trackedCount: (value: Int, buffer: DeviceBuffer)?
    }
    /// Locked for each update of the running statistics, so that tasks
    /// sharing the layer update them one at a time.
    private let state: Mutex<State>

    public init(_ numFeatures: Int, eps: Double = 1e-5, momentum: Double? = 0.1, affine: Bool = true,
                trackRunningStats: Bool = true, dtype: DType = .float32, device: Device = .default) {
        require(numFeatures >= 1, "\(Self.self): numFeatures must be at least 1, got \(numFeatures)")
        require(dtype.isFloatingPoint, "\(Self.self): needs a float dtype, got \(dtype)")
        self.numFeatures = numFeatures
        self.eps = eps
        state = Mutex(State(momentum: momentum, trackedCount: nil))
        self.affine = affine
        self.trackRunningStats = trackRunningStats
        weight = affine ? Parameter(Init.ones([numFeatures], dtype: dtype, on: device)) : nil
        bias = affine ? Parameter(Init.zeros([numFeatures], dtype: dtype, on: device)) : nil
        runningMean = trackRunningStats ? Parameter(Init.zeros([numFeatures], dtype: dtype, on: device), trainable: false) : nil
        runningVar = trackRunningStats ? Parameter(Init.ones([numFeatures], dtype: dtype, on: device), trainable: false) : nil
        numBatchesTracked = trackRunningStats ? Parameter(Tensor.zeros([], dtype: .int32, on: device), trainable: false) : nil
        super.init()
        if let weight, let bias {
            register(parameter: "weight", weight)
            register(parameter: "bias", bias)
        }
        if let runningMean, let runningVar, let numBatchesTracked {
            register(buffer: "running_mean", runningMean)
            register(buffer: "running_var", runningVar)
            register(buffer: "num_batches_tracked", numBatchesTracked)
        }
    }

    public override var summary: String {
        var parts = ["\(numFeatures)"]
        if eps != 1e-5 { parts.append("eps: \(eps)") }
        if momentum != 0.1 { parts.append("momentum: \(momentum.map { "\($0)" } ?? "nil")") }
        if !affine { parts.append("affine: false") }
        if !trackRunningStats { parts.append("trackRunningStats: false") }
        return "\(type(of: self))(" + parts.joined(separator: ", ") + ")"
    }

    /// Stops with a message when `input` has the wrong rank for this layer.
    /// The base accepts any [N, C, ...].
    open func checkInputRank(_ input: Tensor) {
        require(input.rank >= 2, "\(type(of: self)): expected input [N, C, ...], got \(input.shape)")
    }

    open override func forward(_ input: Tensor) -> Tensor {
        checkInputRank(input)
        require(input.shape[1] == numFeatures,
                     "\(type(of: self))(\(numFeatures)): input \(input.shape) has \(input.shape[1]) channels on axis 1, expected \(numFeatures)")
        // [1, C, 1, ..., 1]: per-channel values line up with axis 1.
        let channelShape = [1, numFeatures] + [Int](repeating: 1, count: input.rank - 2)
        let axes = [0] + Array(2..<input.rank)
        let normalized: Tensor
        if !isTraining, let runningMean, let runningVar {
            let mean = runningMean.value.reshaped(channelShape), variance = runningVar.value.reshaped(channelShape)
            normalized = (input - mean) / (variance + eps).sqrt()
        } else {
            let n = input.count / numFeatures
            require(n > 1, "\(type(of: self)): expected more than 1 value per channel when training, got input \(input.shape)")
            let mean = input.mean(axes: axes, keepDims: true)
            let centered = input - mean
            let variance = centered.square().mean(axes: axes, keepDims: true)  // biased
            normalized = centered / (variance + eps).sqrt()
            if isTraining && trackRunningStats {
                updateRunningStats(mean: mean, biasedVariance: variance, n: n)
            }
        }
        guard let weight, let bias else { return normalized }
        return normalized * weight.value.reshaped(channelShape) + bias.value.reshaped(channelShape)
    }

    /// Running mean 0, variance 1 and batch count 0 (PyTorch's
    /// `reset_running_stats`).
    public func resetRunningStats() {
        guard let runningMean, let runningVar, let numBatchesTracked else { return }
        runningMean.value = runningMean.value.zerosLike()
        runningVar.value = Tensor.full(runningVar.shape, 1, dtype: runningVar.value.dtype, on: runningVar.device)
        numBatchesTracked.value = Tensor.zeros([], dtype: .int32, on: numBatchesTracked.device)
        state.withLock { $0.trackedCount = nil }
    }

    private func updateRunningStats(mean: Tensor, biasedVariance: Tensor, n: Int) {
        guard let runningMean, let runningVar, let numBatchesTracked else { return }
        withNoGrad { state.withLock { s in
            let count = batchesTracked(numBatchesTracked, cached: s.trackedCount) + 1
            s.trackedCount = nil
            numBatchesTracked.value = Tensor(int32: [Int32(truncatingIfNeeded: count)], shape: [],
                                             on: numBatchesTracked.device)
            s.trackedCount = (count, numBatchesTracked.value.buffer)
            let factor = s.momentum ?? 1 / Double(count)
            let unbiased = biasedVariance.detached().reshaped([numFeatures]) * (Double(n) / Double(n - 1))
            let batchMean = mean.detached().reshaped([numFeatures])
            runningMean.value = runningMean.value * (1 - factor) + batchMean * factor
            runningVar.value = runningVar.value * (1 - factor) + unbiased * factor
        } }
    }

    /// The counter's value: from the host copy unless the buffer changed
    /// behind it (then one read from the device).
    private func batchesTracked(_ counter: Parameter, cached trackedCount: (value: Int, buffer: DeviceBuffer)?) -> Int {
        if let trackedCount, trackedCount.buffer === counter.value.buffer { return trackedCount.value }
        do {
            return Int(try counter.value.toArray(as: Int32.self)[0])
        } catch {
            requirementFailed("\(type(of: self)): cannot read num_batches_tracked: \(error)")
        }
    }
}

/// Batch normalization of [N, C] or [N, C, L] inputs, per channel C
/// (PyTorch's `nn.BatchNorm1d`); see `BatchNormBase` for the semantics.
public final class BatchNorm1d: BatchNormBase, @unchecked Sendable {
    public override func checkInputRank(_ input: Tensor) {
        require(input.rank == 2 || input.rank == 3,
                     "BatchNorm1d: expected 2D or 3D input [N, C] or [N, C, L], got \(input.shape)")
    }
}

/// Batch normalization of [N, C, H, W] images, per channel C over N, H and
/// W (PyTorch's `nn.BatchNorm2d`); see `BatchNormBase` for the semantics.
/// The usual place is between a convolution and its activation:
///
///     Sequential(Conv2d(3, 16, kernelSize: 3, padding: 1, bias: false), BatchNorm2d(16), ReLU())
public final class BatchNorm2d: BatchNormBase, @unchecked Sendable {
    public override func checkInputRank(_ input: Tensor) {
        if let problem = BatchNorm2d.rankProblem(input.shape) { requirementFailed(problem) }
    }

    /// The message for an input that is not 4-D, or nil.
    static func rankProblem(_ shape: [Int]) -> String? {
        shape.count == 4 ? nil : "BatchNorm2d: expected 4D input [N, C, H, W], got \(shape)"
    }
}
