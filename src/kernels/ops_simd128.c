// Elementwise and row kernels, wasm SIMD128. exp and GELU are the operation-for-operation 4-lane copies of
// wm_expf_scalar / wm_geluf_scalar (ops_scalar.c: formulas and error figures), so their values are bit-identical
// to the scalar ones; the row sums (LayerNorm, softmax, dot) run in 4 lanes and agree to rounding.
// Tails (n % 4) use the scalar per-value functions, which give the same values.
#ifdef __wasm_simd128__
#include <math.h>
#include <wasm_simd128.h>

#include "kernels/kernels_impl.h"

#define WM_INLINE static inline __attribute__((always_inline))

WM_INLINE v128_t splat(float f) { return wasm_f32x4_splat(f); }

WM_INLINE float hsum(v128_t v) {  // (v0 + v2) + (v1 + v3)
  v = wasm_f32x4_add(v, wasm_i32x4_shuffle(v, v, 2, 3, 0, 1));
  return wasm_f32x4_extract_lane(v, 0) + wasm_f32x4_extract_lane(v, 1);
}

// --- exp ----------------------------------------------------------------------------------------------------------
// As wm_expf_scalar: x clamped to [-87.33, 88] (NaN to -87.33), 2^n built in the exponent bits.
WM_INLINE v128_t exp4(v128_t x) {
  x = wasm_f32x4_pmin(splat(88.0f), wasm_f32x4_pmax(splat(-87.33f), x));
  // n = round-to-nearest-even(x log2 e), |n| <= 127, as a float and in t's bits (WM_ROUND_MAGIC, kernels_impl.h):
  // 2^n's exponent comes from them with integer adds
  const v128_t magic = splat(WM_ROUND_MAGIC);
  v128_t t = wasm_f32x4_add(wasm_f32x4_mul(x, splat(1.44269504088896341f)), magic);
  v128_t n = wasm_f32x4_sub(t, magic);
  v128_t r = wasm_f32x4_sub(x, wasm_f32x4_mul(n, splat(0.693359375f)));
  r = wasm_f32x4_add(r, wasm_f32x4_mul(n, splat(2.12194440e-4f)));
  v128_t p = splat(wm_exp_poly[0]);
  for (int i = 1; i < WM_EXP_DEGREE; i++) p = wasm_f32x4_add(wasm_f32x4_mul(p, r), splat(wm_exp_poly[i]));
  p = wasm_f32x4_add(wasm_f32x4_add(wasm_f32x4_mul(p, wasm_f32x4_mul(r, r)), r), splat(1.0f));
  v128_t scale = wasm_i32x4_shl(wasm_i32x4_add(t, wasm_i32x4_splat(127 - WM_ROUND_MAGIC_BITS)), 23);
  return wasm_f32x4_mul(p, scale);
}

void wm_exp_simd128(size_t n, float *x) {
  size_t i = 0;
  for (; i + 4 <= n; i += 4) wasm_v128_store(x + i, exp4(wasm_v128_load(x + i)));
  for (; i < n; i++) x[i] = wm_expf_scalar(x[i]);
}

// --- GELU -----------------------------------------------------------------------------------------------------------
// As wm_geluf_scalar.
void wm_gelu_simd128(size_t n, float *x) {
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    v128_t v = wasm_v128_load(x + i);
    v128_t c = wasm_f32x4_pmax(splat(-WM_GELU_CLAMP), wasm_f32x4_pmin(splat(WM_GELU_CLAMP), v));
    v128_t s = wasm_f32x4_mul(c, c), p = splat(wm_gelu_p[0]), q = splat(wm_gelu_q[0]);
    for (int j = 1; j < 6; j++) {
      p = wasm_f32x4_add(wasm_f32x4_mul(p, s), splat(wm_gelu_p[j]));
      q = wasm_f32x4_add(wasm_f32x4_mul(q, s), splat(wm_gelu_q[j]));
    }
    v128_t h = wasm_f32x4_mul(splat(0.5f), v);
    v128_t r = wasm_f32x4_div(wasm_f32x4_mul(c, p), q);
    wasm_v128_store(x + i, wasm_f32x4_add(h, wasm_f32x4_mul(h, r)));
  }
  for (; i < n; i++) x[i] = wm_geluf_scalar(x[i]);
}

