// Elementwise ops, one kernel per op generated from its expression.
// Unary: x is the input, p0/p1 the op's parameters.
// Unary backward: x input, y = op(x), g the output gradient.
// Binary: a and b after broadcasting; binary backward writes both partials.

#define UNARY(NAME, EXPR) \
kernel void unary_##NAME(global const T* restrict xs, global T* restrict ys, const int n, const T p0, const T p1) { \
    const int i = get_global_id(0); \
    if (i < n) { const T x = xs[i]; ys[i] = (EXPR); } \
}

#define UNARY_BACKWARD(NAME, EXPR) \
kernel void unary_backward_##NAME(global const T* restrict xs, global const T* restrict ys, \
                                  global const T* restrict gs, global T* restrict out, const int n, \
                                  const T p0, const T p1) { \
    const int i = get_global_id(0); \
    if (i < n) { const T x = xs[i]; const T y = ys[i]; const T g = gs[i]; out[i] = (EXPR); } \
}

UNARY(negate, -x)
UNARY(abs, fabs(x))
UNARY(square, x * x)
UNARY(sqrt, sqrt(x))
UNARY(exp, exp(x))
UNARY(log, log(x))
UNARY(reciprocal, (T)1 / x)
UNARY(sin, sin(x))
UNARY(cos, cos(x))
UNARY(sigmoid, sigmoid_of(x))
UNARY(tanh, tanh(x))
UNARY(relu, x < (T)0 ? (T)0 : x)
UNARY(leakyReLU, x < (T)0 ? p0 * x : x)
UNARY(elu, x > (T)0 ? x : p0 * expm1(x))
UNARY(softplus, p0 * x > p1 ? x : log1p(exp(p0 * x)) / p0)
UNARY(addScalar, x + p0)
UNARY(multiplyScalar, x * p0)
UNARY(power, p0 == (T)2 ? x * x : pow(x, p0))
UNARY(clamp, x < p0 ? p0 : (x > p1 ? p1 : x))
UNARY(sign, x > (T)0 ? (T)1 : (x < (T)0 ? (T)-1 : (T)0))

UNARY_BACKWARD(negate, -g)
UNARY_BACKWARD(abs, x > (T)0 ? g : (x < (T)0 ? -g : (T)0))
UNARY_BACKWARD(square, (T)2 * x * g)
UNARY_BACKWARD(sqrt, g / ((T)2 * y))
UNARY_BACKWARD(exp, g * y)
UNARY_BACKWARD(log, g / x)
UNARY_BACKWARD(reciprocal, -g * y * y)
UNARY_BACKWARD(sin, g * cos(x))
UNARY_BACKWARD(cos, -g * sin(x))
UNARY_BACKWARD(sigmoid, g * y * ((T)1 - y))
UNARY_BACKWARD(tanh, g * ((T)1 - y * y))
UNARY_BACKWARD(relu, x > (T)0 ? g : (T)0)
UNARY_BACKWARD(leakyReLU, x > (T)0 ? g : g * p0)
UNARY_BACKWARD(elu, x > (T)0 ? g : g * (y + p0))
UNARY_BACKWARD(softplus, p0 * x > p1 ? g : g * sigmoid_of(p0 * x))
UNARY_BACKWARD(addScalar, g)
UNARY_BACKWARD(multiplyScalar, g * p0)
UNARY_BACKWARD(power, p0 == (T)0 ? (T)0 : g * p0 * pow(x, p0 - (T)1))
UNARY_BACKWARD(clamp, x >= p0 && x <= p1 ? g : (T)0)
UNARY_BACKWARD(sign, (T)0)

// Binary ops walk their collapsed broadcast layout with walk_offsets
// (common.cl): out is dense, a and b follow their strides.

#define BINARY(NAME, EXPR) \
kernel void binary_##NAME(global const T* restrict as, global const T* restrict bs, global T* restrict out, \
                          const int rank, const int8 shape, const int8 sa, const int8 sb) { \
    int i, ia, ib; \
    if (!walk_offsets(rank, shape, sa, sb, &i, &ia, &ib)) return; \
    const T a = as[ia]; const T b = bs[ib]; \
    out[i] = (EXPR); \
}

#define BINARY_BACKWARD(NAME, EXPR_A, EXPR_B) \
kernel void binary_backward_##NAME(global const T* restrict as, global const T* restrict bs, \
                                   global const T* restrict gs, global T* ga, global T* gb, const int wantA, \
                                   const int wantB, const int rank, const int8 shape, const int8 sa, \
                                   const int8 sb) { \
    int i, ia, ib; \
    if (!walk_offsets(rank, shape, sa, sb, &i, &ia, &ib)) return; \
    const T a = as[ia]; const T b = bs[ib]; const T g = gs[i]; \
    if (wantA) ga[i] = (EXPR_A); \
    if (wantB) gb[i] = (EXPR_B); \
}

BINARY(add, a + b)
BINARY(subtract, a - b)
BINARY(multiply, a * b)
BINARY(divide, a / b)
BINARY(maximum, isnan(a) || a > b ? a : b)
BINARY(minimum, isnan(a) || a < b ? a : b)
BINARY(power, pow(a, b))

BINARY_BACKWARD(add, g, g)
BINARY_BACKWARD(subtract, g, -g)
BINARY_BACKWARD(multiply, g * b, g * a)
BINARY_BACKWARD(divide, g / b, -g * a / (b * b))
BINARY_BACKWARD(maximum, a > b ? g : (a == b ? g / (T)2 : (T)0), b > a ? g : (a == b ? g / (T)2 : (T)0))
BINARY_BACKWARD(minimum, a < b ? g : (a == b ? g / (T)2 : (T)0), b < a ? g : (a == b ? g / (T)2 : (T)0))
BINARY_BACKWARD(power, g * b * pow(a, b - (T)1), a == (T)0 && b >= (T)0 ? (T)0 : g * pow(a, b) * log(a))
