// wembed kernels: plain functions on plain arrays; they know nothing of models, files or text.
//
// One interface, one file per kernel family and instruction set:
//   <family>_scalar.c   portable C; defines wm_<name>_scalar, the reference every other variant is tested against
//   <family>_simd128.c  wasm SIMD128 intrinsics, compiled only when __wasm_simd128__ is defined
//   <family>_relaxed.c  wasm relaxed SIMD, compiled only when __wasm_relaxed_simd__ is defined (the second module,
//                       dist/wembed-relaxed.wasm, built by clang-19: emcc 3.1.6 has no relaxed builtins)
// wm_<name> (declared below) is the fast variant: the relaxed or SIMD128 one in the wasm builds, the scalar one
// elsewhere (kernels/dispatch.c). tests/c/test_kernels.c compares every wm_<name> with wm_<name>_scalar on random
// data and odd shapes; it is built natively, as a WASI module run by Node (the SIMD128 variants) and as a relaxed
// WASI module run in Chromium (tests/browser/relaxed.test.js: Node 20 computes relaxed dots wrongly).
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
//   a[m][g] = max_{k in g} |x[m][k] * in_scale[k]| / qmax;  xq[m][k] = round_to_nearest_even(x[m][k] * in_scale[k] * (1 / a[m][g]))
// x: [M][ldx] f32 (K valid columns); in_scale: [K] or NULL (all ones); xq: [M][Kp], columns K..Kp-1 set to 0;
// row_scale: [M][ng] = a (0 for an all-zero group, whose xq values are all 0). qmax in 1..2047.
void wm_quantize_rows_i8(int M, int K, int G, const float *x, int ldx, const float *in_scale, int qmax,
                         int8_t *xq, float *row_scale);
void wm_quantize_rows_i16(int M, int K, int G, const float *x, int ldx, const float *in_scale, int qmax,
                          int16_t *xq, float *row_scale);

// y[m][n] = sum_g (row_scale[m][g] * w_scale[n][g]) * sum_{k in g} xq[m][k] * W[n][k]  + (bias ? bias[n] : 0),
// for n < N, summed over g in order in f32 starting from 0. xq: [M][Kp] int8 (or int16 with |x| <= 2047);
// row_scale: [M][ng]; w: packed [Np*Kp] (as wm_pack_weights_i8 leaves it, below); w_scale: packed by panel,
// [Np/4][ng][4] (the 4 channels of a panel contiguous per group); y: [M][ldy] f32.
// Accumulation is exact in int32 for Kp * qmax * 127 < 2^31 (the format reader checks this at load).
// The weights wm_gemm_i8 / wm_gemm_i16i8 read are in the layout wm_pack_weights_i8 makes of the file's (above), in
// place, once (the encoder: before its first forward pass): the file's itself where those are the scalar kernels,
// another order within each 32-byte block for the SIMD128 ones (gemm_i8_simd128.c says why). Every *_scalar
// kernel, wm_gemm_u6x2i8 and wm_gemm_u8i8 read the file's layout. w: [Np*Kp] bytes, Np a multiple of 4 and Kp of 8.
void wm_pack_weights_i8(int Np, int Kp, int8_t *w);
void wm_gemm_i8(int M, int N, int Kp, int G, const int8_t *xq, const float *row_scale, const int8_t *w,
                const float *w_scale, const float *bias, float *y, int ldy);
void wm_gemm_i16i8(int M, int N, int Kp, int G, const int16_t *xq, const float *row_scale, const int8_t *w,
                   const float *w_scale, const float *bias, float *y, int ldy);

// --- the same activations as two 6-bit digits ("u6x2"): the relaxed-SIMD GEMM's operand -------------------------
// i32x4.relaxed_dot_i8x16_i7x16_add_s is deterministic only when every byte of its second operand is in [0, 127],
// so an activation |x| <= 2047 enters it as x + 2048 = 64 hi + lo, hi and lo in [0, 63]. Layout: [M][2*Kp] bytes;
// per block of 8 inputs its 8 hi digits, then its 8 lo digits:
//   xd[m][(k/8)*16 + k%8] = hi(x[m][k]),  xd[m][(k/8)*16 + 8 + k%8] = lo(x[m][k])
// (2 bytes per input, as an int16 xq: the encoder's buffer serves both). wm_quantize_rows_u6x2 quantizes exactly
// as wm_quantize_rows_i16 (64 hi + lo - 2048 == its xq, padding included); wm_gemm_u6x2i8 gives exactly
// wm_gemm_i16i8's y, bit for bit, from those digits.
void wm_quantize_rows_u6x2(int M, int K, int G, const float *x, int ldx, const float *in_scale, int qmax,
                           uint8_t *xd, float *row_scale);
