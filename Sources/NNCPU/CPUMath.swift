import NNBackend

/// Branch-free exp, sigmoid and tanh on 8 floats at a time.
///
/// glibc's expf/tanhf are opaque calls the vectorizer cannot see through,
/// and the LSTM cell evaluates five of them per unit per step. These are
/// Cephes' expf/tanhf (polynomials accurate to a few ulp) written with
/// lane selects instead of branches and SSE2-friendly rounding, on SIMD8, so
/// each call is a handful of vector instructions on any x86-64. Double keeps
/// libm: float64 runs are the reference (gradient checks), where the last
/// bit matters more than speed.
typealias FloatLanes = SIMD8<Float>

extension SIMD8 where Scalar == Float {
    @inline(__always)
    var bitPattern: SIMD8<UInt32> { unsafeBitCast(self, to: SIMD8<UInt32>.self) }

    @inline(__always)
    init(bitPattern bits: SIMD8<UInt32>) { self = unsafeBitCast(bits, to: SIMD8<Float>.self) }

    /// e^x (Cephes expf: Cody-Waite reduction x = n ln 2 + r, degree-6
    /// polynomial). Inputs are clamped to [-87.3, 88.3], where e^x is a
    /// normal float; NaN stays NaN.
    @inline(__always)
    static func expInline(_ x: FloatLanes) -> FloatLanes {
        var x = x.replacing(with: -87.3, where: x .< -87.3)
        x = x.replacing(with: 88.3, where: x .> 88.3)
        // n = round(x / ln 2): adding 1.5 * 2^23 rounds to an integer, which
        // then sits in the low mantissa bits of t.
        let shifter = FloatLanes(repeating: 12_582_912)
        let t = x * 1.442_695_04 + shifter
        let n = t - shifter
        let r = x - n * 0.693_359_375 + n * 2.121_944_40e-4
        var p = FloatLanes(repeating: 1.987_569_150_0e-4)
        p = p * r + 1.398_199_950_7e-3
        p = p * r + 8.333_451_907_3e-3
        p = p * r + 4.166_579_589_4e-2
        p = p * r + 1.666_666_545_9e-1
        p = p * r + 5.000_000_120_1e-1
        let y = p * r * r + r + 1
        // 2^n from the integer in t's mantissa: n + 127 in the exponent field.
        let exponent = (t.bitPattern &- 0x4B40_0000 &+ 127) &<< 23
        return y * FloatLanes(bitPattern: exponent)
    }

    /// 1 / (1 + e^-x).
    @inline(__always)
    static func sigmoidInline(_ x: FloatLanes) -> FloatLanes { 1 / (1 + expInline(-x)) }

    /// tanh (Cephes tanhf): an odd polynomial below |x| = 0.625, else
    /// sign(x) (1 - 2 / (e^2|x| + 1)).
    @inline(__always)
    static func tanhInline(_ x: FloatLanes) -> FloatLanes {
        let z = x * x
        var p = FloatLanes(repeating: -5.704_988_727_45e-3)
        p = p * z + 2.063_908_879_54e-2
        p = p * z - 5.373_971_555_31e-2
        p = p * z + 1.333_144_220_36e-1
        p = p * z - 3.333_328_194_22e-1
        let small = p * z * x + x
        let magnitude = FloatLanes(bitPattern: x.bitPattern & 0x7FFF_FFFF)
        let large = 1 - 2 / (expInline(2 * magnitude) + 1)
        let signed = FloatLanes(bitPattern: large.bitPattern | (x.bitPattern & 0x8000_0000))
        return small.replacing(with: signed, where: .!(magnitude .< 0.625))
    }
}

extension Float {
    // One lane of the vector versions (loop tails; tests).
    @inline(__always)
    static func expInline(_ x: Float) -> Float { FloatLanes.expInline(FloatLanes(repeating: x))[0] }

    @inline(__always)
    static func sigmoidInline(_ x: Float) -> Float { FloatLanes.sigmoidInline(FloatLanes(repeating: x))[0] }

    @inline(__always)
    static func tanhInline(_ x: Float) -> Float { FloatLanes.tanhInline(FloatLanes(repeating: x))[0] }
}

extension Double {
    @inline(__always)
    static func sigmoidInline(_ x: Double) -> Double { 1 / (1 + Double.exp(-x)) }

    @inline(__always)
    static func tanhInline(_ x: Double) -> Double { Double.tanh(x) }
}
