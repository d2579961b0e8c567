/// Normalization by mean and standard deviation, x' = (x - mean) / std,
/// fitted on a training set and applied unchanged to every other split (so
/// nothing about the validation or test data leaks into training).
///
/// Per-feature (one mean/std per value of a sample, the usual choice for
/// tables) or scalar (one mean/std over every value, the MNIST convention:
/// pixels in [0, 1], then normalized with the training part's mean and std).
/// The standard deviation is the population one (divided by n, as
/// scikit-learn's StandardScaler and torchvision's MNIST constants); a
/// constant feature gets std 1, so it maps to 0 rather than to NaN.
public struct Standardizer: Equatable, Sendable {
    /// One value (scalar) or one per feature.
    public let mean: [Float]
    public let std: [Float]

    public var isPerFeature: Bool { mean.count > 1 }

    public init(mean: [Float], std: [Float]) {
        require(!mean.isEmpty && mean.count == std.count, "Standardizer: \(mean.count) means for \(std.count) stds")
        require(std.allSatisfy { $0 > 0 && $0.isFinite }, "Standardizer: std must be positive and finite, got \(std)")
        self.mean = mean
        self.std = std
    }

    /// Fits on `dataset`'s features: per feature (default) or one scalar
    /// mean/std over all values. Sums run in Double.
    public static func fit(_ dataset: Dataset, perFeature: Bool = true) -> Standardizer {
        require(dataset.count > 0, "Standardizer.fit: empty dataset")
        let size = dataset.featureSize
        let width = perFeature ? size : 1
        var sum = [Double](repeating: 0, count: width)
        var sumOfSquares = [Double](repeating: 0, count: width)
        // Two passes (mean, then squared deviations) for accuracy.
        dataset.features.withUnsafeBufferPointer { x in
            for (i, v) in x.enumerated() { sum[perFeature ? i % size : 0] += Double(v) }
            let samplesPerSlot = Double(perFeature ? dataset.count : dataset.count * size)
            let means = sum.map { $0 / samplesPerSlot }
            for (i, v) in x.enumerated() {
                let slot = perFeature ? i % size : 0
                let d = Double(v) - means[slot]
                sumOfSquares[slot] += d * d
            }
            sum = means
        }
        let n = Double(perFeature ? dataset.count : dataset.count * size)
        let std = sumOfSquares.map { s -> Float in
            let value = Float((s / n).squareRoot())
            return value > 0 && value.isFinite ? value : 1
        }
        return Standardizer(mean: sum.map { Float($0) }, std: std)
    }

    /// `dataset` with normalized features.
    public func apply(_ dataset: Dataset) -> Dataset {
        let size = dataset.featureSize
        require(!isPerFeature || mean.count == size,
                     "Standardizer: fitted on \(mean.count) features, the dataset has \(size) per sample")
        var out = dataset.features
        out.withUnsafeMutableBufferPointer { x in
            if isPerFeature {
                for i in 0..<x.count { x[i] = (x[i] - mean[i % size]) / std[i % size] }
            } else {
                let m = mean[0], s = std[0]
                for i in 0..<x.count { x[i] = (x[i] - m) / s }
            }
        }
        return dataset.replacingFeatures(out)
    }

    /// `x` normalized on its device: x is [n] + the fitted feature shape
    /// (per-feature) or any shape (scalar).
    public func apply(_ x: Tensor) -> Tensor {
        guard isPerFeature else { return (x - Double(mean[0])) / Double(std[0]) }
        let size = mean.count
        require(x.rank >= 1 && x.count % size == 0 && x.shape.dropFirst().reduce(1, *) == size,
                     "Standardizer.apply: input \(x.shape) is not [n, ...] with \(size) features per sample")
        let flat = x.reshaped([x.shape[0], size])
        let m = Tensor(mean, shape: [1, size], on: x.device).to(dtype: x.dtype)
        let s = Tensor(std, shape: [1, size], on: x.device).to(dtype: x.dtype)
        return ((flat - m) / s).reshaped(x.shape)
    }
}
