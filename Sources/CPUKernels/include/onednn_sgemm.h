// oneDNN's sgemm (Debian's libdnnl2), opened at run time: on x86-64 its
// just-in-time kernels use the CPU's full vector width (AVX-512 where
// present), and they keep that speed on the small products of a recurrent
// step (32 x 1024 x 256: 350 GFLOP/s on 2 Zen 5 cores, where OpenBLAS
// 0.3.21 reaches 170), which is why the CPU backend's float32 products go
// to it when it is installed. Like the OpenCL loader it is opened with
// dlopen, so a binary starts without it and runs every product on
// OpenBLAS.
//
// The calls run single-threaded: the CPU backend spreads a product over
// its own thread pool by cutting C into blocks (CPUGEMM.swift), so that
// one set of threads serves the products and the loops between them.
// oneDNN's OpenMP runtime reads the thread count per calling thread, so
// each thread sets it to one before its first call.
#ifndef NN_ONEDNN_SGEMM_H
#define NN_ONEDNN_SGEMM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Opens oneDNN from `path` (NULL: "libdnnl.so.3", then "libdnnl.so.2")
/// once per process. Returns 1 when sgemm is usable; otherwise 0, with
/// the reason in `error` (the loader's message, a missing symbol, or a
/// threading runtime whose thread count cannot be set per call). Later
/// calls return the first call's result and reason.
int nn_onednn_open(const char *path, char *error, size_t error_size);

/// What was opened: the library's file, version and the instruction set
/// its kernels use ("avx512_core_bf16"), for reports. Valid after a
/// successful nn_onednn_open.
const char *nn_onednn_path(void);
void nn_onednn_version(int *major, int *minor, int *patch);
const char *nn_onednn_isa(void);

/// Row-major C = alpha op(A) op(B) + beta C on the calling thread, as
/// dnnl_sgemm (transa, transb: 'N' or 'T'). Returns oneDNN's status (0:
/// success). Call only after nn_onednn_open returned 1.
int nn_onednn_sgemm(char transa, char transb, int64_t m, int64_t n, int64_t k, float alpha, const float *a,
                    int64_t lda, const float *b, int64_t ldb, float beta, float *c, int64_t ldc);

#ifdef __cplusplus
}
#endif

#endif
