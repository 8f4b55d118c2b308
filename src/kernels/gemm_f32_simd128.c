// Float-weight GEMM (f32 or f16 weights), wasm SIMD128. Agrees with gemm_f32_scalar.c to f32 rounding (the sums
// run in 4 lanes, then a horizontal add, then the K % 4 tail, instead of one sequential sum).
//
// Micro-kernel: MR rows of x x 4 rows of W (output channels), over all of K. Per 4 inputs: 4 weight vectors
// (f16: 4 halves zero-extended by load16x4, then converted exactly, as wm_f16_to_f32_scalar does), shared by the
// MR rows; per row one x vector and 4 multiply-adds into 4 f32x4 accumulators. Horizontal sums once per row at
// the end of K. A last group of N % 4 channels re-reads the last valid W row in the unused slots and does not
// store them. MR = WM_GEMM_F32_MR = 2 by measurement (Node 20, x86-64, M,N,K = 128,1536,384: MR=1 24, MR=2 31,
// MR=3 27, MR=4 22 GFLOPS; unrolling K made it slower): 8 accumulators + 4 weights + x fit 16 xmm registers.
#ifdef __wasm_simd128__
#include <wasm_simd128.h>

#include "kernels/kernels_impl.h"

#ifndef WM_GEMM_F32_MR
#define WM_GEMM_F32_MR 2
#endif

#if WM_GEMM_F32_MR < 1 || WM_GEMM_F32_MR > 8
#error "WM_GEMM_F32_MR must be 1..8"
#endif

#define WM_INLINE static inline __attribute__((always_inline))

// [sum a, sum b, sum c, sum d] of four f32x4
WM_INLINE v128_t hsum4(v128_t a, v128_t b, v128_t c, v128_t d) {
  v128_t ab = wasm_f32x4_add(wasm_i32x4_shuffle(a, b, 0, 4, 1, 5), wasm_i32x4_shuffle(a, b, 2, 6, 3, 7));
  v128_t cd = wasm_f32x4_add(wasm_i32x4_shuffle(c, d, 0, 4, 1, 5), wasm_i32x4_shuffle(c, d, 2, 6, 3, 7));
  return wasm_f32x4_add(wasm_i32x4_shuffle(ab, cd, 0, 1, 4, 5), wasm_i32x4_shuffle(ab, cd, 2, 3, 6, 7));
}

// 4 consecutive weights as f32x4; f16: exact conversion (see wm_f16_to_f32_scalar)
WM_INLINE v128_t load_w4(const void *w, size_t i, int f16) {
  if (!f16) return wasm_v128_load((const float *)w + i);
  v128_t h = wasm_u32x4_load16x4((const uint16_t *)w + i);
  v128_t f = wasm_f32x4_mul(wasm_i32x4_shl(wasm_v128_and(h, wasm_i32x4_splat(0x7fff)), 13),
                            wasm_f32x4_splat(0x1p112f));
  v128_t infnan = wasm_f32x4_ge(f, wasm_f32x4_splat(65536.0f));
  f = wasm_v128_or(f, wasm_v128_and(infnan, wasm_i32x4_splat(0x7f800000)));
  return wasm_v128_or(f, wasm_i32x4_shl(wasm_v128_and(h, wasm_i32x4_splat(0x8000)), 16));
}

WM_INLINE float load_w1(const void *w, size_t i, int f16) {
  return f16 ? wm_f16_to_f32_scalar(((const uint16_t *)w)[i]) : ((const float *)w)[i];
}

// --- micro-kernel: rows of x (stride ldx) x W rows wr[0..3] (element offsets into w) -> y ----------------------
WM_INLINE void block(int mr, int f16, int K, const float *x, int ldx, const void *w, const size_t wr[4],
                     const float *bias, float *y, int ldy, int nvalid) {
  v128_t acc[8][4];  // mr <= 8 rows used; unused ones are optimized away
  for (int r = 0; r < mr; r++)
    for (int c = 0; c < 4; c++) acc[r][c] = wasm_f32x4_splat(0.0f);
  int k = 0;
  for (; k + 4 <= K; k += 4) {
    v128_t w0 = load_w4(w, wr[0] + k, f16), w1 = load_w4(w, wr[1] + k, f16);
    v128_t w2 = load_w4(w, wr[2] + k, f16), w3 = load_w4(w, wr[3] + k, f16);
    for (int r = 0; r < mr; r++) {
      v128_t xv = wasm_v128_load(x + (size_t)r * ldx + k);
      acc[r][0] = wasm_f32x4_add(acc[r][0], wasm_f32x4_mul(xv, w0));
      acc[r][1] = wasm_f32x4_add(acc[r][1], wasm_f32x4_mul(xv, w1));
      acc[r][2] = wasm_f32x4_add(acc[r][2], wasm_f32x4_mul(xv, w2));
      acc[r][3] = wasm_f32x4_add(acc[r][3], wasm_f32x4_mul(xv, w3));
    }
  }
  for (int r = 0; r < mr; r++) {
    float s[4];
    wasm_v128_store(s, hsum4(acc[r][0], acc[r][1], acc[r][2], acc[r][3]));
    const float *xr = x + (size_t)r * ldx;
    float *yr = y + (size_t)r * ldy;
    for (int c = 0; c < nvalid; c++) {
      for (int kk = k; kk < K; kk++) s[c] += xr[kk] * load_w1(w, wr[c] + kk, f16);  // K % 4 tail
      yr[c] = bias ? s[c] + bias[c] : s[c];
    }
  }
}

