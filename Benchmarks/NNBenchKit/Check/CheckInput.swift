import NN

/// SplitMix64: a tiny seeded generator for check and test inputs,
/// independent of the library's Philox streams that the checks compare.
public struct SplitMix64: RandomNumberGenerator {
    public var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1) with 53 bits.
    public mutating func unit() -> Double { Double(next() >> 11) * 0x1p-53 }

    public mutating func uniform(_ low: Double, _ high: Double) -> Double { low + (high - low) * unit() }

    /// `count` doubles uniform in [low, high), each exactly representable as
    /// a Float (so float32 and float64 runs see the same inputs).
    public mutating func floats(_ count: Int, _ low: Double = -1, _ high: Double = 1) -> [Double] {
        (0..<count).map { _ in Double(Float(uniform(low, high))) }
    }

    public mutating func int(_ range: Range<Int>) -> Int {
        range.lowerBound + Int(next() % UInt64(range.count))
    }
}

/// Host data for one operand of a check, uploaded identically to every
/// backend that is compared.
public enum CheckInput {
    case float([Float])
    case double([Double])
    case int([Int32])

    public func upload(to backend: any Backend) -> DeviceBuffer {
        switch self {
        case .float(let v): return backend.makeBuffer(v)
        case .double(let v): return backend.makeBuffer(v)
        case .int(let v): return backend.makeBuffer(v)
        }
    }

    /// `count` seeded values uniform in [low, high).
    public static func random(_ count: Int, seed: UInt64, low: Double = -1, high: Double = 1,
                              dtype: DType = .float32) -> CheckInput {
        var rng = SplitMix64(seed: seed &+ 0x9E37_79B9_7F4A_7C15)
        let values = (0..<count).map { _ in rng.uniform(low, high) }
        return dtype == .float64 ? .double(values) : .float(values.map { Float($0) })
    }

    /// `count` class labels in 0..<classes, every class hit in turn.
    public static func labels(_ count: Int, classes: Int, seed: UInt64) -> CheckInput {
        .int((0..<count).map { Int32((UInt64($0) &* 2_654_435_761 &+ seed) % UInt64(classes)) })
    }

    /// The same values in `dtype` (float64 values rounded to float32).
    public func converted(to dtype: DType) -> CheckInput {
        switch (self, dtype) {
        case (.double(let v), .float32): return .float(v.map { Float($0) })
        case (.float(let v), .float64): return .double(v.map(Double.init))
        default: return self
        }
    }
}

/// The values of any buffer as Doubles (exact for every dtype but int64
/// beyond 2^53, which no check uses).
public func downloadAsDoubles(_ backend: any Backend, _ buffer: DeviceBuffer) throws -> [Double] {
    switch buffer.dtype {
    case .float32: return try backend.download(buffer, as: Float.self).map(Double.init)
    case .float64: return try backend.download(buffer, as: Double.self)
    case .int32: return try backend.download(buffer, as: Int32.self).map(Double.init)
    case .int64: return try backend.download(buffer, as: Int64.self).map(Double.init)
    }
}
