// The char-LSTM training step's matrix products (nnbench's train case: Embedding 64 + LSTM 256,
// b32 T64, Linear to vocab 96), timed three ways, to see what the GEMM library alone costs the
// step (Benchmarks/results/2026-12-04-issue11-cpu-pool-and-lstm.txt,
// Benchmarks/results/2026-12-07-issue11-onednn-pool.txt):
//   openblas  cblas_sgemm threaded by OpenBLAS itself
//   split     cblas_sgemm on one thread per core, C cut into one block per thread, as the CPU
//             backend runs its products (rows, or columns in 16s when C is wider than tall)
//   onednn    dnnl_sgemm split the same way (the backend's float32 products when libdnnl2 is there)
// Build and run (Debian's libopenblas-dev and libdnnl-dev):
//   cc -O2 Benchmarks/tools/lstm_gemms.c -I/usr/include/x86_64-linux-gnu/openblas-pthread
//      -lopenblas -ldnnl -lpthread -o /tmp/lstm_gemms   (one command)
//   /tmp/lstm_gemms openblas; OPENBLAS_NUM_THREADS=1 /tmp/lstm_gemms split; OMP_NUM_THREADS=1 /tmp/lstm_gemms onednn
// (OPENBLAS_CORETYPE picks OpenBLAS's kernels, as for the library.) Best of 9, warm.
#include <cblas.h>
#include <oneapi/dnnl/dnnl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct {
    int m, n, k, ta, tb, calls;
    const char *name;
} Shape;

static const Shape shapes[] = {
    {2048, 1024, 64, 0, 1, 1, "input projection (B^T)"}, {32, 1024, 256, 0, 0, 64, "forward step"},
    {32, 256, 1024, 0, 0, 64, "backward carry"},          {2048, 64, 1024, 0, 0, 1, "dX"},
    {1024, 64, 2048, 1, 0, 1, "dW_ih (A^T)"},             {1024, 256, 2016, 1, 0, 1, "dW_hh (A^T)"},
    {2048, 96, 256, 0, 0, 1, "vocab linear fwd"},         {2048, 256, 96, 0, 0, 1, "vocab dX"},
    {96, 256, 2048, 1, 0, 1, "vocab dW"},
};

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static int use_onednn;
static float *A, *B, *C;
static Shape current;

static void gemm(int m, int n, const float *a, const float *b, float *c) {
    const Shape s = current;
    int lda = s.ta ? s.m : s.k, ldb = s.tb ? s.k : s.n;
    if (use_onednn) {
        dnnl_sgemm(s.ta ? 'T' : 'N', s.tb ? 'T' : 'N', m, n, s.k, 1.0f, a, lda, b, ldb, 1.0f, c, s.n);
    } else {
        cblas_sgemm(CblasRowMajor, s.ta ? CblasTrans : CblasNoTrans, s.tb ? CblasTrans : CblasNoTrans, m, n, s.k, 1, a,
                    lda, b, ldb, 1, c, s.n);
    }
}

// Block `part` of 2, cut as CPUGEMM.swift's parallelGEMM cuts it.
static void block(int part) {
    const Shape s = current;
    int lda = s.ta ? s.m : s.k, ldb = s.tb ? s.k : s.n;
    int by_rows = s.m >= s.n, extent = by_rows ? s.m : s.n, unit = by_rows ? 8 : 16;
    int units = (extent + unit - 1) / unit;
    int start = units * part / 2 * unit, end = units * (part + 1) / 2 * unit;
    if (end > extent) end = extent;
    if (start >= end) return;
    if (by_rows) {
        gemm(end - start, s.n, s.ta ? A + start : A + (size_t)start * lda, B, C + (size_t)start * s.n);
    } else {
        gemm(s.m, end - start, A, s.tb ? B + (size_t)start * ldb : B + start, C + start);
    }
}

static atomic_int generation, finished;

static void *worker(void *unused) {
    (void)unused;
    int seen = 0;
    for (;;) {
        int g;
        while ((g = atomic_load(&generation)) == seen) {}
        if (g < 0) return NULL;
        seen = g;
        block(1);
        atomic_fetch_add(&finished, 1);
    }
}

int main(int argc, char **argv) {
    const char *mode = argc > 1 ? argv[1] : "openblas";
    int split = strcmp(mode, "openblas") != 0;
    use_onednn = strcmp(mode, "onednn") == 0;
    if (!split && strcmp(mode, "openblas") != 0) {
        fprintf(stderr, "usage: lstm_gemms openblas|split|onednn\n");
        return 64;
    }
    A = malloc(4 << 24), B = malloc(4 << 24), C = malloc(4 << 24);
    for (int i = 0; i < (1 << 24); i++) A[i] = B[i] = 1e-3f * (i % 7), C[i] = 0;
    pthread_t thread;
    if (split) pthread_create(&thread, NULL, worker, NULL);
    double total = 0;
    int g = 0;
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        current = shapes[i];
        double best = 1e9;
        for (int r = 0; r < 9; r++) {
            double t0 = now();
            for (int j = 0; j < current.calls; j++) {
                if (split) {
                    atomic_store(&finished, 0);
                    atomic_store(&generation, ++g);
                    block(0);
                    while (atomic_load(&finished) == 0) {}
                } else {
                    gemm(current.m, current.n, A, B, C);
                }
            }
            double t = now() - t0;
            if (t < best) best = t;
        }
        total += best;
        printf("%-24s %4dx%4dx%4d x%2d  %7.2f ms  %4.0f GFLOP/s\n", current.name, current.m, current.n, current.k,
               current.calls, best * 1e3, 2.0 * current.m * current.n * current.k * current.calls / best / 1e9);
    }
    printf("total %.2f ms (%s)\n", total * 1e3, mode);
    if (split) atomic_store(&generation, -1);
    return 0;
}
