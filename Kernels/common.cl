// Prepended to every program. T is the float type the program is built for
// (-D T=float or -D T=double); NN_FP64 says whether the device has doubles.
// Contraction stays off so a*b+c rounds twice, as on the CPU backend: the
// random fills must match it bit for bit.
#pragma OPENCL FP_CONTRACT OFF
#if NN_FP64
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
#endif

// Broadcast/strided walks pass up to 8 axes as int8 vectors; kernels copy
// them into private arrays to index them.
#define UNPACK8(v, a) int a[8] = {(v).s0, (v).s1, (v).s2, (v).s3, (v).s4, (v).s5, (v).s6, (v).s7}

// Walks of up to 8 axes run over a 3-D range: (innermost axis, the one
// before it, every other axis flattened). The host passes the axes
// innermost first, unused lanes with size 1 and stride 0, so the lanes are
// read by name: a private array indexed at run time lives on the stack and
// keeps CPU compilers (PoCL) from vectorizing across work-items. Only the
// flattened axes divide (integer division is a scalar loop on CPUs), with
// quotients shared by a whole row of work-items. Gives the dense index of
// the element and its offsets under two stride sets; false outside the walk
// (the range is rounded up).
#define WALK_AXIS(lane) \
    if (rank > lane) { \
        const int k = rest % shape.s##lane; \
        rest /= shape.s##lane; \
        a += k * s1.s##lane; \
        b += k * s2.s##lane; \
    }

inline bool walk_offsets(const int rank, const int8 shape, const int8 s1, const int8 s2, int* dense, int* o1, int* o2) {
    const int i0 = get_global_id(0), i1 = get_global_id(1);
    int rest = get_global_id(2);
    const int outer = shape.s2 * shape.s3 * shape.s4 * shape.s5 * shape.s6 * shape.s7;
    if (i0 >= shape.s0 || i1 >= shape.s1 || rest >= outer) return false;
    *dense = (rest * shape.s1 + i1) * shape.s0 + i0;
    int a = i0 * s1.s0 + i1 * s1.s1, b = i0 * s2.s0 + i1 * s2.s1;
    WALK_AXIS(2) WALK_AXIS(3) WALK_AXIS(4) WALK_AXIS(5) WALK_AXIS(6) WALK_AXIS(7)
    *o1 = a;
    *o2 = b;
    return true;
}

// The logistic function (elementwise sigmoid, recurrent gates).
inline T sigmoid_of(const T x) { return (T)1 / ((T)1 + exp(-x)); }

// Kernels over a small window (pooling windows, convolution taps) are built
// per window size up to 7x7 (-D WINDOW_KH=5 -D WINDOW_KW=5), and
// EACH_TAP(KH, KW, ROW, TAP) spells the taps out: ROW(i) before window row
// i, TAP(i, j) for each tap. A kernel is then straight-line code that CPU
// compilers vectorize across work-items: PoCL builds its work-item loops
// before LLVM would unroll a constant loop, and vectorizes no kernel with a
// loop left in it (a 2x2 max pool ran 3.5 times as fast spelled out).
// Without WINDOW_KH, KH and KW are run-time bounds and the taps loop.
#define NN_CAT(a, b) NN_CAT_(a, b)
#define NN_CAT_(a, b) a##b
#define NO_ROW(i)
#ifdef WINDOW_KH
#define TAPS_1(TAP, i) TAP(i, 0)
#define TAPS_2(TAP, i) TAPS_1(TAP, i) TAP(i, 1)
#define TAPS_3(TAP, i) TAPS_2(TAP, i) TAP(i, 2)
#define TAPS_4(TAP, i) TAPS_3(TAP, i) TAP(i, 3)
#define TAPS_5(TAP, i) TAPS_4(TAP, i) TAP(i, 4)
#define TAPS_6(TAP, i) TAPS_5(TAP, i) TAP(i, 5)
#define TAPS_7(TAP, i) TAPS_6(TAP, i) TAP(i, 6)
#define WINDOW_ROW(ROW, TAP, i) ROW(i) NN_CAT(TAPS_, WINDOW_KW)(TAP, i)
#define WINDOW_1(ROW, TAP) WINDOW_ROW(ROW, TAP, 0)
#define WINDOW_2(ROW, TAP) WINDOW_1(ROW, TAP) WINDOW_ROW(ROW, TAP, 1)
#define WINDOW_3(ROW, TAP) WINDOW_2(ROW, TAP) WINDOW_ROW(ROW, TAP, 2)
#define WINDOW_4(ROW, TAP) WINDOW_3(ROW, TAP) WINDOW_ROW(ROW, TAP, 3)
#define WINDOW_5(ROW, TAP) WINDOW_4(ROW, TAP) WINDOW_ROW(ROW, TAP, 4)
#define WINDOW_6(ROW, TAP) WINDOW_5(ROW, TAP) WINDOW_ROW(ROW, TAP, 5)
#define WINDOW_7(ROW, TAP) WINDOW_6(ROW, TAP) WINDOW_ROW(ROW, TAP, 6)
#define EACH_TAP(KH, KW, ROW, TAP) NN_CAT(WINDOW_, WINDOW_KH)(ROW, TAP)
// The window's size: the built-in one, else the run-time value.
#define WINDOW_H(runtime) WINDOW_KH
#define WINDOW_W(runtime) WINDOW_KW
#else
#define EACH_TAP(KH, KW, ROW, TAP) \
    for (int i_ = 0; i_ < (KH); ++i_) { \
        ROW(i_) \
        for (int j_ = 0; j_ < (KW); ++j_) TAP(i_, j_) \
    }
#define WINDOW_H(runtime) (runtime)
#define WINDOW_W(runtime) (runtime)
#endif

// Index checks (gather, scatter-add, class labels): the first work-item to
// meet an index outside [0, bound) records the op's code, the index, its
// position and the bound in `errors` (4 ints, all 0 while clean); the host
// reads them at its next download or synchronize and throws an error that
// names them (OpenCLBackend+IndexChecks.swift). Codes: 1 gather, 2
// scatter-add, 3 class labels of cross-entropy.
inline void report_bad_index(global int* errors, const int op, const int index, const int position, const int bound) {
    if (atomic_cmpxchg(errors, 0, op) == 0) {
        errors[1] = index;
        errors[2] = position;
        errors[3] = bound;
    }
}
