// The fused cells of the CPU backend's recurrent layers: one time step's
// gate nonlinearities and state update (forward), and the chain rule
// through them (backward), for the rows of a batch a caller gives, so that
// it can spread the rows over its threads. The formulas and operand
// layouts are RecurrentOps' (Sources/NNBackend/RecurrentOps.swift): gates
// as PyTorch orders the rows of weight_ih_l0, LSTM (i, f, g, o), GRU (r,
// z, n), each block `hidden` wide.
//
// float32 runs at the widest instruction-set level the CPU has (see
// cpu_kernels.h; the same Cephes exp and tanh as nn_sigmoid_f32 and
// nn_tanh_f32); float64, the reference of gradient checks, on libm's exp
// and tanh.
#ifndef NN_RECURRENT_CELLS_H
#define NN_RECURRENT_CELLS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// RecurrentCell's cases.
enum {
    NN_CELL_RNN_TANH = 0,
    NN_CELL_RNN_RELU = 1,
    NN_CELL_LSTM = 2,
    NN_CELL_GRU = 3,
};

/// One time step's operands, each the address of row 0 of a row-major
/// [batch, width] block of floats (float32 or float64, as the function
/// called), width `hidden` unless said otherwise; NULL where the cell does
/// not use the operand.
typedef struct {
    int64_t hidden;
    /// [batch, G·hidden]. Forward: in, the pre-activations without biases;
    /// out, the activated gates, which backward reads.
    void *gates;
    /// GRU: [batch, 3·hidden], h' W_hh^T without bias.
    const void *hidden_gates;
    /// [G·hidden] each, or both NULL.
    const void *bias_ih, *bias_hh;
    const void *hidden_prev;
    /// Forward writes it, backward reads it.
    void *hidden_out;
    /// LSTM: c' and c.
    const void *cell_prev;
    void *cell_out;
    /// Backward: dL/dh from this step's output, or NULL.
    const void *output_grad;
    /// Backward, in: dL/dh from the next step; out: the part of dL/dh'
    /// that does not pass through W_hh (z·dh for GRU, else 0).
    void *carry;
    /// Backward, LSTM: dL/dc in, dL/dc' out.
    void *cell_grad;
    /// Backward: [batch, G·hidden], dL/d(pre-activations of the input part).
    void *grad_gates;
    /// Backward, GRU: [batch, 3·hidden], dL/d(h' W_hh^T + b_hh).
    void *grad_hidden_gates;
} nn_cell_step;

/// Rows row_begin..<row_end of one step of `cell`.
void nn_cell_forward_f32(int cell, const nn_cell_step *step, int64_t row_begin, int64_t row_end);
void nn_cell_backward_f32(int cell, const nn_cell_step *step, int64_t row_begin, int64_t row_end);
void nn_cell_forward_f64(int cell, const nn_cell_step *step, int64_t row_begin, int64_t row_end);
void nn_cell_backward_f64(int cell, const nn_cell_step *step, int64_t row_begin, int64_t row_end);

#ifdef __cplusplus
}
#endif

#endif