// --- softmax --------------------------------------------------------------------------------------------------------
void wm_softmax_simd128(int M, int n, float *x, int ld) {
  for (int m = 0; m < M; m++) {
    float *row = x + (size_t)m * ld;
    int i = 0;
    // max (pmax skips NaN lanes as fmaxf does)
    v128_t mv = splat(-INFINITY);
    for (; i + 4 <= n; i += 4) mv = wasm_f32x4_pmax(mv, wasm_v128_load(row + i));
    float mx = fmaxf(fmaxf(wasm_f32x4_extract_lane(mv, 0), wasm_f32x4_extract_lane(mv, 1)),
                     fmaxf(wasm_f32x4_extract_lane(mv, 2), wasm_f32x4_extract_lane(mv, 3)));
    for (; i < n; i++) mx = fmaxf(mx, row[i]);
    // exp(x - max) and their sum: in f32 lanes (8, two chains) over blocks of 64 values, each block's sum then
    // added in double as the scalar variant's: the f32 sum of 8 terms per lane adds little rounding, and the
    // double adds (3 operations per 4 values when every value went to double) then come once per 64 values
    v128_t s01 = wasm_f64x2_splat(0.0), s23 = wasm_f64x2_splat(0.0), mxv = splat(mx);
    for (i = 0; i + 4 <= n;) {
      v128_t b0 = splat(0.0f), b1 = splat(0.0f);
      const int end = n - i < 64 ? n & ~3 : i + 64;
      for (; i + 8 <= end; i += 8) {
        v128_t e0 = exp4(wasm_f32x4_sub(wasm_v128_load(row + i), mxv));
        v128_t e1 = exp4(wasm_f32x4_sub(wasm_v128_load(row + i + 4), mxv));
        wasm_v128_store(row + i, e0);
        wasm_v128_store(row + i + 4, e1);
        b0 = wasm_f32x4_add(b0, e0);
        b1 = wasm_f32x4_add(b1, e1);
      }
      if (i < end) {
        v128_t e0 = exp4(wasm_f32x4_sub(wasm_v128_load(row + i), mxv));
        wasm_v128_store(row + i, e0);
        b0 = wasm_f32x4_add(b0, e0);
        i += 4;
      }
      b0 = wasm_f32x4_add(b0, b1);
      s01 = wasm_f64x2_add(s01, wasm_f64x2_promote_low_f32x4(b0));
      s23 = wasm_f64x2_add(s23, wasm_f64x2_promote_low_f32x4(wasm_i32x4_shuffle(b0, b0, 2, 3, 2, 3)));
    }
    s01 = wasm_f64x2_add(s01, s23);
    double sum = wasm_f64x2_extract_lane(s01, 0) + wasm_f64x2_extract_lane(s01, 1);
    for (; i < n; i++) { row[i] = wm_expf_scalar(row[i] - mx); sum += row[i]; }
    // normalize
    float inv = (float)(1.0 / sum);
    v128_t iv = splat(inv);
    for (i = 0; i + 4 <= n; i += 4) wasm_v128_store(row + i, wasm_f32x4_mul(wasm_v128_load(row + i), iv));
    for (; i < n; i++) row[i] *= inv;
  }
}

// --- LayerNorm ------------------------------------------------------------------------------------------------------
// The corrected two-pass scheme of wm_layernorm_scalar (see there), sums in 4 lanes.
void wm_layernorm_simd128(int M, int H, float *x, int ld, const float *res, int ldr, const float *gamma,
                          const float *beta, float eps) {
  const int H4 = H & ~3;
  for (int m = 0; m < M; m++) {
    float *row = x + (size_t)m * ld;
    int k;
    // pass 1: x += res; sum
    v128_t sv = splat(0.0f);
    if (res) {
      const float *r = res + (size_t)m * ldr;
      for (k = 0; k < H4; k += 4) {
        v128_t v = wasm_f32x4_add(wasm_v128_load(row + k), wasm_v128_load(r + k));
        wasm_v128_store(row + k, v);
        sv = wasm_f32x4_add(sv, v);
      }
      for (; k < H; k++) row[k] += r[k];
    } else {
      for (k = 0; k < H4; k += 4) sv = wasm_f32x4_add(sv, wasm_v128_load(row + k));
    }
    float sum = hsum(sv);
    for (k = H4; k < H; k++) sum += row[k];
    // pass 2: centered sums
    float mean0 = sum / (float)H;
    v128_t m0 = splat(mean0), dv = splat(0.0f), qv = splat(0.0f);
    for (k = 0; k < H4; k += 4) {
      v128_t d = wasm_f32x4_sub(wasm_v128_load(row + k), m0);
      dv = wasm_f32x4_add(dv, d);
      qv = wasm_f32x4_add(qv, wasm_f32x4_mul(d, d));
    }
    float sd = hsum(dv), ss = hsum(qv);
    for (; k < H; k++) { float d = row[k] - mean0; sd += d; ss += d * d; }
    float c = sd / (float)H;
    float var = fmaxf((ss - sd * c) / (float)H, 0.0f);
    float rstd = 1.0f / sqrtf(var + eps);
    // pass 3: center ((x - mean0) - c), normalize, scale, shift
    v128_t cv = splat(c), rv = splat(rstd);
    for (k = 0; k < H4; k += 4) {
      v128_t d = wasm_f32x4_sub(wasm_f32x4_sub(wasm_v128_load(row + k), m0), cv);
      v128_t v = wasm_f32x4_mul(wasm_f32x4_mul(d, rv), wasm_v128_load(gamma + k));
      wasm_v128_store(row + k, wasm_f32x4_add(v, wasm_v128_load(beta + k)));
    }
    for (; k < H; k++) row[k] = ((row[k] - mean0) - c) * rstd * gamma[k] + beta[k];
  }
}

// --- dot ------------------------------------------------------------------------------------------------------------
// Two accumulators so consecutive adds do not wait on each other (head dims are short: 26..64).
float wm_dot_simd128(int n, const float *a, const float *b) {
  v128_t s0 = splat(0.0f), s1 = splat(0.0f);
  int i = 0;
  for (; i + 8 <= n; i += 8) {
    s0 = wasm_f32x4_add(s0, wasm_f32x4_mul(wasm_v128_load(a + i), wasm_v128_load(b + i)));
    s1 = wasm_f32x4_add(s1, wasm_f32x4_mul(wasm_v128_load(a + i + 4), wasm_v128_load(b + i + 4)));
  }
  if (i + 4 <= n) {
    s0 = wasm_f32x4_add(s0, wasm_f32x4_mul(wasm_v128_load(a + i), wasm_v128_load(b + i)));
    i += 4;
  }
  float s = hsum(wasm_f32x4_add(s0, s1));
  for (; i < n; i++) s += a[i] * b[i];
  return s;
}

#else
typedef int wm_ops_simd128_unused;  // ISO C: no empty translation unit
#endif
