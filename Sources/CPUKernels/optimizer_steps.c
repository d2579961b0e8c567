#include "optimizer_steps.h"

#include <math.h>

#include "cpu_kernels.h"
#include "kernel_levels.h"

// √x without errno: libm's sqrt may set errno for a negative x, which
// keeps the compiler from vectorizing a loop that calls it; the builtin
// is the instruction.
#if defined(__has_builtin)
#if __has_builtin(__builtin_elementwise_sqrt)
#define NN_SQRT(x) __builtin_elementwise_sqrt(x)
#endif
#endif
#ifndef NN_SQRT
#define NN_SQRT(x) sqrt(x)
#endif

#define T float
#define SQRT(x) NN_SQRT(x)
#define NAME(stem) stem##_f32
#include "optimizer_step_loops.h"
#undef T
#undef NAME

#define T double
#define NAME(stem) stem##_f64
#include "optimizer_step_loops.h"
#undef T
#undef NAME
#undef SQRT

// float32, once per level.
#define NN_DEFINE_OPTIMIZER_LOOPS(suffix, attributes)                                                           \
    attributes static void sgd_##suffix(const nn_sgd_hyper *h, float *p, const float *g, float *buf, int64_t b, \
                                        int64_t e) {                                                            \
        sgd_dispatch_f32(h, p, g, buf, b, e);                                                                   \
    }                                                                                                           \
    attributes static void adam_##suffix(const nn_adam_hyper *h, float *p, const float *g, float *m, float *v,  \
                                         int64_t b, int64_t e) {                                                \
        adam_dispatch_f32(h, p, g, m, v, b, e);                                                                 \
    }                                                                                                           \
    attributes static void adagrad_##suffix(const nn_adagrad_hyper *h, float *p, const float *g, float *s,      \
                                            int64_t b, int64_t e) {                                             \
        adagrad_f32(h, p, g, s, b, e);                                                                          \
    }                                                                                                           \
    attributes static void rmsprop_##suffix(const nn_rmsprop_hyper *h, float *p, const float *g, float *sq,     \
                                            float *ga, float *buf, int64_t b, int64_t e) {                      \
        rmsprop_dispatch_f32(h, p, g, sq, ga, buf, b, e);                                                       \
    }

struct optimizer_set {
    void (*sgd)(const nn_sgd_hyper *, float *, const float *, float *, int64_t, int64_t);
    void (*adam)(const nn_adam_hyper *, float *, const float *, float *, float *, int64_t, int64_t);
    void (*adagrad)(const nn_adagrad_hyper *, float *, const float *, float *, int64_t, int64_t);
    void (*rmsprop)(const nn_rmsprop_hyper *, float *, const float *, float *, float *, float *, int64_t, int64_t);
};

#define NN_OPTIMIZER_SET(suffix) {sgd_##suffix, adam_##suffix, adagrad_##suffix, rmsprop_##suffix}

NN_DEFINE_AT_EVERY_LEVEL(NN_DEFINE_OPTIMIZER_LOOPS)
static const struct optimizer_set optimizer_sets[] = NN_LEVEL_TABLE(NN_OPTIMIZER_SET);

static inline const struct optimizer_set *optimizers(void) { return &optimizer_sets[nn_cpu_level()]; }

void nn_sgd_step_f32(const nn_sgd_hyper *h, float *p, const float *g, float *buf, int64_t b, int64_t e) {
    optimizers()->sgd(h, p, g, buf, b, e);
}
void nn_adam_step_f32(const nn_adam_hyper *h, float *p, const float *g, float *m, float *v, int64_t b, int64_t e) {
    optimizers()->adam(h, p, g, m, v, b, e);
}
void nn_adagrad_step_f32(const nn_adagrad_hyper *h, float *p, const float *g, float *s, int64_t b, int64_t e) {
    optimizers()->adagrad(h, p, g, s, b, e);
}
void nn_rmsprop_step_f32(const nn_rmsprop_hyper *h, float *p, const float *g, float *sq, float *ga, float *buf,
                         int64_t b, int64_t e) {
    optimizers()->rmsprop(h, p, g, sq, ga, buf, b, e);
}

void nn_sgd_step_f64(const nn_sgd_hyper *h, double *p, const double *g, double *buf, int64_t b, int64_t e) {
    sgd_dispatch_f64(h, p, g, buf, b, e);
}
void nn_adam_step_f64(const nn_adam_hyper *h, double *p, const double *g, double *m, double *v, int64_t b,
                      int64_t e) {
    adam_dispatch_f64(h, p, g, m, v, b, e);
}
void nn_adagrad_step_f64(const nn_adagrad_hyper *h, double *p, const double *g, double *s, int64_t b, int64_t e) {
    adagrad_f64(h, p, g, s, b, e);
}
void nn_rmsprop_step_f64(const nn_rmsprop_hyper *h, double *p, const double *g, double *sq, double *ga,
                         double *buf, int64_t b, int64_t e) {
    rmsprop_dispatch_f64(h, p, g, sq, ga, buf, b, e);
}
