// Float-weight GEMM (f32 or f16 weights), portable C: the reference for gemm_f32_simd128.c.
// y[m][n] = sum_k x[m][k] * W[n][k] (+ bias[n]), summed in order k = 0..K-1 in f32.
#include "kernels/kernels_impl.h"

void wm_gemm_f32_scalar(int M, int N, int K, const float *x, int ldx, const float *w, const float *bias, float *y,
                        int ldy) {
  for (int m = 0; m < M; m++) {
    const float *xr = x + (size_t)m * ldx;
    for (int n = 0; n < N; n++) {
      const float *wr = w + (size_t)n * K;
      float s = 0.0f;
      for (int k = 0; k < K; k++) s += xr[k] * wr[k];
      y[(size_t)m * ldy + n] = bias ? s + bias[n] : s;
    }
  }
}

// y[m][n] = sum_k x[m][k] * b[k][n], in order k = 0..K-1 (kernels.h)
void wm_gemm_f32_kn_scalar(int M, int N, int K, const float *x, int ldx, const float *b, int ldb, float *y, int ldy) {
  for (int m = 0; m < M; m++)
    for (int n = 0; n < N; n++) {
      float s = 0.0f;
      for (int k = 0; k < K; k++) s += x[(size_t)m * ldx + k] * b[(size_t)k * ldb + n];
      y[(size_t)m * ldy + n] = s;
    }
}

void wm_gemm_f16_scalar(int M, int N, int K, const float *x, int ldx, const uint16_t *w, const float *bias,
                        float *y, int ldy) {
  for (int m = 0; m < M; m++) {
    const float *xr = x + (size_t)m * ldx;
    for (int n = 0; n < N; n++) {
      const uint16_t *wr = w + (size_t)n * K;
      float s = 0.0f;
      for (int k = 0; k < K; k++) s += xr[k] * wm_f16_to_f32_scalar(wr[k]);
      y[(size_t)m * ldy + n] = bias ? s + bias[n] : s;
    }
  }
}
