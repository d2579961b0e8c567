// Float32 loops of the CPU backend that need the machine's full vector
// width: exp, sigmoid, tanh, softplus and the exponentials of softmax.
//
// Each is compiled three times, for baseline x86-64 (SSE2), x86-64-v3 (AVX2
// and FMA) and x86-64-v4 (AVX-512), and the widest the CPU has is chosen
// when the library first calls one, so that one binary runs everywhere
// and uses what it finds. Swift has no per-function target attribute, so
// these live in C (elsewhere than x86-64 there is one version, for the
// compiler's default target). Polynomials: Cephes' expf, tanhf and logf,
// accurate to a few ulp (Tests/NNTests/Backend/CPUKernelTests.swift bounds
// the error of every level against float64).
#ifndef NN_CPU_KERNELS_H
#define NN_CPU_KERNELS_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// The instruction-set levels, narrowest first.
enum {
    NN_CPU_BASELINE = 0,  // x86-64 (SSE2), or the default target elsewhere
    NN_CPU_X86_64_V3 = 1, // AVX2, FMA
    NN_CPU_X86_64_V4 = 2, // AVX-512 F, BW, DQ, VL
};

/// The level the kernels run at: the widest this CPU supports, or
/// $NN_CPU_LEVEL (baseline, x86-64-v3, x86-64-v4) if it names a narrower one.
int nn_cpu_level(void);

/// The widest level this CPU supports.
int nn_cpu_supported_level(void);

/// Runs the kernels at `level` from now on (clamped to what the CPU
/// supports); returns the level set. For tests and benchmarks.
int nn_cpu_set_level(int level);

/// y[i] = e^x[i].
void nn_exp_f32(const float *x, float *y, size_t n);
/// y[i] = 1 / (1 + e^-x[i]).
void nn_sigmoid_f32(const float *x, float *y, size_t n);
/// y[i] = tanh x[i].
void nn_tanh_f32(const float *x, float *y, size_t n);
/// y[i] = x[i] where beta x[i] > threshold, else log(1 + e^(beta x[i])) / beta (PyTorch's softplus).
void nn_softplus_f32(const float *x, float *y, size_t n, float beta, float threshold);
/// y[i] = e^(x[i] - shift) (y may be NULL), returning the sum of them
/// (softmax's denominator, added in float64).
double nn_exp_shifted_sum_f32(const float *x, float *y, size_t n, float shift);

/// A hint to the core that the caller is spinning on a memory location
/// (x86's pause, arm64's yield): the spinning thread of a pool waiting for
/// work leaves the core's resources to its sibling and draws less power.
static inline void nn_cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

#ifdef __cplusplus
}
#endif

#endif
