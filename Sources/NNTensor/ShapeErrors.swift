import NNBackend

/// Messages for programmer mistakes. Every check in the tensor layer stops
/// with one of these, so the message always names the operation and the
/// shapes (or devices, dtypes) involved. Kept as plain functions so tests can
/// check the wording without trapping.
package enum ShapeErrors {
    package static func mismatch(_ op: String, _ a: [Int], _ b: [Int], _ detail: String) -> String {
        "\(op): \(detail): shapes \(a) and \(b)"
    }

    package static func notBroadcastable(_ op: String, _ a: [Int], _ b: [Int]) -> String {
        mismatch(op, a, b, "shapes cannot be broadcast together")
    }

    package static func badAxis(_ op: String, axis: Int, shape: [Int]) -> String {
        "\(op): axis \(axis) is out of range for a tensor of shape \(shape) (rank \(shape.count))"
    }

    package static func badRank(_ op: String, shape: [Int], expected: String) -> String {
        "\(op): expected \(expected), got shape \(shape)"
    }

    package static func mixedDevices(_ op: String, _ a: Tensor, _ b: Tensor) -> String {
        "\(op): tensors on different devices: \(a.shape) on \(a.device) and \(b.shape) on \(b.device)"
    }

    package static func mixedDTypes(_ op: String, _ a: Tensor, _ b: Tensor) -> String {
        "\(op): dtypes differ: \(a.shape) is \(a.dtype) and \(b.shape) is \(b.dtype)"
    }
}

extension Tensor {
    /// Stops unless `a` and `b` share a device and dtype.
    package static func checkCompatible(_ op: String, _ a: Tensor, _ b: Tensor) {
        require(a.device == b.device, ShapeErrors.mixedDevices(op, a, b))
        require(a.dtype == b.dtype, ShapeErrors.mixedDTypes(op, a, b))
    }

    /// `axis` with negative values counted from the end; stops if out of range.
    func normalizedAxis(_ axis: Int, _ op: String, rank: Int? = nil) -> Int {
        let r = rank ?? shape.count
        let a = axis < 0 ? axis + r : axis
        require(a >= 0 && a < r, ShapeErrors.badAxis(op, axis: axis, shape: shape))
        return a
    }
}
