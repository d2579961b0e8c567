/// Samples held in host memory: features (every sample the same shape) and
/// labels, either class indices or float targets.
///
/// Data stays on the host until a batch is made: `batch(_:on:)` (and a
/// `DataLoader`) gathers the chosen samples and uploads only those to the
/// device. `featuresTensor(on:)` and `labelsTensor(on:)` upload everything
/// at once for small sets (evaluation in one pass).
public struct Dataset: Sendable {
    public enum Labels: Sendable {
        /// One class index per sample (int32 tensors, as cross-entropy wants).
        case classes([Int32])
        /// Float32 targets of `shape` per sample (regression).
        case targets([Float], shape: [Int])
    }

    /// count x featureShape values, row-major.
    public let features: [Float]
    /// The shape of one sample, e.g. [784] or [1, 28, 28].
    public let featureShape: [Int]
    public let labels: Labels
    /// Number of samples.
    public let count: Int

    /// Values per sample.
    public var featureSize: Int { featureShape.reduce(1, *) }

    /// A classification set: `labels[i]` is the class of sample i.
    public init(features: [Float], featureShape: [Int], labels: [Int32]) {
        self.init(features: features, featureShape: featureShape, storedLabels: .classes(labels), count: labels.count)
    }

    /// A classification set from labels of any integer type: `[Int]`,
    /// `[Int64]` (PyTorch's and NumPy's default integers), `[UInt8]` (IDX
    /// files). Each must fit int32, the batches' label type.
    public init<Label: BinaryInteger>(features: [Float], featureShape: [Int], labels: [Label]) {
        if let bad = labels.firstIndex(where: { Int32(exactly: $0) == nil }) {
            requirementFailed("Dataset: label \(labels[bad]) (sample \(bad)) is outside the int32 range of class labels")
        }
        self.init(features: features, featureShape: featureShape, labels: labels.map { Int32($0) })
    }

    /// A regression set: `targets` holds count x targetShape values.
    public init(features: [Float], featureShape: [Int], targets: [Float], targetShape: [Int] = []) {
        let size = targetShape.reduce(1, *)
        require(targetShape.allSatisfy { $0 >= 1 }, "Dataset: bad target shape \(targetShape)")
        require(targets.count % size == 0, "Dataset: \(targets.count) targets do not divide into samples of \(targetShape)")
        self.init(features: features, featureShape: featureShape, storedLabels: .targets(targets, shape: targetShape),
                  count: targets.count / size)
    }

    /// From tensors whose first axis is the sample axis (downloads them):
    /// int32 and int64 labels become classes, float labels targets.
    public init(features: Tensor, labels: Tensor) throws {
        require(features.rank >= 1 && labels.rank >= 1 && features.shape[0] == labels.shape[0],
                     "Dataset: features \(features.shape) and labels \(labels.shape) need the same first (sample) axis")
        let values = try features.toArray()
        let featureShape = Array(features.shape.dropFirst())
        if labels.dtype == .int64 {
            require(labels.rank == 1, "Dataset: int64 labels must be [count], got \(labels.shape)")
            self.init(features: values, featureShape: featureShape, labels: try labels.toArray(as: Int64.self))
        } else if labels.dtype == .int32 {
            require(labels.rank == 1, "Dataset: int32 labels must be [count], got \(labels.shape)")
            self.init(features: values, featureShape: featureShape, labels: try labels.toArray(as: Int32.self))
        } else {
            self.init(features: values, featureShape: featureShape, storedLabels: .targets(try labels.toArray(), shape: Array(labels.shape.dropFirst())),
                      count: labels.shape[0])
        }
    }

    private init(features: [Float], featureShape: [Int], storedLabels: Labels, count: Int) {
        require(featureShape.allSatisfy { $0 >= 1 }, "Dataset: bad feature shape \(featureShape)")
        require(features.count == count * featureShape.reduce(1, *),
                     "Dataset: \(features.count) feature values are not \(count) samples of \(featureShape)")
        self.features = features
        self.featureShape = featureShape
        self.labels = storedLabels
        self.count = count
    }

    /// The class indices (nil for a regression set).
    public var classLabels: [Int32]? {
        if case .classes(let classes) = labels { return classes }
        return nil
    }

    /// The same labels with other features (e.g. normalized ones).
    public func replacingFeatures(_ newFeatures: [Float], featureShape newShape: [Int]? = nil) -> Dataset {
        Dataset(features: newFeatures, featureShape: newShape ?? featureShape, storedLabels: labels, count: count)
    }

    // MARK: Subsets and splits

