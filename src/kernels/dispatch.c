// The public kernels of kernels.h: the SIMD128 variant in the wasm builds (-msimd128), the scalar one elsewhere;
// the u8 and u6x2 GEMMs' relaxed variants in the relaxed build. Plain forwarding calls (wasm-opt inlines them in the emcc
// build; the relaxed build, linked without wasm-opt, keeps one call per kernel call). js/core.js picks the module
// (a module either validates or does not load); within the relaxed one, wm_gemm_u8i8_exact tells the encoder
// whether the engine's dot takes u8 activations.
#include "kernels/kernels_impl.h"

#ifdef __wasm_simd128__
#define WM_FAST(name) name##_simd128
#else
#define WM_FAST(name) name##_scalar
#endif
// the u6x2 and u8 GEMMs have no SIMD128 variant: the scalar one serves outside the relaxed build (tests only)
#ifdef __wasm_relaxed_simd__
#define WM_RELAXED(name) name##_relaxed
#else
#define WM_RELAXED(name) name##_scalar
#endif

void wm_quantize_rows_i8(int M, int K, int G, const float *x, int ldx, const float *in_scale, int qmax, int8_t *xq,
                         float *row_scale) {
  WM_FAST(wm_quantize_rows_i8)(M, K, G, x, ldx, in_scale, qmax, xq, row_scale);
}
void wm_quantize_rows_i16(int M, int K, int G, const float *x, int ldx, const float *in_scale, int qmax, int16_t *xq,
                          float *row_scale) {
  WM_FAST(wm_quantize_rows_i16)(M, K, G, x, ldx, in_scale, qmax, xq, row_scale);
}
void wm_quantize_rows_u6x2(int M, int K, int G, const float *x, int ldx, const float *in_scale, int qmax,
                           uint8_t *xd, float *row_scale) {
  WM_FAST(wm_quantize_rows_u6x2)(M, K, G, x, ldx, in_scale, qmax, xd, row_scale);
}
void wm_gemm_u6x2i8(int M, int N, int Kp, int G, const uint8_t *xd, const float *row_scale, const int8_t *w,
                    const float *w_scale, const float *bias, float *y, int ldy) {
  WM_RELAXED(wm_gemm_u6x2i8)(M, N, Kp, G, xd, row_scale, w, w_scale, bias, y, ldy);
}
void wm_quantize_rows_u8(int M, int K, int G, const float *x, int ldx, const float *in_scale, int qmax, uint8_t *xq,
                         float *row_scale) {
  WM_FAST(wm_quantize_rows_u8)(M, K, G, x, ldx, in_scale, qmax, xq, row_scale);
}
void wm_gemm_u8i8(int M, int N, int Kp, int G, const uint8_t *xq, const float *row_scale, const int8_t *w,
                  const float *w_scale, const float *bias, float *y, int ldy) {
  WM_RELAXED(wm_gemm_u8i8)(M, N, Kp, G, xq, row_scale, w, w_scale, bias, y, ldy);
}
int wm_gemm_u8i8_exact(void) {
#ifdef __wasm_relaxed_simd__
  return wm_gemm_u8i8_exact_relaxed();
#else
  return 0;  // the scalar twin is exact everywhere, but only the relaxed one is ever faster than wm_gemm_i16i8
#endif
}
void wm_pack_weights_i8(int Np, int Kp, int8_t *w) { WM_FAST(wm_pack_weights_i8)(Np, Kp, w); }
void wm_gemm_i8(int M, int N, int Kp, int G, const int8_t *xq, const float *row_scale, const int8_t *w,
                const float *w_scale, const float *bias, float *y, int ldy) {
  WM_FAST(wm_gemm_i8)(M, N, Kp, G, xq, row_scale, w, w_scale, bias, y, ldy);
}
void wm_gemm_i16i8(int M, int N, int Kp, int G, const int16_t *xq, const float *row_scale, const int8_t *w,
                   const float *w_scale, const float *bias, float *y, int ldy) {
  WM_FAST(wm_gemm_i16i8)(M, N, Kp, G, xq, row_scale, w, w_scale, bias, y, ldy);
}
void wm_gemm_f32(int M, int N, int K, const float *x, int ldx, const float *w, const float *bias, float *y,
                 int ldy) {
  WM_FAST(wm_gemm_f32)(M, N, K, x, ldx, w, bias, y, ldy);
}
void wm_gemm_f32_kn(int M, int N, int K, const float *x, int ldx, const float *b, int ldb, float *y, int ldy) {
  WM_FAST(wm_gemm_f32_kn)(M, N, K, x, ldx, b, ldb, y, ldy);
}
void wm_gemm_f16(int M, int N, int K, const float *x, int ldx, const uint16_t *w, const float *bias, float *y,
                 int ldy) {
  WM_FAST(wm_gemm_f16)(M, N, K, x, ldx, w, bias, y, ldy);
}
float wm_f16_to_f32(uint16_t h) { return wm_f16_to_f32_scalar(h); }  // one value: nothing to vectorize
void wm_layernorm(int M, int H, float *x, int ld, const float *res, int ldr, const float *gamma,
                  const float *beta, float eps) {
  WM_FAST(wm_layernorm)(M, H, x, ld, res, ldr, gamma, beta, eps);
}
void wm_gelu(size_t n, float *x) { WM_FAST(wm_gelu)(n, x); }
void wm_softmax(int M, int n, float *x, int ld) { WM_FAST(wm_softmax)(M, n, x, ld); }
float wm_dot(int n, const float *a, const float *b) { return WM_FAST(wm_dot)(n, a, b); }
