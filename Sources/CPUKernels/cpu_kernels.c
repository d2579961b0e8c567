#include "cpu_kernels.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

// ---------------------------------------------------------------------------
// Scalar bodies, written so that the compiler vectorizes the loops that call
// them: no branches (selects), no calls, bit casts through memcpy.

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

// ---------------------------------------------------------------------------
// The loops, once per level.

#define NN_DEFINE_KERNELS(suffix, attributes)                                                        \
    attributes static void exp_##suffix(const float *x, float *y, size_t n) {                          \
        for (size_t i = 0; i < n; i++) y[i] = exp_body(x[i]);                                        \
    }                                                                                                  \
    attributes static void sigmoid_##suffix(const float *x, float *y, size_t n) {                      \
        for (size_t i = 0; i < n; i++) y[i] = sigmoid_body(x[i]);                                    \
    }                                                                                                  \
    attributes static void tanh_##suffix(const float *x, float *y, size_t n) {                         \
        for (size_t i = 0; i < n; i++) y[i] = tanh_body(x[i]);                                       \
    }                                                                                                  \
    attributes static void softplus_##suffix(const float *x, float *y, size_t n, float beta,           \
                                             float threshold) {                                        \
        for (size_t i = 0; i < n; i++) y[i] = softplus_body(x[i], beta, threshold);                  \
    }                                                                                                  \
    attributes static double exp_shifted_sum_##suffix(const float *x, float *y, size_t n,             \
                                                      float shift) {                                  \
        /* Blocks of 64: the exponentials (vectorized), summed in 8 lanes  */                          \
        /* (a vector add: no reassociation needed), the blocks in double.  */                          \
        double total = 0;                                                                              \
        float buffer[64];                                                                              \
        for (size_t start = 0; start < n; start += 64) {                                               \
            size_t count = n - start < 64 ? n - start : 64;                                            \
            float *out = y ? y + start : buffer;                                                       \
            for (size_t i = 0; i < count; i++) out[i] = exp_clamped(x[start + i] - shift);           \
            float lanes[8] = {0, 0, 0, 0, 0, 0, 0, 0};                                                 \
            size_t i = 0;                                                                              \
            for (; i + 8 <= count; i += 8)                                                             \
                for (size_t k = 0; k < 8; k++) lanes[k] += out[i + k];                                 \
            float block = 0;                                                                           \
            for (size_t k = 0; k < 8; k++) block += lanes[k];                                          \
            for (; i < count; i++) block += out[i];                                                    \
            total += block;                                                                            \
        }                                                                                              \
        return total;                                                                                  \
    }

struct kernel_set {
    void (*exp)(const float *, float *, size_t);
    void (*sigmoid)(const float *, float *, size_t);
    void (*tanh)(const float *, float *, size_t);
    void (*softplus)(const float *, float *, size_t, float, float);
    double (*exp_shifted_sum)(const float *, float *, size_t, float);
};

#define NN_KERNEL_SET(suffix) {exp_##suffix, sigmoid_##suffix, tanh_##suffix, softplus_##suffix, exp_shifted_sum_##suffix}

NN_DEFINE_KERNELS(baseline, )
#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
NN_DEFINE_KERNELS(v3, __attribute__((target("arch=x86-64-v3"))))
NN_DEFINE_KERNELS(v4, __attribute__((target("arch=x86-64-v4"))))
static const struct kernel_set kernel_sets[] = {NN_KERNEL_SET(baseline), NN_KERNEL_SET(v3), NN_KERNEL_SET(v4)};

int nn_cpu_supported_level(void) {
    __builtin_cpu_init();
    int v3 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("bmi2")
        && __builtin_cpu_supports("f16c") && __builtin_cpu_supports("movbe");
    int v4 = v3 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")
        && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
    return v4 ? NN_CPU_X86_64_V4 : v3 ? NN_CPU_X86_64_V3 : NN_CPU_BASELINE;
}
#else
static const struct kernel_set kernel_sets[] = {NN_KERNEL_SET(baseline)};

int nn_cpu_supported_level(void) { return NN_CPU_BASELINE; }
#endif

// -1 until the first call picks the level (a race there sets the same value).
static int current_level = -1;

static int clamp_level(int level) {
    int supported = nn_cpu_supported_level();
    return level < 0 ? 0 : level > supported ? supported : level;
}

int nn_cpu_level(void) {
    int level = __atomic_load_n(&current_level, __ATOMIC_ACQUIRE);
    if (level >= 0) return level;
    level = nn_cpu_supported_level();
    const char *requested = getenv("NN_CPU_LEVEL");
    if (requested) {
        if (strcmp(requested, "baseline") == 0) level = clamp_level(NN_CPU_BASELINE);
        else if (strcmp(requested, "x86-64-v3") == 0) level = clamp_level(NN_CPU_X86_64_V3);
        else if (strcmp(requested, "x86-64-v4") == 0) level = clamp_level(NN_CPU_X86_64_V4);
    }
    __atomic_store_n(&current_level, level, __ATOMIC_RELEASE);
    return level;
}

int nn_cpu_set_level(int level) {
    level = clamp_level(level);
    __atomic_store_n(&current_level, level, __ATOMIC_RELEASE);
    return level;
}

static inline const struct kernel_set *kernels(void) { return &kernel_sets[nn_cpu_level()]; }

void nn_exp_f32(const float *x, float *y, size_t n) { kernels()->exp(x, y, n); }
void nn_sigmoid_f32(const float *x, float *y, size_t n) { kernels()->sigmoid(x, y, n); }
void nn_tanh_f32(const float *x, float *y, size_t n) { kernels()->tanh(x, y, n); }
void nn_softplus_f32(const float *x, float *y, size_t n, float beta, float threshold) {
    kernels()->softplus(x, y, n, beta, threshold);
}
double nn_exp_shifted_sum_f32(const float *x, float *y, size_t n, float shift) {
    return kernels()->exp_shifted_sum(x, y, n, shift);
}
