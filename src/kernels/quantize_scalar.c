// Per-row (per group of G inputs) symmetric activation quantization, portable C: the reference for
// quantize_simd128.c.
// Every step is exactly rounded f32 arithmetic (max, one reciprocal per group, a product and a round to nearest even
// per value), so the SIMD128 variant gives bit-identical xq and row_scale.
#include <math.h>

#include "kernels/kernels_impl.h"

// --- how a quantized value v is stored at input k of a row (k counted from a multiple of 8) -------------------------
#define STORE_I8(q, k, v) (((int8_t *)(q))[k] = (int8_t)(v))
#define STORE_I16(q, k, v) (((int16_t *)(q))[k] = (int16_t)(v))
#define STORE_U8(q, k, v) (((uint8_t *)(q))[k] = (uint8_t)((int)(v) + 128))  // u8 (kernels.h): v + 128
// u6x2 (kernels.h): v + 2048 = 64 hi + lo, hi at byte (k/8)*16 + k%8 and lo 8 bytes further
#define STORE_U6X2(q, k, v)                                                                                      \
  (((uint8_t *)(q))[(k) / 8 * 16 + (k) % 8] = (uint8_t)(((int)(v) + 2048) >> 6),                                \
   ((uint8_t *)(q))[(k) / 8 * 16 + 8 + (k) % 8] = (uint8_t)(((int)(v) + 2048) & 63))

// --- one row: its groups --------------------------------------------------------------------------------------------
// Group columns [0, K) are values, [K, Kp) padding. a = max_k |x[k] * s[k]| / qmax (0 for an all-zero group);
// q[k] = round_to_nearest_even(x[k] s[k] * (1 / a)), clamped to [-qmax, qmax] (reachable only through rounding of
// a and 1/a; NaN gives -qmax), q[K..Kp) = 0. A product with 1/a, not a division per value: wasm's f32x4.div costs
// as much as a dozen other operations and made quantization 4% of a forward pass; the two differ by at most one
// ulp before rounding. ESZ: bytes per input in q (u6x2: 2, as int16), so group g's values start at byte g*G*ESZ.
#define WM_QUANTIZE_ROW(NAME, STORE, ESZ)                                                                       \
  static void NAME(int K, int G, const float *x, const float *s, int qmax, void *q, float *a) {               \
    int Kp = wm_round_up(K, WM_GEMM_KB);                                                                       \
    for (int k0 = 0, g = 0; k0 < Kp; k0 += G, g++) {                                                           \
      int kv = K - k0 < G ? K - k0 : G, kp = Kp - k0 < G ? Kp - k0 : G;                                       \
      const float *xg = x + k0, *sg = s ? s + k0 : 0;                                                          \
      char *qg = (char *)q + (size_t)k0 * (ESZ);                                                               \
      float mx = 0.0f;                                                                                         \
      for (int k = 0; k < kv; k++) mx = fmaxf(mx, fabsf(sg ? xg[k] * sg[k] : xg[k]));                          \
      float ag = a[g] = mx / (float)qmax, inv = 1.0f / ag;                                                     \
      for (int k = 0; k < kp; k++) {                                                                           \
        float v = 0.0f;                                                                                        \
        if (k < kv && ag > 0.0f) v = rintf((sg ? xg[k] * sg[k] : xg[k]) * inv); /* nearest, ties to even */   \
        v = fminf(fmaxf(v, (float)-qmax), (float)qmax);                                                        \
        STORE(qg, k, v);                                                                                       \
      }                                                                                                        \
    }                                                                                                          \
  }
WM_QUANTIZE_ROW(quantize_row_i8, STORE_I8, 1)
WM_QUANTIZE_ROW(quantize_row_i16, STORE_I16, 2)
WM_QUANTIZE_ROW(quantize_row_u8, STORE_U8, 1)
WM_QUANTIZE_ROW(quantize_row_u6x2, STORE_U6X2, 2)

// --- public entry points ------------------------------------------------------------------------------------------
// T: the element type; PER: elements per input (u6x2: 2 bytes); QCAP: the largest qmax the layout holds (one byte:
// 127, a larger qmax is taken as 127; int16 and u6x2: every qmax up to 2047)
#define WM_QUANTIZE_ROWS(NAME, T, ROW, PER, QCAP)                                                               \
  void NAME(int M, int K, int G, const float *x, int ldx, const float *in_scale, int qmax, T *xq,               \
            float *row_scale) {                                                                                \
    if (qmax > (QCAP)) qmax = (QCAP);                                                                          \
    int Kp = wm_round_up(K, WM_GEMM_KB), ng = wm_groups(Kp, G);                                                \
    for (int m = 0; m < M; m++)                                                                                \
      ROW(K, G, x + (size_t)m * ldx, in_scale, qmax, xq + (size_t)m * Kp * (PER), row_scale + (size_t)m * ng); \
  }
WM_QUANTIZE_ROWS(wm_quantize_rows_i8_scalar, int8_t, quantize_row_i8, 1, 127)
WM_QUANTIZE_ROWS(wm_quantize_rows_i16_scalar, int16_t, quantize_row_i16, 1, 2047)
WM_QUANTIZE_ROWS(wm_quantize_rows_u8_scalar, uint8_t, quantize_row_u8, 1, 127)
WM_QUANTIZE_ROWS(wm_quantize_rows_u6x2_scalar, uint8_t, quantize_row_u6x2, 2, 2047)
