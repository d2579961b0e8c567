// The scalar bodies of the CPU backend's float32 vector loops
// (cpu_kernels.c, recurrent_cells.c), internal to CPUKernels: written so
// that the compiler vectorizes the loops that call them (no branches, only
// selects; no calls; bit casts through memcpy), and inlined into each
// loop's per-level copy, so each copy runs them at that level's width.
#ifndef NN_VECTOR_MATH_H
#define NN_VECTOR_MATH_H

#include <stdint.h>
#include <string.h>

static inline float bits_to_float(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }
static inline uint32_t float_to_bits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }

// The heart of Cephes' expf, for x already clamped to where it is valid:
// x = n ln 2 + r with a two-part ln 2, and e^r from a degree-6 polynomial.
// Returns e^r; *t_bits gets the bits of t, whose low mantissa bits hold n.
static inline float exp_reduced(float x, uint32_t *t_bits) {
    const float shifter = 12582912.0f;  // 1.5 * 2^23: adding it rounds to an integer
    float t = x * 1.44269504088896341f + shifter;
    float n = t - shifter;
    float r = x - n * 0.693359375f + n * 2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    *t_bits = float_to_bits(t);
    return p * r * r + r + 1.0f;
}

// e^x as libm's expf: e^r times 2^n built in the exponent bits; where 2^n
// is not a normal float (n = 128 below overflow, n < -126 in the
// subnormals) it is applied in two factors. +inf past ln FLT_MAX, 0 below
// the smallest subnormal, NaN stays NaN.
static inline float exp_body(float x) {
    float xc = x < -103.972084f ? -103.972084f : x;
    xc = xc > 88.7228393f ? 88.7228393f : xc;
    uint32_t t_bits;
    float y = exp_reduced(xc, &t_bits);
    int32_t e = (int32_t)(t_bits - 0x4B400000u) + 127;  // n + 127, the biased exponent
    int subnormal = e <= 0, top = e >= 255;
    int32_t biased = e + (subnormal ? 64 : 0) - (top ? 1 : 0);
    y *= bits_to_float((uint32_t)biased << 23);
    y = subnormal ? y * 5.42101086242752217e-20f : y;  // 2^-64
    y = top ? y * 2.0f : y;
    y = x > 88.72283935546875f ? __builtin_inff() : y;
    return x < -103.972084f ? 0.0f : y;
}

// e^x clamped to [-87.3, 88.3] (normal results only, 2^n in one factor):
// for sigmoid, tanh and softmax, where the ends do not change the result.
static inline float exp_clamped(float x) {
    x = x < -87.3f ? -87.3f : x;
    x = x > 88.3f ? 88.3f : x;
    uint32_t t_bits;
    float y = exp_reduced(x, &t_bits);
    return y * bits_to_float((t_bits - 0x4B400000u + 127u) << 23);
}

static inline float sigmoid_body(float x) { return 1.0f / (1.0f + exp_clamped(-x)); }

// tanh (Cephes tanhf): an odd polynomial below |x| = 0.625, else
// sign(x) (1 - 2 / (e^2|x| + 1)).
static inline float tanh_body(float x) {
    float z = x * x;
    float p = -5.70498872745e-3f;
    p = p * z + 2.06390887954e-2f;
    p = p * z - 5.37397155531e-2f;
    p = p * z + 1.33314422036e-1f;
    p = p * z - 3.33332819422e-1f;
    float small = p * z * x + x;
    float magnitude = bits_to_float(float_to_bits(x) & 0x7FFFFFFFu);
    float large = 1.0f - 2.0f / (exp_clamped(2.0f * magnitude) + 1.0f);
    float signed_large = bits_to_float(float_to_bits(large) | (float_to_bits(x) & 0x80000000u));
    return magnitude < 0.625f ? small : signed_large;
}

// log x for positive normal x (Cephes logf): x = m 2^e with m in
// [sqrt(1/2), sqrt 2), a degree-8 polynomial in m - 1.
static inline float log_body(float x) {
    uint32_t bits = float_to_bits(x);
    int32_t e = (int32_t)((bits >> 23) & 0xFF) - 126;
    float m = bits_to_float((bits & 0x007FFFFFu) | 0x3F000000u);  // in [0.5, 1)
    int below = m < 0.707106781186547524f;
    e -= below;
    m = below ? m + m : m;
    float f = m - 1.0f, z = f * f;
    float p = 7.0376836292e-2f;
    p = p * f - 1.1514610310e-1f;
    p = p * f + 1.1676998740e-1f;
    p = p * f - 1.2420140846e-1f;
    p = p * f + 1.4249322787e-1f;
    p = p * f - 1.6668057665e-1f;
    p = p * f + 2.0000714765e-1f;
    p = p * f - 2.4999993993e-1f;
    p = p * f + 3.3333331174e-1f;
    float fe = (float)e;
    float y = p * f * z + fe * -2.12194440e-4f - 0.5f * z;
    return f + y + fe * 0.693359375f;
}

// log(1 + u) for u >= 0 without losing a small u: log(w) u / (w - 1) with
// w = 1 + u (the rounding of w cancels), and u itself where w rounds to 1.
static inline float log1p_body(float u) {
    float w = 1.0f + u;
    float d = w - 1.0f;
    float ratio = log_body(w) / (d == 0.0f ? 1.0f : d);
    return d == 0.0f ? u : ratio * u;
}

static inline float softplus_body(float x, float beta, float threshold) {
    float bx = beta * x;
    float soft = log1p_body(exp_body(bx)) / beta;
    return bx > threshold ? x : soft;
}

#endif
