// Data movement: the strided copy behind transpose/slice/concat/broadcast,
// and dtype conversions.

// dst[dstView(index)] (+)= src[srcView(index)] for every index of shape,
// over walk_offsets' 3-D range.
#define STRIDED(NAME, TYPE, OP) \
kernel void NAME(global const TYPE* restrict src, const int srcOffset, const int8 srcStrides8, \
                 global TYPE* restrict dst, const int dstOffset, const int8 dstStrides8, \
                 const int rank, const int8 shape8) { \
    int i, s, d; \
    if (!walk_offsets(rank, shape8, srcStrides8, dstStrides8, &i, &s, &d)) return; \
    dst[dstOffset + d] OP src[srcOffset + s]; \
}

// The copies move bits: _32 serves float and int, _64 double and long
// (ulong is core OpenCL C, so _64 builds on devices without fp64 too).
STRIDED(copy_strided_32, uint, =)
STRIDED(copy_strided_64, ulong, =)
STRIDED(add_strided, T, +=)

#define CONVERT(NAME, FROM, TO) \
kernel void NAME(global const FROM* restrict src, global TO* restrict dst, const int n) { \
    const int i = get_global_id(0); \
    if (i < n) dst[i] = (TO)src[i]; \
}

CONVERT(convert_int_float, int, float)
CONVERT(convert_float_int, float, int)
// long (PyTorch's int64 labels and indices) -> int saturates, so a value
// outside int's range stays out of range for the op that reads it.
kernel void convert_long_int(global const long* restrict src, global int* restrict dst, const int n) {
    const int i = get_global_id(0);
    if (i < n) dst[i] = (int)clamp(src[i], (long)INT_MIN, (long)INT_MAX);
}
CONVERT(convert_int_long, int, long)
CONVERT(convert_long_float, long, float)
CONVERT(convert_float_long, float, long)
#if NN_FP64
CONVERT(convert_float_double, float, double)
CONVERT(convert_double_float, double, float)
CONVERT(convert_int_double, int, double)
CONVERT(convert_double_int, double, int)
CONVERT(convert_long_double, long, double)
CONVERT(convert_double_long, double, long)
#endif
