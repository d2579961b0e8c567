import Foundation

/// MNIST-format data sets (IDX images + labels, plain or gzip-compressed).
public enum MNIST {
    /// Images scaled to [0, 1] as [count, 784] features (or [count, 1, 28, 28]
    /// with `flatten: false`), labels as int32 classes 0-9.
    public static func load(images: URL, labels: URL, flatten: Bool = true) throws -> Dataset {
        let imageArray = try IDX.read(contentsOf: images)
        let labelArray = try IDX.read(contentsOf: labels)
        guard imageArray.elementType == .uint8 && imageArray.shape.count == 3 else {
            throw DataFileError(file: images.path, message: "expected u8 images [count, rows, columns], found \(imageArray.elementType) \(imageArray.shape)")
        }
        guard labelArray.elementType == .uint8 && labelArray.shape.count == 1 else {
            throw DataFileError(file: labels.path, message: "expected u8 labels [count], found \(labelArray.elementType) \(labelArray.shape)")
        }
        guard imageArray.shape[0] == labelArray.shape[0] else {
            throw DataFileError(file: labels.path,
                                message: "has \(labelArray.shape[0]) labels for the \(imageArray.shape[0]) images of \(images.path)")
        }
        let classes = labelArray.int32s()!
        if let bad = classes.firstIndex(where: { $0 > 9 }) {
            throw DataFileError(file: labels.path, location: .byte(8 + bad), message: "label \(classes[bad]) of image \(bad) is not a digit 0-9")
        }
        let rows = imageArray.shape[1], columns = imageArray.shape[2]
        guard rows >= 1 && columns >= 1 else {
            throw DataFileError(file: images.path, message: "images of \(rows) x \(columns) pixels")
        }
        let pixels = imageArray.storage.map { Float($0) / 255 }
        return Dataset(features: pixels, featureShape: flatten ? [rows * columns] : [1, rows, columns], labels: classes)
    }

    /// The images and labels of `set` ("t10k" or "train") in `directory`,
    /// under the usual names: `<set>-images-idx3-ubyte` and
    /// `<set>-labels-idx1-ubyte`, with or without `.gz` (or with a dot
    /// before "idx").
    public static func load(directory: URL, set: String = "t10k", flatten: Bool = true) throws -> Dataset {
        let images = try file(directory, set, "images", "idx3"), labels = try file(directory, set, "labels", "idx1")
        return try load(images: images, labels: labels, flatten: flatten)
    }

    /// Whether `directory` holds the images and labels of `set`.
    public static func hasSet(_ set: String, in directory: URL) -> Bool {
        (try? file(directory, set, "images", "idx3")) != nil && (try? file(directory, set, "labels", "idx1")) != nil
    }

    private static func file(_ directory: URL, _ set: String, _ kind: String, _ idx: String) throws -> URL {
        let names = ["\(set)-\(kind)-\(idx)-ubyte", "\(set)-\(kind).\(idx)-ubyte"].flatMap { [$0 + ".gz", $0] }
        for name in names {
            let url = directory.appendingPathComponent(name)
            if FileManager.default.fileExists(atPath: url.path) { return url }
        }
        throw DataFileError(file: directory.path, message: "has no MNIST \(kind) file (looked for \(names.joined(separator: ", ")))")
    }

    /// The training and test sets of `directory`, pixels in [0, 1], in the
    /// standard layout: the `train-*` files train and the `t10k-*` files
    /// test when both are there (MNIST's 60,000/10,000, Fashion-MNIST's,
    /// the main job's sample); with only the t10k files, this project's
    /// convention for them: the first `trainCount` (8,000) images train,
    /// the rest test.
    public static func unnormalizedSplit(directory: URL, trainCount: Int = 8000, flatten: Bool = true) throws
        -> (train: Dataset, test: Dataset) {
        let test = try load(directory: directory, set: "t10k", flatten: flatten)
        if hasSet("train", in: directory) {
            let train = try load(directory: directory, set: "train", flatten: flatten)
            guard train.featureShape == test.featureShape else {
                throw DataFileError(file: directory.path, message: "train images are \(train.featureShape), t10k images \(test.featureShape)")
            }
            return (train, test)
        }
        guard trainCount > 0 && trainCount < test.count else {
            throw DataFileError(file: directory.path, message: "has no train-* files, and its \(test.count) t10k images cannot be split at \(trainCount)")
        }
        let (train, rest) = test.split(at: trainCount)
        return (train, rest)
    }

    /// `unnormalizedSplit`, both sets normalized with the scalar mean and
    /// std of the training set's [0, 1] pixels (returned as `standardizer`,
    /// which a model trained on them needs for any later input).
    public static func trainTestSplit(directory: URL, trainCount: Int = 8000, flatten: Bool = true) throws
        -> (train: Dataset, test: Dataset, standardizer: Standardizer) {
        let (train, test) = try unnormalizedSplit(directory: directory, trainCount: trainCount, flatten: flatten)
        let standardizer = Standardizer.fit(train, perFeature: false)
        return (standardizer.apply(train), standardizer.apply(test), standardizer)
    }
}
