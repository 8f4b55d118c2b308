// Elementwise and row kernels, portable C: the reference for ops_simd128.c.
// GELU and exp are computed with the same sequence of f32 operations as the SIMD128 copy (no fma, no libm), so
// both builds give bit-identical GELU and exp values; only the row sums (LayerNorm, softmax, dot) differ in order.
#include <math.h>
#include <string.h>

#include "kernels/kernels_impl.h"

static inline float bits_f32(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }
static inline uint32_t f32_bits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }

// --- f16 -> f32 -----------------------------------------------------------------------------------------------
// Exact for every input: the 15 magnitude bits moved into f32 position are the half's value times 2^-112 (zero,
// subnormals and normals alike, as f32 keeps subnormals), so one multiply by 2^112 rescales them; anything that
// lands at >= 2^16 was an Inf/NaN exponent, which gets the f32 all-ones exponent (mantissa kept). Then the sign.
float wm_f16_to_f32_scalar(uint16_t h) {
  float f = bits_f32((uint32_t)(h & 0x7fff) << 13) * 0x1p112f;
  uint32_t u = f32_bits(f);
  if (f >= 65536.0f) u |= 0x7f800000u;
  return bits_f32(u | (uint32_t)(h & 0x8000) << 16);
}

// --- exp --------------------------------------------------------------------------------------------------------
// exp(x) = 2^n * exp(r), n = nearest(x / ln2), r = x - n ln2 in two parts (|r| <= 0.35); exp(r) = 1 + r + r^2 P(r),
// P of degree 3 (kernels_impl.h; tools/exp_fit.py). Max relative error 1.8e-7 (~3 ulp) for x in [-87.33, 88] (every
// f32 checked by test_kernels --exhaustive, vs double exp): softmax, its one user, rounds its sums and products to
// more than that. x is clamped to [-87.33, 88] first, NaN to -87.33: below, exp gives exp(-87.33) ~ 1.2e-38
// rather than 0 (softmax's terms there are < 1e-37 of its largest, 1, either way). Cephes' degree-5 P, 8.2e-8,
// took 4 more operations per value, and the mask for an exact 0 three more: softmax ran 1.8x slower.
#define WM_EXP_LO (-87.33f)
#define WM_EXP_HI 88.0f
float wm_expf_scalar(float x) {
  x = fmaxf(WM_EXP_LO, x);  // NaN -> WM_EXP_LO, as f32x4.pmax(lo, x)
  x = fminf(WM_EXP_HI, x);
  float n = rintf(x * 1.44269504088896341f);  // round to nearest even, like f32x4.nearest
  float r = x - n * 0.693359375f;             // ln2 = 0.693359375 - 2.12194440e-4, first part exact in n * .
  r = r + n * 2.12194440e-4f;
  float p = wm_exp_poly[0];
  for (int i = 1; i < WM_EXP_DEGREE; i++) p = p * r + wm_exp_poly[i];
  p = p * (r * r) + r + 1.0f;
  return p * bits_f32((uint32_t)((int32_t)n + 127) << 23);  // 2^n, n in [-126, 127]
}

void wm_exp_scalar(size_t n, float *x) {
  for (size_t i = 0; i < n; i++) x[i] = wm_expf_scalar(x[i]);
}

