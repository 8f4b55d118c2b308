// Per-row (per group) symmetric activation quantization, wasm SIMD128. Bit-identical to quantize_scalar.c: the max is order
// independent, and each value goes through the same exactly rounded steps (x * s, * (1 / a), nearest even, clamp).
#ifdef __wasm_simd128__
#include <math.h>
#include <wasm_simd128.h>

#include "kernels/kernels_impl.h"

#define WM_INLINE static inline __attribute__((always_inline))

WM_INLINE v128_t scaled(const float *x, const float *s, int k) {
  v128_t v = wasm_v128_load(x + k);
  return s ? wasm_f32x4_mul(v, wasm_v128_load(s + k)) : v;
}

// 4 quantized values as i32x4: clamp(nearest(x s * inv), -qmax, qmax), inv = 1 / a, ties to even as rintf.
// Clamped first (the bounds are integers, so the order does not matter; NaN -> -qmax, as fminf/fmaxf), then
// rounded with WM_ROUND_MAGIC (kernels_impl.h): 2 operations where f32x4.nearest + i32x4.trunc_sat_f32x4_s take V8
// several: 0.40 ns per value against 0.49 (test_kernels --bench-ops)
WM_INLINE v128_t quant4(const float *x, const float *s, int k, v128_t inv, v128_t lo, v128_t hi) {
  v128_t c = wasm_f32x4_pmin(hi, wasm_f32x4_pmax(lo, wasm_f32x4_mul(scaled(x, s, k), inv)));
  return wasm_i32x4_sub(wasm_f32x4_add(c, wasm_f32x4_splat(WM_ROUND_MAGIC)), wasm_i32x4_splat(WM_ROUND_MAGIC_BITS));
}

// --- one group of a row --------------------------------------------------------------------------------------------
// Output layouts (kernels.h): int8, int16, u8 (v + 128), or u6x2 digits (2 bytes per input, like int16).
enum { OUT_I8, OUT_I16, OUT_U8, OUT_U6X2 };

WM_INLINE void store_one(int out, void *q, int k, float v) {
  if (out == OUT_I8) {
    ((int8_t *)q)[k] = (int8_t)v;
  } else if (out == OUT_I16) {
    ((int16_t *)q)[k] = (int16_t)v;
  } else if (out == OUT_U8) {
    ((uint8_t *)q)[k] = (uint8_t)((int)v + 128);
  } else {
    int u = (int)v + 2048;
    ((uint8_t *)q)[k / 8 * 16 + k % 8] = (uint8_t)(u >> 6);
    ((uint8_t *)q)[k / 8 * 16 + 8 + k % 8] = (uint8_t)(u & 63);
  }
}

