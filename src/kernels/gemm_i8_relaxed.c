// int8-weight GEMMs on u6x2 and on u8 activations (kernels.h), wasm relaxed SIMD. Same y as gemm_i8_scalar.c's
// wm_gemm_i16i8_scalar / wm_gemm_i8_scalar on the same activation values, bit for bit.
//
// i32x4.relaxed_dot_i8x16_i7x16_add_s(a, b, c): lane i = c[i] + sum_{j<4} a[4i+j] * b[4i+j], the same on every
// engine only while every byte of b is in [0, 127]. The int8 weights go in a, the activations in b:
// - u6x2: 6-bit digits, x + 2048 = 64 hi + lo,  sum w x = 64 sum w hi + sum w lo - 2048 sum w;
// - u8 (8-bit activations, where wm_gemm_u8i8_exact() holds: AVX-VNNI's vpdpbusd reads b as unsigned bytes, no
//   saturation): x + 128 in one byte,  sum w x = sum w (x + 128) - 128 sum w: one dot-add per 16 multiply-adds.
// Every term an exact int32 sum (wrapping, like every wasm i32 add: the true sum fits in int32, the format reader's
// check, so the wrapped terms add up to it), hence the same acc per group as the int8 / int16 kernels and the same
// f32 epilogue in the same order.
//
// Per block of 8 inputs: the panel's 32 weight bytes in 2 loads, [c0 k0-7 | c1 k0-7] and [c2 | c3], shared by the
// MR rows; per row and digit, its 8 bytes loaded twice over (v128.load64_splat) and 2 dot-adds into 2 accumulators
// [c0 c1|c2 c3], lanes [c k0-3, c k4-7, c' k0-3, c' k4-7]. u6x2: 4 instructions that multiply (8 multiply-adds each,
// as i32x4.dot_i16x8_s) and no adds or sign extensions, where the SIMD128 kernel spends 4 dot_i16x8 + 4 adds + 4/MR
// extends; u8: 2. sum w per (channel, group) is computed once per panel, for all rows (a dot of the weights with 1s).
//
// MR = WM_GEMM_U6X2_MR = 2, K loop unrolled x2, by measurement: Chromium 156 (V8 lowers the dot to one AVX-VNNI
// vpdpbusd here), AMD Zen 5, GOPS for M,N,K = 128,1536,384 | 128,384,1536 | 16,1536,384 (`make
// bench-kernels-relaxed KERNEL_U6X2_MR=n`; the SIMD128 int16 kernel in the same page: 73-77 on each):
//   MR=1  77 | 79 | 75      MR=2  104 | 105 | 99      MR=3  96 | 99 | 90      MR=4  91 | 94 | 88   MR=6  94 | 97 | 90
//   (MR=2 with the K loop x1: 73 | 85 | 101, x4: 79 | 82 | 74; the other layout, each channel's 8 weights splat
//   and the row's 16 digits in one load: 73 | 77 | 72 at MR=2, 87 | 88 | 81 at MR=3, 85 | 87 | 82 at MR=4; the
//   SIMD128 kernel's layout, 16 bytes = 4 inputs of 4 channels against each row's 4 hi and 4 lo digits splat
//   (v128.load32_splat), 2 accumulators per row: 76-81 at MR=2, 86-91 at MR=4, 81-89 at MR=6, where this kernel
//   ran at 110-112 and the SIMD128 one, since rewritten in that layout, at 89-95 (2026-11-24). With the K loop
//   not unrolled: MR=2 104-111 (the same), MR=3 81-84, MR=4 75-80.)
// MR=2 keeps its 8 accumulators, 2 weight and 2 digit vectors in registers: V8 allocates 15 xmm on x64, and any
// larger tile spills accumulators every block. u8: MR = WM_GEMM_U8_MR, below.
#ifdef __wasm_relaxed_simd__
#include <wasm_simd128.h>

#include "kernels/gemm_i8_panel.h"
#include "kernels/kernels_impl.h"

#ifndef WM_GEMM_U6X2_MR
#define WM_GEMM_U6X2_MR 2
#endif
// u8: 2 dot-adds per row and block, 8 accumulators at MR = 4. GOPS, same shapes as above plus 512,1536,384 |
// 512,384,1536, Chromium 156, Zen 5, G = 128 (`make bench-kernels-relaxed KERNEL_BENCH_FLAGS=-DWM_GEMM_U8_MR=n`):
//   MR=4  225 | 236 | 206 | 225 | 236      MR=5  197 | 209 | 182 | 208 | 214      MR=6  208 | 214 | 184 | 209 | 210
// with the K loop unrolled x2, as u6x2's. Not unrolled (now; session 7, runs of the same build 2-5% apart):
//   MR=4  231-235 | 231-235 | 212-219 | 241-242 | 234-237   MR=3  209 | 217 | 184 | 212 | 215   MR=5  218 | 229 | 193 |
//   222 | 229   MR=6  136-140 (spills)
#ifndef WM_GEMM_U8_MR
#define WM_GEMM_U8_MR 4
#endif
#if WM_GEMM_U6X2_MR < 1 || WM_GEMM_U6X2_MR > 8 || WM_GEMM_U8_MR < 1 || WM_GEMM_U8_MR > 8
#error "WM_GEMM_U6X2_MR and WM_GEMM_U8_MR must be 1..8"
#endif

