// Elementwise ops. Each op is an inline function named after it, and (unless
// FUSED_CHAIN is defined) a kernel applying it to every element; fused
// chains (OpenCLFusedElementwise.swift) call the functions from one
// generated kernel, so a chain rounds as its ops run one by one.
// Unary: x is the input, p0/p1 the op's parameters.
// Unary backward: x input, y = op(x), g the output gradient.
// Binary: a and b after broadcasting; binary backward writes both partials.
// NAME is only ever pasted (##): names such as abs and sqrt are macros of
// the OpenCL compiler, and an unpasted macro argument is expanded.

#ifdef FUSED_CHAIN
#define UNARY_KERNEL(KERNEL, OP)
#define UNARY_BACKWARD_KERNEL(KERNEL, OP)
#define BINARY_KERNEL(KERNEL, OP)
#define BINARY_BACKWARD_KERNEL(KERNEL, OP_A, OP_B)
#else
#define UNARY_KERNEL(KERNEL, OP) \
kernel void KERNEL(global const T* restrict xs, global T* restrict ys, const int n, const T p0, const T p1) { \
    const int i = get_global_id(0); \
    if (i < n) ys[i] = OP(xs[i], p0, p1); \
}
#define UNARY_BACKWARD_KERNEL(KERNEL, OP) \
kernel void KERNEL(global const T* restrict xs, global const T* restrict ys, \
                                  global const T* restrict gs, global T* restrict out, const int n, \
                                  const T p0, const T p1) { \
    const int i = get_global_id(0); \
    if (i < n) out[i] = OP(xs[i], ys[i], gs[i], p0, p1); \
}
// Binary ops walk their collapsed broadcast layout with walk_offsets
// (common.cl): out is dense, a and b follow their strides.
#define BINARY_KERNEL(KERNEL, OP) \
kernel void KERNEL(global const T* restrict as, global const T* restrict bs, global T* restrict out, \
                          const int rank, const int8 shape, const int8 sa, const int8 sb) { \
    int i, ia, ib; \
    if (!walk_offsets(rank, shape, sa, sb, &i, &ia, &ib)) return; \
    out[i] = OP(as[ia], bs[ib]); \
}
#define BINARY_BACKWARD_KERNEL(KERNEL, OP_A, OP_B) \
kernel void KERNEL(global const T* restrict as, global const T* restrict bs, \
                                   global const T* restrict gs, global T* ga, global T* gb, const int wantA, \
                                   const int wantB, const int rank, const int8 shape, const int8 sa, \
                                   const int8 sb) { \
    int i, ia, ib; \
    if (!walk_offsets(rank, shape, sa, sb, &i, &ia, &ib)) return; \
    const T a = as[ia]; const T b = bs[ib]; const T g = gs[i]; \
    if (wantA) ga[i] = OP_A(a, b, g); \
    if (wantB) gb[i] = OP_B(a, b, g); \
}
#endif

#define UNARY(NAME, EXPR) \
inline T unary_op_##NAME(const T x, const T p0, const T p1) { return (EXPR); } \
UNARY_KERNEL(unary_##NAME, unary_op_##NAME)

#define UNARY_BACKWARD(NAME, EXPR) \
inline T unary_grad_##NAME(const T x, const T y, const T g, const T p0, const T p1) { return (EXPR); } \
UNARY_BACKWARD_KERNEL(unary_backward_##NAME, unary_grad_##NAME)

#define BINARY(NAME, EXPR) \
inline T binary_op_##NAME(const T a, const T b) { return (EXPR); } \
BINARY_KERNEL(binary_##NAME, binary_op_##NAME)

#define BINARY_BACKWARD(NAME, EXPR_A, EXPR_B) \
inline T binary_grad_a_##NAME(const T a, const T b, const T g) { return (EXPR_A); } \
inline T binary_grad_b_##NAME(const T a, const T b, const T g) { return (EXPR_B); } \
BINARY_BACKWARD_KERNEL(binary_backward_##NAME, binary_grad_a_##NAME, binary_grad_b_##NAME)

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
