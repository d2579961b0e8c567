// The loops of the recurrent cells, once per element type: included by
// recurrent_cells.c with T (float or double), SIGMOID(x), TANH(x) and
// NAME(stem) defined. The callers in recurrent_cells.c loop over rows and
// are compiled once per instruction-set level; these are inlined into
// them.
//
// Each loop runs over the hidden units j of one batch row with every gate
// block (j, H + j, 2H + j, 3H + j of the gates row) a pointer parameter of
// its own, marked restrict: that is what lets the compiler vectorize the
// loop without run-time overlap checks (restrict on a local variable is
// not carried into LLVM, and its checks sent the loops down the scalar
// path). The expressions keep the order of operations of the OpenCL
// kernels (Kernels/rnn.cl).

#define INLINE static inline __attribute__((always_inline))
#define ROW(p, width) ((T *)(p) + b * (width))
#define CROW(p, width) ((const T *)(p) + b * (width))

// ---- forward

INLINE void NAME(add_biases)(int64_t n, T *restrict x, const T *restrict bi, const T *restrict bh) {
    if (bh) {
        for (int64_t k = 0; k < n; k++) x[k] += bi[k] + bh[k];
    } else {
        for (int64_t k = 0; k < n; k++) x[k] += bi[k];
    }
}

INLINE void NAME(rnn_forward)(int64_t H, int relu, T *restrict x, T *restrict h) {
    for (int64_t j = 0; j < H; j++) {
        T y = relu ? (x[j] > 0 ? x[j] : 0) : TANH(x[j]);
        x[j] = y;
        h[j] = y;
    }
}

INLINE void NAME(lstm_forward)(int64_t H, T *restrict xi, T *restrict xf, T *restrict xg, T *restrict xo,
                               const T *restrict cp, T *restrict c, T *restrict h) {
    for (int64_t j = 0; j < H; j++) {
        T i = SIGMOID(xi[j]), f = SIGMOID(xf[j]), g = TANH(xg[j]), o = SIGMOID(xo[j]);
        T cj = f * cp[j] + i * g;
        xi[j] = i;
        xf[j] = f;
        xg[j] = g;
        xo[j] = o;
        c[j] = cj;
        h[j] = o * TANH(cj);
    }
}

// b_hh enters inside r * (.), as in PyTorch's GRU; bh NULL: no biases.
INLINE void NAME(gru_forward)(int64_t H, T *restrict xr, T *restrict xz, T *restrict xn, const T *restrict hr,
                              const T *restrict hz, const T *restrict hn, const T *restrict br, const T *restrict bz,
                              const T *restrict bn, const T *restrict hp, T *restrict h) {
    for (int64_t j = 0; j < H; j++) {
        T r = SIGMOID(xr[j] + (br ? hr[j] + br[j] : hr[j]));
        T z = SIGMOID(xz[j] + (bz ? hz[j] + bz[j] : hz[j]));
        T n = TANH(xn[j] + r * (bn ? hn[j] + bn[j] : hn[j]));
        xr[j] = r;
        xz[j] = z;
        xn[j] = n;
        h[j] = (1 - z) * n + z * hp[j];
    }
}

INLINE void NAME(forward_row)(int cell, const nn_cell_step *s, int64_t b) {
    const int64_t H = s->hidden;
    const int64_t G = (cell == NN_CELL_LSTM ? 4 : cell == NN_CELL_GRU ? 3 : 1) * H;
    T *x = ROW(s->gates, G), *h = ROW(s->hidden_out, H);
    const T *bi = (const T *)s->bias_ih, *bh = (const T *)s->bias_hh;
    // RNN and LSTM see b_ih + b_hh; GRU adds b_ih here and b_hh below.
    if (bi) NAME(add_biases)(G, x, bi, cell == NN_CELL_GRU ? NULL : bh);
    switch (cell) {
    case NN_CELL_RNN_TANH: NAME(rnn_forward)(H, 0, x, h); break;
    case NN_CELL_RNN_RELU: NAME(rnn_forward)(H, 1, x, h); break;
    case NN_CELL_LSTM:
        NAME(lstm_forward)(H, x, x + H, x + 2 * H, x + 3 * H, CROW(s->cell_prev, H), ROW(s->cell_out, H), h);
        break;
    case NN_CELL_GRU: {
        const T *hg = CROW(s->hidden_gates, 3 * H);
        NAME(gru_forward)(H, x, x + H, x + 2 * H, hg, hg + H, hg + 2 * H, bh, bh ? bh + H : NULL,
                          bh ? bh + 2 * H : NULL, CROW(s->hidden_prev, H), h);
        break;
    }
    }
}

