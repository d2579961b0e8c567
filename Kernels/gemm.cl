// Row-major GEMM: C = alpha * op(A) * op(B) + beta * C, op(A) m x k, op(B)
// k x n, each operand at an element offset with its leading dimension, and
// `batch` of them along dimension 2 of the range (operand i at offset +
// i * stride). With beta == 0, C is not read (NaNs in it do not propagate).
//
// Two kernels, picked per device type by the host:
// - gemm_tiled (GPUs): 64x64 output tiles staged through local memory in
//   k-slices of 16, each work-item accumulating a 4x4 block in registers.
// - gemm_vector (CPU devices such as PoCL): no local memory; each work-item
//   keeps a ROWS x WIDTH block in vector registers and streams rows of B,
//   which is what a CPU's caches and SIMD units want. ROWS, WIDTH and the
//   host's k-slice are tuned per device.
// Both handle any m, n, k: out-of-range loads read 0, stores are guarded.
//
// common.cl turns contraction off (the random fills must round as the CPU
// does); products may fuse into multiply-adds, which every GPU and
// AVX2/AVX-512 core executes at full rate.
#pragma OPENCL FP_CONTRACT ON

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

// gemm_vector's shape, chosen per device by the tuner (OpenCLGEMMTuner):
// ROWS rows x WIDTH columns of C per work-item, in WIDTH-wide vectors.
#ifndef ROWS
#define ROWS 8
#endif
#ifndef WIDTH
#define WIDTH 16
#endif
#define CONCAT(a, b) CONCAT_(a, b)
#define CONCAT_(a, b) a##b
// A block row is HALVES vectors of LANES (WIDTH 32: two 16-wide vectors,
// so one broadcast of A feeds two multiply-adds).
#if WIDTH == 32
#define LANES 16
#define HALVES 2
#else
#define LANES WIDTH
#define HALVES 1
#endif
#define VEC CONCAT(T, LANES)
#define VLOAD CONCAT(vload, LANES)
#define VSTORE CONCAT(vstore, LANES)

// X(i) for each row i of the block: named accumulators, not an array, so
// every compiler keeps them in registers.
#if ROWS == 1
#define EACH_ROW(X) X(0)
#elif ROWS == 2
#define EACH_ROW(X) X(0) X(1)
#elif ROWS == 4
#define EACH_ROW(X) X(0) X(1) X(2) X(3)
#elif ROWS == 8
#define EACH_ROW(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7)
#else
#error "ROWS must be 1, 2, 4 or 8"
#endif
// Where row r of op(A) starts, relative to the current k.
inline int aRowOffset(const int r, const int lda, const int transA) { return transA ? r : r * lda; }

// Rows past m (a partial block at the bottom edge) read row m - 1 and are
// not stored, so the edge runs the vector path too.
#define STORE_VEC(acc, c) { const VEC value = alpha * acc; VSTORE(beta == (T)0 ? value : value + beta * VLOAD(0, c), 0, c); }
#if HALVES == 2
#define DECLARE_ROW(i) VEC acc##i = 0, high##i = 0; const int a##i = packedA ? i : aRowOffset(min(row + i, m - 1), lda, transA);
#define ACCUMULATE_ROW(i) { const T a = Ap[a##i]; acc##i += a * b; high##i += a * bHigh; }
#define STORE_ROW(i) if (i < rows) { global T* c = C + (row + i) * ldc + col; STORE_VEC(acc##i, c) STORE_VEC(high##i, c + LANES) }
#define LOAD_B const VEC b = VLOAD(0, Bp), bHigh = VLOAD(0, Bp + LANES);
#define SPILL_ROW(i, lanes) VSTORE(acc##i, 0, lanes); VSTORE(high##i, 0, lanes + LANES);
#else
#define DECLARE_ROW(i) VEC acc##i = 0; const int a##i = packedA ? i : aRowOffset(min(row + i, m - 1), lda, transA);
#define ACCUMULATE_ROW(i) acc##i += Ap[a##i] * b;
#define STORE_ROW(i) if (i < rows) { global T* c = C + (row + i) * ldc + col; STORE_VEC(acc##i, c) }
#define LOAD_B const VEC b = VLOAD(0, Bp);
#define SPILL_ROW(i, lanes) VSTORE(acc##i, 0, lanes);
#endif
// A right-edge block computed at `start` < col stores only its own columns,
// col..n-1 (the ones before belong to the neighbouring work-item).
#define STORE_EDGE_ROW(i) if (i < rows) { \
    T lanes[WIDTH]; \
    SPILL_ROW(i, lanes) \
    global T* c = C + (row + i) * ldc + start; \
    for (int l = col - start; l < WIDTH; ++l) c[l] = beta == (T)0 ? alpha * lanes[l] : alpha * lanes[l] + beta * c[l]; \
}

