// Optimizer steps in place, one work-item per parameter, with the CPU
// backend's operations in its order (hyper-parameters arrive already
// converted to T, bias corrections computed on the host in double).

// d = g + wd * p; with momentum: buf = firstStep ? d : mu * buf + (1 -
// dampening) * d; d = nesterov ? d + mu * buf : buf; p -= lr * d.
// buf may be NULL when useMomentum is 0.
kernel void sgd_step(global T* restrict p, global const T* restrict g, global T* restrict buf, const int n,
                     const T lr, const T wd, const T mu, const T dampening, const int useMomentum,
                     const int nesterov, const int firstStep) {
    const int i = get_global_id(0);
    if (i >= n) return;
    T d = g[i] + wd * p[i];
    if (useMomentum) {
        const T damp = (T)1 - dampening;
        const T b = firstStep ? d : mu * buf[i] + damp * d;
        buf[i] = b;
        d = nesterov ? d + mu * b : b;
    }
    p[i] -= lr * d;
}

// Adam / AdamW: m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g g;
// p -= stepSize * m / (sqrt(v) / rootCorrection2 + eps).
kernel void adam_step(global T* restrict p, global const T* restrict g, global T* restrict m, global T* restrict v,
                      const int n, const T b1, const T b2, const T oneMinusB1, const T oneMinusB2, const T eps,
                      const T wd, const T stepSize, const T rootCorrection2, const T decay, const int decoupled) {
    const int i = get_global_id(0);
    if (i >= n) return;
    T grad = g[i];
    T param = p[i];
    if (decoupled) param *= decay; else grad += wd * param;
    const T mi = b1 * m[i] + oneMinusB1 * grad;
    const T vi = b2 * v[i] + oneMinusB2 * grad * grad;
    m[i] = mi;
    v[i] = vi;
    p[i] = param - stepSize * mi / (sqrt(vi) / rootCorrection2 + eps);
}
