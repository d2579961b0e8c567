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

// The logistic function (elementwise sigmoid, recurrent gates).
inline T sigmoid_of(const T x) { return (T)1 / ((T)1 + exp(-x)); }
