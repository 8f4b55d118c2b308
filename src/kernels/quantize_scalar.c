// Per-row (per group of G inputs) symmetric activation quantization, portable C: the reference for
// quantize_simd128.c.
// Every step is exactly rounded f32 arithmetic (max, one division per value, round half away from zero), so
// the SIMD128 variant gives bit-identical xq and row_scale.
#include <math.h>

#include "kernels/kernels_impl.h"

// --- one group of a row --------------------------------------------------------------------------------------------
// Columns [0, K) of the group are values, [K, Kp) padding. Returns a = max_k |x[k] * s[k]| / qmax (0 for an
// all-zero group) and writes q[k] = round_half_away(x[k] s[k] / a), clamped to [-qmax, qmax] (only reachable
// through rounding of a), q[K..Kp) = 0. The division is done per value (not a multiply by 1/a) so the result is
// exactly the documented formula.
#define WM_QUANTIZE_ROW(T)                                                                                     \
  static float quantize_group_##T(int K, int Kp, const float *x, const float *s, int qmax, T *q) {            \
    float mx = 0.0f;                                                                                           \
    for (int k = 0; k < K; k++) mx = fmaxf(mx, fabsf(s ? x[k] * s[k] : x[k]));                                 \
    float a = mx / (float)qmax;                                                                                \
    for (int k = 0; k < Kp; k++) {                                                                             \
      float v = 0.0f;                                                                                          \
      if (k < K && a > 0.0f) v = roundf((s ? x[k] * s[k] : x[k]) / a); /* roundf: half away from zero */      \
      v = fminf(fmaxf(v, (float)-qmax), (float)qmax);                                                          \
      q[k] = (T)v;                                                                                             \
    }                                                                                                          \
    return a;                                                                                                  \
  }                                                                                                            \
  static void quantize_row_##T(int K, int G, const float *x, const float *s, int qmax, T *q, float *a) {      \
    int Kp = wm_round_up(K, WM_GEMM_KB);                                                                       \
    for (int k0 = 0, g = 0; k0 < Kp; k0 += G, g++) {                                                           \
      int kv = K - k0 < G ? K - k0 : G, kp = Kp - k0 < G ? Kp - k0 : G;                                       \
      a[g] = quantize_group_##T(kv, kp, x + k0, s ? s + k0 : 0, qmax, q + k0);                                 \
    }                                                                                                          \
  }
WM_QUANTIZE_ROW(int8_t)
WM_QUANTIZE_ROW(int16_t)

// --- public entry points ------------------------------------------------------------------------------------------
// int8 output holds at most 127: a larger qmax is taken as 127.
void wm_quantize_rows_i8_scalar(int M, int K, int G, const float *x, int ldx, const float *in_scale, int qmax,
                                int8_t *xq, float *row_scale) {
  if (qmax > 127) qmax = 127;
  int Kp = wm_round_up(K, WM_GEMM_KB), ng = wm_groups(Kp, G);
  for (int m = 0; m < M; m++)
    quantize_row_int8_t(K, G, x + (size_t)m * ldx, in_scale, qmax, xq + (size_t)m * Kp, row_scale + (size_t)m * ng);
}

void wm_quantize_rows_i16_scalar(int M, int K, int G, const float *x, int ldx, const float *in_scale, int qmax,
                                 int16_t *xq, float *row_scale) {
  int Kp = wm_round_up(K, WM_GEMM_KB), ng = wm_groups(Kp, G);
  for (int m = 0; m < M; m++)
    quantize_row_int16_t(K, G, x + (size_t)m * ldx, in_scale, qmax, xq + (size_t)m * Kp, row_scale + (size_t)m * ng);
}

// --- rows into the packed int16 weight layout --------------------------------------------------------------------
void wm_pack_rows_i16_scalar(int N, int K, int G, const float *src, int ldn, int ldk, int qmax, int16_t *w,
                             float *w_scale) {
  int Kp = wm_round_up(K, WM_GEMM_KB), Np = wm_round_up(N, WM_GEMM_NR), ng = wm_groups(Kp, G);
  for (int n = 0; n < Np; n++) {
    int16_t *panel = w + (size_t)(n / 4) * Kp * 4 + (n % 4) * WM_GEMM_KB;
    float *sc = w_scale + (size_t)(n / 4) * ng * 4 + n % 4;
    for (int g = 0; g < ng; g++) {
      int k0 = g * G, k1 = k0 + G < Kp ? k0 + G : Kp;
      float mx = 0.0f;
      if (n < N)
        for (int k = k0; k < k1 && k < K; k++) mx = fmaxf(mx, fabsf(src[(size_t)n * ldn + (size_t)k * ldk]));
      float a = mx / (float)qmax;
      sc[g * 4] = a;
      for (int k = k0; k < k1; k++) {
        float v = 0.0f;
        if (n < N && k < K && a > 0.0f) v = roundf(src[(size_t)n * ldn + (size_t)k * ldk] / a);
        panel[(k / WM_GEMM_KB) * (WM_GEMM_NR * WM_GEMM_KB) + k % WM_GEMM_KB] = (int16_t)fminf(fmaxf(v, (float)-qmax), (float)qmax);
      }
    }
  }
}
