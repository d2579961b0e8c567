/// Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2,
/// 3", SC'11) and the float transforms every backend applies to its output.
///
/// Element i of a fill with (seed, stream) takes word i % 4 of the block for
/// counter (i / 4 low, i / 4 high, stream low, stream high) and key (seed low,
/// seed high). The transforms use only integer arithmetic, float32 add and
/// multiply, and a correctly rounded sqrt, in a fixed order, so an OpenCL
/// kernel (built with contraction off and correctly rounded sqrt) gives the
/// same bits as this code.
public enum Philox {
    public typealias Block = (UInt32, UInt32, UInt32, UInt32)

    static let multiplier0: UInt32 = 0xD251_1F53
    static let multiplier1: UInt32 = 0xCD9E_8D57
    static let weyl0: UInt32 = 0x9E37_79B9
    static let weyl1: UInt32 = 0xBB67_AE85

    /// The 10-round Philox4x32 bijection of `counter` under `key`.
    @inline(__always)
    public static func block(counter: Block, key: (UInt32, UInt32)) -> Block {
        var c = counter
        var k0 = key.0, k1 = key.1
        for round in 0..<10 {
            if round > 0 {
                k0 &+= weyl0
                k1 &+= weyl1
            }
            let p0 = UInt64(multiplier0) &* UInt64(c.0)
            let p1 = UInt64(multiplier1) &* UInt64(c.2)
            c = (UInt32(truncatingIfNeeded: p1 >> 32) ^ c.1 ^ k0, UInt32(truncatingIfNeeded: p1),
                 UInt32(truncatingIfNeeded: p0 >> 32) ^ c.3 ^ k1, UInt32(truncatingIfNeeded: p0))
        }
        return c
    }

    /// The block holding element `4 * blockIndex ..< 4 * blockIndex + 4` of a
    /// fill.
    @inline(__always)
    public static func block(_ blockIndex: UInt64, seed: UInt64, stream: UInt64) -> Block {
        block(counter: (UInt32(truncatingIfNeeded: blockIndex), UInt32(truncatingIfNeeded: blockIndex >> 32),
                        UInt32(truncatingIfNeeded: stream), UInt32(truncatingIfNeeded: stream >> 32)),
              key: (UInt32(truncatingIfNeeded: seed), UInt32(truncatingIfNeeded: seed >> 32)))
    }

    @inline(__always)
    public static func word(_ b: Block, _ i: Int) -> UInt32 {
        switch i & 3 {
        case 0: return b.0
        case 1: return b.1
        case 2: return b.2
        default: return b.3
        }
    }

    /// Uniform in [0, 1) with 24 random bits: (word >> 8) * 2^-24.
    @inline(__always)
    public static func unitFloat(_ word: UInt32) -> Float { Float(word >> 8) * 0x1p-24 }

    /// Element i of a uniform fill on [0, 1).
    @inline(__always)
    public static func uniform(_ i: Int, seed: UInt64, stream: UInt64) -> Float {
        unitFloat(word(block(UInt64(i) >> 2, seed: seed, stream: stream), i))
    }

    /// Element i of a standard normal fill: Box-Muller on words (0, 1) of the
    /// block for elements 4j, 4j+1 (cos, sin) and on words (2, 3) for 4j+2,
    /// 4j+3.
    @inline(__always)
    public static func normal(_ i: Int, seed: UInt64, stream: UInt64) -> Float {
        normal(i, block(UInt64(i) >> 2, seed: seed, stream: stream))
    }

    /// Element i of a standard normal fill given its block (i / 4).
    @inline(__always)
    public static func normal(_ i: Int, _ b: Block) -> Float {
        let pair = (i >> 1) & 1
        let u1 = Float((word(b, 2 * pair) >> 8) + 1) * 0x1p-24  // (0, 1]: log is finite
        let radius = (Float(-2) * logUnit(u1)).squareRoot()
        let (cosine, sine) = sinCosTurn(word(b, 2 * pair + 1) >> 8)
        return radius * (i & 1 == 0 ? cosine : sine)
    }

    /// ln(x) for x in [2^-24, 1], Cephes' logf polynomial.
    @inline(__always)
    static func logUnit(_ x: Float) -> Float {
        let bits = x.bitPattern
        var e = Int32((bits >> 23) & 0xFF) - 126
        var m = Float(bitPattern: (bits & 0x7F_FFFF) | 0x3F00_0000)  // [0.5, 1)
        if m < 0.707106781186547524 {
            e -= 1
            m = m + m - 1
        } else {
            m = m - 1
        }
        let fe = Float(e)
        let z = m * m
        var y: Float = 7.0376836292e-2
        y = y * m - 1.1514610310e-1
        y = y * m + 1.1676998740e-1
        y = y * m - 1.2420140846e-1
        y = y * m + 1.4249322787e-1
        y = y * m - 1.6668057665e-1
        y = y * m + 2.0000714765e-1
        y = y * m - 2.4999993993e-1
        y = y * m + 3.3333331174e-1
        y = y * m * z
        y = y + Float(-2.12194440e-4) * fe
        y = y - Float(0.5) * z
        return (m + y) + Float(0.693359375) * fe
    }

    /// (cos, sin) of 2 pi n / 2^24 for n < 2^24: the quadrant is taken in
    /// integers, the rest (|angle| <= pi/4) by Cephes' sinf/cosf polynomials.
    @inline(__always)
    static func sinCosTurn(_ n: UInt32) -> (Float, Float) {
        let quadrant = (n + (1 << 21)) >> 22  // nearest quarter turn, 0...4
        let rest = Int32(bitPattern: n) - Int32(bitPattern: quadrant << 22)  // [-2^21, 2^21]
        let a = Float(rest) * 0x1p-22 * Float(1.57079632679489661923)
        let z = a * a
        var s: Float = -1.9515295891e-4
        s = s * z + 8.3321608736e-3
        s = s * z - 1.6666654611e-1
        s = s * z * a + a
        var c: Float = 2.443315711809948e-5
        c = c * z - 1.388731625493765e-3
        c = c * z + 4.166664568298827e-2
        c = c * z * z - Float(0.5) * z + 1
        switch quadrant & 3 {
        case 0: return (c, s)
        case 1: return (-s, c)
        case 2: return (-c, -s)
        default: return (s, -c)
        }
    }
}
