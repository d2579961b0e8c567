import NNBackend

/// An n-dimensional array on a device, with reverse-mode autograd.
///
/// A tensor is a small value: shape, dtype, device and a reference to its
/// buffer. Data stays on its device; `toArray()` and `scalar()` are the only
/// ways back to the host. Tensors are dense and row-major; `reshaped` shares
/// the buffer, every other op writes a new one.
///
/// Setting `requiresGrad` makes a tensor a leaf of the autograd graph: ops on
/// it record how to propagate gradients, `backward()` on a result fills
/// `grad` of every leaf it depends on (accumulating, as PyTorch).
public struct Tensor: Sendable {
    public let shape: [Int]
    public let dtype: DType
    public let device: Device
    /// The device memory behind the tensor (opaque; pass it to the backend).
    public let buffer: DeviceBuffer
    /// The autograd record: nil for a tensor that needs no gradient.
    package var node: GradNode?

    /// Wraps an existing buffer. `buffer` must come from `device` and hold at
    /// least `shape`'s element count of `dtype`.
    public init(buffer: DeviceBuffer, shape: [Int], device: Device) {
        require(shape.allSatisfy { $0 >= 0 }, "Tensor: negative dimension in shape \(shape)")
        require(buffer.count >= shape.reduce(1, *),
                     "Tensor: buffer of \(buffer.count) elements is too small for shape \(shape)")
        self.shape = shape
        self.dtype = buffer.dtype
        self.device = device
        self.buffer = buffer
        self.node = nil
    }

    var backend: any Backend { device.backend }
    public var count: Int { shape.reduce(1, *) }
    public var rank: Int { shape.count }

    /// An uninitialized tensor (the output of an op about to write it).
    /// (A device that lacks float64 reports it as a thrown error at the next
    /// download, like any other device failure.)
    package static func empty(_ shape: [Int], dtype: DType, on device: Device) -> Tensor {
        Tensor(buffer: device.backend.makeBuffer(count: shape.reduce(1, *), dtype: dtype), shape: shape, device: device)
    }

    /// An uninitialized tensor like this one (same device and dtype unless
    /// given).
    package func emptyLike(_ shape: [Int]? = nil, dtype: DType? = nil) -> Tensor {
        Tensor.empty(shape ?? self.shape, dtype: dtype ?? self.dtype, on: device)
    }
}

// MARK: - Creation

extension Tensor {
    /// A float32 tensor holding `values` in row-major order.
    public init(_ values: [Float], shape: [Int]? = nil, on device: Device = .default) {
        self.init(host: values, shape: shape ?? [values.count], device: device)
    }

    /// A float64 tensor (CPU backend, gradient checks). Labelled so that an
    /// array literal always makes the float32 tensor users expect.
    public init(float64 values: [Double], shape: [Int]? = nil, on device: Device = .default) {
        self.init(host: values, shape: shape ?? [values.count], device: device)
    }

    /// An int32 tensor, e.g. class labels.
    public init(int32 values: [Int32], shape: [Int]? = nil, on device: Device = .default) {
        self.init(host: values, shape: shape ?? [values.count], device: device)
    }

    /// An int64 tensor: PyTorch's labels and indices (`torch.long`), taken
    /// by every op that takes labels or indices.
    public init(int64 values: [Int64], shape: [Int]? = nil, on device: Device = .default) {
        self.init(host: values, shape: shape ?? [values.count], device: device)
    }

    private init<T: HostScalar>(host values: [T], shape: [Int], device: Device) {
        require(shape.reduce(1, *) == values.count,
                     "Tensor: \(values.count) values do not fill shape \(shape)")
        self.init(buffer: device.backend.makeBuffer(values), shape: shape, device: device)
    }

    /// A tensor filled with `value`.
    public static func full(_ shape: [Int], _ value: Double, dtype: DType = .float32, on device: Device = .default) -> Tensor {
        let t = empty(shape, dtype: dtype, on: device)
        t.backend.fill(t.buffer, value: value, offset: 0, count: t.count)
        return t
    }

    public static func zeros(_ shape: [Int], dtype: DType = .float32, on device: Device = .default) -> Tensor {
        full(shape, 0, dtype: dtype, on: device)
    }

    public static func ones(_ shape: [Int], dtype: DType = .float32, on device: Device = .default) -> Tensor {
        full(shape, 1, dtype: dtype, on: device)
    }

    public func zerosLike() -> Tensor { Tensor.zeros(shape, dtype: dtype, on: device) }

    /// A copy of the data in a new buffer on the same device (a device-side
    /// copy), outside the graph.
    public func copied() -> Tensor {
        let out = Tensor.empty(shape, dtype: dtype, on: device)
        backend.copy(buffer, srcOffset: 0, to: out.buffer, dstOffset: 0, count: count)
        return out
    }
    public func onesLike() -> Tensor { Tensor.ones(shape, dtype: dtype, on: device) }
}

// MARK: - Host transfers

extension Tensor {
    /// The values as an array of their own element type (waits for the
    /// device; throws any error its queued work raised).
    public func toArray<T: HostScalar>(as type: T.Type) throws -> [T] {
        require(dtype == T.dtype, "toArray: tensor \(shape) is \(dtype), asked for \(T.dtype)")
        var values = [T](repeating: .zero, count: count)
        try values.withUnsafeMutableBytes { try backend.download(buffer, offset: 0, into: $0) }
        return values
    }

    /// The values as Float, whatever the dtype.
    public func toArray() throws -> [Float] {
        switch dtype {
        case .float32: return try toArray(as: Float.self)
        case .float64: return try toArray(as: Double.self).map { Float($0) }
        case .int32: return try toArray(as: Int32.self).map { Float($0) }
        case .int64: return try toArray(as: Int64.self).map { Float($0) }
        }
    }

    /// The single value of a one-element tensor.
    public func scalar() throws -> Float {
        require(count == 1, "scalar: tensor of shape \(shape) has \(count) elements, not 1")
        return try toArray()[0]
    }

    /// The single value as Double (exact for float64 tensors).
    public func scalarDouble() throws -> Double {
        require(count == 1, "scalarDouble: tensor of shape \(shape) has \(count) elements, not 1")
        switch dtype {
        case .float64: return try toArray(as: Double.self)[0]
        default: return Double(try scalar())
        }
    }
}

extension Tensor: CustomStringConvertible {
    public var description: String {
        "Tensor(shape: \(shape), dtype: \(dtype), device: \(device)\(requiresGrad ? ", requiresGrad" : ""))"
    }
}
