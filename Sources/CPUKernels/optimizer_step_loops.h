// The optimizer loops, once per element type: included by
// optimizer_steps.c with T, SQRT(x) and NAME(stem) defined. Each takes its
// arrays as restrict parameters (one array per state, no overlap), so the
// compiler vectorizes it without run-time overlap checks; a flag that
// selects a formula is a constant argument at each call, so each variant
// gets a loop of its own.

#define INLINE static inline __attribute__((always_inline))

INLINE void NAME(sgd)(const nn_sgd_hyper *h, int use_momentum, int nesterov, int first, T *restrict p,
                      const T *restrict g, T *restrict buf, int64_t begin, int64_t end) {
    const T lr = (T)h->learning_rate, wd = (T)h->weight_decay, mu = (T)h->momentum;
    const T damp = 1 - (T)h->dampening;
    for (int64_t i = begin; i < end; i++) {
        T d = g[i] + wd * p[i];
        if (use_momentum) {
            T b = first ? d : mu * buf[i] + damp * d;
            buf[i] = b;
            d = nesterov ? d + mu * b : b;
        }
        p[i] -= lr * d;
    }
}

INLINE void NAME(adam)(const nn_adam_hyper *h, int decoupled, T *restrict p, const T *restrict g, T *restrict m,
                       T *restrict v, int64_t begin, int64_t end) {
    const T b1 = (T)h->beta1, b2 = (T)h->beta2, c1 = (T)h->one_minus_beta1, c2 = (T)h->one_minus_beta2;
    const T eps = (T)h->epsilon, wd = (T)h->weight_decay, step_size = (T)h->step_size;
    const T root_correction2 = (T)h->root_correction2, decay = (T)h->decay;
    for (int64_t i = begin; i < end; i++) {
        T grad = g[i], param = p[i];
        if (decoupled) {
            param *= decay;
        } else {
            grad += wd * param;
        }
        T mi = b1 * m[i] + c1 * grad;
        T vi = b2 * v[i] + c2 * grad * grad;
        m[i] = mi;
        v[i] = vi;
        p[i] = param - step_size * mi / (SQRT(vi) / root_correction2 + eps);
    }
}

INLINE void NAME(adagrad)(const nn_adagrad_hyper *h, T *restrict p, const T *restrict g, T *restrict s,
                          int64_t begin, int64_t end) {
    const T lr = (T)h->learning_rate, wd = (T)h->weight_decay, eps = (T)h->epsilon;
    for (int64_t i = begin; i < end; i++) {
        T grad = g[i] + wd * p[i];
        T sum = s[i] + grad * grad;
        s[i] = sum;
        p[i] -= lr * grad / (SQRT(sum) + eps);
    }
}

INLINE void NAME(rmsprop)(const nn_rmsprop_hyper *h, int centered, int use_momentum, T *restrict p,
                          const T *restrict g, T *restrict sq, T *restrict ga, T *restrict buf, int64_t begin,
                          int64_t end) {
    const T lr = (T)h->learning_rate, alpha = (T)h->alpha, c = (T)h->one_minus_alpha;
    const T eps = (T)h->epsilon, wd = (T)h->weight_decay, mu = (T)h->momentum;
    for (int64_t i = begin; i < end; i++) {
        T grad = g[i] + wd * p[i];
        T s = alpha * sq[i] + c * grad * grad;
        sq[i] = s;
        T avg;
        if (centered) {
            T a = alpha * ga[i] + c * grad;
            ga[i] = a;
            avg = SQRT(s - a * a);
        } else {
            avg = SQRT(s);
        }
        avg += eps;
        if (use_momentum) {
            T b = mu * buf[i] + grad / avg;
            buf[i] = b;
            p[i] -= lr * b;
        } else {
            p[i] -= lr * grad / avg;
        }
    }
}

// The entry points' bodies: each flag combination is its own call, so the
// loops above see constants.
INLINE void NAME(sgd_dispatch)(const nn_sgd_hyper *h, T *p, const T *g, T *buf, int64_t begin, int64_t end) {
    if (h->momentum == 0 || !buf) {
        NAME(sgd)(h, 0, 0, 0, p, g, buf, begin, end);
    } else if (h->first_step) {
        NAME(sgd)(h, 1, h->nesterov, 1, p, g, buf, begin, end);
    } else if (h->nesterov) {
        NAME(sgd)(h, 1, 1, 0, p, g, buf, begin, end);
    } else {
        NAME(sgd)(h, 1, 0, 0, p, g, buf, begin, end);
    }
}

INLINE void NAME(adam_dispatch)(const nn_adam_hyper *h, T *p, const T *g, T *m, T *v, int64_t begin, int64_t end) {
    if (h->decoupled) {
        NAME(adam)(h, 1, p, g, m, v, begin, end);
    } else {
        NAME(adam)(h, 0, p, g, m, v, begin, end);
    }
}

INLINE void NAME(rmsprop_dispatch)(const nn_rmsprop_hyper *h, T *p, const T *g, T *sq, T *ga, T *buf,
                                   int64_t begin, int64_t end) {
    if (ga && buf) {
        NAME(rmsprop)(h, 1, 1, p, g, sq, ga, buf, begin, end);
    } else if (ga) {
        NAME(rmsprop)(h, 1, 0, p, g, sq, ga, buf, begin, end);
    } else if (buf) {
        NAME(rmsprop)(h, 0, 1, p, g, sq, ga, buf, begin, end);
    } else {
        NAME(rmsprop)(h, 0, 0, p, g, sq, ga, buf, begin, end);
    }
}

#undef INLINE