void wm_gemm_u6x2i8(int M, int N, int Kp, int G, const uint8_t *xd, const float *row_scale, const int8_t *w,
                    const float *w_scale, const float *bias, float *y, int ldy);
// --- 8-bit activations as unsigned bytes ("u8"): x + 128, |x| <= 127, [M][Kp] bytes in input order -------------
// On x86 with AVX-VNNI the relaxed dot is vpdpbusd, which multiplies the second operand's bytes as UNSIGNED, all 8
// bits, without saturation: there one dot-add takes 16 multiply-adds of an 8-bit activation, where the u6x2 digits
// need two (sum w x = sum w (x + 128) - 128 sum w, exact in int32 as the others). Other engines read those bytes
// as signed (ARM's sdot) or saturate pairs (x86 without VNNI: pmaddubsw), so wm_gemm_u8i8 is used only where
// wm_gemm_u8i8_exact() says this engine's dot computed a known u8 x s8 result, saturating pairs included. It gives
// wm_gemm_i8's y for xq - 128, bit for bit. wm_quantize_rows_u8 = wm_quantize_rows_i8 (qmax <= 127) + 128.
void wm_quantize_rows_u8(int M, int K, int G, const float *x, int ldx, const float *in_scale, int qmax,
                         uint8_t *xq, float *row_scale);
void wm_gemm_u8i8(int M, int N, int Kp, int G, const uint8_t *xq, const float *row_scale, const int8_t *w,
                  const float *w_scale, const float *bias, float *y, int ldy);
int wm_gemm_u8i8_exact(void);  // 1 in the relaxed build on an engine whose dot is u8 x s8 exact (checked, not assumed)

// 1 in the build where the relaxed GEMMs are the fastest (relaxed SIMD): the encoder then quantizes to u8 for
// wm_gemm_u8i8 (act_bits <= 8, where wm_gemm_u8i8_exact()) or to digits for wm_gemm_u6x2i8 (any act_bits: qmax
// <= 2047); elsewhere to int16 for wm_gemm_i16i8 (bert.c choose_int8_gemm).
#ifdef __wasm_relaxed_simd__
#define WM_GEMM_U6X2 1
#else
#define WM_GEMM_U6X2 0
#endif

// --- float weights (the exactness path) --------------------------------------------------------------------
// y[m][n] = sum_{k<K} x[m][k] * W[n][k] + (bias ? bias[n] : 0); W row-major [N][K] f32, or f16 bits.
// x: [M][ldx]; y: [M][ldy].
void wm_gemm_f32(int M, int N, int K, const float *x, int ldx, const float *w, const float *bias, float *y,
                 int ldy);
void wm_gemm_f16(int M, int N, int K, const float *x, int ldx, const uint16_t *w, const float *bias, float *y,
                 int ldy);

// y[m][n] = sum_{k<K} x[m][k] * b[k][n], the other operand row-major [K][ldb] (attention: scores = q k^T with the
// keys transposed, context = p v with the values as they are), summed in order k = 0..K-1 in f32 in every variant
// (bit-identical). ldb >= N rounded up to 4: each row's columns N .. that multiple of 4 are read, never used.
// x: [M][ldx]; y: [M][ldy].
void wm_gemm_f32_kn(int M, int N, int K, const float *x, int ldx, const float *b, int ldb, float *y, int ldy);

// --- elementwise and row ops ------------------------------------------------------------------------------
float wm_f16_to_f32(uint16_t h);
// x[m] = LayerNorm(x[m] + (res ? res[m] : 0)) * gamma + beta, over H columns; rows of stride ld.
void wm_layernorm(int M, int H, float *x, int ld, const float *res, int ldr, const float *gamma,
                  const float *beta, float eps);
// x = x * 0.5 * (1 + erf(x / sqrt(2))) in place, n values; max error vs double documented in ops_scalar.c.
void wm_gelu(size_t n, float *x);
// In-place softmax of each of M rows of length n (stride ld).
void wm_softmax(int M, int n, float *x, int ld);
// Dot product of two f32 vectors of length n.
float wm_dot(int n, const float *a, const float *b);

#endif
