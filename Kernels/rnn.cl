// Fused recurrent cells (RNN tanh/ReLU, LSTM, GRU): one time step, one
// work-item per (batch row b, hidden unit j), the CPU backend's formulas in
// its order. Every kernel of a direction takes the same arguments (unused
// ones NULL / 0), each operand a buffer plus an element offset; blocks are
// [batch, width] row-major with width H or G = gates * H. Gates are in
// PyTorch's order: LSTM (i, f, g, o), GRU (r, z, n).
//
// Forward: x holds the pre-activations without biases (for GRU only the
// input part; hg the recurrent part) and is overwritten with the activated
// gates, which backward reads back.
// Backward: dh = dy + carry; carry is overwritten with the part of dL/dh'
// that does not pass through W_hh (z * dh for GRU, else 0).

#define FORWARD_ARGS \
    global T* xs, const int xOff, global const T* hgs, const int hgOff, \
    global const T* bi, global const T* bh, global const T* hps, const int hpOff, \
    global T* hs, const int hOff, global const T* cps, const int cpOff, global T* cs, const int cOff, \
    const int batch, const int H

#define BACKWARD_ARGS \
    global const T* xs, const int xOff, global const T* hgs, const int hgOff, \
    global const T* bi, global const T* bh, global const T* hps, const int hpOff, \
    global const T* hs, const int hOff, global const T* cps, const int cpOff, global const T* cs, const int cOff, \
    const int batch, const int H, \
    global const T* dys, const int dyOff, global T* carry, global T* dc, \
    global T* dgs, const int dgOff, global T* dhgs, const int dhgOff

// The work-item's unit; returns from the kernel past the end.
#define CELL_INDEX \
    const int u = get_global_id(0); \
    if (u >= batch * H) return; \
    const int b = u / H, j = u - b * H; \
    const long G = (long)(GATES) * H; \
    const long row = b * G

inline T bias_at(global const T* bi, global const T* bh, const long k) {
    return bi ? bi[k] + bh[k] : (T)0;
}

// RNN: h = act(x + b_ih + b_hh); ACT_GRAD(y) is act' written with y.
#define RNN_CELL(NAME, ACT, ACT_GRAD) \
kernel void NAME##_forward(FORWARD_ARGS) { \
    CELL_INDEX; \
    global T* x = xs + xOff; \
    const T a = x[row + j] + bias_at(bi, bh, j); \
    const T y = ACT; \
    x[row + j] = y; \
    hs[hOff + u] = y; \
} \
kernel void NAME##_backward(BACKWARD_ARGS) { \
    CELL_INDEX; \
    const T dh = (dys ? dys[dyOff + u] : (T)0) + carry[u]; \
    const T y = hs[hOff + u]; \
    dgs[dgOff + row + j] = ACT_GRAD; \
    carry[u] = 0; \
}

#define GATES 1
RNN_CELL(rnn_tanh, tanh(a), dh * ((T)1 - y * y))
RNN_CELL(rnn_relu, a > (T)0 ? a : (T)0, y > (T)0 ? dh : (T)0)
#undef GATES

#define GATES 4
kernel void lstm_forward(FORWARD_ARGS) {
    CELL_INDEX;
    global T* x = xs + xOff + row;
    const T i = sigmoid_of(x[j] + bias_at(bi, bh, j));
    const T f = sigmoid_of(x[H + j] + bias_at(bi, bh, H + j));
    const T g = tanh(x[2 * H + j] + bias_at(bi, bh, 2 * H + j));
    const T o = sigmoid_of(x[3 * H + j] + bias_at(bi, bh, 3 * H + j));
    const T c = f * cps[cpOff + u] + i * g;
    x[j] = i; x[H + j] = f; x[2 * H + j] = g; x[3 * H + j] = o;
    cs[cOff + u] = c;
    hs[hOff + u] = o * tanh(c);
}

kernel void lstm_backward(BACKWARD_ARGS) {
    CELL_INDEX;
    global const T* x = xs + xOff + row;
    global T* d = dgs + dgOff + row;
    const T dh = (dys ? dys[dyOff + u] : (T)0) + carry[u];
    const T i = x[j], f = x[H + j], g = x[2 * H + j], o = x[3 * H + j];
    const T tc = tanh(cs[cOff + u]);
    const T dcj = dc[u] + dh * o * ((T)1 - tc * tc);
    d[j] = dcj * g * i * ((T)1 - i);
    d[H + j] = dcj * cps[cpOff + u] * f * ((T)1 - f);
    d[2 * H + j] = dcj * i * ((T)1 - g * g);
    d[3 * H + j] = dh * tc * o * ((T)1 - o);
    dc[u] = dcj * f;
    carry[u] = 0;
}
#undef GATES

#define GATES 3
inline T bias_one(global const T* bias, const long k) { return bias ? bias[k] : (T)0; }

kernel void gru_forward(FORWARD_ARGS) {
    CELL_INDEX;
    global T* x = xs + xOff + row;
    global const T* hg = hgs + hgOff + row;
    const T xr = x[j] + bias_one(bi, j), xz = x[H + j] + bias_one(bi, H + j);
    const T xn = x[2 * H + j] + bias_one(bi, 2 * H + j);
    const T hr = hg[j] + bias_one(bh, j), hz = hg[H + j] + bias_one(bh, H + j);
    const T hn = hg[2 * H + j] + bias_one(bh, 2 * H + j);
    const T r = sigmoid_of(xr + hr), z = sigmoid_of(xz + hz);
    const T n = tanh(xn + r * hn);
    x[j] = r; x[H + j] = z; x[2 * H + j] = n;
    hs[hOff + u] = ((T)1 - z) * n + z * hps[hpOff + u];
}

kernel void gru_backward(BACKWARD_ARGS) {
    CELL_INDEX;
    global const T* x = xs + xOff + row;
    const T dh = (dys ? dys[dyOff + u] : (T)0) + carry[u];
    const T r = x[j], z = x[H + j], n = x[2 * H + j];
    const T hn = hgs[hgOff + row + 2 * H + j] + bias_one(bh, 2 * H + j);
    const T dn = dh * ((T)1 - z) * ((T)1 - n * n);
    const T dz = dh * (hps[hpOff + u] - n) * z * ((T)1 - z);
    const T dr = dn * hn * r * ((T)1 - r);
    global T* d = dgs + dgOff + row;
    d[j] = dr; d[H + j] = dz; d[2 * H + j] = dn;
    global T* dhg = dhgs + dhgOff + row;
    dhg[j] = dr; dhg[H + j] = dz; dhg[2 * H + j] = dn * r;
    carry[u] = dh * z;
}
#undef GATES
