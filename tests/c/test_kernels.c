// Kernel tests: every public wm_<name> against wm_<name>_scalar, and every scalar kernel against a naive
// double-precision reference, on random data (fixed seed) and odd shapes. Built natively (public == scalar there,
// so the double reference is what counts) and as a standalone WASI module run by Node (tests/c/run_wasi.mjs),
// where the public kernels are the SIMD128 variants.
//   test_kernels               run the tests; last line "N passed, M failed"; exit status 1 on any failure
//   test_kernels --exhaustive  also check GELU and exp on every f32 of their range (slow; figures in ops_scalar.c)
//   test_kernels --bench       GEMM throughput (GOPS) of the public variants vs the scalar ones
//   test_kernels --bench-quick the int8 GEMMs at G = 128 only, without the scalar ones (relaxed vs int16)
//   test_kernels --bench-ops   the row ops only (GELU, softmax, quantizers), ns per value
//   test_kernels --seed=N      other random data (the default seed is fixed)
// Tolerances: quantizers and int8 GEMMs bit-identical public vs scalar (the u6x2 ones also vs the int16 ones),
// int32 sums exact, y within 1e-6 relative
// of the double formula; float GEMMs and dot within 1e-5 of sum |x w|; LayerNorm within 1e-5 of
// |gamma| max(1, |xhat|) + |beta|; softmax within 1e-6 of the row max; exp 2e-7 relative,
// GELU 5e-7; SIMD128 exp and GELU within 1 ulp of scalar (they are in fact identical).
#define _POSIX_C_SOURCE 200809L  // clock_gettime
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kernels/kernels_impl.h"

#if defined(__wasm_relaxed_simd__)
#define VARIANT "relaxed"
#elif defined(__wasm_simd128__)
#define VARIANT "simd128"
#else
#define VARIANT "scalar"
#endif

// --- harness ------------------------------------------------------------------------------------------------------
static int g_pass, g_fail;
static double g_err[2][8];  // per family: [0] scalar vs double reference, [1] public vs scalar (as each test defines)
enum { E_GEMM_F32, E_GEMM_F16, E_SOFTMAX, E_LAYERNORM, E_DOT, E_GEMM_KN };
static void note_err(int fam, double vs_ref, double vs_scalar) {
  if (vs_ref > g_err[0][fam]) g_err[0][fam] = vs_ref;
  if (vs_scalar > g_err[1][fam]) g_err[1][fam] = vs_scalar;
}

#define CHECK(cond, ...)                                        \
  do {                                                          \
    if (cond) {                                                 \
      g_pass++;                                                 \
    } else {                                                    \
      g_fail++;                                                 \
      if (g_fail <= 40) {                                       \
        printf("FAIL %s:%d: ", __FILE__, __LINE__);             \
        printf(__VA_ARGS__);                                    \
        printf("\n");                                           \
      }                                                         \
    }                                                           \
  } while (0)

static uint64_t g_rng = 0x9E3779B97F4A7C15ull;
static uint32_t rnd_u32(void) {  // xorshift64*
  g_rng ^= g_rng >> 12;
  g_rng ^= g_rng << 25;
  g_rng ^= g_rng >> 27;
  return (uint32_t)((g_rng * 0x2545F4914F6CDD1Dull) >> 32);
}
static float rnd_unit(void) { return (float)(rnd_u32() >> 8) * (1.0f / 16777216.0f); }  // [0, 1)
static float rnd_sym(float a) { return (2.0f * rnd_unit() - 1.0f) * a; }              // [-a, a)
static int rnd_int(int lo, int hi) { return lo + (int)(rnd_u32() % (uint32_t)(hi - lo + 1)); }

static void *xmalloc(size_t n) {
  void *p = malloc(n ? n : 1);
  if (!p) { printf("out of memory\n"); exit(2); }
  return p;
}

static uint32_t f32_bits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static float bits_f32(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }
static const uint32_t CANARY = 0x7fc0deadu;  // a NaN no kernel produces: marks memory a kernel must not write
static int canary_ok(const float *p) { return f32_bits(*p) == CANARY; }

// y buffers of M rows of stride ldy, columns N..ldy-1 and one extra row filled with the canary
static float *alloc_y(int M, int ldy) {
  size_t n = (size_t)(M + 1) * ldy;
  float *y = xmalloc(n * sizeof(float));
  for (size_t i = 0; i < n; i++) y[i] = bits_f32(CANARY);
  return y;
}
static int y_canaries_ok(const float *y, int M, int N, int ldy) {
  for (int m = 0; m <= M; m++)
    for (int n = (m == M ? 0 : N); n < ldy; n++)
      if (!canary_ok(&y[(size_t)m * ldy + n])) return 0;
  return 1;
}

// --- f16 -> f32 -----------------------------------------------------------------------------------------------------
static double f16_ref(uint16_t h) {
  int e = (h >> 10) & 31, f = h & 1023;
  double v = e == 0 ? ldexp(f, -24) : e == 31 ? (f ? NAN : INFINITY) : ldexp(1024 + f, e - 25);
  return (h & 0x8000) ? -v : v;
}

static void test_f16(void) {
  int bad = 0;
  for (uint32_t h = 0; h < 65536; h++) {
    float got = wm_f16_to_f32((uint16_t)h), sc = wm_f16_to_f32_scalar((uint16_t)h);
    double ref = f16_ref((uint16_t)h);
    int ok = isnan(ref) ? (isnan(got) && (f32_bits(got) >> 13 & 1023) == (h & 1023) && (f32_bits(got) >> 31) == (h >> 15))
                        : ((double)got == ref && !signbit(got) == !signbit(ref));
    if (!ok || f32_bits(got) != f32_bits(sc)) bad++;
  }
  CHECK(bad == 0, "f16_to_f32: %d of 65536 values wrong", bad);
}

