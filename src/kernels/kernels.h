// wembed kernels: plain functions on plain arrays; they know nothing of models, files or text.
//
// One interface, one file per kernel family and instruction set:
//   <family>_scalar.c   portable C; defines wm_<name>_scalar, the reference every other variant is tested against
//   <family>_simd128.c  wasm SIMD128 intrinsics, compiled only when __wasm_simd128__ is defined
// wm_<name> (declared below) is the fast variant: the SIMD128 one in the wasm build, the scalar one elsewhere
// (kernels/dispatch.c). tests/c/test_kernels.c compares every wm_<name> with wm_<name>_scalar on random data and
// odd shapes; it is built natively and as a WASI module run by Node, so the SIMD128 variants are proven too.
#ifndef WM_KERNELS_H
#define WM_KERNELS_H

#include <stddef.h>
#include <stdint.h>

// --- int8 weights ---------------------------------------------------------------------------------------
// Packed weight layout (docs/format.md, "Linear weights by dtype"): Np = ceil(N/4)*4, Kp = ceil(K/8)*8,
//   byte offset of W[n][k] = (n/4)*(Kp*4) + (k/8)*32 + (n%4)*8 + (k%8), zero padded.
// Scales are per group of G inputs along K (G a multiple of 8; G >= Kp: one group, i.e. per row / per output
// channel), ng = ceil(Kp/G) groups; group g covers k in [g*G, min((g+1)*G, Kp)). Both operands of a product use
// the same groups, so each group's int32 sum is scaled once (ggml's Q8_0 x Q8_0, with a free group size).
#define WM_GEMM_NR 4  // output channels per packed panel
#define WM_GEMM_KB 8  // inputs per packed block

static inline int wm_round_up(int x, int m) { return (x + m - 1) / m * m; }
static inline int wm_groups(int Kp, int G) { return (Kp + G - 1) / G; }

// Quantizes rows of activations, per row (token) and group, symmetric:
//   a[m][g] = max_{k in g} |x[m][k] * in_scale[k]| / qmax;  xq[m][k] = round_half_away(x[m][k] * in_scale[k] / a[m][g])
// x: [M][ldx] f32 (K valid columns); in_scale: [K] or NULL (all ones); xq: [M][Kp], columns K..Kp-1 set to 0;
// row_scale: [M][ng] = a (0 for an all-zero group, whose xq values are all 0). qmax in 1..2047.
void wm_quantize_rows_i8(int M, int K, int G, const float *x, int ldx, const float *in_scale, int qmax,
                         int8_t *xq, float *row_scale);
void wm_quantize_rows_i16(int M, int K, int G, const float *x, int ldx, const float *in_scale, int qmax,
                          int16_t *xq, float *row_scale);

// y[m][n] = sum_g (row_scale[m][g] * w_scale[n][g]) * sum_{k in g} xq[m][k] * W[n][k]  + (bias ? bias[n] : 0),
// for n < N, summed over g in order in f32 starting from 0. xq: [M][Kp] int8 (or int16 with |x| <= 2047);
// row_scale: [M][ng]; w: packed [Np*Kp]; w_scale: packed by panel, [Np/4][ng][4] (the 4 channels of a panel
// contiguous per group); y: [M][ldy] f32.
// Accumulation is exact in int32 for Kp * qmax * 127 < 2^31 (the format reader checks this at load).
void wm_gemm_i8(int M, int N, int Kp, int G, const int8_t *xq, const float *row_scale, const int8_t *w,
                const float *w_scale, const float *bias, float *y, int ldy);
void wm_gemm_i16i8(int M, int N, int Kp, int G, const int16_t *xq, const float *row_scale, const int8_t *w,
                   const float *w_scale, const float *bias, float *y, int ldy);

// The same product with int16 "weights" (|w| <= 2047), for attention, where both operands are activations:
// w packed like the int8 layout but with int16 elements (element offset = the byte offset formula above).
void wm_gemm_i16i16(int M, int N, int Kp, int G, const int16_t *xq, const float *row_scale, const int16_t *w,
                    const float *w_scale, const float *bias, float *y, int ldy);
// Quantizes rows n < N of a strided matrix, element (n, k) = src[n*ldn + k*ldk], per row and group of G, symmetric
// with qmax (<= 2047), into w (packed int16, Np*Kp elements, padding zero) and w_scale ([Np/4][ng][4], padding 0):
// scale = max_{k in g} |src| / qmax, q = round_half_away(src / scale) (as wm_quantize_rows_i16).
void wm_pack_rows_i16(int N, int K, int G, const float *src, int ldn, int ldk, int qmax, int16_t *w, float *w_scale);

// --- float weights (the exactness path) --------------------------------------------------------------------
// y[m][n] = sum_{k<K} x[m][k] * W[n][k] + (bias ? bias[n] : 0); W row-major [N][K] f32, or f16 bits.
// x: [M][ldx]; y: [M][ldy].
void wm_gemm_f32(int M, int N, int K, const float *x, int ldx, const float *w, const float *bias, float *y,
                 int ldy);
void wm_gemm_f16(int M, int N, int K, const float *x, int ldx, const uint16_t *w, const float *bias, float *y,
                 int ldy);

// --- elementwise and row ops ------------------------------------------------------------------------------
float wm_f16_to_f32(uint16_t h);
// x[m] = LayerNorm(x[m] + (res ? res[m] : 0)) * gamma + beta, over H columns; rows of stride ld.
void wm_layernorm(int M, int H, float *x, int ld, const float *res, int ldr, const float *gamma,
                  const float *beta, float eps);
// x = x * 0.5 * (1 + erf(x / sqrt(2))) in place, n values; max abs error vs double erf documented in the .c.
void wm_gelu(size_t n, float *x);
// In-place softmax of each of M rows of length n (stride ld).
void wm_softmax(int M, int n, float *x, int ld);
// Dot product of two f32 vectors of length n.
float wm_dot(int n, const float *a, const float *b);

#endif
