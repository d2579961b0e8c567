// Reductions, argmax, gather and scatter-add along the middle axis of an
// [outer, axis, inner] view.
//
// Contiguous rows (inner == 1): one work-group per row, each work-item
// folding a strided slice of the row, then a tree reduction in local memory
// (the local size must be a power of two; rows shorter than the group leave
// work-items with the identity). Float32 sums accumulate in double where the
// device has it, as the CPU backend does, else with Kahan compensation.
// Strided rows (inner > 1): one work-item per output, looping over the axis
// in order (the CPU backend's order, so sums round the same way).

#if NN_FP64
typedef double ACC;
#else
typedef float ACC;
#endif

// NaN wins, then the larger (smaller) value; on ties the earlier operand.
inline T max_nan(const T a, const T b) { return isnan(a) ? a : (isnan(b) || b > a ? b : a); }
inline T min_nan(const T a, const T b) { return isnan(a) ? a : (isnan(b) || b < a ? b : a); }

// The sum of src[a] for a = first, first + step, ... below axis: in double
// where the device has it, else compensated (Kahan) in float.
inline ACC slice_sum(global const T* src, const int axis, const int first, const int step) {
    ACC acc = 0;
#if NN_FP64
    for (int a = first; a < axis; a += step) acc += (ACC)src[a];
#else
    ACC carry = 0;
    for (int a = first; a < axis; a += step) {
        const ACC y = (ACC)src[a] - carry;
        const ACC t = acc + y;
        carry = (t - acc) - y;
        acc = t;
    }
#endif
    return acc;
}

#define ROW_SUM_LIKE(NAME, FINISH) \
kernel void NAME(global const T* restrict x, global T* restrict out, const int axis, const T scale, \
                 local ACC* scratch) { \
    const int row = get_group_id(0); \
    const int lid = get_local_id(0); \
    const int lsize = get_local_size(0); \
    global const T* src = x + (long)row * axis; \
    scratch[lid] = slice_sum(src, axis, lid, lsize); \
    barrier(CLK_LOCAL_MEM_FENCE); \
    for (int s = lsize >> 1; s > 0; s >>= 1) { \
        if (lid < s) scratch[lid] = scratch[lid] + scratch[lid + s]; \
        barrier(CLK_LOCAL_MEM_FENCE); \
    } \
    if (lid == 0) out[row] = FINISH; \
}

ROW_SUM_LIKE(reduce_rows_sum, (T)scratch[0])
ROW_SUM_LIKE(reduce_rows_mean, (T)scratch[0] * scale)

#define ROW_EXTREMUM(NAME, COMBINE, IDENTITY) \
kernel void NAME(global const T* restrict x, global T* restrict out, const int axis, const T scale, \
                 local T* scratch) { \
    const int row = get_group_id(0); \
    const int lid = get_local_id(0); \
    const int lsize = get_local_size(0); \
    global const T* src = x + (long)row * axis; \
    T best = (IDENTITY); \
    if (lid < axis) { \
        best = src[lid]; \
        for (int a = lid + lsize; a < axis; a += lsize) best = COMBINE(best, src[a]); \
    } \
    scratch[lid] = best; \
    barrier(CLK_LOCAL_MEM_FENCE); \
    for (int s = lsize >> 1; s > 0; s >>= 1) { \
        if (lid < s) scratch[lid] = COMBINE(scratch[lid], scratch[lid + s]); \
        barrier(CLK_LOCAL_MEM_FENCE); \
    } \
    if (lid == 0) out[row] = scratch[0]; \
}

ROW_EXTREMUM(reduce_rows_max, max_nan, -INFINITY)
ROW_EXTREMUM(reduce_rows_min, min_nan, INFINITY)

// out[o, i] for n = outer * inner outputs.
#define STRIDED_REDUCE(NAME, INIT, STEP, FINISH) \
kernel void NAME(global const T* restrict x, global T* restrict out, const int axis, const int inner, \
                 const int n, const T scale) { \
    const int oi = get_global_id(0); \
    if (oi >= n) return; \
    const int o = oi / inner, i = oi - o * inner; \
    global const T* src = x + (long)o * axis * inner + i; \
    T acc = INIT; \
    for (int a = 0; a < axis; ++a) { const T v = src[(long)a * inner]; STEP; } \
    out[oi] = FINISH; \
}

STRIDED_REDUCE(reduce_strided_sum, (T)0, acc += v, acc)
STRIDED_REDUCE(reduce_strided_mean, (T)0, acc += v, acc * scale)