// --- quantize -------------------------------------------------------------------------------------------------------
// Reference in double. Near a rounding tie the f32 kernel may land on the other side (its x * s and a are rounded
// to f32): allowed only there, by one step.
static void test_quantize_case(int M, int K, int G, int ldx, int use_scale, int qmax, int i16) {
  int Kp = wm_round_up(K, WM_GEMM_KB), ng = wm_groups(Kp, G);
  float *x = xmalloc(sizeof(float) * (size_t)M * ldx), *s = xmalloc(sizeof(float) * K);
  for (int i = 0; i < M * ldx; i++) x[i] = rnd_sym(rnd_unit() < 0.05f ? 40.0f : 2.0f);
  for (int k = 0; k < K; k++) s[k] = 0.25f + 2.0f * rnd_unit();
  if (M > 2) for (int k = 0; k < K; k++) x[(size_t)1 * ldx + k] = 0.0f;  // an all-zero row
  const float *sp = use_scale ? s : NULL;
  int8_t *q8 = xmalloc((size_t)M * Kp), *q8s = xmalloc((size_t)M * Kp);
  int16_t *q16 = xmalloc(2 * (size_t)M * Kp), *q16s = xmalloc(2 * (size_t)M * Kp);
  float *rs = xmalloc(4 * (size_t)M * ng), *rss = xmalloc(4 * (size_t)M * ng);
  int eqmax = i16 ? qmax : (qmax > 127 ? 127 : qmax);
  int u6x2_same = 1, u8_same = 1;
  if (i16) {
    wm_quantize_rows_i16(M, K, G, x, ldx, sp, qmax, q16, rs);
    wm_quantize_rows_i16_scalar(M, K, G, x, ldx, sp, qmax, q16s, rss);
    // the digits of both u6x2 variants must spell the int16 values, and their row scales be the same
    uint8_t *d = xmalloc(2 * (size_t)M * Kp), *ds = xmalloc(2 * (size_t)M * Kp);
    float *rd = xmalloc(4 * (size_t)M * ng), *rds = xmalloc(4 * (size_t)M * ng);
    wm_quantize_rows_u6x2(M, K, G, x, ldx, sp, qmax, d, rd);
    wm_quantize_rows_u6x2_scalar(M, K, G, x, ldx, sp, qmax, ds, rds);
    u6x2_same = !memcmp(d, ds, 2 * (size_t)M * Kp) && !memcmp(rd, rss, 4 * (size_t)M * ng) &&
                !memcmp(rds, rss, 4 * (size_t)M * ng);
    for (size_t i = 0; i < (size_t)M * Kp; i++) {
      const uint8_t *blk = ds + i / 8 * 16;
      if (blk[i % 8] > 63 || blk[8 + i % 8] > 63 || 64 * blk[i % 8] + blk[8 + i % 8] - 2048 != q16s[i]) u6x2_same = 0;
    }
    free(d); free(ds); free(rd); free(rds);
  } else {
    wm_quantize_rows_i8(M, K, G, x, ldx, sp, qmax, q8, rs);
    wm_quantize_rows_i8_scalar(M, K, G, x, ldx, sp, qmax, q8s, rss);
    // both u8 variants: the int8 values + 128, the same row scales
    uint8_t *u = xmalloc((size_t)M * Kp), *us = xmalloc((size_t)M * Kp);
    float *ru = xmalloc(4 * (size_t)M * ng), *rus = xmalloc(4 * (size_t)M * ng);
    wm_quantize_rows_u8(M, K, G, x, ldx, sp, qmax, u, ru);
    wm_quantize_rows_u8_scalar(M, K, G, x, ldx, sp, qmax, us, rus);
    u8_same = !memcmp(u, us, (size_t)M * Kp) && !memcmp(ru, rss, 4 * (size_t)M * ng) &&
              !memcmp(rus, rss, 4 * (size_t)M * ng);
    for (size_t i = 0; i < (size_t)M * Kp; i++)
      if (us[i] != q8s[i] + 128) u8_same = 0;
    free(u); free(us); free(ru); free(rus);
  }
  int same = 1, bad = 0, ties = 0;
  double worst_a = 0;
  for (int m = 0; m < M; m++) {
    const float *xr = x + (size_t)m * ldx;
    for (int k = 0; k < Kp; k++) {
      int g = k / G;
      float rg = rss[(size_t)m * ng + g];
      if (f32_bits(rs[(size_t)m * ng + g]) != f32_bits(rg)) same = 0;
      double mx = 0;
      for (int j = g * G; j < K && j < g * G + G; j++) mx = fmax(mx, fabs((double)xr[j] * (sp ? sp[j] : 1.0)));
      double a = mx / eqmax;
      if (a > 0) worst_a = fmax(worst_a, fabs(rg - a) / a);
      else if (rg != 0.0f) bad++;
      int got = i16 ? q16s[(size_t)m * Kp + k] : q8s[(size_t)m * Kp + k];
      int pub = i16 ? q16[(size_t)m * Kp + k] : q8[(size_t)m * Kp + k];
      if (got != pub) same = 0;
      if (k >= K || a == 0) { if (got != 0) bad++; continue; }
      double v = (double)xr[k] * (sp ? sp[k] : 1.0) / a;
      double r = v < 0 ? -floor(-v + 0.5) : floor(v + 0.5);
      if (got == (int)r) continue;
      double frac = fabs(v) - floor(fabs(v));
      if (abs(got - (int)r) == 1 && fabs(frac - 0.5) < 1e-6 * eqmax + 1e-6) ties++;
      else bad++;
    }
  }
  CHECK(same, "quantize_i%d M=%d K=%d G=%d: public != scalar", i16 ? 16 : 8, M, K, G);
  CHECK(u6x2_same, "quantize_u6x2 M=%d K=%d G=%d qmax=%d: digits differ from the int16 values", M, K, G, qmax);
  CHECK(u8_same, "quantize_u8 M=%d K=%d G=%d qmax=%d: bytes differ from the int8 values + 128", M, K, G, qmax);
  CHECK(bad == 0 && worst_a < 2e-7, "quantize_i%d M=%d K=%d G=%d qmax=%d: %d wrong, row scale rel err %.2e",
        i16 ? 16 : 8, M, K, G, qmax, bad, worst_a);
  (void)ties;
  free(x); free(s); free(q8); free(q8s); free(q16); free(q16s); free(rs); free(rss);
}

static void test_quantize_ties(void) {
  // a = 254 / 127 = 2: 3/2 = 1.5 -> 2, -3/2 -> -2, 5/2 = 2.5 -> 2, -1/2 -> 0, 1/2 -> 0, 7/2 -> 4 (ties to even)
  float x[8] = {254, 3, -3, 5, -1, 1, -254, 7};
  int8_t q[8];
  float a;
  const int8_t want[8] = {127, 2, -2, 2, 0, 0, -127, 4};
  wm_quantize_rows_i8(1, 8, 8, x, 8, NULL, 127, q, &a);
  CHECK(a == 2.0f && memcmp(q, want, 8) == 0, "quantize ties: a=%g q=%d %d %d %d %d %d %d %d", a, q[0], q[1],
        q[2], q[3], q[4], q[5], q[6], q[7]);
  int16_t q16[8];
  const int16_t want16[8] = {127, 2, -2, 2, 0, 0, -127, 4};
  wm_quantize_rows_i16(1, 8, 8, x, 8, NULL, 127, q16, &a);
  CHECK(a == 2.0f && memcmp(q16, want16, sizeof want16) == 0, "quantize_i16 ties");
  float z[9] = {0};
  int8_t qz[16];
  memset(qz, 55, sizeof qz);
  wm_quantize_rows_i8(1, 9, 16, z, 9, NULL, 127, qz, &a);
  int zero = a == 0.0f;
  for (int k = 0; k < 16; k++) zero &= qz[k] == 0;
  CHECK(zero, "quantize all-zero row");
}

static void test_quantize(void) {
  for (int M = 1; M <= 5; M++)
    for (int K = 1; K <= 40; K++) {
      int G = 8 * rnd_int(1, 6);  // from one block per group to more than Kp
      test_quantize_case(M, K, G, K + (K % 3), K & 1, 127, 0);
      test_quantize_case(M, K, G, K, (K & 2) != 0, K % 5 == 0 ? 2047 : 1023, 1);
    }
  static const int Ks[] = {26, 312, 384, 1536};
  for (int i = 0; i < 4; i++) {
    test_quantize_case(7, Ks[i], 4096, Ks[i], 1, 127, 0);
    test_quantize_case(7, Ks[i], 64, Ks[i] + 4, 0, 127, 0);
    test_quantize_case(7, Ks[i], 32, Ks[i], 1, 2047, 1);
    test_quantize_case(3, Ks[i], 64, Ks[i], 1, 200, 0);  // qmax > 127 for int8: taken as 127
  }
  test_quantize_ties();
}

// --- int8 GEMM ------------------------------------------------------------------------------------------------------
// Packs row-major W[N][K] int8 into the panel layout of docs/format.md.
static int8_t *pack_w(int N, int K, const int8_t *W) {
  int Np = wm_round_up(N, WM_GEMM_NR), Kp = wm_round_up(K, WM_GEMM_KB);
  int8_t *p = xmalloc((size_t)Np * Kp);
  memset(p, 0, (size_t)Np * Kp);
  for (int n = 0; n < N; n++)
    for (int k = 0; k < K; k++) p[(size_t)(n / 4) * (Kp * 4) + (k / 8) * 32 + (n % 4) * 8 + (k % 8)] = W[(size_t)n * K + k];
  return p;
}

// wm_gemm_u8i8 is tested where it may be used: everywhere but on a relaxed-SIMD engine whose dot is not u8 x s8
// exact (kernels.h); its scalar twin everywhere
static int u8_public_exact(void) { return !WM_GEMM_U6X2 || wm_gemm_u8i8_exact(); }

// int16 activations [M][Kp] as u6x2 digits [M][2*Kp] (kernels.h)
static uint8_t *to_u6x2(int M, int Kp, const int16_t *x16) {
  uint8_t *d = xmalloc(2 * (size_t)M * Kp);
  for (size_t i = 0; i < (size_t)M * Kp; i++) {
    int u = x16[i] + 2048;
    d[i / 8 * 16 + i % 8] = (uint8_t)(u >> 6);
    d[i / 8 * 16 + 8 + i % 8] = (uint8_t)(u & 63);
  }
  return d;
}

