// Row-major GEMM: C = alpha * op(A) * op(B) + beta * C, op(A) m x k, op(B)
// k x n, each operand at an element offset with its leading dimension, and
// `batch` of them along dimension 2 of the range (operand i at offset +
// i * stride). With beta == 0, C is not read (NaNs in it do not propagate).
//
// Two kernels, picked per device type by the host:
// - gemm_tiled (GPUs): 64x64 output tiles staged through local memory in
//   k-slices of 16, each work-item accumulating a 4x4 block in registers.
// - gemm_vector (CPU devices such as PoCL): no local memory; each work-item
//   keeps a ROWS x 16 block in vector registers and streams rows of B,
//   which is what a CPU's caches and SIMD units want.
// Both handle any m, n, k: out-of-range loads read 0, stores are guarded.

#define A_AT(r, c) (transA ? A[(c) * lda + (r)] : A[(r) * lda + (c)])
#define B_AT(r, c) (transB ? B[(c) * ldb + (r)] : B[(r) * ldb + (c)])

#define TILE_M 64
#define TILE_N 64
#define TILE_K 16
#define WORK_M 4
#define WORK_N 4
// Work-group: (TILE_N / WORK_N) x (TILE_M / WORK_M) = 16 x 16.

kernel void gemm_tiled(const int m, const int n, const int k, const T alpha,
                       global const T* restrict A0, const int offsetA, const int lda, const int transA, const int strideA,
                       global const T* restrict B0, const int offsetB, const int ldb, const int transB, const int strideB,
                       const T beta, global T* C0, const int offsetC, const int ldc, const int strideC) {
    local T tileA[TILE_K][TILE_M + 1];  // +1: no bank conflicts on the transposed store
    local T tileB[TILE_K][TILE_N];
    const int tx = get_local_id(0), ty = get_local_id(1);
    const int batch = get_global_id(2);
    global const T* A = A0 + offsetA + batch * strideA;
    global const T* B = B0 + offsetB + batch * strideB;
    global T* C = C0 + offsetC + batch * strideC;
    const int rowBase = get_group_id(1) * TILE_M, colBase = get_group_id(0) * TILE_N;
    const int flat = ty * (TILE_N / WORK_N) + tx;  // 0..255

    T acc[WORK_M][WORK_N];
    for (int i = 0; i < WORK_M; ++i)
        for (int j = 0; j < WORK_N; ++j) acc[i][j] = (T)0;

    for (int k0 = 0; k0 < k; k0 += TILE_K) {
        // 64x16 of A and 16x64 of B: 1024 values each, 4 per work-item.
        for (int l = 0; l < 4; ++l) {
            const int e = flat + l * 256;
            const int ar = e / TILE_K, ac = e % TILE_K;
            const int r = rowBase + ar, c = k0 + ac;
            tileA[ac][ar] = (r < m && c < k) ? A_AT(r, c) : (T)0;
            const int br = e / TILE_N, bc = e % TILE_N;
            const int kr = k0 + br, col = colBase + bc;
            tileB[br][bc] = (kr < k && col < n) ? B_AT(kr, col) : (T)0;
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        for (int kk = 0; kk < TILE_K; ++kk) {
            T a[WORK_M], b[WORK_N];
            for (int i = 0; i < WORK_M; ++i) a[i] = tileA[kk][ty * WORK_M + i];
            for (int j = 0; j < WORK_N; ++j) b[j] = tileB[kk][tx + j * (TILE_N / WORK_N)];
            for (int i = 0; i < WORK_M; ++i)
                for (int j = 0; j < WORK_N; ++j) acc[i][j] += a[i] * b[j];
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    for (int i = 0; i < WORK_M; ++i) {
        const int r = rowBase + ty * WORK_M + i;
        if (r >= m) continue;
        for (int j = 0; j < WORK_N; ++j) {
            const int c = colBase + tx + j * (TILE_N / WORK_N);
            if (c >= n) continue;
            const T value = alpha * acc[i][j];
            C[r * ldc + c] = beta == (T)0 ? value : value + beta * C[r * ldc + c];
        }
    }
}

#ifndef ROWS
#define ROWS 8
#endif
#define VEC16 CONCAT(T, 16)
#define CONCAT(a, b) CONCAT_(a, b)
#define CONCAT_(a, b) a##b

// Work-item (j, i) computes C[i*ROWS .. +ROWS, j*16 .. +16] over the k-slice
// [k0, k1): the host splits long k into slices (beta = 1 after the first) so
// the 16-column strip of B a work-item streams stays in L1/L2.
kernel void gemm_vector(const int m, const int n, const int k0, const int k1, const T alpha,
                        global const T* restrict A0, const int offsetA, const int lda, const int transA, const int strideA,
                        global const T* restrict B0, const int offsetB, const int ldb, const int transB, const int strideB,
                        const T beta, global T* C0, const int offsetC, const int ldc, const int strideC) {
    const int col = get_global_id(0) * 16, row = get_global_id(1) * ROWS, batch = get_global_id(2);
    if (row >= m || col >= n) return;
    global const T* A = A0 + offsetA + batch * strideA;
    global const T* B = B0 + offsetB + batch * strideB;
    global T* C = C0 + offsetC + batch * strideC;
    const int rows = min(ROWS, m - row);
    if (col + 16 <= n && rows == ROWS && !transB) {
        // The hot path: full block, B rows contiguous; one vector of B feeds
        // ROWS multiply-adds held in named registers.
        VEC16 acc0 = 0, acc1 = 0, acc2 = 0, acc3 = 0;
#if ROWS == 8
        VEC16 acc4 = 0, acc5 = 0, acc6 = 0, acc7 = 0;
#endif
        for (int p = k0; p < k1; ++p) {
            const VEC16 b = vload16(0, B + p * ldb + col);
            acc0 += A_AT(row, p) * b;
            acc1 += A_AT(row + 1, p) * b;
            acc2 += A_AT(row + 2, p) * b;
            acc3 += A_AT(row + 3, p) * b;
#if ROWS == 8
            acc4 += A_AT(row + 4, p) * b;
            acc5 += A_AT(row + 5, p) * b;
            acc6 += A_AT(row + 6, p) * b;
            acc7 += A_AT(row + 7, p) * b;
#endif
        }
#if ROWS == 8
        const VEC16 acc[ROWS] = {acc0, acc1, acc2, acc3, acc4, acc5, acc6, acc7};
#else
        const VEC16 acc[ROWS] = {acc0, acc1, acc2, acc3};
#endif
        for (int i = 0; i < ROWS; ++i) {
            global T* c = C + (row + i) * ldc + col;
            const VEC16 value = alpha * acc[i];
            vstore16(beta == (T)0 ? value : value + beta * vload16(0, c), 0, c);
        }
        return;
    }
    // Edges (and a transposed B, which the host normally copies out first):
    // scalar loop over the partial block.
    const int cols = min(16, n - col);
    for (int i = 0; i < rows; ++i) {
        for (int j = 0; j < cols; ++j) {
            T acc = (T)0;
            for (int p = k0; p < k1; ++p) acc += A_AT(row + i, p) * B_AT(p, col + j);
            global T* c = C + (row + i) * ldc + col + j;
            *c = beta == (T)0 ? alpha * acc : alpha * acc + beta * *c;
        }
    }
}
