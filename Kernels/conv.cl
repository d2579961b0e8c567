// Convolution as im2col + GEMM over the whole batch: the column matrix has
// one row per (input channel, kernel tap) and one column per (image, output
// pixel), so each pass is a single large GEMM.
//
// Geometry arguments, in this order everywhere:
//   N, C, H, W (input), outC, kh, kw, sh, sw, ph, pw, dh, dw, outH, outW

#define GEOMETRY const int N, const int C, const int H, const int W, const int outC, const int kh, const int kw, \
                 const int sh, const int sw, const int ph, const int pw, const int dh, const int dw, \
                 const int outH, const int outW

// col[(c, i, j), (n, oh, ow)] = x[n, c, oh*sh - ph + i*dh, ow*sw - pw + j*dw]
// (0 outside the image). One work-item per column-matrix row segment
// (n, c, i, j, oh), looping over ow: its divisions (integer division is a
// scalar loop on CPU devices) are paid once per outW elements, and it
// writes outW neighbouring floats. Range (outH, patch, N).
kernel void im2col(global const T* restrict x, global T* restrict col, GEOMETRY) {
    const int oh = get_global_id(0), row = get_global_id(1), n = get_global_id(2);
    const int patch = C * kh * kw;
    if (oh >= outH || row >= patch || n >= N) return;
    const int j = row % kw, i = (row / kw) % kh, c = row / (kw * kh);
    const int h = oh * sh - ph + i * dh;
    global T* dst = col + (long)row * (N * outH * outW) + (n * outH + oh) * outW;
    if (h < 0 || h >= H) {
        for (int ow = 0; ow < outW; ++ow) dst[ow] = (T)0;
        return;
    }
    global const T* src = x + ((n * C + c) * H + h) * W;
    for (int ow = 0; ow < outW; ++ow) {
        const int w = ow * sw - pw + j * dw;
        dst[ow] = (w >= 0 && w < W) ? src[w] : (T)0;
    }
}

// The same matrix stored transposed, colT[(n, oh, ow), (c, i, j)], which the
// filter gradient's GEMM reads without a transposed operand. One work-item
// per (n, c, i, oh), as im2col: for each tap j it writes the in-image run of
// ow with no per-element condition (the run's bounds are worked out first)
// and zeros on either side; a work-item per output pixel, testing each of
// its patch's taps, ran scalar and branching on PoCL. Range (outH, C * kh, N).
kernel void im2col_transposed(global const T* restrict x, global T* restrict colT, GEOMETRY) {
    const int oh = get_global_id(0), ci = get_global_id(1), n = get_global_id(2);
    if (oh >= outH || ci >= C * kh || n >= N) return;
    const int i = ci % kh, c = ci / kh;
    const int patch = C * kh * kw;
    const int h = oh * sh - ph + i * dh;
    // colT[(n, oh, ow), (c, i, j)] = dst[ow * patch + j].
    global T* dst = colT + (long)(n * outH + oh) * outW * patch + ci * kw;
    if (h < 0 || h >= H) {
        for (int ow = 0; ow < outW; ++ow)
            for (int j = 0; j < kw; ++j) dst[ow * patch + j] = (T)0;
        return;
    }
    global const T* src = x + ((n * C + c) * H + h) * W;
    for (int j = 0; j < kw; ++j) {
        // w = ow sw + shift must lie in [0, W): ow in [o0, o1).
        const int shift = j * dw - pw;
        const int o0 = min(outW, shift >= 0 ? 0 : (-shift + sw - 1) / sw);
        const int o1 = max(o0, min(outW, W - shift <= 0 ? 0 : (W - shift + sw - 1) / sw));
        for (int ow = 0; ow < o0; ++ow) dst[ow * patch + j] = (T)0;
        for (int ow = o0; ow < o1; ++ow) dst[ow * patch + j] = src[ow * sw + shift];
        for (int ow = o1; ow < outW; ++ow) dst[ow * patch + j] = (T)0;
    }
}