static void test_gemm_i8_case(int M, int N, int K, int G, int i16, int with_bias, int unit_scales) {
  int Kp = wm_round_up(K, WM_GEMM_KB), Np = wm_round_up(N, WM_GEMM_NR), ng = wm_groups(Kp, G);
  int qmax = i16 ? 2047 : 127, ldy = N + (N % 3);
  int8_t *W = xmalloc((size_t)N * K);
  for (int i = 0; i < N * K; i++) W[i] = (int8_t)rnd_int(-127, 127);
  if (N * K > 2) W[0] = 127, W[1] = -127;
  int8_t *w = pack_w(N, K, W), *wf = xmalloc((size_t)Np * Kp);  // wf: in the public kernels' order (kernels.h)
  memcpy(wf, w, (size_t)Np * Kp);
  wm_pack_weights_i8(Np, Kp, wf);
  // activations: [M][Kp], zero padded like the quantizer leaves them, extremes included
  int8_t *x8 = xmalloc((size_t)M * Kp);
  int16_t *x16 = xmalloc(2 * (size_t)M * Kp);
  for (int m = 0; m < M; m++)
    for (int k = 0; k < Kp; k++) {
      int v = k < K ? rnd_int(-qmax, qmax) : 0;
      if (k < K && rnd_unit() < 0.05f) v = rnd_unit() < 0.5f ? qmax : -qmax;
      x8[(size_t)m * Kp + k] = (int8_t)(i16 ? 0 : v);
      x16[(size_t)m * Kp + k] = (int16_t)v;
    }
  // row scales [M][ng]; weight scales packed by panel, [Np/4][ng][4]
  float *rs = xmalloc(4 * (size_t)M * ng), *ws = xmalloc(4 * (size_t)Np * ng), *bias = xmalloc(4 * (size_t)N);
  for (int i = 0; i < M * ng; i++) rs[i] = unit_scales ? 1.0f : 1e-3f + rnd_unit() * 0.02f;
  for (int i = 0; i < Np * ng; i++) ws[i] = unit_scales ? 1.0f : 1e-3f + rnd_unit() * 0.01f;
  for (int n = 0; n < N; n++) bias[n] = rnd_sym(1.0f);
  const float *b = with_bias ? bias : NULL;
  float *y = alloc_y(M, ldy), *ys = alloc_y(M, ldy);
  int u6x2_same = 1, u6x2_canaries = 1;
  if (i16) {
    wm_gemm_i16i8(M, N, Kp, G, x16, rs, wf, ws, b, y, ldy);
    wm_gemm_i16i8_scalar(M, N, Kp, G, x16, rs, w, ws, b, ys, ldy);
    // the same products from digits: both u6x2 variants must give the int16 scalar's y, bit for bit
    uint8_t *d = to_u6x2(M, Kp, x16);
    float *yd = alloc_y(M, ldy), *yds = alloc_y(M, ldy);
    wm_gemm_u6x2i8(M, N, Kp, G, d, rs, w, ws, b, yd, ldy);
    wm_gemm_u6x2i8_scalar(M, N, Kp, G, d, rs, w, ws, b, yds, ldy);
    for (int m = 0; m < M; m++)
      for (int n = 0; n < N; n++) {
        size_t i = (size_t)m * ldy + n;
        if (f32_bits(yd[i]) != f32_bits(ys[i]) || f32_bits(yds[i]) != f32_bits(ys[i])) u6x2_same = 0;
      }
    u6x2_canaries = y_canaries_ok(yd, M, N, ldy) && y_canaries_ok(yds, M, N, ldy);
    free(d); free(yd); free(yds);
  } else {
    wm_gemm_i8(M, N, Kp, G, x8, rs, wf, ws, b, y, ldy);
    wm_gemm_i8_scalar(M, N, Kp, G, x8, rs, w, ws, b, ys, ldy);
    // the same products from u8 bytes: the scalar twin always, the public one where it is exact (kernels.h)
    uint8_t *u = xmalloc((size_t)M * Kp);
    for (size_t i = 0; i < (size_t)M * Kp; i++) u[i] = (uint8_t)(x8[i] + 128);
    float *yu = alloc_y(M, ldy), *yus = alloc_y(M, ldy);
    int pub = u8_public_exact();
    if (pub) wm_gemm_u8i8(M, N, Kp, G, u, rs, w, ws, b, yu, ldy);
    wm_gemm_u8i8_scalar(M, N, Kp, G, u, rs, w, ws, b, yus, ldy);
    for (int m = 0; m < M; m++)
      for (int n = 0; n < N; n++) {
        size_t i = (size_t)m * ldy + n;
        if ((pub && f32_bits(yu[i]) != f32_bits(ys[i])) || f32_bits(yus[i]) != f32_bits(ys[i])) u6x2_same = 0;
      }
    u6x2_canaries = (!pub || y_canaries_ok(yu, M, N, ldy)) && y_canaries_ok(yus, M, N, ldy);
    free(u); free(yu); free(yus);
  }
  int same = 1, exact = 1;
  double worst = 0;
  for (int m = 0; m < M; m++)
    for (int n = 0; n < N; n++) {
      size_t i = (size_t)m * ldy + n;
      if (f32_bits(y[i]) != f32_bits(ys[i])) same = 0;
      int64_t acc = 0;
      double prod = 0, mag = 0;
      for (int g = 0; g < ng; g++) {
        int64_t ag = 0;
        for (int k = g * G; k < K && k < g * G + G; k++)
          ag += (int64_t)(i16 ? x16[(size_t)m * Kp + k] : x8[(size_t)m * Kp + k]) * W[(size_t)n * K + k];
        double t = (double)rs[(size_t)m * ng + g] * ws[(size_t)(n / 4) * ng * 4 + g * 4 + n % 4] * (double)ag;
        acc += ag, prod += t, mag += fabs(t);
      }
      if (unit_scales && !with_bias) {
        if (ys[i] != (float)acc) exact = 0;  // the int32 sums themselves (|acc| < 2^24 here: exact in f32)
      } else {
        double ref = prod + (b ? b[n] : 0.0);
        double err = fabs(ys[i] - ref) / (mag + (b ? fabs(b[n]) : 0.0) + 1e-30);
        if (err > worst) worst = err;
      }
    }
  const char *nm = i16 ? "gemm_i16i8" : "gemm_i8";
  CHECK(same, "%s M=%d N=%d K=%d G=%d: public != scalar", nm, M, N, K, G);
  CHECK(exact && worst <= 1e-6, "%s M=%d N=%d K=%d G=%d: exact=%d rel err %.2e", nm, M, N, K, G, exact, worst);
  CHECK(y_canaries_ok(y, M, N, ldy) && y_canaries_ok(ys, M, N, ldy), "%s M=%d N=%d K=%d: wrote outside y", nm, M,
        N, K);
  CHECK(u6x2_same && u6x2_canaries, "%s M=%d N=%d K=%d G=%d: y differs from %s's (same %d, canaries %d)",
        i16 ? "gemm_u6x2i8" : "gemm_u8i8", M, N, K, G, nm, u6x2_same, u6x2_canaries);
  free(W); free(w); free(wf); free(x8); free(x16); free(rs); free(ws); free(bias); free(y); free(ys);
}

// One group at the extremes, where the relaxed kernels' partial sums pass 2^31 and wrap; the whole must still be
// exact, and equal the int16 / int8 kernel's. u6x2: 8192 inputs of +-2047 (|sum| up to 8192 * 2047 * 127 =
// 2,129,657,856 < 2^31; 64 sum w hi wraps). u8: 131072 inputs of +-127 (|sum| up to 131072 * 127 * 127 =
// 2,114,060,288; sum w (x + 128) reaches 131072 * 127 * 255 and wraps).
static void test_gemm_i8_extremes(int u8) {
  enum { M = 3, N = 5 };
  const int K = u8 ? 131072 : 8192, qmax = u8 ? 127 : 2047, Kp = K, Np = 8, ldy = N;
  int8_t *W = xmalloc((size_t)N * K);
  int16_t *x16 = xmalloc(2 * (size_t)M * Kp);
  // channels: all 127, all -127, alternating, all 1, all 0; rows: all qmax, all -qmax, alternating
  for (int n = 0; n < N; n++)
    for (int k = 0; k < K; k++)
      W[(size_t)n * K + k] = (int8_t)(n == 0 ? 127 : n == 1 ? -127 : n == 2 ? (k & 1 ? 127 : -127) : n == 3);
  for (int m = 0; m < M; m++)
    for (int k = 0; k < Kp; k++) x16[(size_t)m * Kp + k] = (int16_t)(m == 0 ? qmax : m == 1 ? -qmax : k & 1 ? qmax : -qmax);
  int8_t *w = pack_w(N, K, W);
  uint8_t *d = u8 ? xmalloc((size_t)M * Kp) : to_u6x2(M, Kp, x16);
  if (u8) for (size_t i = 0; i < (size_t)M * Kp; i++) d[i] = (uint8_t)(x16[i] + 128);
  float rs[M], ws[8], *y = alloc_y(M, ldy), *yd = alloc_y(M, ldy);
  for (int i = 0; i < M; i++) rs[i] = 1.0f;
  for (int i = 0; i < Np; i++) ws[i] = 1.0f;
  wm_gemm_i16i8_scalar(M, N, Kp, K, x16, rs, w, ws, NULL, y, ldy);
  if (u8) wm_gemm_u8i8(M, N, Kp, K, d, rs, w, ws, NULL, yd, ldy);
  else wm_gemm_u6x2i8(M, N, Kp, K, d, rs, w, ws, NULL, yd, ldy);
  int ok = 1;
  for (int m = 0; m < M; m++)
    for (int n = 0; n < N; n++) {
      int64_t acc = 0;
      for (int k = 0; k < K; k++) acc += (int64_t)x16[(size_t)m * Kp + k] * W[(size_t)n * K + k];
      size_t i = (size_t)m * ldy + n;
      if (y[i] != (float)acc || f32_bits(yd[i]) != f32_bits(y[i])) ok = 0;
    }
  CHECK(ok && y_canaries_ok(yd, M, N, ldy), "gemm_%si8 extremes (one group of %d): y differs from the exact sums",
        u8 ? "u8" : "u6x2", K);
  free(W); free(x16); free(w); free(d); free(y); free(yd);
}

