// 2-D max and average pooling over NCHW planes, PyTorch's geometry (floor
// mode). Forward: one work-item per output. Backward: one work-item per
// input element, summing over the windows that cover it in row-major window
// order, so results are deterministic and round as on the CPU backend.
//
// Ranges are 3-D, (column, row, plane), so a work-item finds its position
// without dividing: integer division is a scalar loop on CPU devices
// (PoCL), and the 1-D forms spent most of their time in it.
//
// geom = (inHeight, inWidth, outHeight, outWidth, kernelH, kernelW, strideH,
// strideW); padH and padW follow it.
//
// The host builds a program per window size (see EACH_TAP in common.cl).
// Taps outside the image are masked, not skipped, so the kernels stay
// straight-line code, and their loads clamped to the image so none is
// conditional.

// Tap (i, j) of the window at (hs, ws): its position, whether it is in the
// image, and its value (clamped load; meaningless when outside).
#define TAP_VALUE(i, j) \
    const int h = hs + (i), w = ws + (j); \
    const bool inside = h >= h0 && h < h1 && w >= w0 && w < w1; \
    const T v = src[clamp(h, 0, inH - 1) * inW + clamp(w, 0, inW - 1)]

#define POOL_GEOMETRY \
    const int inH = geom.s0, inW = geom.s1, outH = geom.s2, outW = geom.s3; \
    const int kH = WINDOW_H(geom.s4), kW = WINDOW_W(geom.s5), sH = geom.s6, sW = geom.s7; \
    const int pH = padH, pW = padW

// Window of output (oh, ow): [h0, h1) x [w0, w1) clipped to the image, and
// the divisors of avg_pool2d with and without padding.
#define POOL_WINDOW(oh, ow) \
    const int hs = (oh) * sH - pH, he = min(hs + kH, inH + pH); \
    const int ws = (ow) * sW - pW, we = min(ws + kW, inW + pW); \
    const int h0 = max(hs, 0), h1 = min(he, inH); \
    const int w0 = max(ws, 0), w1 = min(we, inW); \
    const int padded = (he - hs) * (we - ws), real = (h1 - h0) * (w1 - w0)

// The outputs whose windows cover input row h (column w likewise):
// oh in [first, last].
inline int first_window(const int h, const int p, const int k, const int s) {
    return h + p < k ? 0 : (h + p - k) / s + 1;
}
inline int last_window(const int h, const int p, const int s, const int count) {
    return min((h + p) / s, count - 1);
}

// For the input element at (w, h) of `plane` (a backward work-item): its
// index e, its position in the plane, the range of outputs whose windows
// cover it, [ohFirst, ohLast] x [owFirst, owLast], and where its plane's
// outputs start.
#define COVERING_WINDOWS \
    const int w = get_global_id(0), h = get_global_id(1), plane = get_global_id(2); \
    if (w >= inW || h >= inH || plane >= planes) return; \
    const int pos = h * inW + w; \
    const long e = (long)plane * inH * inW + pos; \
    const int ohFirst = first_window(h, pH, kH, sH), ohLast = last_window(h, pH, sH, outH); \
    const int owFirst = first_window(w, pW, kW, sW), owLast = last_window(w, pW, sW, outW); \
    const long planeOut = (long)plane * outH * outW

// Forward prologue: the output at (ow, oh) of `plane`, its index e, its
// window h0..<h1 x w0..<w1, and src, the start of its plane of x.
#define OUTPUT_WINDOW \
    const int ow = get_global_id(0), oh = get_global_id(1), plane = get_global_id(2); \
    if (ow >= outW || oh >= outH || plane >= planes) return; \
    const long e = ((long)plane * outH + oh) * outW + ow; \
    POOL_WINDOW(oh, ow); \
    global const T* src = x + (long)plane * inH * inW

