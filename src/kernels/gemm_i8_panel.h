// What the int8 GEMM drivers (gemm_i8_simd128.c, gemm_i8_relaxed.c) share: the edges of a 4-channel output panel
// (N need not be a multiple of 4, so the last panel reads and writes only its valid channels), the sum of a
// panel's accumulator pair, and the cut of the rows into micro-kernel blocks.
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

// Two accumulators of a panel, lanes [c0 a, c0 b, c1 a, c1 b] and [c2 a, c2 b, c3 a, c3 b] (each channel's sum in
// two parts: halves of a block), as one vector of the 4 channels' sums [c0 c1 c2 c3]
static inline __attribute__((always_inline)) v128_t panel_pair_sum(v128_t c01, v128_t c23) {
  return wasm_i32x4_add(wasm_i32x4_shuffle(c01, c23, 0, 2, 4, 6), wasm_i32x4_shuffle(c01, c23, 1, 3, 5, 7));
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

// Rows 0 .. M-1 in blocks for ROWS(mr): MR rows at a time, then the leftover M % MR as blocks of 3, 2, 1, so that
// mr is a compile-time constant at every expansion (the micro-kernels are always_inline and keep their
// accumulators in registers); m is the block's first row. The branches for blocks above MR fold away.
#define WM_PANEL_ROW_BLOCKS(M, MR, m, ROWS)                                          \
  do {                                                                              \
    for (m = 0; m + (MR) <= (M); m += (MR)) ROWS(MR);                               \
    while (m < (M)) {                                                               \
      int mr_ = (M) - m >= 3 && (MR) > 3 ? 3 : (M) - m >= 2 && (MR) > 2 ? 2 : 1;    \
      if (mr_ == 3) ROWS(3);                                                        \
      else if (mr_ == 2) ROWS(2);                                                   \
      else ROWS(1);                                                                 \
      m += mr_;                                                                     \
    }                                                                               \
  } while (0)

#endif
