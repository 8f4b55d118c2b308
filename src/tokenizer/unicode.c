// Unicode lookups that need more than a table index: combining class, canonical decomposition (recursive over the
// generated single-level table, plus algorithmic Hangul) and lower-casing (runs with a delta).
#include "tokenizer/unicode.h"

uint32_t wm_uc_ccc(uint32_t cp) {
  if (cp < 0x300) return 0;
  uint32_t lo = 0, hi = wm_uc_ccc_runs_n;
  while (hi - lo > 1) {
    uint32_t mid = (lo + hi) / 2;
    if ((wm_uc_ccc_runs[mid] >> 8) <= cp) lo = mid; else hi = mid;
  }
  return wm_uc_ccc_runs[lo] & 0xff;
}

static int decomp_rec(uint32_t cp, uint32_t *out, int n) {
  if (cp >= 0xC0) {
    uint32_t lo = 0, hi = wm_uc_decomp_n;
    while (lo < hi) {
      uint32_t mid = (lo + hi) / 2;
      uint32_t key = (uint32_t)(wm_uc_decomp[mid] >> 42);
      if (key == cp) {
        uint32_t a = (uint32_t)(wm_uc_decomp[mid] >> 21) & 0x1FFFFF, b = (uint32_t)wm_uc_decomp[mid] & 0x1FFFFF;
        n = decomp_rec(a, out, n);
        return b ? decomp_rec(b, out, n) : n;
      }
      if (key < cp) lo = mid + 1; else hi = mid;
    }
  }
  if (n < WM_UC_MAX_DECOMP) out[n++] = cp;  // the generator guarantees no overflow
  return n;
}

int wm_uc_nfd(uint32_t cp, uint32_t out[WM_UC_MAX_DECOMP]) {
  if (cp >= 0xAC00 && cp <= 0xD7A3) {  // Hangul syllables
    uint32_t s = cp - 0xAC00, t = s % 28;
    out[0] = 0x1100 + s / (21 * 28);
    out[1] = 0x1161 + (s % (21 * 28)) / 28;
    if (!t) return 2;
    out[2] = 0x11A7 + t;
    return 3;
  }
  return decomp_rec(cp, out, 0);
}

int wm_uc_lower(uint32_t cp, uint32_t out[WM_UC_MAX_LOWER]) {
  if (cp < 128) {
    out[0] = (cp >= 'A' && cp <= 'Z') ? cp + 32 : cp;
    return 1;
  }
  if (cp == 0x130) {  // the only unconditional multi-character lower-case mapping (SpecialCasing.txt)
    out[0] = 0x69;
    out[1] = 0x307;
    return 2;
  }
  out[0] = cp;
  uint32_t lo = 0, hi = wm_uc_lower_runs_n;
  if (!hi || (uint32_t)(wm_uc_lower_runs[0][0] & 0x1FFFFF) > cp) return 1;
  while (hi - lo > 1) {
    uint32_t mid = (lo + hi) / 2;
    if ((uint32_t)(wm_uc_lower_runs[mid][0] & 0x1FFFFF) <= cp) lo = mid; else hi = mid;
  }
  uint32_t start = (uint32_t)wm_uc_lower_runs[lo][0] & 0x1FFFFF, count = ((uint32_t)wm_uc_lower_runs[lo][0] >> 21) + 1;
  int32_t v = wm_uc_lower_runs[lo][1];
  uint32_t stride = (v & 1) ? 2 : 1;
  uint32_t k = cp - start;
  if (k % stride == 0 && k / stride < count) out[0] = (uint32_t)((int32_t)cp + (v >> 1));
  return 1;
}
