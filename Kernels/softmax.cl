// Softmax family: one work-item per row of `axis` elements spaced `inner`
// apart (row r = (o, i) of an [outer, axis, inner] view), with the CPU
// backend's operations in its order.

// The first element of row r.
inline long row_base(const int r, const int axis, const int inner) {
    const int o = r / inner, i = r - o * inner;
    return (long)o * axis * inner + i;
}

// m = max over the row as the CPU computes it (NaNs are skipped, the sum
// then carries them).
inline T row_max(global const T* x, const long base, const int axis, const int inner) {
    T m = -INFINITY;
    for (int a = 0; a < axis; ++a) {
        const T v = x[base + (long)a * inner];
        m = v >= m ? v : m;
    }
    return m;
}

kernel void softmax_forward(global const T* restrict x, global T* restrict out, const int axis, const int inner,
                            const int rows) {
    const int r = get_global_id(0);
    if (r >= rows) return;
    const long base = row_base(r, axis, inner);
    const T m = row_max(x, base, axis, inner);
    T sum = 0;
    for (int a = 0; a < axis; ++a) {
        const long e = base + (long)a * inner;
        const T v = exp(x[e] - m);
        out[e] = v;
        sum += v;
    }
    const T inv = (T)1 / sum;
    for (int a = 0; a < axis; ++a) out[base + (long)a * inner] *= inv;
}

// (x - m) - log(sum), not x - (m + log(sum)) (see the CPU backend).
kernel void log_softmax_forward(global const T* restrict x, global T* restrict out, const int axis,
                                const int inner, const int rows) {
    const int r = get_global_id(0);
    if (r >= rows) return;
    const long base = row_base(r, axis, inner);
    const T m = row_max(x, base, axis, inner);
    T sum = 0;
    for (int a = 0; a < axis; ++a) sum += exp(x[base + (long)a * inner] - m);
    const T logSum = log(sum);
    for (int a = 0; a < axis; ++a) {
        const long e = base + (long)a * inner;
        out[e] = (x[e] - m) - logSum;
    }
}

// softmax: y * (g - sum(g * y)); log-softmax: g - exp(y) * sum(g).
kernel void softmax_backward(global const T* restrict y, global const T* restrict g, global T* restrict dx,
                             const int axis, const int inner, const int rows, const int isLog) {
    const int r = get_global_id(0);
    if (r >= rows) return;
    const long base = row_base(r, axis, inner);
    T dot = 0;
    for (int a = 0; a < axis; ++a) {
        const long e = base + (long)a * inner;
        dot += isLog ? g[e] : g[e] * y[e];
    }
    for (int a = 0; a < axis; ++a) {
        const long e = base + (long)a * inner;
        dx[e] = isLog ? g[e] - exp(y[e]) * dot : y[e] * (g[e] - dot);
    }
}

// One row of logits per work-item: log-softmax into probs, the smoothed loss
// from it, then probs = exp(log p). A label out of range gives a NaN loss
// and is reported (report_bad_index; the backward reads the same labels).
kernel void softmax_cross_entropy(global const T* restrict logits, global const int* restrict labels,
                                  global T* restrict losses, global T* restrict probs, const int rows,
                                  const int classes, const T s, global int* errors) {
    const int r = get_global_id(0);
    if (r >= rows) return;
    global const T* x = logits + (long)r * classes;
    global T* logp = probs + (long)r * classes;
    T m = -INFINITY;
    for (int c = 0; c < classes; ++c) m = x[c] >= m ? x[c] : m;
    T sum = 0;
    for (int c = 0; c < classes; ++c) sum += exp(x[c] - m);
    const T logSum = log(sum);
    for (int c = 0; c < classes; ++c) logp[c] = (x[c] - m) - logSum;
    const int label = labels[r];
    if (label < 0 || label >= classes) report_bad_index(errors, 3, label, r, classes);
    T total = 0;
    for (int c = 0; c < classes; ++c) total += logp[c];
    losses[r] = label >= 0 && label < classes ? -((T)1 - s) * logp[label] - s * total / (T)classes : (T)NAN;
    for (int c = 0; c < classes; ++c) logp[c] = exp(logp[c]);
}

// gradLogits[r, c] = gradLosses[r] * (probs[r, c] - target), one work-item
// per element (n = rows * classes); offTarget = s / classes computed on the host.
kernel void softmax_cross_entropy_backward(global const T* restrict probs, global const int* restrict labels,
                                           global const T* restrict gradLosses, global T* restrict gradLogits,
                                           const int n, const int classes, const T s, const T offTarget) {
    const int e = get_global_id(0);
    if (e >= n) return;
    const int r = e / classes, c = e - r * classes;
    const T target = offTarget + (c == labels[r] ? (T)1 - s : (T)0);
    gradLogits[e] = gradLosses[r] * (probs[e] - target);
}
