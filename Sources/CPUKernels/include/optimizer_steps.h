// The CPU backend's optimizer updates (OptimizerOps in
// Sources/NNBackend/OptimizerOps.swift), applied in place to elements
// begin..<end of a parameter and its state, so that a caller can spread a
// parameter over its threads. The formulas and their order of operations
// are PyTorch's (torch/optim) and the OpenCL kernels' (Kernels/optim.cl).
//
// float32 runs at the widest instruction-set level the CPU has (see
// cpu_kernels.h); float64 once, for the compiler's default target.
// Hyperparameters come as doubles and are rounded to the element type
// here, as the Swift code computing them did.
#ifndef NN_OPTIMIZER_STEPS_H
#define NN_OPTIMIZER_STEPS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// d = g + wd p; with momentum, buf = first ? d : mu buf + (1 - dampening) d
/// and d = nesterov ? d + mu buf : buf; p -= lr d. `buf` may be NULL when
/// momentum is 0.
typedef struct {
    double learning_rate, weight_decay, momentum, dampening;
    int nesterov, first_step;
} nn_sgd_hyper;

/// Adam, or AdamW when `decoupled` (p *= decay instead of g += wd p):
/// m = b1 m + (1 - b1) g, v = b2 v + (1 - b2) g², p -= step_size m /
/// (√v / root_correction2 + eps). The one-minus terms are computed in
/// double before rounding (1 - Float(0.999) is 1e-5 off, which biases v).
typedef struct {
    double beta1, beta2, one_minus_beta1, one_minus_beta2, epsilon, weight_decay;
    double step_size, root_correction2, decay;
    int decoupled;
} nn_adam_hyper;

/// g' = g + wd p; sum += g'²; p -= lr g' / (√sum + eps).
typedef struct {
    double learning_rate, weight_decay, epsilon;
} nn_adagrad_hyper;

/// g' = g + wd p; sq = alpha sq + (1 - alpha) g'²; avg = √sq, or
/// √(sq - ga²) with ga = alpha ga + (1 - alpha) g' when centered (`grad_avg`
/// not NULL); avg += eps; with momentum (`buf` not NULL) buf = mu buf + g'
/// / avg and p -= lr buf, else p -= lr g' / avg.
typedef struct {
    double learning_rate, alpha, one_minus_alpha, epsilon, weight_decay, momentum;
} nn_rmsprop_hyper;

void nn_sgd_step_f32(const nn_sgd_hyper *h, float *p, const float *g, float *buf, int64_t begin, int64_t end);
void nn_sgd_step_f64(const nn_sgd_hyper *h, double *p, const double *g, double *buf, int64_t begin, int64_t end);
void nn_adam_step_f32(const nn_adam_hyper *h, float *p, const float *g, float *m, float *v, int64_t begin, int64_t end);
void nn_adam_step_f64(const nn_adam_hyper *h, double *p, const double *g, double *m, double *v, int64_t begin,
                      int64_t end);
void nn_adagrad_step_f32(const nn_adagrad_hyper *h, float *p, const float *g, float *sum, int64_t begin, int64_t end);
void nn_adagrad_step_f64(const nn_adagrad_hyper *h, double *p, const double *g, double *sum, int64_t begin,
                         int64_t end);
void nn_rmsprop_step_f32(const nn_rmsprop_hyper *h, float *p, const float *g, float *square_avg, float *grad_avg,
                         float *buf, int64_t begin, int64_t end);
void nn_rmsprop_step_f64(const nn_rmsprop_hyper *h, double *p, const double *g, double *square_avg,
                         double *grad_avg, double *buf, int64_t begin, int64_t end);

#ifdef __cplusplus
}
#endif

#endif
