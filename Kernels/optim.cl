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

// Adagrad: g += wd * p; sum += g g; p -= clr * g / (sqrt(sum) + eps), with
// the decayed step size clr computed on the host.
kernel void adagrad_step(global T* restrict p, global const T* restrict g, global T* restrict sum, const int n,
                         const T clr, const T wd, const T eps) {
    const int i = get_global_id(0);
    if (i >= n) return;
    const T grad = g[i] + wd * p[i];
    const T s = sum[i] + grad * grad;
    sum[i] = s;
    p[i] -= clr * grad / (sqrt(s) + eps);
}

// RMSprop: g += wd * p; sq = alpha sq + (1 - alpha) g g; centered: ga =
// alpha ga + (1 - alpha) g, avg = sqrt(sq - ga ga) + eps, else avg =
// sqrt(sq) + eps; momentum: buf = mu buf + g / avg, p -= lr buf; else
// p -= lr g / avg. ga / buf may be NULL when centered / useMomentum is 0.
kernel void rmsprop_step(global T* restrict p, global const T* restrict g, global T* restrict sq,
                         global T* restrict ga, global T* restrict buf, const int n, const T lr, const T alpha,
                         const T oneMinusAlpha, const T eps, const T wd, const T mu, const int centered,
                         const int useMomentum) {
    const int i = get_global_id(0);
    if (i >= n) return;
    const T grad = g[i] + wd * p[i];
    const T s = alpha * sq[i] + oneMinusAlpha * grad * grad;
    sq[i] = s;
    T avg;
    if (centered) {
        const T a = alpha * ga[i] + oneMinusAlpha * grad;
        ga[i] = a;
        avg = sqrt(s - a * a);
    } else {
        avg = sqrt(s);
    }
    avg += eps;
    if (useMomentum) {
        const T b = mu * buf[i] + grad / avg;
        buf[i] = b;
        p[i] -= lr * b;
    } else {
        p[i] -= lr * grad / avg;
    }
}
