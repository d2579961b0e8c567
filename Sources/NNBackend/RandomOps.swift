/// Counter-based random numbers: element i of a fill depends only on
/// (seed, stream, i) through Philox4x32-10 (see `Philox`), so every backend
/// produces the same values bit for bit and fills can run in parallel.
///
/// Values are computed in float32 and stored converted to the buffer's dtype.
/// With u = `Philox.unitFloat` of element i's word and n = `Philox.normal`,
/// every backend computes exactly (in float32, no fused multiply-add):
/// uniform = Float(low) + Float(high - low) * u; normal = Float(mean) +
/// Float(std) * n; dropout = u < Float(p) ? 0 : Float(1) / (Float(1) - Float(p)).
public protocol RandomOps: AnyObject {
    /// Uniform in [low, high).
    func fillUniform(_ buffer: DeviceBuffer, count: Int, low: Double, high: Double,
                     seed: UInt64, stream: UInt64)

    /// Normal with the given mean and standard deviation (Box-Muller).
    func fillNormal(_ buffer: DeviceBuffer, count: Int, mean: Double, std: Double,
                    seed: UInt64, stream: UInt64)

    /// Inverted-dropout mask: 0 with probability p, else 1 / (1 - p).
    func fillDropoutMask(_ buffer: DeviceBuffer, count: Int, p: Double, seed: UInt64, stream: UInt64)
}