#define WM_INLINE static inline __attribute__((always_inline))

// Groups whose sum w the driver keeps at a time (per panel): beyond, the rows pass over the panel again, carrying
// their partial y in y. Only rows of more than 64 groups need it (e.g. G = 8 with Kp > 512; the converter's G = 128
// never does); test_kernels covers it.
#define WSUM_GROUPS 64

WM_INLINE v128_t dot(v128_t w, v128_t x, v128_t acc) { return wasm_i32x4_relaxed_dot_i8x16_i7x16_add(w, x, acc); }

// sum w of each of the panel's 4 channels over blocks [k0, k1) (inputs), as one i32x4
WM_INLINE v128_t wsum(const int8_t *panel, int k0, int k1) {
  const v128_t ones = wasm_i8x16_splat(1);
  v128_t s01 = wasm_i32x4_splat(0), s23 = wasm_i32x4_splat(0);
  for (int k = k0; k < k1; k += 8) {
    s01 = dot(wasm_v128_load(panel + k * 4), ones, s01);  // [c0 k0-3, c0 k4-7, c1 k0-3, c1 k4-7]
    s23 = dot(wasm_v128_load(panel + k * 4 + 16), ones, s23);
  }
  return panel_pair_sum(s01, s23);
}

// one block of 8 inputs: the panel's 2 weight vectors against each row's digits, into acc[row][0..2*digits)
WM_INLINE void block(int digits, int mr, int Kp, int k, const uint8_t *xd, const int8_t *panel, v128_t acc[8][4]) {
  v128_t w01 = wasm_v128_load(panel + k * 4), w23 = wasm_v128_load(panel + k * 4 + 16);
  for (int r = 0; r < mr; r++) {
    const uint8_t *xb = xd + ((size_t)r * Kp + k) * digits;
    v128_t hi = wasm_v128_load64_splat(xb);
    acc[r][0] = dot(w01, hi, acc[r][0]);
    acc[r][1] = dot(w23, hi, acc[r][1]);
    if (digits == 2) {
      v128_t lo = wasm_v128_load64_splat(xb + 8);
      acc[r][2] = dot(w01, lo, acc[r][2]);
      acc[r][3] = dot(w23, lo, acc[r][3]);
    }
  }
}

// --- micro-kernel: rows m..m+mr-1 x one panel, groups [g0, g1) -> y ------------------------------------------------
// digits (2: u6x2, rows of 2*Kp bytes; 1: u8, rows of Kp) and mr are compile-time constants at every call
// (always_inline), so acc[][] lives in registers. corr[g]: the offset's sum, 2048 or 128 sum w. first: y starts at 0
// (else from the partial y a previous pass stored); last: add the bias. The f32 steps are the scalar epilogue's.
WM_INLINE void panel_rows(int digits, int mr, int Kp, int G, int ng, int g0, int g1, const v128_t *corr,
                          const uint8_t *xd, const int8_t *panel, const float *rs, const float *ws, v128_t bias,
                          int has_bias, int first, int last, float *y, int ldy, int nvalid) {
  v128_t out[8];  // mr <= 8 rows used; unused ones are optimized away
  for (int r = 0; r < mr; r++) {
    if (first) {
      out[r] = wasm_f32x4_splat(0.0f);
    } else {
      float t[4] = {0, 0, 0, 0};
      for (int c = 0; c < nvalid; c++) t[c] = y[(size_t)r * ldy + c];
      out[r] = wasm_v128_load(t);
    }
  }
  for (int g = g0; g < g1; g++) {
    const int k0 = g * G, k1 = Kp - k0 < G ? Kp : k0 + G;
    v128_t acc[8][4];
    for (int r = 0; r < mr; r++)
      for (int c = 0; c < 4; c++) acc[r][c] = wasm_i32x4_splat(0);
    if (digits == 2) {
#pragma clang loop unroll_count(2)  // halves the per-iteration overhead (counter, V8's loop stack check)
      for (int k = k0; k < k1; k += 8) block(digits, mr, Kp, k, xd, panel, acc);
    } else {
#pragma clang loop unroll(disable)  // u8: 3-6% faster than x2 (MR=4 above), which spills more
      for (int k = k0; k < k1; k += 8) block(digits, mr, Kp, k, xd, panel, acc);
    }
    v128_t wsg = wasm_v128_load(ws + g * 4), cg = corr[g - g0];
    for (int r = 0; r < mr; r++) {
      // (64 hi + lo) per half-block lane, then the two lanes of each channel: [c0 c1 c2 c3]
      v128_t t01 = digits == 2 ? wasm_i32x4_add(wasm_i32x4_shl(acc[r][0], 6), acc[r][2]) : acc[r][0];
      v128_t t23 = digits == 2 ? wasm_i32x4_add(wasm_i32x4_shl(acc[r][1], 6), acc[r][3]) : acc[r][1];
      v128_t a = panel_pair_sum(t01, t23);
      v128_t s = wasm_f32x4_convert_i32x4(wasm_i32x4_sub(a, cg));
      out[r] = wasm_f32x4_add(out[r], wasm_f32x4_mul(wasm_f32x4_mul(wasm_f32x4_splat(rs[r * ng + g]), wsg), s));
    }
  }
  for (int r = 0; r < mr; r++) {
    v128_t v = last && has_bias ? wasm_f32x4_add(out[r], bias) : out[r];
    panel_store(y + (size_t)r * ldy, v, nvalid);
  }
}