// --- GELU -------------------------------------------------------------------------------------------------------
// 0.5 x (1 + erf(x / sqrt 2)) with erf(x / sqrt 2) = c P(c^2) / Q(c^2), c = x clamped to [-5.5, 5.5]: a rational
// minimax fit, degree 5 / 5 in c^2, abs error 1.4e-8 in exact arithmetic (tools/gelu_fit.py). Beyond 5.5, erf is
// within 1.9e-8 of +-1, so GELU(x) is x or 0 to x * 1e-7. About 30 f32 operations and one division, a third of
// the erf + exp it replaces (8.4% of a forward pass, now 2.1%). Max error vs double, every f32 with |x| < 8 (test_kernels
// --exhaustive): 2.5e-7 (absolute for |x| <= 1, relative to |x| beyond), f32 rounding of p / q near x = 5.
// Clamping as wasm's f32x4.pmin / pmax do (NaN propagates through x * 0.5 either way).
float wm_geluf_scalar(float x) {
  float c = x < WM_GELU_CLAMP ? x : WM_GELU_CLAMP;
  c = -WM_GELU_CLAMP < c ? c : -WM_GELU_CLAMP;
  float s = c * c, p = wm_gelu_p[0], q = wm_gelu_q[0];
  for (int i = 1; i < 6; i++) p = p * s + wm_gelu_p[i], q = q * s + wm_gelu_q[i];
  float h = 0.5f * x;
  return h + h * (c * p / q);
}

void wm_gelu_scalar(size_t n, float *x) {
  for (size_t i = 0; i < n; i++) x[i] = wm_geluf_scalar(x[i]);
}

// --- softmax ----------------------------------------------------------------------------------------------------
// Max-subtracted, so exp never overflows and the largest term is 1; -INFINITY entries (masks) give ~1e-38 of the
// row's largest (exp's floor, above), i.e. nothing. A row needs at least one finite value. The sum is accumulated
// in double: an f32 running sum over hundreds of terms would add ~sqrt(n) ulp of error to every output; with it,
// each output is within ~3e-7 relative of the exact softmax of the f32 inputs.
void wm_softmax_scalar(int M, int n, float *x, int ld) {
  for (int m = 0; m < M; m++) {
    float *row = x + (size_t)m * ld;
    float mx = -INFINITY;
    for (int i = 0; i < n; i++) mx = fmaxf(mx, row[i]);
    double sum = 0.0;
    for (int i = 0; i < n; i++) {
      row[i] = wm_expf_scalar(row[i] - mx);
      sum += row[i];
    }
    float inv = (float)(1.0 / sum);
    for (int i = 0; i < n; i++) row[i] *= inv;
  }
}

// --- LayerNorm --------------------------------------------------------------------------------------------------
// Residual added first (the f32 sum is stored back into x), then two passes in f32 ("corrected two-pass"):
//   mean0 = sum(x) / H;  d = x - mean0;  c = sum(d) / H;  var = (sum(d^2) - sum(d)^2 / H) / H
//   x = ((x - mean0) - c) * rstd * gamma + beta,  rstd = 1 / sqrt(var + eps)
// c recovers the rounding error of the first sum; keeping mean0 and c apart (instead of one f32 mean) keeps the
// centered values exact to f32 rounding of d even for rows with a large common offset and a small spread
// (x - mean0 is exact there). The variance comes from centered values: no E[x^2] - E[x]^2 cancellation.
void wm_layernorm_scalar(int M, int H, float *x, int ld, const float *res, int ldr, const float *gamma,
                         const float *beta, float eps) {
  for (int m = 0; m < M; m++) {
    float *row = x + (size_t)m * ld;
    float sum = 0.0f;
    if (res) {
      const float *r = res + (size_t)m * ldr;
      for (int k = 0; k < H; k++) { row[k] += r[k]; sum += row[k]; }
    } else {
      for (int k = 0; k < H; k++) sum += row[k];
    }
    float mean0 = sum / (float)H, sd = 0.0f, ss = 0.0f;
    for (int k = 0; k < H; k++) { float d = row[k] - mean0; sd += d; ss += d * d; }
    float c = sd / (float)H;
    float var = fmaxf((ss - sd * c) / (float)H, 0.0f);
    float rstd = 1.0f / sqrtf(var + eps);
    for (int k = 0; k < H; k++) row[k] = ((row[k] - mean0) - c) * rstd * gamma[k] + beta[k];
  }
}

// --- dot --------------------------------------------------------------------------------------------------------
float wm_dot_scalar(int n, const float *a, const float *b) {
  float s = 0.0f;
  for (int i = 0; i < n; i++) s += a[i] * b[i];
  return s;
}
