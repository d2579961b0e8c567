// Counter-based random fills, bit for bit those of Sources/NNBackend/
// Philox.swift: Philox4x32-10, then the same float32 operations in the same
// order (contraction is off in common.cl; this program is built with
// -cl-fp32-correctly-rounded-divide-sqrt). Float constants are written as
// the bit patterns of the Swift literals. One work-item per block of four
// elements; values are computed in float and stored converted to T.

// Philox4x32-10 of counter (j, 0, stream) under key (seed).
inline uint4 philox_block(const uint j, const uint streamLo, const uint streamHi, const uint seedLo,
                          const uint seedHi) {
    uint c0 = j, c1 = 0, c2 = streamLo, c3 = streamHi;
    uint k0 = seedLo, k1 = seedHi;
    for (int round = 0; round < 10; ++round) {
        if (round > 0) {
            k0 += 0x9E3779B9u;
            k1 += 0xBB67AE85u;
        }
        const uint hi0 = mul_hi(0xD2511F53u, c0), lo0 = 0xD2511F53u * c0;
        const uint hi1 = mul_hi(0xCD9E8D57u, c2), lo1 = 0xCD9E8D57u * c2;
        const uint n0 = hi1 ^ c1 ^ k0, n2 = hi0 ^ c3 ^ k1;
        c0 = n0;
        c1 = lo1;
        c2 = n2;
        c3 = lo0;
    }
    return (uint4)(c0, c1, c2, c3);
}

// Word i & 3 of a block. An array lookup, not a switch: Oclgrind 21.10
// mis-executes `switch (i & 3)` inside a loop (for i >= 4 it always takes
// the default case), so the simulator check would draw other numbers.
inline uint block_word(const uint4 b, const int i) {
    const uint words[4] = {b.s0, b.s1, b.s2, b.s3};
    return words[i & 3];
}

// Uniform in [0, 1): (word >> 8) * 2^-24.
inline float unit_float(const uint word) { return (float)(word >> 8) * 0x1p-24f; }

// ln(x) for x in [2^-24, 1], Cephes' logf polynomial (Philox.logUnit).
inline float log_unit(const float x) {
    const uint bits = as_uint(x);
    int e = (int)((bits >> 23) & 0xFFu) - 126;
    float m = as_float((bits & 0x7FFFFFu) | 0x3F000000u);
    if (m < as_float(0x3F3504F3u)) {
        e -= 1;
        m = m + m - 1.0f;
    } else {
        m = m - 1.0f;
    }
    const float fe = (float)e;
    const float z = m * m;
    float y = as_float(0x3D9021BBu);
    y = y * m - as_float(0x3DEBD1B8u);
    y = y * m + as_float(0x3DEF251Au);
    y = y * m - as_float(0x3DFE5D4Fu);
    y = y * m + as_float(0x3E11E9BFu);
    y = y * m - as_float(0x3E2AAE50u);
    y = y * m + as_float(0x3E4CCEACu);
    y = y * m - as_float(0x3E7FFFFCu);
    y = y * m + as_float(0x3EAAAAAAu);
    y = y * m * z;
    y = y + as_float(0xB95E8083u) * fe;
    y = y - 0.5f * z;
    return (m + y) + as_float(0x3F318000u) * fe;
}

// (cos, sin) of 2 pi n / 2^24 for n < 2^24 (Philox.sinCosTurn).
inline float2 sin_cos_turn(const uint n) {
    const uint quadrant = (n + (1u << 21)) >> 22;
    const int rest = (int)n - (int)(quadrant << 22);
    const float a = (float)rest * 0x1p-22f * as_float(0x3FC90FDBu);
    const float z = a * a;
    float s = as_float(0xB94CA1F9u);
    s = s * z + as_float(0x3C08839Eu);
    s = s * z - as_float(0x3E2AAAA3u);
    s = s * z * a + a;
    float c = as_float(0x37CCF5CEu);
    c = c * z - as_float(0x3AB6061Au);
    c = c * z + as_float(0x3D2AAAA5u);
    c = c * z * z - 0.5f * z + 1.0f;
    // Quadrants 0..3: (c, s), (-s, c), (-c, -s), (s, -c): a quarter turn
    // for the odd ones, a half turn (exact negation) for 2 and 3. Selects,
    // not a switch, for the simulator's sake (see block_word).
    const float2 quarter = (quadrant & 1u) ? (float2)(-s, c) : (float2)(c, s);
    return (quadrant & 2u) ? -quarter : quarter;
}

// Element i (of its block b) of a standard normal fill (Philox.normal).
inline float normal_of(const int i, const uint4 b) {
    const int pair = (i >> 1) & 1;
    const float u1 = (float)((block_word(b, 2 * pair) >> 8) + 1u) * 0x1p-24f;
    const float radius = sqrt(-2.0f * log_unit(u1));
    const float2 cs = sin_cos_turn(block_word(b, 2 * pair + 1) >> 8);
    return radius * ((i & 1) == 0 ? cs.x : cs.y);
}

// out[i] = VALUE(i, b) for the four elements of block j below count.
#define FILL(NAME, VALUE) \
kernel void NAME(global T* restrict out, const int count, const uint seedLo, const uint seedHi, \
                 const uint streamLo, const uint streamHi, const float p0, const float p1) { \
    const int j = get_global_id(0); \
    if (j >= (count + 3) / 4) return; \
    const uint4 b = philox_block((uint)j, streamLo, streamHi, seedLo, seedHi); \
    const int end = min(4 * j + 4, count); \
    for (int i = 4 * j; i < end; ++i) out[i] = (T)(VALUE); \
}

// uniform: p0 + p1 * u with p0 = low, p1 = high - low.
FILL(fill_uniform, p0 + p1 * unit_float(block_word(b, i)))
// normal: p0 + p1 * n with p0 = mean, p1 = std.
FILL(fill_normal, p0 + p1 * normal_of(i, b))
// dropout: u < p0 ? 0 : p1 with p0 = p, p1 = 1 / (1 - p).
FILL(fill_dropout, unit_float(block_word(b, i)) < p0 ? 0.0f : p1)