// --- driver: 4 W rows at a time (4*K weights stay in L1 while all rows of x stream past) --------------------------
WM_INLINE void gemm(int f16, int M, int N, int K, const float *x, int ldx, const void *w, const float *bias, float *y,
                    int ldy) {
  for (int n0 = 0; n0 < N; n0 += 4) {
    int nvalid = N - n0 < 4 ? N - n0 : 4;
    size_t wr[4];
    for (int c = 0; c < 4; c++) wr[c] = (size_t)(n0 + (c < nvalid ? c : nvalid - 1)) * K;
    const float *b = bias ? bias + n0 : 0;
    int m = 0;
    for (; m + WM_GEMM_F32_MR <= M; m += WM_GEMM_F32_MR)
      block(WM_GEMM_F32_MR, f16, K, x + (size_t)m * ldx, ldx, w, wr, b, y + (size_t)m * ldy + n0, ldy, nvalid);
    while (m < M) {  // leftover rows (M % MR): blocks of 3, 2, 1 (the branches above MR fold away)
      int mr = M - m >= 3 && WM_GEMM_F32_MR > 3 ? 3 : M - m >= 2 && WM_GEMM_F32_MR > 2 ? 2 : 1;
      const float *xr = x + (size_t)m * ldx;
      float *yr = y + (size_t)m * ldy + n0;
      if (mr == 3) block(3, f16, K, xr, ldx, w, wr, b, yr, ldy, nvalid);
      else if (mr == 2) block(2, f16, K, xr, ldx, w, wr, b, yr, ldy, nvalid);
      else block(1, f16, K, xr, ldx, w, wr, b, yr, ldy, nvalid);
      m += mr;
    }
  }
}

// --- the other operand as [K][N] rows (wm_gemm_f32_kn): outer products, no horizontal sums -----------------------
// Micro-kernel: MR rows of x x 8 columns of b. Per input k: b's 8 values in 2 loads, shared by the rows; per row
// x[r][k] loaded into every lane (v128.load32_splat) and 2 mul + add into 2 accumulators, which hold y's columns
// as they are: each lane sums its products in order k = 0..K-1, as the scalar kernel does, so both are
// bit-identical. Then a block of 4 columns, and the last N % 4 with a partial store (b's rows are readable up to
// the next multiple of 4: kernels.h). MR = 4 (8 accumulators + 2 b + 1 x vectors), the K loop not unrolled: see
// gemm_i8_simd128.c for why both, the same register budget under V8.
#define WM_GEMM_KN_MR 4

WM_INLINE void kn_block(int mr, int nv, int K, const float *x, int ldx, const float *b, int ldb, float *y, int ldy,
                        int nstore) {
  v128_t acc[WM_GEMM_KN_MR][2];
  for (int r = 0; r < mr; r++) acc[r][0] = acc[r][1] = wasm_f32x4_splat(0.0f);
#pragma clang loop unroll(disable)
  for (int k = 0; k < K; k++) {
    const float *bk = b + (size_t)k * ldb;
    v128_t b0 = wasm_v128_load(bk), b1 = nv > 1 ? wasm_v128_load(bk + 4) : b0;
    for (int r = 0; r < mr; r++) {
      v128_t xs = wasm_v128_load32_splat(x + (size_t)r * ldx + k);
      acc[r][0] = wasm_f32x4_add(acc[r][0], wasm_f32x4_mul(xs, b0));
      if (nv > 1) acc[r][1] = wasm_f32x4_add(acc[r][1], wasm_f32x4_mul(xs, b1));
    }
  }
  for (int r = 0; r < mr; r++) {
    float *yr = y + (size_t)r * ldy;
    if (nstore == 4 * nv) {
      wasm_v128_store(yr, acc[r][0]);
      if (nv > 1) wasm_v128_store(yr + 4, acc[r][1]);
    } else {  // nv == 1, nstore < 4
      float t[4];
      wasm_v128_store(t, acc[r][0]);
      for (int c = 0; c < nstore; c++) yr[c] = t[c];
    }
  }
}

// columns [n0, n0 + nstore) of every row, nv vectors wide
WM_INLINE void kn_columns(int nv, int M, int K, const float *x, int ldx, const float *b, int ldb, float *y, int ldy,
                          int nstore) {
  int m = 0;
  for (; m + WM_GEMM_KN_MR <= M; m += WM_GEMM_KN_MR)
    kn_block(WM_GEMM_KN_MR, nv, K, x + (size_t)m * ldx, ldx, b, ldb, y + (size_t)m * ldy, ldy, nstore);
  for (; m < M; m++) kn_block(1, nv, K, x + (size_t)m * ldx, ldx, b, ldb, y + (size_t)m * ldy, ldy, nstore);
}

void wm_gemm_f32_kn_simd128(int M, int N, int K, const float *x, int ldx, const float *b, int ldb, float *y,
                            int ldy) {
  int n0 = 0;
  for (; n0 + 8 <= N; n0 += 8) kn_columns(2, M, K, x, ldx, b + n0, ldb, y + n0, ldy, 8);
  for (; n0 < N; n0 += 4) kn_columns(1, M, K, x, ldx, b + n0, ldb, y + n0, ldy, N - n0 < 4 ? N - n0 : 4);
}

// --- public entry points ------------------------------------------------------------------------------------------
void wm_gemm_f32_simd128(int M, int N, int K, const float *x, int ldx, const float *w, const float *bias, float *y,
                         int ldy) {
  gemm(0, M, N, K, x, ldx, w, bias, y, ldy);
}

void wm_gemm_f16_simd128(int M, int N, int K, const float *x, int ldx, const uint16_t *w, const float *bias,
                         float *y, int ldy) {
  gemm(1, M, N, K, x, ldx, w, bias, y, ldy);
}

#else
typedef int wm_gemm_f32_simd128_unused;  // ISO C: no empty translation unit
#endif