// col2im's and col2im_rows' lookup: where in the column matrix tap row i
// of channel c meets input row h of image n (the entry of tap j = 0 at
// output column 0; tap j is `columns` further), or 0 when no output row
// reads input row h through tap row i.
inline global const T* tap_row(global const T* col, const int c, const int n, const int h, const int i, const int C,
                               const int kh, const int kw, const int sh, const int ph, const int dh, const int columns,
                               const int outH, const int outW) {
    const int hh = h + ph - i * dh;
    if (hh < 0 || (sh != 1 && hh % sh != 0)) return 0;
    const int oh = sh == 1 ? hh : hh / sh;
    if (oh >= outH) return 0;
    return col + ((c * kh + i) * kw) * columns + (n * outH + oh) * outW;
}

// The adjoint of im2col: each input pixel sums the column entries that read
// it (a gather, so no atomics and a deterministic order). Range (W, H, N * C).
// Stride 1 (the common case) skips the divisions by the stride.
kernel void col2im(global const T* restrict col, global T* restrict x, GEOMETRY) {
    const int w = get_global_id(0), h = get_global_id(1), z = get_global_id(2);
    if (w >= W || h >= H || z >= N * C) return;
    const int c = z % C, n = z / C, e = (z * H + h) * W + w;
    const int columns = N * outH * outW;
    T sum = (T)0;
    for (int i = 0; i < kh; ++i) {
        global const T* rowStart = tap_row(col, c, n, h, i, C, kh, kw, sh, ph, dh, columns, outH, outW);
        if (!rowStart) continue;
        for (int j = 0; j < kw; ++j) {
            const int ww = w + pw - j * dw;
            if (ww < 0 || (sw != 1 && ww % sw != 0)) continue;
            const int ow = sw == 1 ? ww : ww / sw;
            if (ow >= outW) continue;
            sum += rowStart[j * columns + ow];
        }
    }
    x[e] = sum;
}

// col2im for a stride of 1 along the width (the common case), one input
// row per work-item: the row is zeroed, then each tap (i, j) adds its run of
// the column matrix, a loop over w with no conditions (the run's bounds are
// worked out first) that the compiler vectorizes; col2im's loop over the
// taps per pixel runs scalar on PoCL. The taps are added in col2im's order,
// so the sums are the same bits. Range (H, N * C).
kernel void col2im_rows(global const T* restrict col, global T* restrict x, GEOMETRY) {
    const int h = get_global_id(0), z = get_global_id(1);
    if (h >= H || z >= N * C) return;
    const int c = z % C, n = z / C;
    const int columns = N * outH * outW;
    global T* out = x + (z * H + h) * W;
    for (int w = 0; w < W; ++w) out[w] = (T)0;
    for (int i = 0; i < kh; ++i) {
        global const T* rowStart = tap_row(col, c, n, h, i, C, kh, kw, sh, ph, dh, columns, outH, outW);
        if (!rowStart) continue;
        for (int j = 0; j < kw; ++j) {
            // ow = w + pw - j dw must lie in [0, outW).
            const int shift = pw - j * dw;
            const int w0 = max(0, -shift), w1 = min(W, outW - shift);
            global const T* run = rowStart + j * columns;
            for (int w = w0; w < w1; ++w) out[w] += run[w + shift];
        }
    }
}

// out[n, c, p] = product[c, n * P + p] + bias[c] (P = outH * outW), over
// the range (P, outC, N): no divisions.
kernel void conv_scatter_output(global const T* restrict product, global const T* restrict bias, const int hasBias,
                                global T* restrict out, const int N, const int outC, const int P) {
    const int p = get_global_id(0), c = get_global_id(1), n = get_global_id(2);
    if (p >= P || c >= outC || n >= N) return;
    const T value = product[c * N * P + n * P + p];
    out[(n * outC + c) * P + p] = hasBias ? value + bias[c] : value;
}

// gathered[c, n * P + p] = gradOut[n, c, p]: the layout the GEMMs want, over
// the range (P, N, outC).
kernel void conv_gather_grad(global const T* restrict gradOut, global T* restrict gathered, const int N,
                             const int outC, const int P) {
    const int p = get_global_id(0), n = get_global_id(1), c = get_global_id(2);
    if (p >= P || n >= N || c >= outC) return;
    gathered[(c * N + n) * P + p] = gradOut[(n * outC + c) * P + p];
}