// Returns a (0 for an all-zero group); q[0..Kp) as in quantize_scalar.c. 8 values per step: 2 x f32x4 -> i16x8.
WM_INLINE float quantize_group(int out, int K, int Kp, const float *x, const float *s, int qmax, void *q) {
  int k = 0;
  // pass 1: max |x s|
  v128_t mv = wasm_f32x4_splat(0.0f);
  for (; k + 4 <= K; k += 4) mv = wasm_f32x4_pmax(mv, wasm_f32x4_abs(scaled(x, s, k)));  // skips NaN, as fmaxf
  float m4[4];
  wasm_v128_store(m4, mv);
  float mx = fmaxf(fmaxf(m4[0], m4[1]), fmaxf(m4[2], m4[3]));
  for (; k < K; k++) mx = fmaxf(mx, fabsf(s ? x[k] * s[k] : x[k]));
  float a = mx / (float)qmax;
  k = 0;
  // pass 2: 8 at a time
  if (a > 0.0f) {
    const float inv = 1.0f / a;
    v128_t iv = wasm_f32x4_splat(inv), lo = wasm_f32x4_splat((float)-qmax), hi = wasm_f32x4_splat((float)qmax);
    for (; k + 8 <= K; k += 8) {
      v128_t h = wasm_i16x8_narrow_i32x4(quant4(x, s, k, iv, lo, hi), quant4(x, s, k + 4, iv, lo, hi));
      if (out == OUT_I16) {
        wasm_v128_store((int16_t *)q + k, h);
      } else if (out == OUT_I8) {
        wasm_v128_store64_lane((int8_t *)q + k, wasm_i8x16_narrow_i16x8(h, h), 0);
      } else if (out == OUT_U8) {  // |h| <= 127: + 128 is the sign bit flipped
        v128_t b = wasm_v128_xor(wasm_i8x16_narrow_i16x8(h, h), wasm_i8x16_splat((int8_t)0x80));
        wasm_v128_store64_lane((uint8_t *)q + k, b, 0);
      } else {  // h + 2048 in [1, 4095]: its digits in [0, 63] narrow exactly to [8 hi | 8 lo]
        v128_t u = wasm_i16x8_add(h, wasm_i16x8_splat(2048));
        v128_t d = wasm_u8x16_narrow_i16x8(wasm_u16x8_shr(u, 6), wasm_v128_and(u, wasm_i16x8_splat(63)));
        wasm_v128_store((uint8_t *)q + k * 2, d);
      }
    }
    for (; k < K; k++)  // tail: the scalar formula
      store_one(out, q, k, fminf(fmaxf(rintf((s ? x[k] * s[k] : x[k]) * inv), (float)-qmax), (float)qmax));
  }
  for (; k < Kp; k++) store_one(out, q, k, 0.0f);  // padding, or the whole row when a == 0
  return a;
}

WM_INLINE void quantize_rows(int out, int M, int K, int G, const float *x, int ldx, const float *s, int qmax, void *xq,
                             float *row_scale) {
  int Kp = wm_round_up(K, WM_GEMM_KB), ng = wm_groups(Kp, G);
  const size_t esz = out == OUT_I8 || out == OUT_U8 ? 1 : 2;  // bytes per input
  for (int m = 0; m < M; m++) {
    const float *xr = x + (size_t)m * ldx;
    float *a = row_scale + (size_t)m * ng;
    for (int k0 = 0, g = 0; k0 < Kp; k0 += G, g++) {
      int kv = K - k0 < G ? K - k0 : G, kp = Kp - k0 < G ? Kp - k0 : G;
      a[g] = quantize_group(out, kv, kp, xr + k0, s ? s + k0 : 0, qmax, (char *)xq + ((size_t)m * Kp + k0) * esz);
    }
  }
}

// --- public entry points ------------------------------------------------------------------------------------------
void wm_quantize_rows_i8_simd128(int M, int K, int G, const float *x, int ldx, const float *in_scale, int qmax,
                                 int8_t *xq, float *row_scale) {
  if (qmax > 127) qmax = 127;  // int8 holds at most 127 (as the scalar variant)
  quantize_rows(OUT_I8, M, K, G, x, ldx, in_scale, qmax, xq, row_scale);
}

void wm_quantize_rows_i16_simd128(int M, int K, int G, const float *x, int ldx, const float *in_scale, int qmax,
                                  int16_t *xq, float *row_scale) {
  quantize_rows(OUT_I16, M, K, G, x, ldx, in_scale, qmax, xq, row_scale);
}

void wm_quantize_rows_u8_simd128(int M, int K, int G, const float *x, int ldx, const float *in_scale, int qmax,
                                 uint8_t *xq, float *row_scale) {
  if (qmax > 127) qmax = 127;
  quantize_rows(OUT_U8, M, K, G, x, ldx, in_scale, qmax, xq, row_scale);
}

void wm_quantize_rows_u6x2_simd128(int M, int K, int G, const float *x, int ldx, const float *in_scale, int qmax,
                                   uint8_t *xd, float *row_scale) {
  quantize_rows(OUT_U6X2, M, K, G, x, ldx, in_scale, qmax, xd, row_scale);
}

#else
typedef int wm_quantize_simd128_unused;  // ISO C: no empty translation unit
#endif