// Sums and means of 8 neighbouring outputs per work-item, with vector loads:
// n = outer * groups, groups = ceil(inner / 8). PoCL vectorizes no kernel
// that loops, so the kernel above walks one column per work-item in scalar
// code, touching a new cache line per step (a [2048, 1024] bias gradient took
// 9 ms on two cores). Each column still adds in order in T, as the kernel
// above and the CPU backend do, so the results are the same bits.
#define VEC8_(t) t##8
#define VEC8(t) VEC8_(t)
#define STRIDED_REDUCE8(NAME, FINISH) \
kernel void NAME(global const T* restrict x, global T* restrict out, const int axis, const int inner, \
                 const int groups, const int n, const T scale) { \
    const int gi = get_global_id(0); \
    if (gi >= n) return; \
    const int o = gi / groups, i = (gi - o * groups) * 8; \
    global const T* src = x + (long)o * axis * inner + i; \
    global T* dst = out + (long)o * inner + i; \
    if (i + 8 <= inner) { \
        VEC8(T) acc = (VEC8(T))(0); \
        for (int a = 0; a < axis; ++a) acc += vload8(0, src + (long)a * inner); \
        vstore8(FINISH, 0, dst); \
    } else { \
        for (int j = 0; j < inner - i; ++j) { \
            T acc = 0; \
            for (int a = 0; a < axis; ++a) acc += src[(long)a * inner + j]; \
            dst[j] = FINISH; \
        } \
    } \
}

STRIDED_REDUCE8(reduce_strided8_sum, acc)
STRIDED_REDUCE8(reduce_strided8_mean, acc * scale)
STRIDED_REDUCE(reduce_strided_max, -INFINITY, if (a == 0 || v > acc || isnan(v)) acc = v, acc)
STRIDED_REDUCE(reduce_strided_min, INFINITY, if (a == 0 || v < acc || isnan(v)) acc = v, acc)

// indices[o, i] = the first a maximizing x[o, a, i]; a NaN beats any number.
kernel void argmax(global const T* restrict x, global int* restrict indices, const int axis, const int inner,
                   const int n) {
    const int oi = get_global_id(0);
    if (oi >= n) return;
    const int o = oi / inner, i = oi - o * inner;
    global const T* src = x + (long)o * axis * inner + i;
    T best = src[0];
    int bestIndex = 0;
    for (int a = 1; a < axis; ++a) {
        const T v = src[(long)a * inner];
        if (v > best || (isnan(v) && !isnan(best))) { best = v; bestIndex = a; }
    }
    indices[oi] = bestIndex;
}

// out[o, j, i] = x[o, indices[o, j, i], i]; an index out of range gives 0
// and is reported (report_bad_index). Elements are copied as bits, so one
// kernel serves float32 and int32, the other float64 and int64 (ulong is
// core OpenCL C: it builds without fp64).
#define GATHER(NAME, TYPE) \
kernel void NAME(global const TYPE* restrict x, global const int* restrict indices, global TYPE* restrict out, \
                 const int axis, const int inner, const int indexCount, const int n, global int* errors) { \
    const int e = get_global_id(0); \
    if (e >= n) return; \
    const int o = e / (indexCount * inner), i = e % inner; \
    const int a = indices[e]; \
    const bool inside = a >= 0 && a < axis; \
    if (!inside) report_bad_index(errors, 1, a, e, axis); \
    out[e] = inside ? x[((long)o * axis + a) * inner + i] : (TYPE)0; \
}

GATHER(gather_32, uint)
GATHER(gather_64, ulong)

// out[o, a, i] += src[o, j, i] for every j with indices[o, j, i] == a, in j
// order: one work-item per element of out, no atomics, the CPU backend's
// rounding. n = outer * axis * inner.
// One work-item per (o, i) column walks j in order and adds each source into
// its target row: O(indexCount) work per column, no atomics, and the same
// addition order as the CPU backend.
// An index out of range is skipped and reported (report_bad_index).
kernel void scatter_add(global const T* restrict src, global const int* restrict indices, global T* restrict out,
                        const int axis, const int inner, const int indexCount, const int columns, global int* errors) {
    const int c = get_global_id(0);
    if (c >= columns) return;
    const int i = c % inner, o = c / inner;
    for (int j = 0; j < indexCount; ++j) {
        const long s = ((long)o * indexCount + j) * inner + i;
        const int a = indices[s];
        if (a >= 0 && a < axis) {
            out[((long)o * axis + a) * inner + i] += src[s];
        } else {
            report_bad_index(errors, 2, a, (int)s, axis);
        }
    }
}