// Work-item (i, j) computes C[i*ROWS .. +ROWS, j*WIDTH .. +WIDTH] over the
// k-slice [k0, k1): the host splits long k into slices (beta = 1 after the
// first) so the strip of B a work-item streams stays in L1/L2. Row blocks
// are dimension 0, so the work-items a CPU device runs one after another
// share one strip of B from cache and stream A, whose every value feeds
// WIDTH multiply-adds (a value of B feeds ROWS).
//
// packed & 1: B is gemm_pack_b's output, not op(B): ldb is the stride
// between column blocks (k * WIDTH) and a block's rows are WIDTH apart.
// packed & 2: A is gemm_pack_a's, lda the stride between its row blocks.
// The host packs only where n >= WIDTH and B is packed or not transposed
// (the vector path), as the scalar loop reads A and B as they are.
kernel void gemm_vector(const int m, const int n, const int k0, const int k1, const T alpha,
                        global const T* restrict A0, const int offsetA, const int lda, const int transA, const int strideA,
                        global const T* restrict B0, const int offsetB, const int ldb, const int transB, const int strideB,
                        const T beta, global T* C0, const int offsetC, const int ldc, const int strideC, const int packed) {
    const int row = get_global_id(0) * ROWS, col = get_global_id(1) * WIDTH, batch = get_global_id(2);
    if (row >= m || col >= n) return;
    global const T* A = A0 + offsetA + batch * strideA;
    global const T* B = B0 + offsetB + batch * strideB;
    global T* C = C0 + offsetC + batch * strideC;
    const int rows = min(ROWS, m - row);
    const int packedA = packed & 2, packedB = packed & 1;
    if (n >= WIDTH && (packedB || !transB)) {
        // The hot path: B rows contiguous; one vector of B feeds ROWS
        // multiply-adds. A block at the right edge shifts left to end at
        // column n, so it runs this path too (a convolution's filter
        // gradient has n = 25 or 150) and recomputes columns it does not
        // store.
        const int start = min(col, n - WIDTH);
        // A and B advance by pointer and A's rows sit at fixed offsets
        // from it: with A_AT(r, p) in the loop PoCL's LLVM kept the transA
        // select and the index arithmetic there (about two integer
        // instructions per multiply-add, half the 8x32 block's speed).
        EACH_ROW(DECLARE_ROW)
        const int aStep = packedA ? ROWS : transA ? lda : 1;
        global const T* Ap = packedA ? A + (row / ROWS) * lda + k0 * ROWS : A + k0 * aStep;
        const int bStep = packedB ? WIDTH : ldb;
        global const T* Bp = packedB ? B + (col / WIDTH) * ldb + k0 * WIDTH : B + k0 * ldb + start;
        for (int p = k0; p < k1; ++p, Ap += aStep, Bp += bStep) {
            LOAD_B
            EACH_ROW(ACCUMULATE_ROW)
        }
        if (start == col) {
            EACH_ROW(STORE_ROW)
        } else {
            EACH_ROW(STORE_EDGE_ROW)
        }
        return;
    }
    // Fewer columns than one block (and a transposed B, which the host
    // normally copies out first): scalar loop over the partial block.
    const int cols = min(WIDTH, n - col);
    for (int i = 0; i < rows; ++i) {
        for (int j = 0; j < cols; ++j) {
            T acc = (T)0;
            for (int p = k0; p < k1; ++p) acc += A_AT(row + i, p) * B_AT(p, col + j);
            global T* c = C + (row + i) * ldc + col + j;
            *c = beta == (T)0 ? alpha * acc : alpha * acc + beta * *c;
        }
    }
}

