#include "cpu_kernels.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kernel_levels.h"
#include "vector_math.h"

// ---------------------------------------------------------------------------
// The loops, once per level.
//
// Each y[i] depends on x[i] alone, so y may be x (the backend runs some of
// them in place) but must not partly overlap it. The compiler cannot know
// that: it would test for overlap at run time, find x == y, and take the
// scalar loop (exp in place over the 2,048 rows of 96 classes of the
// char-LSTM's softmax took 772 us instead of 101). The
// pragma tells it the iterations are independent.
#if defined(__clang__)
#define NN_ELEMENTWISE_LOOP _Pragma("clang loop vectorize(assume_safety)")
#elif defined(__GNUC__)
#define NN_ELEMENTWISE_LOOP _Pragma("GCC ivdep")
#else
#define NN_ELEMENTWISE_LOOP
#endif

#define NN_DEFINE_KERNELS(suffix, attributes)                                                        \
    attributes static void exp_##suffix(const float *x, float *y, size_t n) {                          \
        NN_ELEMENTWISE_LOOP for (size_t i = 0; i < n; i++) y[i] = exp_body(x[i]);                                        \
    }                                                                                                  \
    attributes static void sigmoid_##suffix(const float *x, float *y, size_t n) {                      \
        NN_ELEMENTWISE_LOOP for (size_t i = 0; i < n; i++) y[i] = sigmoid_body(x[i]);                                    \
    }                                                                                                  \
    attributes static void tanh_##suffix(const float *x, float *y, size_t n) {                         \
        NN_ELEMENTWISE_LOOP for (size_t i = 0; i < n; i++) y[i] = tanh_body(x[i]);                                       \
    }                                                                                                  \
    attributes static void softplus_##suffix(const float *x, float *y, size_t n, float beta,           \
                                             float threshold) {                                        \
        NN_ELEMENTWISE_LOOP for (size_t i = 0; i < n; i++) y[i] = softplus_body(x[i], beta, threshold);                  \
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
            NN_ELEMENTWISE_LOOP for (size_t i = 0; i < count; i++) out[i] = exp_clamped(x[start + i] - shift);           \
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

NN_DEFINE_AT_EVERY_LEVEL(NN_DEFINE_KERNELS)
static const struct kernel_set kernel_sets[] = NN_LEVEL_TABLE(NN_KERNEL_SET);

#if NN_X86_LEVELS
int nn_cpu_supported_level(void) {
    __builtin_cpu_init();
    int v3 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("bmi2")
        && __builtin_cpu_supports("f16c") && __builtin_cpu_supports("movbe");
    int v4 = v3 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")
        && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
    return v4 ? NN_CPU_X86_64_V4 : v3 ? NN_CPU_X86_64_V3 : NN_CPU_BASELINE;
}
#else
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