static void test_gemm_i8(void) {
  for (int M = 1; M <= 9; M++)
    for (int N = 1; N <= 13; N++)
      for (int K = 1; K <= 40; K++) {
        int v = rnd_int(0, 3), G = 8 * rnd_int(1, 6);  // from one block per group to one group for all of K
        test_gemm_i8_case(M, N, K, G, 0, v & 1, v == 0);
        test_gemm_i8_case(M, N, K, G, 1, v & 2, v == 1);
      }
  static const int big[][3] = {{1, 384, 384}, {5, 1152, 384}, {13, 384, 1536}, {17, 1536, 384}, {3, 26, 312},
                               {11, 312, 26}, {128, 64, 384}, {33, 1200, 312}, {2, 13, 1536}};
  for (int i = 0; i < (int)(sizeof big / sizeof big[0]); i++)
    for (int i16 = 0; i16 < 2; i16++) {
      test_gemm_i8_case(big[i][0], big[i][1], big[i][2], i16 ? 32 : 64, i16, 1, 0);
      test_gemm_i8_case(big[i][0], big[i][1], big[i][2], 1 << 20, i16, 1, 0);  // one group: per channel
      test_gemm_i8_case(big[i][0], big[i][1], big[i][2], 64, i16, 0, 1);
      test_gemm_i8_case(big[i][0], big[i][1], big[i][2], 128, i16, 1, 0);      // the converter's groups
    }
  // more groups per row than the relaxed kernel keeps sums of weights for at a time (64): several passes
  test_gemm_i8_case(5, 13, 1024, 8, 1, 1, 0);
  test_gemm_i8_case(6, 8, 1030, 8, 1, 0, 1);
  test_gemm_i8_extremes(0);
  if (u8_public_exact()) test_gemm_i8_extremes(1);
}

// --- float GEMM -----------------------------------------------------------------------------------------------------
static uint16_t f32_to_f16_bits(float f) {  // round to nearest even; finite inputs of moderate size only
  uint32_t u = f32_bits(f), sign = (u >> 16) & 0x8000;
  float a = fabsf(f);
  if (a < 0x1p-14f) return (uint16_t)(sign | (uint16_t)lrintf(a * 0x1p24f));  // subnormal (or 1024 = min normal)
  int e;
  float m = frexpf(a, &e);  // a = m 2^e, m in [0.5, 1)
  long q = lrintf(m * 2048.0f);  // 11 significant bits
  if (q == 2048) { q = 1024; e++; }
  return (uint16_t)(sign | (uint32_t)(e + 14) << 10 | (uint32_t)(q - 1024));
}

static void test_gemm_f_case(int M, int N, int K, int f16, int with_bias) {
  int ldx = K + (K % 4 == 1 ? 3 : 0), ldy = N + (N & 1);
  float *x = xmalloc(sizeof(float) * (size_t)M * ldx), *W = xmalloc(sizeof(float) * (size_t)N * K);
  uint16_t *Wh = xmalloc(2 * (size_t)N * K);
  float *bias = xmalloc(sizeof(float) * N);
  for (int i = 0; i < M * ldx; i++) x[i] = rnd_sym(2.0f);
  for (int i = 0; i < N * K; i++) {
    W[i] = rnd_sym(0.5f);
    Wh[i] = f32_to_f16_bits(W[i]);
    if (f16) W[i] = wm_f16_to_f32_scalar(Wh[i]);
  }
  for (int n = 0; n < N; n++) bias[n] = rnd_sym(1.0f);
  const float *b = with_bias ? bias : NULL;
  float *y = alloc_y(M, ldy), *ys = alloc_y(M, ldy);
  if (f16) {
    wm_gemm_f16(M, N, K, x, ldx, Wh, b, y, ldy);
    wm_gemm_f16_scalar(M, N, K, x, ldx, Wh, b, ys, ldy);
  } else {
    wm_gemm_f32(M, N, K, x, ldx, W, b, y, ldy);
    wm_gemm_f32_scalar(M, N, K, x, ldx, W, b, ys, ldy);
  }
  double worst_s = 0, worst_p = 0;
  for (int m = 0; m < M; m++)
    for (int n = 0; n < N; n++) {
      double ref = b ? b[n] : 0.0, mag = fabs(ref);
      for (int k = 0; k < K; k++) {
        double p = (double)x[(size_t)m * ldx + k] * W[(size_t)n * K + k];
        ref += p;
        mag += fabs(p);
      }
      size_t i = (size_t)m * ldy + n;
      worst_s = fmax(worst_s, fabs(ys[i] - ref) / (mag + 1e-30));
      worst_p = fmax(worst_p, fabs(y[i] - ys[i]) / (mag + 1e-30));
    }
  const char *nm = f16 ? "gemm_f16" : "gemm_f32";
  note_err(f16 ? E_GEMM_F16 : E_GEMM_F32, worst_s, worst_p);
  CHECK(worst_s <= 1e-5, "%s M=%d N=%d K=%d: scalar rel err %.2e", nm, M, N, K, worst_s);
  CHECK(worst_p <= 1e-5, "%s M=%d N=%d K=%d: public vs scalar rel diff %.2e", nm, M, N, K, worst_p);
  CHECK(y_canaries_ok(y, M, N, ldy) && y_canaries_ok(ys, M, N, ldy), "%s M=%d N=%d K=%d: wrote outside y", nm, M,
        N, K);
  free(x); free(W); free(Wh); free(bias); free(y); free(ys);
}

// wm_gemm_f32_kn: b's padding columns (N .. ldb-1) hold NaN, so any use of them shows in y
static void test_gemm_kn_case(int M, int N, int K) {
  int ldx = K + (K & 1), ldb = wm_round_up(N, 4) + (N % 3), ldy = N + (N % 2);
  float *x = xmalloc(sizeof(float) * (size_t)M * ldx), *b = xmalloc(sizeof(float) * (size_t)K * ldb);
  for (int i = 0; i < M * ldx; i++) x[i] = rnd_sym(2.0f);
  for (int k = 0; k < K; k++)
    for (int n = 0; n < ldb; n++) b[(size_t)k * ldb + n] = n < N ? rnd_sym(1.0f) : NAN;
  float *y = alloc_y(M, ldy), *ys = alloc_y(M, ldy);
  wm_gemm_f32_kn(M, N, K, x, ldx, b, ldb, y, ldy);
  wm_gemm_f32_kn_scalar(M, N, K, x, ldx, b, ldb, ys, ldy);
  int same = 1;
  double worst = 0;
  for (int m = 0; m < M; m++)
    for (int n = 0; n < N; n++) {
      double ref = 0, mag = 0;
      for (int k = 0; k < K; k++) {
        double p = (double)x[(size_t)m * ldx + k] * b[(size_t)k * ldb + n];
        ref += p, mag += fabs(p);
      }
      size_t i = (size_t)m * ldy + n;
      if (f32_bits(y[i]) != f32_bits(ys[i])) same = 0;
      worst = fmax(worst, fabs(ys[i] - ref) / (mag + 1e-30));  // NaN fails the check below
    }
  note_err(E_GEMM_KN, worst, same ? 0 : 1);
  CHECK(same, "gemm_f32_kn M=%d N=%d K=%d: public != scalar", M, N, K);
  CHECK(worst <= 1e-5, "gemm_f32_kn M=%d N=%d K=%d: scalar rel err %.2e", M, N, K, worst);
  CHECK(y_canaries_ok(y, M, N, ldy) && y_canaries_ok(ys, M, N, ldy), "gemm_f32_kn M=%d N=%d K=%d: wrote outside y", M,
        N, K);
  free(x); free(b); free(y); free(ys);
}