// ---- backward: dh = output gradient + carry, then the carry row is
// overwritten with the part of dL/dh' that bypasses W_hh.

#define DH(j) (dy ? carry[j] + dy[j] : carry[j])

INLINE void NAME(rnn_backward)(int64_t H, int relu, const T *restrict h, const T *restrict dy, T *restrict carry,
                               T *restrict d) {
    for (int64_t j = 0; j < H; j++) {
        T dh = DH(j);
        d[j] = relu ? (h[j] > 0 ? dh : 0) : dh * (1 - h[j] * h[j]);
        carry[j] = 0;
    }
}

INLINE void NAME(lstm_backward)(int64_t H, const T *restrict ai, const T *restrict af, const T *restrict ag,
                                const T *restrict ao, const T *restrict c, const T *restrict cp,
                                const T *restrict dy, T *restrict carry, T *restrict dcell, T *restrict di,
                                T *restrict df, T *restrict dg, T *restrict dout) {
    for (int64_t j = 0; j < H; j++) {
        T dh = DH(j);
        T i = ai[j], f = af[j], g = ag[j], o = ao[j];
        T tc = TANH(c[j]);
        T dc = dcell[j] + dh * o * (1 - tc * tc);
        di[j] = dc * g * i * (1 - i);
        df[j] = dc * cp[j] * f * (1 - f);
        dg[j] = dc * i * (1 - g * g);
        dout[j] = dh * tc * o * (1 - o);
        dcell[j] = dc * f;
        carry[j] = 0;
    }
}

INLINE void NAME(gru_backward)(int64_t H, const T *restrict ar, const T *restrict az, const T *restrict an,
                               const T *restrict hn, const T *restrict bn, const T *restrict hp,
                               const T *restrict dy, T *restrict carry, T *restrict dr_out, T *restrict dz_out,
                               T *restrict dn_out, T *restrict dhr, T *restrict dhz, T *restrict dhn) {
    for (int64_t j = 0; j < H; j++) {
        T dh = DH(j);
        T r = ar[j], z = az[j], n = an[j];
        T hnj = bn ? hn[j] + bn[j] : hn[j];
        T dn = dh * (1 - z) * (1 - n * n);
        T dz = dh * (hp[j] - n) * z * (1 - z);
        T dr = dn * hnj * r * (1 - r);
        dr_out[j] = dr;
        dz_out[j] = dz;
        dn_out[j] = dn;
        dhr[j] = dr;
        dhz[j] = dz;
        dhn[j] = dn * r;
        carry[j] = dh * z;
    }
}

#undef DH

INLINE void NAME(backward_row)(int cell, const nn_cell_step *s, int64_t b) {
    const int64_t H = s->hidden;
    const int64_t G = (cell == NN_CELL_LSTM ? 4 : cell == NN_CELL_GRU ? 3 : 1) * H;
    const T *a = CROW(s->gates, G), *h = CROW(s->hidden_out, H);
    const T *dy = s->output_grad ? CROW(s->output_grad, H) : NULL;
    T *d = ROW(s->grad_gates, G), *carry = ROW(s->carry, H);
    switch (cell) {
    case NN_CELL_RNN_TANH: NAME(rnn_backward)(H, 0, h, dy, carry, d); break;
    case NN_CELL_RNN_RELU: NAME(rnn_backward)(H, 1, h, dy, carry, d); break;
    case NN_CELL_LSTM:
        NAME(lstm_backward)(H, a, a + H, a + 2 * H, a + 3 * H, CROW(s->cell_out, H), CROW(s->cell_prev, H), dy, carry,
                            ROW(s->cell_grad, H), d, d + H, d + 2 * H, d + 3 * H);
        break;
    case NN_CELL_GRU: {
        const T *bh = (const T *)s->bias_hh;
        T *dhg = ROW(s->grad_hidden_gates, 3 * H);
        NAME(gru_backward)(H, a, a + H, a + 2 * H, CROW(s->hidden_gates, 3 * H) + 2 * H, bh ? bh + 2 * H : NULL,
                           CROW(s->hidden_prev, H), dy, carry, d, d + H, d + 2 * H, dhg, dhg + H, dhg + 2 * H);
        break;
    }
    }
}

#undef INLINE
#undef ROW
#undef CROW
