#include "recurrent_cells.h"

#include <math.h>
#include <stddef.h>

#include "cpu_kernels.h"
#include "kernel_levels.h"
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

struct cell_loops {
    void (*forward)(int, const nn_cell_step *, int64_t, int64_t);
    void (*backward)(int, const nn_cell_step *, int64_t, int64_t);
};

#define NN_CELL_LOOPS(suffix) {forward_##suffix, backward_##suffix}

NN_DEFINE_AT_EVERY_LEVEL(NN_DEFINE_CELL_LOOPS)
static const struct cell_loops cell_loop_sets[] = NN_LEVEL_TABLE(NN_CELL_LOOPS);

void nn_cell_forward_f32(int cell, const nn_cell_step *s, int64_t r0, int64_t r1) {
    cell_loop_sets[nn_cpu_level()].forward(cell, s, r0, r1);
}

void nn_cell_backward_f32(int cell, const nn_cell_step *s, int64_t r0, int64_t r1) {
    cell_loop_sets[nn_cpu_level()].backward(cell, s, r0, r1);
}

void nn_cell_forward_f64(int cell, const nn_cell_step *s, int64_t r0, int64_t r1) {
    for (int64_t b = r0; b < r1; b++) forward_row_f64(cell, s, b);
}

void nn_cell_backward_f64(int cell, const nn_cell_step *s, int64_t r0, int64_t r1) {
    for (int64_t b = r0; b < r1; b++) backward_row_f64(cell, s, b);
}
