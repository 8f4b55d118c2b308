// int8-weight GEMM, wasm SIMD128. Same results as gemm_i8_scalar.c, bit for bit (exact int32 sums, same f32
// epilogue order), on weights reordered by wm_pack_weights_i8_simd128 (below) before the first forward pass.
//
// Weight layout (this kernel's; the file's is kernels.h's, which the relaxed kernel reads): per panel of 4 output
// channels and block of 4 inputs, 16 bytes [c0 k0-3 | c1 k0-3 | c2 k0-3 | c3 k0-3]:
//   byte offset of W[n][k] = (n/4)*(Kp*4) + (k/4)*16 + (n%4)*4 + (k%4)
// Micro-kernel: MR rows of xq x one panel, over all of Kp. Per block of 4 inputs:
//   weights  2 x v128.load8x8_s: channels 0,1 | 2,3 as i16x8 [c k0-3, c' k0-3], shared by the MR rows
//   per row  its 4 activations loaded twice over as i16x8 [x0-3, x0-3] (int16: v128.load64_splat; int8:
//            load32_splat + extend), 2 x i32x4.dot_i16x8 + add into 2 accumulators [c k01, c k23, c' k01, c' k23]
// So 2*MR accumulators; once per row and group of G inputs one shuffle-add gives [c0 c1 c2 c3], then the f32
// scaling. Leftover rows (M % MR) use MR = 3, 2, 1 copies.
//
// Why this layout and not the file's [c k0-7 | c' k0-7] (one i16x8 per channel, a row's 8 activations in one
// load, 4 accumulators per row): that tile needs 4*MR accumulators, 16 at MR = 4, and V8 allocates 15 vector
// registers on x64 (and does not reschedule what clang emits), so it spilled every block, and its group epilogue was
// a 4x4 transpose-add. GOPS in Node 20 (x86-64, AMD Zen, G = 128) for M,N,K = 128,1536,384 | 128,384,1536 |
// 16,1536,384 | 512,1536,384 | 512,384,1536 (`make bench-kernels`, several runs; its peak for dot + add: 99-106):
//   file's layout, MR=4, K loop x2 (the kernel before this one)    73-80 on each
//   this layout, MR=4, K loop not unrolled (this kernel)            93-98 | 93-98 | 91-96 | 90-95 | 89-94
//   this layout, MR=3 | MR=5, not unrolled                          88-91 | 80-88
//   this layout, MR=4, K loop x2 (clang hoists the second block's loads: spills)    75-80
// and, in a side-by-side harness where the previous kernel ran at 81-85: the activation pair splat
// (v128.load32_splat) against int16 weight vectors of 2 inputs x 4 channels, one accumulator per row, MR=8 x4:
// 78-81; the weights sign-extended into an int16 panel once per call instead of in the loop: no faster. (The relaxed
// kernel is the other way round: 86-91 GOPS in this layout against 104-112 in the file's, Chromium, `make
// bench-kernels-relaxed`; hence the file keeps its layout and this build reorders it once, 2 shuffles per 32
// bytes.) MR = WM_GEMM_I8_MR = 4; re-measure with `make bench-kernels KERNEL_MR=n`.
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

// --- reorder, once: the file's 32-byte blocks [c0 k0-7 | c1 | c2 | c3] -> [c0 k0-3 | .. | c3 k0-3 | c0 k4-7 | ..]
void wm_pack_weights_i8_simd128(int Np, int Kp, int8_t *w) {
  for (size_t i = 0, n = (size_t)Np * Kp; i < n; i += 32) {
    v128_t a = wasm_v128_load(w + i), b = wasm_v128_load(w + i + 16);
    wasm_v128_store(w + i, wasm_i8x16_shuffle(a, b, 0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19, 24, 25, 26, 27));
    wasm_v128_store(w + i + 16, wasm_i8x16_shuffle(a, b, 4, 5, 6, 7, 12, 13, 14, 15, 20, 21, 22, 23, 28, 29, 30, 31));
  }
}

// --- micro-kernel: rows m..m+mr-1 of x (stride Kp elements) x one panel -> y ------------------------------------
// mr is a compile-time constant at every call (always_inline), so acc[][] lives in registers. Per group of G
// inputs the int32 sums are reduced, converted and scaled into one f32x4 per row (the scalar epilogue's order).
WM_INLINE void panel_rows(int mr, int x16, int Kp, int G, int ng, const void *x, const int8_t *panel,
                          const float *rs, const float *ws, v128_t bias, int has_bias, float *y, int ldy,
                          int nvalid) {
  v128_t out[8];  // mr <= 8 rows used; unused ones are optimized away
  for (int r = 0; r < mr; r++) out[r] = wasm_f32x4_splat(0.0f);
  for (int k0 = 0, g = 0; k0 < Kp; k0 += G, g++) {
    const int k1 = Kp - k0 < G ? Kp : k0 + G;
    v128_t acc[8][2];
    for (int r = 0; r < mr; r++) acc[r][0] = acc[r][1] = wasm_i32x4_splat(0);
    // Not unrolled: clang would hoist the second block's loads above the first's dots, and with 8 accumulators,
    // 4 + 4 activation and 2 + 2 weight vectors live V8 spills (it does not reschedule); one block keeps 14 live.
#pragma clang loop unroll(disable)
    for (int k = k0; k < k1; k += 4) {
      v128_t w01 = wasm_i16x8_load8x8(panel + k * 4), w23 = wasm_i16x8_load8x8(panel + k * 4 + 8);
      for (int r = 0; r < mr; r++) {
        v128_t xv = x16 ? wasm_v128_load64_splat((const int16_t *)x + (size_t)r * Kp + k)
                        : wasm_i16x8_extend_low_i8x16(wasm_v128_load32_splat((const int8_t *)x + (size_t)r * Kp + k));
        acc[r][0] = wasm_i32x4_add(acc[r][0], wasm_i32x4_dot_i16x8(xv, w01));
        acc[r][1] = wasm_i32x4_add(acc[r][1], wasm_i32x4_dot_i16x8(xv, w23));
      }
    }
    // scalar order: out += (row_scale * w_scale) * (float)acc
    v128_t wsg = wasm_v128_load(ws + g * 4);
    for (int r = 0; r < mr; r++) {
      v128_t a = panel_pair_sum(acc[r][0], acc[r][1]);
      out[r] = wasm_f32x4_add(out[r], wasm_f32x4_mul(wasm_f32x4_mul(wasm_f32x4_splat(rs[r * ng + g]), wsg),
                                                     wasm_f32x4_convert_i32x4(a)));
    }
  }
  for (int r = 0; r < mr; r++) {
    v128_t v = has_bias ? wasm_f32x4_add(out[r], bias) : out[r];
    panel_store(y + (size_t)r * ldy, v, nvalid);
  }
}

// --- driver: panel by panel (the 4*Kp panel bytes stay in L1 while all rows stream past) --------------------------
// (Cutting the rows into chunks of 128 or 256 KB of activations, each passing over every panel, so that a chunk stays
// in L2 where 512 rows of 1536 int16 do not: within 1% on gte-small-synth at 16, 128, 512 tokens and the batch.)
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