// out = window maximum, indices = h * inWidth + w of the first maximum in
// row-major order. A NaN wins; as on the CPU, a NaN ends the scan of its
// window row only, so a NaN in a later row takes over. (Branch-free: the
// scan of a row continues with `stopped` set.)
kernel void max_pool_forward(global const T* restrict x, global T* restrict out, global int* restrict indices,
                             const int planes, const int8 geom, const int padH, const int padW) {
    POOL_GEOMETRY;
    OUTPUT_WINDOW;
    T best = -INFINITY;
    int bestIndex = -1;
    bool stopped = false;
#define MAX_ROW(i) stopped = false;
#define MAX_TAP(i, j) { \
        TAP_VALUE(i, j); \
        const bool nan = v != v;  /* isnan(v), which PoCL does not vectorize */ \
        const bool take = inside && !stopped && (v > best || nan || bestIndex < 0); \
        best = take ? v : best; \
        bestIndex = take ? h * inW + w : bestIndex; \
        stopped = stopped || (inside && nan); \
    }
    EACH_TAP(kH, kW, MAX_ROW, MAX_TAP)
    out[e] = best;
    indices[e] = bestIndex;
}

// Backward when windows do not overlap (stride >= window in both axes, as
// in the usual 2x2 stride-2 pool): each input is in at most one window, so
// one work-item per output writes its window's gradients and nothing
// races. The host zeroes gradInput first (inputs in no window stay 0).
// Each input gets the one term the gathering kernels below would sum, so
// the results are the same bits.
kernel void max_pool_backward_disjoint(global const T* restrict gradOut, global const int* restrict indices,
                                       global T* restrict gradInput, const int planes, const int8 geom,
                                       const int padH, const int padW) {
    POOL_GEOMETRY;
    const int ow = get_global_id(0), oh = get_global_id(1), plane = get_global_id(2);
    if (ow >= outW || oh >= outH || plane >= planes) return;
    const long o = ((long)plane * outH + oh) * outW + ow;
    const int index = indices[o];
    if (index >= 0) gradInput[(long)plane * inH * inW + index] = (T)0 + gradOut[o];
}

kernel void avg_pool_backward_disjoint(global const T* restrict gradOut, global T* restrict gradInput, const int planes,
                                       const int8 geom, const int padH, const int padW, const int countIncludePad) {
    POOL_GEOMETRY;
    const int ow = get_global_id(0), oh = get_global_id(1), plane = get_global_id(2);
    if (ow >= outW || oh >= outH || plane >= planes) return;
    POOL_WINDOW(oh, ow);
    const T share = (T)0 + gradOut[((long)plane * outH + oh) * outW + ow] / (T)(countIncludePad ? padded : real);
    global T* dst = gradInput + (long)plane * inH * inW;
#define SHARE_TAP(i, j) { \
        const int h = hs + (i), w = ws + (j); \
        if (h >= h0 && h < h1 && w >= w0 && w < w1) dst[h * inW + w] = share; \
    }
    EACH_TAP(kH, kW, NO_ROW, SHARE_TAP)
}

kernel void max_pool_backward(global const T* restrict gradOut, global const int* restrict indices,
                              global T* restrict gradInput, const int planes, const int8 geom, const int padH,
                              const int padW) {
    POOL_GEOMETRY;
    COVERING_WINDOWS;
    T acc = 0;
    for (int oh = ohFirst; oh <= ohLast; ++oh) {
        for (int ow = owFirst; ow <= owLast; ++ow) {
            const long o = planeOut + oh * outW + ow;
            if (indices[o] == pos) acc += gradOut[o];
        }
    }
    gradInput[e] = acc;
}

kernel void avg_pool_forward(global const T* restrict x, global T* restrict out, const int planes, const int8 geom,
                             const int padH, const int padW, const int countIncludePad) {
    POOL_GEOMETRY;
    OUTPUT_WINDOW;
    T sum = 0;
#define SUM_TAP(i, j) { TAP_VALUE(i, j); sum += inside ? v : (T)0; }
    EACH_TAP(kH, kW, NO_ROW, SUM_TAP)
    out[e] = sum / (T)(countIncludePad ? padded : real);
}

kernel void avg_pool_backward(global const T* restrict gradOut, global T* restrict gradInput, const int planes,
                              const int8 geom, const int padH, const int padW, const int countIncludePad) {
    POOL_GEOMETRY;
    COVERING_WINDOWS;
    T acc = 0;
    for (int oh = ohFirst; oh <= ohLast; ++oh) {
        for (int ow = owFirst; ow <= owLast; ++ow) {
            POOL_WINDOW(oh, ow);
            acc += gradOut[planeOut + oh * outW + ow] / (T)(countIncludePad ? padded : real);
        }
    }
    gradInput[e] = acc;
}