// Copies op(B) (n >= WIDTH) into the column blocks gemm_vector reads with
// packed & 1: block j holds the WIDTH columns from min(j WIDTH, n - WIDTH) as
// k rows of WIDTH consecutive values. Unpacked, a block's rows lie ldb
// apart; where ldb is a multiple of 1 KiB (a 512 or 1024-wide matrix) they
// share a few cache sets and the strip of B that consecutive work-items
// reuse does not stay in L1 or L2. Work-item (p, batch * blocks + j) copies
// row p of block j, in vectors unless B is transposed.
kernel void gemm_pack_b(const int n, const int k, const int batches, global const T* restrict B0, const int offsetB,
                        const int ldb, const int transB, const int strideB, global T* restrict packed) {
    const int p = get_global_id(0), z = get_global_id(1);
    const int blocks = (n + WIDTH - 1) / WIDTH;
    if (p >= k || z >= batches * blocks) return;
    const int batch = z / blocks, j = z - batch * blocks;
    global const T* B = B0 + offsetB + batch * strideB;
    const int start = min(j * WIDTH, n - WIDTH);
    global T* out = packed + ((long)z * k + p) * WIDTH;
    if (!transB) {
        global const T* row = B + p * ldb + start;
        for (int h = 0; h < HALVES; ++h) VSTORE(VLOAD(h, row), h, out);
    } else {
        for (int w = 0; w < WIDTH; ++w) out[w] = B[(start + w) * ldb + p];
    }
}

// Copies op(A) into the row blocks gemm_vector reads with packed & 2: block
// j holds rows j ROWS .. + ROWS (the last row repeated past m) as k runs of
// ROWS consecutive values. A transposed A has such runs lda apart; where
// lda is a multiple of 1 KiB they share a few cache sets and each is
// fetched again for every column block. Work-item (batch * blocks + j, q)
// copies the runs of p = 16 q .. + 16: neighbouring items read along the
// same rows of A^T and each writes whole cache lines.
#define PACK_RUNS 16
kernel void gemm_pack_a(const int m, const int k, const int batches, global const T* restrict A0, const int offsetA,
                        const int lda, const int transA, const int strideA, global T* restrict packed) {
    const int z = get_global_id(0), p0 = get_global_id(1) * PACK_RUNS;
    const int blocks = (m + ROWS - 1) / ROWS;
    if (z >= batches * blocks) return;
    const int batch = z / blocks, j = z - batch * blocks;
    global const T* A = A0 + offsetA + batch * strideA;
    for (int p = p0; p < min(k, p0 + PACK_RUNS); ++p) {
        global T* out = packed + ((long)z * k + p) * ROWS;
        for (int i = 0; i < ROWS; ++i) out[i] = A_AT(min(j * ROWS + i, m - 1), p);
    }
}

// Split-K: C = alpha * (the sum of `count` partial products, each m x n in
// `parts`) + beta * C. The host splits a long k over parallel work-items when
// the product has too few output blocks to keep the device busy (a
// convolution's filter gradient: a few hundred outputs over 50,000 terms).
kernel void gemm_sum_parts(global const T* restrict parts, const int count, const int m, const int n, const T alpha,
                           const T beta, global T* C0, const int offsetC, const int ldc) {
    const int c = get_global_id(0), r = get_global_id(1);
    if (c >= n || r >= m) return;
    T sum = (T)0;
    for (int s = 0; s < count; ++s) sum += parts[(s * m + r) * n + c];
    global T* out = C0 + offsetC + r * ldc + c;
    *out = beta == (T)0 ? alpha * sum : alpha * sum + beta * *out;
}