static void test_gemm_f(void) {
  for (int M = 1; M <= 9; M++)
    for (int N = 1; N <= 19; N++)
      for (int K = 1; K <= 12; K++) test_gemm_kn_case(M, N, K);
  static const int kn[][3] = {{128, 128, 32}, {128, 32, 128}, {37, 37, 32}, {37, 32, 37}, {512, 32, 512}, {1, 509, 32}};
  for (int i = 0; i < (int)(sizeof kn / sizeof kn[0]); i++) test_gemm_kn_case(kn[i][0], kn[i][1], kn[i][2]);
  for (int M = 1; M <= 9; M++)
    for (int N = 1; N <= 13; N++)
      for (int K = 1; K <= 40; K++) {
        test_gemm_f_case(M, N, K, 0, (M + N) & 1);
        test_gemm_f_case(M, N, K, 1, (M + N + K) & 1);
      }
  static const int big[][3] = {{1, 384, 384}, {7, 26, 26}, {13, 384, 1536}, {9, 1536, 384}, {3, 26, 312},
                               {11, 312, 26}, {64, 64, 32}, {5, 1200, 312}};
  for (int i = 0; i < (int)(sizeof big / sizeof big[0]); i++)
    for (int f16 = 0; f16 < 2; f16++) test_gemm_f_case(big[i][0], big[i][1], big[i][2], f16, i & 1);
}

// --- exp, GELU ----------------------------------------------------------------------------------------------------------
static double gelu_ref(double x) { return 0.5 * x * (1.0 + erf(x / sqrt(2.0))); }

// ulp distance between two finite floats of the same sign region (via ordered integers)
static int64_t ulp_diff(float a, float b) {
  int32_t ia = (int32_t)f32_bits(a), ib = (int32_t)f32_bits(b);
  if (ia < 0) ia = INT32_MIN - ia;
  if (ib < 0) ib = INT32_MIN - ib;
  return llabs((int64_t)ia - ib);
}

#define NSWEEP 200000
static void test_exp_gelu(void) {
  // inputs: a uniform sweep, random values over many magnitudes, and the edges of every branch
  float *in = xmalloc(sizeof(float) * NSWEEP), *a = xmalloc(sizeof(float) * NSWEEP), *b = xmalloc(sizeof(float) * NSWEEP);
  int n = 0;
  for (int i = 0; i < 120000; i++) in[n++] = -6.0f + 12.0f * (float)i / 120000.0f;
  for (int i = 0; i < 60000; i++) in[n++] = rnd_sym(1.0f) * powf(2.0f, (float)rnd_int(-30, 6));
  static const float edges[] = {0.0f, -0.0f, 1e-38f, 1e-45f, 5.5f, 5.4999995f, 5.5000005f, 4.976f, 8.0f,
                                10.0f, 1e30f, 0.5f, 1.0f, 2.0f};
  for (int i = 0; i < (int)(sizeof edges / sizeof edges[0]); i++) { in[n++] = edges[i]; in[n++] = -edges[i]; }
  // GELU
  memcpy(a, in, sizeof(float) * n);
  memcpy(b, in, sizeof(float) * n);
  wm_gelu_scalar(n, a);
  wm_gelu(n, b);
  double gabs = 0, grel = 0;
  int64_t umax = 0;
  for (int i = 0; i < n; i++) {
    if (fabsf(in[i]) > 1e6f) continue;
    double r = gelu_ref(in[i]);
    gabs = fmax(gabs, fabs(a[i] - r) / fmax(1.0, fabs(in[i])));  // absolute for |x| <= 1, relative to x beyond
    if (in[i] > 1e-30f) grel = fmax(grel, fabs(a[i] - r) / r);
    if (ulp_diff(a[i], b[i]) > umax) umax = ulp_diff(a[i], b[i]);
  }
  printf("gelu: max err %.2e (abs, / |x| for |x| > 1), max rel err (x > 0) %.2e vs double; " VARIANT " vs scalar: max %lld ulp\n", gabs,
         grel, (long long)umax);
  CHECK(gabs <= 5e-7 && grel <= 5e-7 && umax <= 1, "gelu: abs %.2e rel %.2e simd %lld ulp", gabs, grel,
        (long long)umax);
  // exp on [-87.33, 88]
  n = 0;
  for (int i = 0; i < 150000; i++) in[n++] = -87.33f + (88.0f + 87.33f) * (float)i / 150000.0f;
  for (int i = 0; i < 40000; i++) in[n++] = rnd_sym(1.0f) * powf(2.0f, (float)rnd_int(-30, 0));
  static const float xedges[] = {0.0f, -87.33f, 88.0f, -0.34657359f, 0.34657359f};
  for (int i = 0; i < 5; i++) in[n++] = xedges[i];
  memcpy(a, in, sizeof(float) * n);
  memcpy(b, in, sizeof(float) * n);
  wm_exp_scalar(n, a);
#ifdef __wasm_simd128__
  wm_exp_simd128(n, b);
#else
  wm_exp_scalar(n, b);
#endif
  double xrel = 0;
  umax = 0;
  for (int i = 0; i < n; i++) {
    double r = exp(in[i]);
    xrel = fmax(xrel, fabs(a[i] - r) / r);
    if (ulp_diff(a[i], b[i]) > umax) umax = ulp_diff(a[i], b[i]);
  }
  float under[5] = {-87.5f, -100.0f, -1e30f, -INFINITY, NAN}, over[1] = {1000.0f};
  wm_exp_scalar(5, under);
  wm_exp_scalar(1, over);
  printf("exp:  max rel err %.2e vs double exp on [-87.33, 88]; " VARIANT " vs scalar: max %lld ulp\n", xrel,
         (long long)umax);
  CHECK(xrel <= 2e-7 && umax <= 1, "exp: rel err %.2e simd %lld ulp", xrel, (long long)umax);
  // below the range (and NaN): the floor exp(-87.33) ~ 1.2e-38, nothing next to softmax's largest term, 1
  const float floor_ = wm_expf_scalar(-87.33f);
  int under_ok = floor_ > 0 && floor_ < 1.2e-38f;
  for (int i = 0; i < 5; i++) under_ok &= under[i] == floor_;
  CHECK(under_ok && over[0] == wm_expf_scalar(88.0f), "exp: out of range inputs");
  free(in); free(a); free(b);
}

// every f32 of the range (slow): the figures quoted in ops_scalar.c
static void exhaustive(void) {
  double gmax = 0, xrel = 0;
  float gw = 0, xw = 0;
  for (uint32_t u = 0; u < f32_bits(8.0f); u++)
    for (int negative = 0; negative < 2; negative++) {
      float x = bits_f32(u | (negative ? 0x80000000u : 0));
      double e = fabs(wm_geluf_scalar(x) - gelu_ref(x)) / fmax(1.0, fabs(x));
      if (e > gmax) gmax = e, gw = x;
    }
  for (uint32_t u = 0; u <= f32_bits(88.0f); u++) {
    float x = bits_f32(u);
    double e = fabs(wm_expf_scalar(x) - exp(x)) / exp(x);
    if (e > xrel) xrel = e, xw = x;
  }
  for (uint32_t u = 0x80000000u; u <= f32_bits(-87.33f); u++) {
    float x = bits_f32(u);
    double e = fabs(wm_expf_scalar(x) - exp(x)) / exp(x);
    if (e > xrel) xrel = e, xw = x;
  }
  printf("exhaustive: GELU max err %.3e (at %.9g; abs, / |x| for |x| > 1) on |x| < 8; exp max rel err %.3e (at %.9g) on [-87.33, 88]\n",
         gmax, gw, xrel, xw);
  CHECK(gmax <= 5e-7 && xrel <= 2e-7, "exhaustive GELU/exp");
}

