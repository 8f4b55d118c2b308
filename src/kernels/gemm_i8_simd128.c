// int8-weight GEMM, wasm SIMD128. Same results as gemm_i8_scalar.c, bit for bit (exact int32 sums, same f32
// epilogue order).
//
// Micro-kernel: MR rows of xq x one packed panel of 4 output channels, over all of Kp. Per block of 8 inputs:
//   weights  2 x 16-byte loads (8 inputs of channels 0,1 | 2,3), sign-extended to 4 x i16x8, shared by MR rows
//   per row  8 activations -> i16x8 (int8: load8x8 sign-extends; int16: plain load), 4 x i32x4.dot_i16x8
//            (pairs of products summed in i32) into 4 accumulators, one per channel
// So 4*MR i32x4 accumulators live across the K loop; the horizontal sums (a 4x4 transpose-add giving one
// vector of the 4 channels) happen once per row and group of G inputs, followed by the f32
// scaling. Leftover rows (M % MR) use MR = 3, 2, 1 copies.
//
// MR = WM_GEMM_I8_MR = 4, K loop unrolled x2, by measurement: Node 20 (TurboFan), x86-64 (AMD Zen 5, 2.6 GHz),
// GOPS (2*M*N*K / s), best of 30 interleaved trials, for M,N,K = 128,1536,384 | 128,384,1536 | 16,1536,384:
//   MR=1  61 | 63 | 62      MR=2 75 | 78 | 76      MR=3 (x2) 77 | 78 | 76
//   MR=4  75 | 77 | 76      MR=4 (x2) 78 | 82 | 78      MR=6 77 | 77 | 77
// (scalar variant: ~6 GOPS). Every MR >= 2 is near the bound of one i32x4.dot_i16x8 (pmaddwd) per 8 MACs;
// MR=4 (x2) spends the fewest instructions per MAC, which also shows when the core is shared, and fits the 32
// vector registers of arm64 without spills. Re-measure with `make bench-kernels KERNEL_MR=n`.
#ifdef __wasm_simd128__
#include <wasm_simd128.h>

#include "kernels/gemm_i8_panel.h"
#include "kernels/kernels_impl.h"

#ifndef WM_GEMM_I8_MR
#define WM_GEMM_I8_MR 4
#endif

#if WM_GEMM_I8_MR < 1 || WM_GEMM_I8_MR > 8
#error "WM_GEMM_I8_MR must be 1..8"
#endif

#define WM_INLINE static inline __attribute__((always_inline))

// [sum a, sum b, sum c, sum d] of four i32x4
WM_INLINE v128_t hsum4(v128_t a, v128_t b, v128_t c, v128_t d) {
  v128_t ab = wasm_i32x4_add(wasm_i32x4_shuffle(a, b, 0, 4, 1, 5), wasm_i32x4_shuffle(a, b, 2, 6, 3, 7));
  v128_t cd = wasm_i32x4_add(wasm_i32x4_shuffle(c, d, 0, 4, 1, 5), wasm_i32x4_shuffle(c, d, 2, 6, 3, 7));
  return wasm_i32x4_add(wasm_i32x4_shuffle(ab, cd, 0, 1, 4, 5), wasm_i32x4_shuffle(ab, cd, 2, 3, 6, 7));
}

// 8 activations of one row as i16x8
WM_INLINE v128_t load_x8(const void *x, int x16) {
  return x16 ? wasm_v128_load(x) : wasm_i16x8_load8x8(x);
}

