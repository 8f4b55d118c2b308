// int8-weight GEMM, portable C: the reference for gemm_i8_simd128.c and gemm_i8_relaxed.c, on each activation
// layout of kernels.h (int8, int16, u8, u6x2).
// y[m][n] = sum_g (row_scale[m][g] * w_scale[n][g]) * (float)acc_g [+ bias[n]], acc_g = sum_{k in group g}
// xq[m][k] * W[n][k] exact in int32. The f32 epilogue is evaluated in exactly this order (groups in order,
// starting from 0, bias last) in every variant, so all variants give bit-identical y.
#include "kernels/kernels_impl.h"

// --- activation k of a block, by operand layout (kernels.h) ---------------------------------------------------------
#define X_PLAIN(xb, j) ((int32_t)(xb)[j])
#define X_U8(xb, j) ((int32_t)(xb)[j] - 128)
#define X_U6X2(xb, j) (64 * (int32_t)(xb)[j] + (int32_t)(xb)[8 + (j)] - 2048)

// --- one 4-channel panel, one row, one group of blocks ----------------------------------------------------------
// Packed panel: per block of 8 inputs, 4 runs of 8 int8 (one per channel) -> W[c][8b + j] at b*32 + c*8 + j.
// XB: elements of x per block (8, or 16 digit bytes).
#define WM_GEMM_I8_GROUP(NAME, XT, XB, XVAL)                                                                   \
  static void NAME(int kb0, int kb1, const XT *x, const int8_t *panel, int32_t acc[4]) {                      \
    acc[0] = acc[1] = acc[2] = acc[3] = 0;                                                                     \
    for (int b = kb0; b < kb1; b++) {                                                                          \
      const int8_t *wb = panel + b * (WM_GEMM_NR * WM_GEMM_KB);                                                \
      const XT *xb = x + b * (XB);                                                                             \
      for (int c = 0; c < WM_GEMM_NR; c++)                                                                     \
        for (int j = 0; j < WM_GEMM_KB; j++) acc[c] += XVAL(xb, j) * wb[c * WM_GEMM_KB + j];                   \
    }                                                                                                          \
  }
WM_GEMM_I8_GROUP(panel_group_i8, int8_t, 8, X_PLAIN)
WM_GEMM_I8_GROUP(panel_group_i16, int16_t, 8, X_PLAIN)
WM_GEMM_I8_GROUP(panel_group_u8, uint8_t, 8, X_U8)
WM_GEMM_I8_GROUP(panel_group_u6x2, uint8_t, 16, X_U6X2)

// The scalar kernels read the file's layout as it is.
void wm_pack_weights_i8_scalar(int Np, int Kp, int8_t *w) { (void)Np, (void)Kp, (void)w; }

// --- public entry points ------------------------------------------------------------------------------------------
// XR: elements of x per row and input (u6x2: 2 bytes)
#define WM_GEMM_I8_SCALAR(NAME, XT, XR, GROUP)                                                                    \
  void NAME(int M, int N, int Kp, int G, const XT *xq, const float *row_scale, const int8_t *w,                  \
            const float *w_scale, const float *bias, float *y, int ldy) {                                         \
    int ng = wm_groups(Kp, G), gb = G / WM_GEMM_KB, nb = Kp / WM_GEMM_KB;                                         \
    for (int n0 = 0; n0 < N; n0 += WM_GEMM_NR) {                                                                  \
      const int8_t *panel = w + (size_t)n0 * Kp; /* panel n0/4 starts at (n0/4) * Kp*4 = n0 * Kp */               \
      const float *ws = w_scale + (size_t)n0 * ng; /* its scales: [ng][4] at (n0/4) * ng*4 */                     \
      for (int m = 0; m < M; m++) {                                                                               \
        const float *rs = row_scale + (size_t)m * ng;                                                             \
        float v[WM_GEMM_NR] = {0, 0, 0, 0};                                                                       \
        for (int g = 0; g < ng; g++) {                                                                            \
          int32_t acc[WM_GEMM_NR];                                                                                \
          GROUP(g * gb, g * gb + gb < nb ? g * gb + gb : nb, xq + (size_t)m * Kp * (XR), panel, acc);             \
          for (int c = 0; c < WM_GEMM_NR; c++) v[c] += (rs[g] * ws[g * WM_GEMM_NR + c]) * (float)acc[c];          \
        }                                                                                                         \
        float *yrow = y + (size_t)m * ldy;                                                                        \
        for (int c = 0; c < WM_GEMM_NR && n0 + c < N; c++) yrow[n0 + c] = bias ? v[c] + bias[n0 + c] : v[c];     \
      }                                                                                                           \
    }                                                                                                             \
  }
WM_GEMM_I8_SCALAR(wm_gemm_i8_scalar, int8_t, 1, panel_group_i8)
WM_GEMM_I8_SCALAR(wm_gemm_i16i8_scalar, int16_t, 1, panel_group_i16)
WM_GEMM_I8_SCALAR(wm_gemm_u8i8_scalar, uint8_t, 1, panel_group_u8)
WM_GEMM_I8_SCALAR(wm_gemm_u6x2i8_scalar, uint8_t, 2, panel_group_u6x2)
