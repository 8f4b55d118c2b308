// The edges of a 4-channel output panel, shared by the int8 GEMM micro-kernels (gemm_i8_simd128.c,
// gemm_i8_relaxed.c): N need not be a multiple of 4, so the last panel reads and writes only its valid channels.
#ifndef WM_GEMM_I8_PANEL_H
#define WM_GEMM_I8_PANEL_H

#include <wasm_simd128.h>

// bias[n0 .. n0+3] as a vector (0 without bias); only the nvalid valid entries are read
static inline __attribute__((always_inline)) v128_t panel_bias(const float *bias, int n0, int nvalid) {
  if (!bias) return wasm_f32x4_splat(0.0f);
  if (nvalid == 4) return wasm_v128_load(bias + n0);
  float u[4] = {0, 0, 0, 0};
  for (int c = 0; c < nvalid; c++) u[c] = bias[n0 + c];
  return wasm_v128_load(u);
}

// v's first nvalid lanes to yr
static inline __attribute__((always_inline)) void panel_store(float *yr, v128_t v, int nvalid) {
  if (nvalid == 4) {
    wasm_v128_store(yr, v);
  } else {
    float t[4];
    wasm_v128_store(t, v);
    for (int c = 0; c < nvalid; c++) yr[c] = t[c];
  }
}

#endif