// --- micro-kernel: rows m..m+mr-1 of x (stride Kp elements) x one panel -> y ------------------------------------
// mr is a compile-time constant at every call (always_inline), so acc[][] lives in registers. Per group of G
// inputs the int32 sums are reduced, converted and scaled into one f32x4 per row (the scalar epilogue's order).
WM_INLINE void panel_rows(int mr, int x16, int Kp, int G, int ng, const void *x, const int8_t *panel,
                          const float *rs, const float *ws, v128_t bias, int has_bias, float *y, int ldy,
                          int nvalid) {
  v128_t out[8];  // mr <= 8 rows used; unused ones are optimized away
  for (int r = 0; r < mr; r++) out[r] = wasm_f32x4_splat(0.0f);
  const int esz = x16 ? 2 : 1;
  for (int k0 = 0, g = 0; k0 < Kp; k0 += G, g++) {
    const int k1 = Kp - k0 < G ? Kp : k0 + G;
    v128_t acc[8][4];
    for (int r = 0; r < mr; r++)
      for (int c = 0; c < 4; c++) acc[r][c] = wasm_i32x4_splat(0);
#pragma clang loop unroll_count(2)  // halves the per-iteration overhead (counter, V8's loop stack check)
    for (int k = k0; k < k1; k += 8) {
      v128_t w01 = wasm_v128_load(panel + k * 4), w23 = wasm_v128_load(panel + k * 4 + 16);
      v128_t w0 = wasm_i16x8_extend_low_i8x16(w01), w1 = wasm_i16x8_extend_high_i8x16(w01);
      v128_t w2 = wasm_i16x8_extend_low_i8x16(w23), w3 = wasm_i16x8_extend_high_i8x16(w23);
      for (int r = 0; r < mr; r++) {
        v128_t xv = load_x8((const char *)x + ((size_t)r * Kp + k) * esz, x16);
        acc[r][0] = wasm_i32x4_add(acc[r][0], wasm_i32x4_dot_i16x8(xv, w0));
        acc[r][1] = wasm_i32x4_add(acc[r][1], wasm_i32x4_dot_i16x8(xv, w1));
        acc[r][2] = wasm_i32x4_add(acc[r][2], wasm_i32x4_dot_i16x8(xv, w2));
        acc[r][3] = wasm_i32x4_add(acc[r][3], wasm_i32x4_dot_i16x8(xv, w3));
      }
    }
    // scalar order: out += (row_scale * w_scale) * (float)acc
    v128_t wsg = wasm_v128_load(ws + g * 4);
    for (int r = 0; r < mr; r++) {
      v128_t s = wasm_f32x4_convert_i32x4(hsum4(acc[r][0], acc[r][1], acc[r][2], acc[r][3]));
      out[r] = wasm_f32x4_add(out[r], wasm_f32x4_mul(wasm_f32x4_mul(wasm_f32x4_splat(rs[r * ng + g]), wsg), s));
    }
  }
  for (int r = 0; r < mr; r++) {
    v128_t v = has_bias ? wasm_f32x4_add(out[r], bias) : out[r];
    panel_store(y + (size_t)r * ldy, v, nvalid);
  }
}

// --- driver: panel by panel (the 4*Kp panel bytes stay in L1 while all rows stream past) --------------------------
WM_INLINE void gemm(int x16, int M, int N, int Kp, int G, const void *xq, const float *row_scale, const int8_t *w,
                    const float *w_scale, const float *bias, float *y, int ldy) {
  const int esz = x16 ? 2 : 1, ng = wm_groups(Kp, G);
  for (int n0 = 0; n0 < N; n0 += 4) {
    const int8_t *panel = w + (size_t)n0 * Kp;
    const float *ws = w_scale + (size_t)n0 * ng;  // the panel's [ng][4] scales
    int nvalid = N - n0 < 4 ? N - n0 : 4;
    const v128_t bv = panel_bias(bias, n0, nvalid);
    int m;
#define WM_ROWS(MR) \
  panel_rows(MR, x16, Kp, G, ng, (const char *)xq + (size_t)m * Kp * esz, panel, row_scale + (size_t)m * ng, ws, bv, bias != 0, y + (size_t)m * ldy + n0, ldy, nvalid)
    WM_PANEL_ROW_BLOCKS(M, WM_GEMM_I8_MR, m, WM_ROWS);
#undef WM_ROWS
  }
}

// --- public entry points ------------------------------------------------------------------------------------------
void wm_gemm_i8_simd128(int M, int N, int Kp, int G, const int8_t *xq, const float *row_scale, const int8_t *w,
                        const float *w_scale, const float *bias, float *y, int ldy) {
  gemm(0, M, N, Kp, G, xq, row_scale, w, w_scale, bias, y, ldy);
}

void wm_gemm_i16i8_simd128(int M, int N, int Kp, int G, const int16_t *xq, const float *row_scale, const int8_t *w,
                           const float *w_scale, const float *bias, float *y, int ldy) {
  gemm(1, M, N, Kp, G, xq, row_scale, w, w_scale, bias, y, ldy);
}

#else
typedef int wm_gemm_i8_simd128_unused;  // ISO C: no empty translation unit
#endif
