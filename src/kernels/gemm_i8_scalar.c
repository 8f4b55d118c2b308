// int8-weight GEMM, portable C: the reference for gemm_i8_simd128.c.
// y[m][n] = row_scale[m] * w_scale[n] * acc + bias[n], acc = sum_k xq[m][k] * W[n][k] exact in int32. The f32
// epilogue is evaluated in this order, (row_scale * w_scale) * (float)acc [+ bias], in every variant, so all
// variants give bit-identical y.
#include "kernels/kernels_impl.h"

// --- one 4-channel panel for one row ------------------------------------------------------------------------------
// Packed panel: per block of 8 inputs, 4 runs of 8 int8 (one per channel) -> W[c][8b + j] at b*32 + c*8 + j.
#define WM_GEMM_I8_ROW(NAME, XT)                                                                               \
  static void NAME(int Kp, const XT *x, const int8_t *panel, int32_t acc[4]) {                                \
    acc[0] = acc[1] = acc[2] = acc[3] = 0;                                                                     \
    for (int b = 0; b < Kp / WM_GEMM_KB; b++) {                                                                \
      const int8_t *wb = panel + b * (WM_GEMM_NR * WM_GEMM_KB);                                                \
      const XT *xb = x + b * WM_GEMM_KB;                                                                       \
      for (int c = 0; c < WM_GEMM_NR; c++)                                                                     \
        for (int j = 0; j < WM_GEMM_KB; j++) acc[c] += (int32_t)xb[j] * wb[c * WM_GEMM_KB + j];                \
    }                                                                                                          \
  }
WM_GEMM_I8_ROW(panel_row_i8, int8_t)
WM_GEMM_I8_ROW(panel_row_i16, int16_t)

static void store_panel(int n0, int N, const int32_t acc[4], float rs, const float *w_scale, const float *bias,
                        float *yrow) {
  for (int c = 0; c < WM_GEMM_NR && n0 + c < N; c++) {
    float v = rs * w_scale[n0 + c] * (float)acc[c];
    if (bias) v += bias[n0 + c];
    yrow[n0 + c] = v;
  }
}

// --- public entry points ------------------------------------------------------------------------------------------
void wm_gemm_i8_scalar(int M, int N, int Kp, const int8_t *xq, const float *row_scale, const int8_t *w,
                       const float *w_scale, const float *bias, float *y, int ldy) {
  for (int n0 = 0; n0 < N; n0 += WM_GEMM_NR) {
    const int8_t *panel = w + (size_t)n0 * Kp;  // panel n0/4 starts at (n0/4) * Kp*4 = n0 * Kp
    for (int m = 0; m < M; m++) {
      int32_t acc[4];
      panel_row_i8(Kp, xq + (size_t)m * Kp, panel, acc);
      store_panel(n0, N, acc, row_scale[m], w_scale, bias, y + (size_t)m * ldy);
    }
  }
}

void wm_gemm_i16i8_scalar(int M, int N, int Kp, const int16_t *xq, const float *row_scale, const int8_t *w,
                          const float *w_scale, const float *bias, float *y, int ldy) {
  for (int n0 = 0; n0 < N; n0 += WM_GEMM_NR) {
    const int8_t *panel = w + (size_t)n0 * Kp;
    for (int m = 0; m < M; m++) {
      int32_t acc[4];
      panel_row_i16(Kp, xq + (size_t)m * Kp, panel, acc);
      store_panel(n0, N, acc, row_scale[m], w_scale, bias, y + (size_t)m * ldy);
    }
  }
}
