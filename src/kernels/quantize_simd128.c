// Per-row (per group) symmetric activation quantization, wasm SIMD128. Bit-identical to quantize_scalar.c: the max is order
// independent, and each value goes through the same exactly rounded steps (x * s, / a, round half away, clamp).
#ifdef __wasm_simd128__
#include <math.h>
#include <wasm_simd128.h>

#include "kernels/kernels_impl.h"

#define WM_INLINE static inline __attribute__((always_inline))

WM_INLINE v128_t scaled(const float *x, const float *s, int k) {
  v128_t v = wasm_v128_load(x + k);
  return s ? wasm_f32x4_mul(v, wasm_v128_load(s + k)) : v;
}

// round half away from zero, as roundf: t = trunc(v) and the fraction v - t are exact; step away if |frac| >= .5
WM_INLINE v128_t round_away(v128_t v) {
  v128_t t = wasm_f32x4_trunc(v), d = wasm_f32x4_sub(v, t), one = wasm_f32x4_splat(1.0f);
  t = wasm_f32x4_add(t, wasm_v128_and(wasm_f32x4_ge(d, wasm_f32x4_splat(0.5f)), one));
  return wasm_f32x4_sub(t, wasm_v128_and(wasm_f32x4_le(d, wasm_f32x4_splat(-0.5f)), one));
}

// 4 quantized values as i32x4: clamp(round_away(x s / a), -qmax, qmax)
WM_INLINE v128_t quant4(const float *x, const float *s, int k, v128_t a, v128_t lo, v128_t hi) {
  v128_t q = round_away(wasm_f32x4_div(scaled(x, s, k), a));
  return wasm_i32x4_trunc_sat_f32x4(wasm_f32x4_pmin(hi, wasm_f32x4_pmax(lo, q)));  // NaN -> -qmax, as fminf/fmaxf
}

// --- one group of a row --------------------------------------------------------------------------------------------
// Returns a (0 for an all-zero group); q[0..Kp) as in quantize_scalar.c. 8 values per step: 2 x f32x4 -> i16x8.
WM_INLINE float quantize_group(int i16, int K, int Kp, const float *x, const float *s, int qmax, void *q) {
  int k = 0;
  // pass 1: max |x s|
  v128_t mv = wasm_f32x4_splat(0.0f);
  for (; k + 4 <= K; k += 4) mv = wasm_f32x4_pmax(mv, wasm_f32x4_abs(scaled(x, s, k)));  // skips NaN, as fmaxf
  float m4[4];
  wasm_v128_store(m4, mv);
  float mx = fmaxf(fmaxf(m4[0], m4[1]), fmaxf(m4[2], m4[3]));
  for (; k < K; k++) mx = fmaxf(mx, fabsf(s ? x[k] * s[k] : x[k]));
  float a = mx / (float)qmax;
  int8_t *q8 = q;
  int16_t *q16 = q;
  k = 0;
  // pass 2: 8 at a time
  if (a > 0.0f) {
    v128_t av = wasm_f32x4_splat(a), lo = wasm_f32x4_splat((float)-qmax), hi = wasm_f32x4_splat((float)qmax);
    for (; k + 8 <= K; k += 8) {
      v128_t h = wasm_i16x8_narrow_i32x4(quant4(x, s, k, av, lo, hi), quant4(x, s, k + 4, av, lo, hi));
      if (i16) wasm_v128_store(q16 + k, h);
      else wasm_v128_store64_lane(q8 + k, wasm_i8x16_narrow_i16x8(h, h), 0);
    }
    for (; k < K; k++) {  // tail: the scalar formula
      float v = fminf(fmaxf(roundf((s ? x[k] * s[k] : x[k]) / a), (float)-qmax), (float)qmax);
      if (i16) q16[k] = (int16_t)v;
      else q8[k] = (int8_t)v;
    }
  }
  for (; k < Kp; k++) {  // padding, or the whole row when a == 0
    if (i16) q16[k] = 0;
    else q8[k] = 0;
  }
  return a;
}

WM_INLINE void quantize_rows(int i16, int M, int K, int G, const float *x, int ldx, const float *s, int qmax, void *xq,
                             float *row_scale) {
  int Kp = wm_round_up(K, WM_GEMM_KB), ng = wm_groups(Kp, G);
  for (int m = 0; m < M; m++) {
    const float *xr = x + (size_t)m * ldx;
    float *a = row_scale + (size_t)m * ng;
    for (int k0 = 0, g = 0; k0 < Kp; k0 += G, g++) {
      int kv = K - k0 < G ? K - k0 : G, kp = Kp - k0 < G ? Kp - k0 : G;
      void *q = i16 ? (void *)((int16_t *)xq + (size_t)m * Kp + k0) : (void *)((int8_t *)xq + (size_t)m * Kp + k0);
      a[g] = quantize_group(i16, kv, kp, xr + k0, s ? s + k0 : 0, qmax, q);
    }
  }
}

// --- public entry points ------------------------------------------------------------------------------------------
void wm_quantize_rows_i8_simd128(int M, int K, int G, const float *x, int ldx, const float *in_scale, int qmax,
                                 int8_t *xq, float *row_scale) {
  if (qmax > 127) qmax = 127;  // int8 holds at most 127 (as the scalar variant)
  quantize_rows(0, M, K, G, x, ldx, in_scale, qmax, xq, row_scale);
}

void wm_quantize_rows_i16_simd128(int M, int K, int G, const float *x, int ldx, const float *in_scale, int qmax,
                                  int16_t *xq, float *row_scale) {
  quantize_rows(1, M, K, G, x, ldx, in_scale, qmax, xq, row_scale);
}

#else
typedef int wm_quantize_simd128_unused;  // ISO C: no empty translation unit
#endif