static double g_softmax_elem;

// --- softmax ----------------------------------------------------------------------------------------------------------
// Tolerance: each output within 1e-6 of the reference relative to the row's largest output, and within 1e-6
// relative to itself for outputs >= 1e-4 of the largest (an entry far below the max carries the f32 rounding of
// x - max, amplified by exp: that is the input's precision, not the kernel's).
static void test_softmax_case(int M, int n, float spread, int masked) {
  int ld = n + (n % 5);
  float *x = xmalloc(sizeof(float) * (size_t)M * ld), *a = xmalloc(sizeof(float) * (size_t)M * ld),
        *b = xmalloc(sizeof(float) * (size_t)M * ld);
  for (int i = 0; i < M * ld; i++) x[i] = rnd_sym(spread) + 3.0f;
  if (masked)
    for (int m = 0; m < M; m++)
      for (int i = 1; i < n; i += 3) x[(size_t)m * ld + i] = -INFINITY;
  memcpy(a, x, sizeof(float) * (size_t)M * ld);
  memcpy(b, x, sizeof(float) * (size_t)M * ld);
  wm_softmax_scalar(M, n, a, ld);
  wm_softmax(M, n, b, ld);
  double worst_s = 0, worst_p = 0, elem = 0;
  int pad_ok = 1;
  for (int m = 0; m < M; m++) {
    const float *xr = x + (size_t)m * ld;
    double mx = -INFINITY, sum = 0, top = 0;
    for (int i = 0; i < n; i++) mx = fmax(mx, xr[i]);
    for (int i = 0; i < n; i++) sum += exp((double)xr[i] - mx);
    top = 1.0 / sum;
    for (int i = 0; i < n; i++) {
      size_t j = (size_t)m * ld + i;
      double r = exp((double)xr[i] - mx) / sum;
      worst_s = fmax(worst_s, fabs(a[j] - r) / top);
      worst_p = fmax(worst_p, fabs(b[j] - a[j]) / top);
      if (r >= 1e-4 * top) elem = fmax(elem, fabs(a[j] - r) / r);  // per element, where x - max is near exact
    }
    for (int i = n; i < ld; i++)
      if (f32_bits(a[(size_t)m * ld + i]) != f32_bits(x[(size_t)m * ld + i]) ||
          f32_bits(b[(size_t)m * ld + i]) != f32_bits(x[(size_t)m * ld + i]))
        pad_ok = 0;
  }
  note_err(E_SOFTMAX, worst_s, worst_p);
  if (elem > g_softmax_elem) g_softmax_elem = elem;
  CHECK(worst_s <= 1e-6 && worst_p <= 1e-6 && elem <= 1e-6 && pad_ok,
        "softmax M=%d n=%d spread=%g: err %.2e (element %.2e), public vs scalar %.2e", M, n, spread, worst_s, elem,
        worst_p);
  free(x); free(a); free(b);
}

static void test_softmax(void) {
  for (int n = 1; n <= 40; n++) {
    test_softmax_case(3, n, 5.0f, 0);
    test_softmax_case(2, n, 30.0f, n > 2);
  }
  static const int ns[] = {64, 128, 384, 512};
  for (int i = 0; i < 4; i++) {
    test_softmax_case(5, ns[i], 8.0f, 0);
    test_softmax_case(5, ns[i], 80.0f, 1);
  }
  float big[3] = {1e30f, -1e30f, 0.0f};  // max subtraction keeps huge logits finite
  wm_softmax(1, 3, big, 3);
  CHECK(big[0] == 1.0f && big[1] < 1.2e-38f && big[2] < 1.2e-38f, "softmax huge logits: %g %g %g", big[0], big[1],
        big[2]);
}

// --- LayerNorm --------------------------------------------------------------------------------------------------------
static void test_layernorm_case(int M, int H, int with_res, float offset) {
  int ld = H + (H % 3), ldr = H + 1;
  float *x = xmalloc(sizeof(float) * (size_t)M * ld), *res = xmalloc(sizeof(float) * (size_t)M * ldr);
  float *a = xmalloc(sizeof(float) * (size_t)M * ld), *b = xmalloc(sizeof(float) * (size_t)M * ld);
  float *g = xmalloc(sizeof(float) * H), *be = xmalloc(sizeof(float) * H);
  for (int i = 0; i < M * ld; i++) x[i] = offset + rnd_sym(3.0f);
  for (int i = 0; i < M * ldr; i++) res[i] = rnd_sym(1.0f);
  for (int k = 0; k < H; k++) g[k] = 0.5f + rnd_unit(), be[k] = rnd_sym(0.2f);
  const float *r = with_res ? res : NULL;
  float eps = 1e-12f;
  memcpy(a, x, sizeof(float) * (size_t)M * ld);
  memcpy(b, x, sizeof(float) * (size_t)M * ld);
  wm_layernorm_scalar(M, H, a, ld, r, ldr, g, be, eps);
  wm_layernorm(M, H, b, ld, r, ldr, g, be, eps);
  double worst_s = 0, worst_p = 0;
  int pad_ok = 1;
  for (int m = 0; m < M; m++) {
    double v[1536], mean = 0, var = 0;
    for (int k = 0; k < H; k++) {
      // the kernel stores x + res in x, as f32: that rounding is part of its contract
      v[k] = r ? (double)(float)(x[(size_t)m * ld + k] + r[(size_t)m * ldr + k]) : (double)x[(size_t)m * ld + k];
      mean += v[k];
    }
    mean /= H;
    for (int k = 0; k < H; k++) var += (v[k] - mean) * (v[k] - mean);
    var /= H;
    for (int k = 0; k < H; k++) {
      double xh = (v[k] - mean) / sqrt(var + eps), ref = xh * g[k] + be[k];
      double tol = fabs(g[k]) * fmax(1.0, fabs(xh)) + fabs(be[k]);
      size_t j = (size_t)m * ld + k;
      worst_s = fmax(worst_s, fabs(a[j] - ref) / tol);
      worst_p = fmax(worst_p, fabs(b[j] - a[j]) / tol);
    }
    for (int k = H; k < ld; k++)
      if (f32_bits(a[(size_t)m * ld + k]) != f32_bits(x[(size_t)m * ld + k]) ||
          f32_bits(b[(size_t)m * ld + k]) != f32_bits(x[(size_t)m * ld + k]))
        pad_ok = 0;
  }
  note_err(E_LAYERNORM, worst_s, worst_p);
  CHECK(worst_s <= 1e-5 && worst_p <= 1e-5 && pad_ok, "layernorm M=%d H=%d res=%d: err %.2e, public vs scalar %.2e",
        M, H, with_res, worst_s, worst_p);
  free(x); free(res); free(a); free(b); free(g); free(be);
}

static void test_layernorm(void) {
  for (int H = 1; H <= 40; H++) {
    test_layernorm_case(3, H, H & 1, 0.0f);
    test_layernorm_case(2, H, 1, 50.0f);
  }
  static const int Hs[] = {26, 312, 384, 1536};
  for (int i = 0; i < 4; i++)
    for (int res = 0; res < 2; res++) test_layernorm_case(9, Hs[i], res, res ? 20.0f : 0.0f);
}

// --- dot --------------------------------------------------------------------------------------------------------------
static void test_dot(void) {
  static const int big[] = {26, 32, 64, 312, 384, 1536};
  for (int t = 0; t < 41 + 6; t++) {
    int n = t <= 40 ? t : big[t - 41];
    float *p = xmalloc(sizeof(float) * (n + 1)), *q = xmalloc(sizeof(float) * (n + 1));
    for (int i = 0; i <= n; i++) p[i] = rnd_sym(2.0f), q[i] = rnd_sym(2.0f);
    double ref = 0, mag = 1e-30;
    for (int i = 0; i < n; i++) ref += (double)p[i] * q[i], mag += fabs((double)p[i] * q[i]);
    float s = wm_dot_scalar(n, p, q), f = wm_dot(n, p, q);
    note_err(E_DOT, fabs(s - ref) / mag, fabs(f - s) / mag);
    CHECK(fabs(s - ref) / mag <= 1e-5 && fabs(f - ref) / mag <= 1e-5, "dot n=%d: scalar %.2e, public %.2e", n,
          fabs(s - ref) / mag, fabs(f - ref) / mag);
    free(p); free(q);
  }
}