// --- driver: panel by panel (the 4*Kp panel bytes stay in L1 while all rows stream past) --------------------------
WM_INLINE void gemm_relaxed(int digits, int M, int N, int Kp, int G, const uint8_t *xd, const float *row_scale,
                            const int8_t *w, const float *w_scale, const float *bias, float *y, int ldy) {
  const int ng = wm_groups(Kp, G), offset_log2 = digits == 2 ? 11 : 7;  // 2048 or 128
  v128_t corr[WSUM_GROUPS];
  for (int n0 = 0; n0 < N; n0 += 4) {
    const int8_t *panel = w + (size_t)n0 * Kp;
    const float *ws = w_scale + (size_t)n0 * ng;  // the panel's [ng][4] scales
    int nvalid = N - n0 < 4 ? N - n0 : 4;
    const v128_t bv = panel_bias(bias, n0, nvalid);
    for (int g0 = 0; g0 < ng; g0 += WSUM_GROUPS) {
      const int g1 = ng - g0 < WSUM_GROUPS ? ng : g0 + WSUM_GROUPS, first = g0 == 0, last = g1 == ng;
      for (int g = g0; g < g1; g++)
        corr[g - g0] = wasm_i32x4_shl(wsum(panel, g * G, Kp - g * G < G ? Kp : g * G + G), offset_log2);
      int m;
#define WM_ROWS(MR)                                                                                               \
  panel_rows(digits, MR, Kp, G, ng, g0, g1, corr, xd + (size_t)m * Kp * digits, panel, row_scale + (size_t)m * ng, \
             ws, bv, bias != 0, first, last, y + (size_t)m * ldy + n0, ldy, nvalid)
      if (digits == 2) WM_PANEL_ROW_BLOCKS(M, WM_GEMM_U6X2_MR, m, WM_ROWS);
      else WM_PANEL_ROW_BLOCKS(M, WM_GEMM_U8_MR, m, WM_ROWS);
#undef WM_ROWS
    }
  }
}

void wm_gemm_u6x2i8_relaxed(int M, int N, int Kp, int G, const uint8_t *xd, const float *row_scale, const int8_t *w,
                            const float *w_scale, const float *bias, float *y, int ldy) {
  gemm_relaxed(2, M, N, Kp, G, xd, row_scale, w, w_scale, bias, y, ldy);
}

void wm_gemm_u8i8_relaxed(int M, int N, int Kp, int G, const uint8_t *xq, const float *row_scale, const int8_t *w,
                          const float *w_scale, const float *bias, float *y, int ldy) {
  gemm_relaxed(1, M, N, Kp, G, xq, row_scale, w, w_scale, bias, y, ldy);
}

// --- is the u8 operand exact here? ---------------------------------------------------------------------------------
// One dot on operands that tell the lowerings apart: b bytes >= 128 (read as negative by a signed dot) and pairs
// whose sum passes int16 (saturated by pmaddubsw), against the exact sums. volatile: the operands are not known
// at compile time, so this runs on the engine, in this module, whose lowering the kernel gets.
int wm_gemm_u8i8_exact_relaxed(void) {
  static const int8_t wa[16] = {127, 127, 127, 127, -127, -127, -127, -127, -1, 5, -127, 100, 3, -7, 64, -64};
  static const uint8_t xb[16] = {255, 255, 255, 255, 255, 255, 254, 253, 128, 200, 1, 255, 127, 0, 129, 130};
  volatile int8_t va[16];
  volatile uint8_t vb[16];
  volatile int32_t vc = 100000;
  int8_t a[16];
  uint8_t b[16];
  for (int i = 0; i < 16; i++) va[i] = wa[i], vb[i] = xb[i];
  for (int i = 0; i < 16; i++) a[i] = va[i], b[i] = vb[i];
  int32_t got[4], c = vc;
  wasm_v128_store(got, dot(wasm_v128_load(a), wasm_v128_load(b), wasm_i32x4_splat(c)));
  for (int l = 0; l < 4; l++) {
    int32_t want = c;
    for (int j = 0; j < 4; j++) want += (int32_t)wa[4 * l + j] * (int32_t)xb[4 * l + j];
    if (got[l] != want) return 0;
  }
  return 1;
}

#else
typedef int wm_gemm_i8_relaxed_unused;  // ISO C: no empty translation unit
#endif
