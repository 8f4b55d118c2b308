// The variants behind each public wm_<name> of kernels.h, for dispatch.c and tests/c/test_kernels.c only.
//   wm_<name>_scalar   portable C, always compiled: the reference
//   wm_<name>_simd128  wasm SIMD128, compiled only when __wasm_simd128__ is defined (emcc -msimd128)
//   wm_<name>_relaxed  wasm relaxed SIMD, only when __wasm_relaxed_simd__ is defined (clang-19 -mrelaxed-simd);
//                      so far the u8 and u6x2 GEMMs alone, which have no SIMD128 variant (nothing would call it)
// Same arguments and semantics as the public function of the same name (kernels.h). The int8 GEMM and the
// quantizers of both variants give bit-identical results; the float reductions (GEMM, LayerNorm, softmax, dot)
// sum in a different order, so they agree to rounding only (test_kernels.c states the tolerances).
#ifndef WM_KERNELS_IMPL_H
#define WM_KERNELS_IMPL_H

#include "kernels/kernels.h"

// Declares the scalar or SIMD128 variant set; SUFFIX is _scalar or _simd128.
#define WM_KERNEL_VARIANTS(SUFFIX)                                                                              \
  void wm_quantize_rows_i8##SUFFIX(int M, int K, int G, const float *x, int ldx, const float *in_scale,       \
                                   int qmax, int8_t *xq, float *row_scale);                                    \
  void wm_quantize_rows_i16##SUFFIX(int M, int K, int G, const float *x, int ldx, const float *in_scale,      \
                                    int qmax, int16_t *xq, float *row_scale);                                  \
  void wm_quantize_rows_u8##SUFFIX(int M, int K, int G, const float *x, int ldx, const float *in_scale,       \
                                   int qmax, uint8_t *xq, float *row_scale);                                   \
  void wm_quantize_rows_u6x2##SUFFIX(int M, int K, int G, const float *x, int ldx, const float *in_scale,     \
                                     int qmax, uint8_t *xd, float *row_scale);                                 \
  void wm_pack_weights_i8##SUFFIX(int Np, int Kp, int8_t *w);                                                  \
  void wm_gemm_i8##SUFFIX(int M, int N, int Kp, int G, const int8_t *xq, const float *row_scale,              \
                          const int8_t *w, const float *w_scale, const float *bias, float *y, int ldy);        \
  void wm_gemm_i16i8##SUFFIX(int M, int N, int Kp, int G, const int16_t *xq, const float *row_scale,          \
                             const int8_t *w, const float *w_scale, const float *bias, float *y, int ldy);     \
  void wm_gemm_f32##SUFFIX(int M, int N, int K, const float *x, int ldx, const float *w, const float *bias,     \
                           float *y, int ldy);                                                                 \
  void wm_gemm_f32_kn##SUFFIX(int M, int N, int K, const float *x, int ldx, const float *b, int ldb, float *y,  \
                              int ldy);                                                                        \
  void wm_gemm_f16##SUFFIX(int M, int N, int K, const float *x, int ldx, const uint16_t *w, const float *bias,  \
                           float *y, int ldy);                                                                 \
  void wm_layernorm##SUFFIX(int M, int H, float *x, int ld, const float *res, int ldr, const float *gamma,      \
                            const float *beta, float eps);                                                     \
  void wm_gelu##SUFFIX(size_t n, float *x);                                                                    \
  void wm_softmax##SUFFIX(int M, int n, float *x, int ld);                                                     \
  float wm_dot##SUFFIX(int n, const float *a, const float *b);                                                 \
  /* the building block of softmax, exposed so the tests can measure its error: in place, n values */         \
  void wm_exp##SUFFIX(size_t n, float *x);

WM_KERNEL_VARIANTS(_scalar)
#ifdef __wasm_simd128__
WM_KERNEL_VARIANTS(_simd128)
#endif

void wm_gemm_u8i8_scalar(int M, int N, int Kp, int G, const uint8_t *xq, const float *row_scale, const int8_t *w,
                         const float *w_scale, const float *bias, float *y, int ldy);
void wm_gemm_u6x2i8_scalar(int M, int N, int Kp, int G, const uint8_t *xd, const float *row_scale, const int8_t *w,
                           const float *w_scale, const float *bias, float *y, int ldy);
#ifdef __wasm_relaxed_simd__
void wm_gemm_u6x2i8_relaxed(int M, int N, int Kp, int G, const uint8_t *xd, const float *row_scale, const int8_t *w,
                            const float *w_scale, const float *bias, float *y, int ldy);
void wm_gemm_u8i8_relaxed(int M, int N, int Kp, int G, const uint8_t *xq, const float *row_scale, const int8_t *w,
                          const float *w_scale, const float *bias, float *y, int ldy);
int wm_gemm_u8i8_exact_relaxed(void);
#endif

// Round to nearest even without f32x4.nearest + i32x4.trunc_sat_f32x4_s (whose saturation costs V8 several
// instructions): for |v| <= 2^22, v + WM_ROUND_MAGIC (1.5 * 2^23) rounds v to an integer n in the sum's low mantissa
// bits, so (v + WM_ROUND_MAGIC) - WM_ROUND_MAGIC is n as a float, and its bits - WM_ROUND_MAGIC_BITS is n as an int32.
// (exp's 2^n, the quantizers' values.)
#define WM_ROUND_MAGIC 12582912.0f
#define WM_ROUND_MAGIC_BITS 0x4B400000

// Polynomial coefficients shared by the scalar functions below and their 4-lane copies in ops_simd128.c, highest
// degree first (Horner order): one table, so the two cannot drift apart (their bit-identity is tested).
// exp(r) = 1 + r + r^2 P(r), P of degree 3: the minimax relative-error fit on |r| <= ln2 / 2 (1.05e-7 in exact
// arithmetic; Lawson-weighted least squares in mpmath, as tools/gelu_fit.py does for GELU)
#define WM_EXP_DEGREE 4
static const float wm_exp_poly[WM_EXP_DEGREE] = {8.31252604075e-3f, 4.18901148998e-2f, 1.6667114458e-1f,
                                                 4.99992317749e-1f};
// GELU: erf(c / sqrt 2) = c P(c^2) / Q(c^2), tools/gelu_fit.py
static const float wm_gelu_p[6] = {4.549404817e-08f, 1.270333085e-05f, 3.376392926e-04f, 9.354441877e-03f,
                                   6.770501221e-02f, 7.978844696e-01f};
static const float wm_gelu_q[6] = {1.197401345e-06f, 7.364336014e-05f, 1.884413858e-03f, 2.864571035e-02f,
                                   2.515215697e-01f, 1.0f};
#define WM_GELU_CLAMP 5.5f

// One value at a time (scalar only; the SIMD128 code has its own 4-lane copy of the same operations).
float wm_f16_to_f32_scalar(uint16_t h);
float wm_geluf_scalar(float x);  // error <= 2.5e-7 vs double, absolute for |x| <= 1, relative beyond (ops_scalar.c)
float wm_expf_scalar(float x);  // relative error <= 2e-7 for x in [-87.33, 88] (ops_scalar.c)

#endif
