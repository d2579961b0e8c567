/// Element types a device buffer can hold.
///
/// Float32 is the working type everywhere. Float64 exists so the gradient
/// checker can run central differences without float32 round-off (the CPU
/// backend supports it for every op; an OpenCL device only if it has fp64).
/// Int32 holds class labels and the indices produced by argmax and max-pool.
/// Int64 is PyTorch's integer type (its labels, indices, `num_batches_tracked`):
/// such tensors are stored, moved, converted and saved, and every op that
/// takes labels or indices accepts them, converting to int32 (values outside
/// the int32 range become -2^31, which that op's range check then reports).
public enum DType: String, Sendable, CaseIterable, CustomStringConvertible {
    case float32
    case float64
    case int32
    case int64

    /// Bytes per element.
    public var byteSize: Int {
        switch self {
        case .float32, .int32: return 4
        case .float64, .int64: return 8
        }
    }

    public var isFloatingPoint: Bool { self == .float32 || self == .float64 }

    public var description: String { rawValue }
}