// --- bench ------------------------------------------------------------------------------------------------------------
static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

// x16: time wm_gemm_i16i8 (1) or wm_gemm_u6x2i8 (2) (activations |x| <= 2047), or wm_gemm_u8i8 (3), instead of
// wm_gemm_i8 (0)
static double bench_i8(int scalar, int x16, int M, int N, int K, int G, double min_s) {
  int Kp = wm_round_up(K, 8), Np = wm_round_up(N, 4), ng = wm_groups(Kp, G);
  int8_t *x = xmalloc((size_t)M * Kp), *w = xmalloc((size_t)Np * Kp);
  int16_t *x2 = xmalloc(2 * (size_t)M * Kp);
  uint8_t *xu = xmalloc((size_t)M * Kp);
  for (size_t i = 0; i < (size_t)M * Kp; i++) {
    x[i] = (int8_t)rnd_int(-127, 127), x2[i] = (int16_t)rnd_int(-2047, 2047);
    xu[i] = (uint8_t)(x[i] + 128);
  }
  uint8_t *xd = to_u6x2(M, Kp, x2);
  for (size_t i = 0; i < (size_t)Np * Kp; i++) w[i] = (int8_t)rnd_int(-127, 127);
  float *rs = xmalloc(4 * (size_t)M * ng), *ws = xmalloc(4 * (size_t)Np * ng), *b = xmalloc(4 * (size_t)N),
        *y = xmalloc(4 * (size_t)M * N);
  for (int i = 0; i < M * ng; i++) rs[i] = 0.01f;
  for (int i = 0; i < Np * ng; i++) ws[i] = 0.01f;
  for (int i = 0; i < N; i++) b[i] = 0.5f;
  double best = 0;  // best of 5 trials: the machine may be shared
  for (int trial = 0; trial < 5; trial++) {
    int reps = 0;
    double t0 = now_s(), t;
    do {
      if (x16 == 3) (scalar ? wm_gemm_u8i8_scalar : wm_gemm_u8i8)(M, N, Kp, G, xu, rs, w, ws, b, y, N);
      else if (x16 == 2) (scalar ? wm_gemm_u6x2i8_scalar : wm_gemm_u6x2i8)(M, N, Kp, G, xd, rs, w, ws, b, y, N);
      else if (x16) (scalar ? wm_gemm_i16i8_scalar : wm_gemm_i16i8)(M, N, Kp, G, x2, rs, w, ws, b, y, N);
      else (scalar ? wm_gemm_i8_scalar : wm_gemm_i8)(M, N, Kp, G, x, rs, w, ws, b, y, N);
      reps++;
    } while ((t = now_s() - t0) < min_s);
    best = fmax(best, 2.0 * M * N * K * reps / t * 1e-9);
  }
  free(x); free(x2); free(xd); free(xu); free(w); free(rs); free(ws); free(b); free(y);
  return best;
}

static double bench_f32(int scalar, int M, int N, int K, double min_s) {
  float *x = xmalloc(4 * (size_t)M * K), *w = xmalloc(4 * (size_t)N * K), *y = xmalloc(4 * (size_t)M * N);
  for (size_t i = 0; i < (size_t)M * K; i++) x[i] = rnd_sym(1.0f);
  for (size_t i = 0; i < (size_t)N * K; i++) w[i] = rnd_sym(1.0f);
  double best = 0;
  for (int trial = 0; trial < 5; trial++) {
    int reps = 0;
    double t0 = now_s(), t;
    do {
      if (scalar) wm_gemm_f32_scalar(M, N, K, x, K, w, NULL, y, N);
      else wm_gemm_f32(M, N, K, x, K, w, NULL, y, N);
      reps++;
    } while ((t = now_s() - t0) < min_s);
    best = fmax(best, 2.0 * M * N * K * reps / t * 1e-9);
  }
  free(x); free(w); free(y);
  return best;
}

// attention's two products per head as the encoder ran them before wm_gemm_f32_kn (kn = 0: wm_gemm_f32, the other
// operand as [N][K] rows, i.e. keys as they are and values transposed) and as it runs them now (kn = 1)
static double bench_attention(int kn, int L, int dh, double min_s) {
  float *q = xmalloc(4 * (size_t)L * dh), *kv = xmalloc(4 * (size_t)L * dh), *s = xmalloc(4 * (size_t)L * L),
        *o = xmalloc(4 * (size_t)L * dh);
  for (size_t i = 0; i < (size_t)L * dh; i++) q[i] = rnd_sym(1.0f), kv[i] = rnd_sym(1.0f);
  for (size_t i = 0; i < (size_t)L * L; i++) s[i] = rnd_unit();
  double best = 0;
  for (int trial = 0; trial < 5; trial++) {
    int reps = 0;
    double t0 = now_s(), t;
    do {
      if (kn) {
        wm_gemm_f32_kn(L, L, dh, q, dh, kv, L, s, L);  // keys transposed: [dh][L]
        wm_gemm_f32_kn(L, dh, L, s, L, kv, dh, o, dh); // values: [L][dh]
      } else {
        wm_gemm_f32(L, L, dh, q, dh, kv, NULL, s, L);  // keys: [L][dh]
        wm_gemm_f32(L, dh, L, s, L, kv, NULL, o, dh);  // values transposed: [dh][L]
      }
      reps++;
    } while ((t = now_s() - t0) < min_s);
    best = fmax(best, 4.0 * L * L * dh * reps / t * 1e-9);
  }
  free(q); free(kv); free(s); free(o);
  return best;
}

// the row ops at the encoder's sizes (gte-small, 128 tokens), ns per value: GELU on the FFN's [128][1536], softmax
// on one head's [L][L] scores, the activation quantizers on [128][1536] at G = 128
static double bench_op(int op, int L, double min_s) {
  const int M = 128, K = 1536;
  size_t n = op == 1 ? (size_t)L * L : (size_t)M * K;
  float *x = xmalloc(4 * n), *x0 = xmalloc(4 * n), *rs = xmalloc(4 * (size_t)M * (K / 128));
  void *q = xmalloc(2 * n);
  for (size_t i = 0; i < n; i++) x0[i] = rnd_sym(op == 1 ? 8.0f : 3.0f);
  double best = 1e30;
  for (int trial = 0; trial < 5; trial++) {
    int reps = 0;
    double t = 0;
    do {
      memcpy(x, x0, 4 * n);  // GELU and softmax work in place: the same inputs every time, copy not timed
      double t0 = now_s();
      if (op == 0) wm_gelu(n, x);
      else if (op == 1) wm_softmax(L, L, x, L);
      else if (op == 2) wm_quantize_rows_i16(M, K, 128, x, K, NULL, 2047, q, rs);
      else if (op == 3) wm_quantize_rows_u8(M, K, 128, x, K, NULL, 127, q, rs);
      else wm_quantize_rows_u6x2(M, K, 128, x, K, NULL, 2047, q, rs);
      t += now_s() - t0;
      reps++;
    } while (t < min_s);
    best = fmin(best, t / reps / (double)n * 1e9);
  }
  free(x); free(x0); free(rs); free(q);
  return best;
}

static int g_bench_quick, g_bench_ops;

// --- the machine's peak for the GEMM kernels' instruction mix -------------------------------------------------------
// The int8/int16 kernels' inner loop is i32x4.dot_i16x8_s + i32x4.add pairs on operands loaded from L1 (plus one
// sign extension per 4 pairs and the loads). Here only those pairs: 8 independent accumulator chains, 4 operands in
// registers and 2 loaded per step from a 2 KB buffer at a row index the compiler cannot know (so nothing is hoisted
// or folded), unrolled x8 so the loop's own overhead (counter, V8's stack check) hardly counts: the best rate of
// that mix measured on this machine, the ceiling the kernels are compared with. Only in the emcc build: clang-19's
// code for this loop (the relaxed build) runs at a third of the kernels' own rate, so it would be no ceiling.
#if defined(__wasm_simd128__) && !defined(__wasm_relaxed_simd__)
#include <wasm_simd128.h>
#define WM_PEAK
static volatile int g_peak_rows = 7;  // opaque to the compiler
static volatile int32_t g_peak_sink;