    /// The samples at `indices`, in that order (repeats allowed).
    public func subset(_ indices: [Int]) -> Dataset {
        let (features, labels) = gather(indices)
        return Dataset(features: features, featureShape: featureShape, storedLabels: labels, count: indices.count)
    }

    /// The samples in `range`.
    public func subset(_ range: Range<Int>) -> Dataset {
        require(range.lowerBound >= 0 && range.upperBound <= count, "Dataset.subset: range \(range) out of 0..<\(count)")
        let size = featureSize
        let labels: Labels
        switch self.labels {
        case .classes(let classes): labels = .classes(Array(classes[range]))
        case .targets(let targets, let shape):
            let t = shape.reduce(1, *)
            labels = .targets(Array(targets[range.lowerBound * t..<range.upperBound * t]), shape: shape)
        }
        return Dataset(features: Array(features[range.lowerBound * size..<range.upperBound * size]), featureShape: featureShape,
                       storedLabels: labels, count: range.count)
    }

    /// The first `index` samples and the rest (e.g. MNIST's 8,000 / 2,000).
    public func split(at index: Int) -> (first: Dataset, second: Dataset) {
        require(index >= 0 && index <= count, "Dataset.split: index \(index) out of 0...\(count)")
        return (subset(0..<index), subset(index..<count))
    }

    /// A train/validation split with `validationFraction` of the samples
    /// (rounded) in the validation part. Without a seed the validation part
    /// is the last samples; with one, a seeded permutation (the same for the
    /// same seed, on any machine) picks them.
    public func split(validationFraction: Double, seed: UInt64? = nil) -> (train: Dataset, validation: Dataset) {
        require(validationFraction >= 0 && validationFraction <= 1,
                     "Dataset.split: validationFraction \(validationFraction) is not in [0, 1]")
        let validationCount = Int((Double(count) * validationFraction).rounded())
        guard let seed else {
            let (train, validation) = split(at: count - validationCount)
            return (train, validation)
        }
        let order = DataLoader.permutation(count: count, seed: seed, stream: DataLoader.splitStream)
        return (subset(Array(order[validationCount...])), subset(Array(order[..<validationCount])))
    }

    // MARK: Tensors

    /// The samples at `indices` as a batch on `device`: inputs
    /// [indices.count] + featureShape, labels [indices.count] (int32) or
    /// [indices.count] + target shape (float32).
    public func batch(_ indices: [Int], on device: Device = .default) -> Batch {
        let (features, labels) = gather(indices)
        let n = indices.count
        let inputs = Tensor(features, shape: [n] + featureShape, on: device)
        switch labels {
        case .classes(let classes):
            return Batch(inputs: inputs, labels: Tensor(int32: classes, shape: [n], on: device), indices: indices)
        case .targets(let targets, let shape):
            return Batch(inputs: inputs, labels: Tensor(targets, shape: [n] + shape, on: device), indices: indices)
        }
    }

    /// Every sample's features, [count] + featureShape.
    public func featuresTensor(on device: Device = .default) -> Tensor {
        Tensor(features, shape: [count] + featureShape, on: device)
    }

    /// Every label: [count] int32 classes or [count] + shape float32 targets.
    public func labelsTensor(on device: Device = .default) -> Tensor {
        switch labels {
        case .classes(let classes): return Tensor(int32: classes, shape: [count], on: device)
        case .targets(let targets, let shape): return Tensor(targets, shape: [count] + shape, on: device)
        }
    }

    private func gather(_ indices: [Int]) -> ([Float], Labels) {
        let size = featureSize
        var gathered = [Float](repeating: 0, count: indices.count * size)
        features.withUnsafeBufferPointer { source in
            gathered.withUnsafeMutableBufferPointer { target in
                for (row, index) in indices.enumerated() {
                    require(index >= 0 && index < count, "Dataset: sample index \(index) out of 0..<\(count)")
                    let from = source.baseAddress! + index * size
                    (target.baseAddress! + row * size).update(from: from, count: size)
                }
            }
        }
        switch labels {
        case .classes(let classes):
            return (gathered, .classes(indices.map { classes[$0] }))
        case .targets(let targets, let shape):
            let t = shape.reduce(1, *)
            var picked = [Float]()
            picked.reserveCapacity(indices.count * t)
            for index in indices { picked += targets[index * t..<(index + 1) * t] }
            return (gathered, .targets(picked, shape: shape))
        }
    }
}

/// A batch of samples on a device.
public struct Batch: Sendable {
    /// [n] + the dataset's feature shape, float32.
    public let inputs: Tensor
    /// [n] int32 class indices, or [n] + target shape float32.
    public let labels: Tensor
    /// Which samples of the dataset these are.
    public let indices: [Int]

    public var count: Int { indices.count }
}
