#include "recurrent_cells.h"

#include <math.h>
#include <stddef.h>

#include "cpu_kernels.h"
#include "vector_math.h"

// float32: the vectorizable Cephes bodies of vector_math.h.
#define T float
#define SIGMOID(x) sigmoid_body(x)
#define TANH(x) tanh_body(x)
#define NAME(stem) stem##_f32
#include "recurrent_cell_loops.h"
#undef T
#undef SIGMOID
#undef TANH
#undef NAME

// float64: libm, the reference's own functions.
#define T double
#define SIGMOID(x) (1 / (1 + exp(-(x))))
#define TANH(x) tanh(x)
#define NAME(stem) stem##_f64
#include "recurrent_cell_loops.h"
#undef T
#undef SIGMOID
#undef TANH
#undef NAME

// The row loops, float32 once per level. `cell` is passed through as a
// constant per case, so each cell gets its own vectorized loop.
#define NN_DEFINE_CELL_LOOPS(suffix, attributes)                                                           \
    attributes static void forward_##suffix(int cell, const nn_cell_step *s, int64_t r0, int64_t r1) {     \
        switch (cell) {                                                                                    \
        case NN_CELL_RNN_TANH: for (int64_t b = r0; b < r1; b++) forward_row_f32(NN_CELL_RNN_TANH, s, b); break; \
        case NN_CELL_RNN_RELU: for (int64_t b = r0; b < r1; b++) forward_row_f32(NN_CELL_RNN_RELU, s, b); break; \
        case NN_CELL_LSTM: for (int64_t b = r0; b < r1; b++) forward_row_f32(NN_CELL_LSTM, s, b); break;   \
        case NN_CELL_GRU: for (int64_t b = r0; b < r1; b++) forward_row_f32(NN_CELL_GRU, s, b); break;     \
        }                                                                                                  \
    }                                                                                                      \
    attributes static void backward_##suffix(int cell, const nn_cell_step *s, int64_t r0, int64_t r1) {    \
        switch (cell) {                                                                                    \
        case NN_CELL_RNN_TANH: for (int64_t b = r0; b < r1; b++) backward_row_f32(NN_CELL_RNN_TANH, s, b); break; \
        case NN_CELL_RNN_RELU: for (int64_t b = r0; b < r1; b++) backward_row_f32(NN_CELL_RNN_RELU, s, b); break; \
        case NN_CELL_LSTM: for (int64_t b = r0; b < r1; b++) backward_row_f32(NN_CELL_LSTM, s, b); break;  \
        case NN_CELL_GRU: for (int64_t b = r0; b < r1; b++) backward_row_f32(NN_CELL_GRU, s, b); break;    \
        }                                                                                                  \
    }

typedef void (*cell_loop)(int, const nn_cell_step *, int64_t, int64_t);

NN_DEFINE_CELL_LOOPS(baseline, )
#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
NN_DEFINE_CELL_LOOPS(v3, __attribute__((target("arch=x86-64-v3"))))
NN_DEFINE_CELL_LOOPS(v4, __attribute__((target("arch=x86-64-v4"))))
static const cell_loop forward_loops[] = {forward_baseline, forward_v3, forward_v4};
static const cell_loop backward_loops[] = {backward_baseline, backward_v3, backward_v4};
#else
static const cell_loop forward_loops[] = {forward_baseline};
static const cell_loop backward_loops[] = {backward_baseline};
#endif

void nn_cell_forward_f32(int cell, const nn_cell_step *s, int64_t r0, int64_t r1) {
    forward_loops[nn_cpu_level()](cell, s, r0, r1);
}

void nn_cell_backward_f32(int cell, const nn_cell_step *s, int64_t r0, int64_t r1) {
    backward_loops[nn_cpu_level()](cell, s, r0, r1);
}

void nn_cell_forward_f64(int cell, const nn_cell_step *s, int64_t r0, int64_t r1) {
    for (int64_t b = r0; b < r1; b++) forward_row_f64(cell, s, b);
}

void nn_cell_backward_f64(int cell, const nn_cell_step *s, int64_t r0, int64_t r1) {
    for (int64_t b = r0; b < r1; b++) backward_row_f64(cell, s, b);
}