static double peak_dot_i16x8_gops(double min_s) {
  static int16_t buf[8][72];
  for (int r = 0; r < 8; r++)
    for (int k = 0; k < 72; k++) buf[r][k] = (int16_t)rnd_int(-2047, 2047);
  const int rows = g_peak_rows;
  double best = 0;
  for (int trial = 0; trial < 5; trial++) {
    // 8 accumulators + 4 activation vectors + 2 weight vectors: 14 of the 15 vector registers V8 allocates on x64
    v128_t acc[8], x[4];
    for (int j = 0; j < 8; j++) acc[j] = wasm_i32x4_splat(0);
    for (int j = 0; j < 4; j++) x[j] = wasm_v128_load(&buf[j][0]);
    long steps = 0;
    double t0 = now_s(), t;
    do {
#pragma clang loop unroll_count(8)
      for (int i = 0; i < 4096; i++) {
        const int16_t *p = buf[i & rows];
        v128_t w[2] = {wasm_v128_load(p + 8), wasm_v128_load(p + 16)};
        for (int j = 0; j < 8; j++) acc[j] = wasm_i32x4_add(acc[j], wasm_i32x4_dot_i16x8(x[j & 3], w[j >> 2]));
      }
      steps += 4096;
    } while ((t = now_s() - t0) < min_s);
    for (int j = 0; j < 8; j++) g_peak_sink += wasm_i32x4_extract_lane(acc[j], 0);
    best = fmax(best, 2.0 * 8 * 8 * steps / t * 1e-9);  // 8 chains x 8 multiply-adds x 2 ops per step
  }
  return best;
}
#endif

static void bench_ops(void) {
  printf("  ns per value: gelu %.3f, softmax 128 / 512 %.3f / %.3f, quantize i16 / u8 / u6x2 %.3f / %.3f / %.3f\n",
         bench_op(0, 0, 0.2), bench_op(1, 128, 0.2), bench_op(1, 512, 0.2), bench_op(2, 0, 0.2), bench_op(3, 0, 0.2),
         bench_op(4, 0, 0.2));
}

static void bench(void) {
  // the encoder's shapes (gte-small): M = 512 rows per pass on batches and long texts, fewer on short texts
  static const int shapes[][3] = {{128, 1536, 384}, {128, 384, 1536}, {16, 1536, 384}, {512, 1536, 384},
                                  {512, 384, 1536}};
#ifdef WM_GEMM_I8_MR
  printf("bench (" VARIANT ", MR=%d)\n", WM_GEMM_I8_MR);
#else
  printf("bench (" VARIANT ")\n");
#endif
  // group sizes: one group per row (per-channel scales), and the converter's choices; --bench-quick: the
  // converter's G = 128 only, int16, u6x2 and u8 (the relaxed build's comparison, in a shared browser page)
  static const int groups[] = {1 << 20, 128, 64, 32};
  static const char *const names[] = {"gemm_i8", "gemm_i16i8", "gemm_u6x2i8", "gemm_u8i8"};
  // the kernels this build and engine run (names[] up to here): the relaxed ones only in the relaxed build, u8 only
  // where its dot is exact
  const int kernels = !WM_GEMM_U6X2 ? 2 : wm_gemm_u8i8_exact() ? 4 : 3;
  double ceiling = 0;  // GOPS the int8 / int16 kernels' instruction mix allows here (0: not measured)
#ifdef WM_PEAK
  ceiling = peak_dot_i16x8_gops(0.2);
  printf("  peak: i32x4.dot_i16x8_s + i32x4.add, 8 chains from L1: %.1f GOPS (the int8 / int16 kernels' ceiling)\n",
         ceiling);
#endif
  for (int x16 = 0; x16 < kernels; x16++)
    for (int i = 0; i < 5; i++)
      for (int j = 0; j < 4; j++) {
        int M = shapes[i][0], N = shapes[i][1], K = shapes[i][2], G = groups[j];
        if (g_bench_quick && (G != 128 || x16 == 0)) continue;
        double fast = bench_i8(0, x16, M, N, K, G, 0.3), slow = g_bench_quick ? 0 : bench_i8(1, x16, M, N, K, G, 0.2);
        char gs[16];
        snprintf(gs, sizeof gs, G > K ? "K" : "%d", G);
        printf("  %-11s M=%-4d N=%-5d K=%-5d G=%-4s %7.2f GOPS  (scalar %6.2f GOPS, x%.1f)", names[x16], M, N, K,
               gs, fast, slow, slow > 0 ? fast / slow : 0.0);
        if (ceiling > 0 && x16 < 2) printf("  %3.0f%% of peak", 100 * fast / ceiling);
        printf("\n");
      }
  if (g_bench_quick) return;
  for (int i = 0; i < 2; i++) {
    int M = shapes[i][0], N = shapes[i][1], K = shapes[i][2];
    double fast = bench_f32(0, M, N, K, 0.3), slow = bench_f32(1, M, N, K, 0.2);
    printf("  gemm_f32   M=%-4d N=%-5d K=%-5d  %7.2f GFLOPS (scalar %6.2f GFLOPS, x%.1f)\n", M, N, K, fast, slow,
           fast / slow);
  }
  static const int lens[] = {16, 128, 512};
  for (int i = 0; i < 3; i++)
    printf("  attention, one head, %3d tokens, dh 32: gemm_f32_kn %6.2f GFLOPS, gemm_f32 %6.2f GFLOPS\n", lens[i],
           bench_attention(1, lens[i], 32, 0.3), bench_attention(0, lens[i], 32, 0.3));
  // the same two products on the int8 GEMMs (keys and values as int8 weights, one group per key over dh = 32 and
  // groups of 128 keys per value channel; queries and probabilities as activations): what integer attention would
  // run at, against the f32 rates above (docs/architecture.md, "Tried and not kept")
  for (int i = 0; i < 3; i++)
    for (int x16 = 1; x16 < kernels; x16++) {
      const int L = lens[i];
      double qk = bench_i8(0, x16, L, L, 32, 32, 0.2), pv = bench_i8(0, x16, L, 32, L, 128, 0.2);
      printf("  attention, one head, %3d tokens, dh 32, %-11s: q k^T %6.2f GOPS, p v %6.2f GOPS, both %6.2f GOPS\n",
             L, names[x16], qk, pv, 2.0 / (1.0 / qk + 1.0 / pv));
    }
  bench_ops();
}

// --- main -------------------------------------------------------------------------------------------------------------
int main(int argc, char **argv) {
  int do_bench = 0, do_exhaustive = 0;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--bench")) do_bench = 1;
    else if (!strcmp(argv[i], "--bench-quick")) do_bench = g_bench_quick = 1;
    else if (!strcmp(argv[i], "--bench-ops")) do_bench = g_bench_ops = 1;
    else if (!strcmp(argv[i], "--exhaustive")) do_exhaustive = 1;
    else if (!strncmp(argv[i], "--seed=", 7)) g_rng = strtoull(argv[i] + 7, NULL, 0) * 2 + 1;
    else { printf("usage: test_kernels [--bench | --bench-quick | --bench-ops] [--exhaustive] [--seed=N]\n"); return 2; }
  }
  if (do_bench) {
    if (g_bench_ops) bench_ops();
    else bench();
    return 0;
  }
  printf("test_kernels (" VARIANT ")\n");
  if (WM_GEMM_U6X2)
    printf("u8 x s8 relaxed dot on this engine: %s\n", wm_gemm_u8i8_exact() ? "exact (wm_gemm_u8i8 tested)"
                                                                          : "not exact (wm_gemm_u8i8 not used, not tested)");
  test_f16();
  test_quantize();
  test_gemm_i8();
  test_gemm_f();
  test_exp_gelu();
  test_softmax();
  test_layernorm();
  test_dot();
  static const char *const fam[] = {"gemm_f32", "gemm_f16", "softmax", "layernorm", "dot", "gemm_kn"};
  for (int f = 0; f < 6; f++)
    printf("%-9s max err: scalar vs double %.2e, " VARIANT " vs scalar %.2e (relative, as the test defines)\n", fam[f],
           g_err[0][f], g_err[1][f]);
  printf("softmax   max rel err per output (outputs >= 1e-4 of the row max): %.2e\n", g_softmax_elem);
  if (do_exhaustive) exhaustive();
  printf("%d passed, %d failed\n", g_pass, g_fail);
  return g_fail ? 1 : 0;
}
