// Unicode lookups for the tokenizer, over compact generated tables (build/gen/unicode_tables.c, written by
// tools/gen_unicode_tables.c): the character classes, NFD and lower-casing that Hugging Face tokenizers uses.
#ifndef WM_TOKENIZER_UNICODE_H
#define WM_TOKENIZER_UNICODE_H

#include <stdint.h>

// Property bits (character classes as the reference's crates define them; see the generator).
#define WM_UC_OTHER 1  // unicode_categories is_other(): Cc | Cf | Co, Unicode 9 (unassigned is NOT other)
#define WM_UC_WS 2     // Rust char::is_whitespace (White_Space)
#define WM_UC_PUNCT 4  // char::is_ascii_punctuation || unicode_categories is_punctuation() (P*, Unicode 9)
#define WM_UC_MN 8     // unicode_categories is_mark_nonspacing() (Mn, Unicode 9)

#define WM_UC_MAX_DECOMP 4  // longest full canonical decomposition (checked by the generator)
#define WM_UC_MAX_LOWER 2   // longest full lower-case mapping (U+0130 -> U+0069 U+0307)

// Generated tables.
extern const uint8_t wm_uc_latin1_props[256];
extern const uint32_t wm_uc_prop_runs[];  // start << 8 | props, sorted
extern const uint32_t wm_uc_prop_runs_n;
extern const uint32_t wm_uc_ccc_runs[];   // start << 8 | combining class, sorted
extern const uint32_t wm_uc_ccc_runs_n;
extern const uint64_t wm_uc_decomp[];     // cp << 42 | first << 21 | second, sorted
extern const uint32_t wm_uc_decomp_n;
extern const int32_t wm_uc_lower_runs[][2];
extern const uint32_t wm_uc_lower_runs_n;
#define WM_UC_PLAIN_LIMIT 0x30000
extern const uint8_t wm_uc_plain[WM_UC_PLAIN_LIMIT / 64 / 8];

// 1 if cp has no property bit, combining class 0, no decomposition and no lower-case mapping (block granularity).
static inline int wm_uc_is_plain(uint32_t cp) {
  return cp < WM_UC_PLAIN_LIMIT && ((wm_uc_plain[cp >> 9] >> ((cp >> 6) & 7)) & 1);
}

// Property bits of a code point (cp <= 0x10FFFF).
static inline uint32_t wm_uc_props(uint32_t cp) {
  if (cp < 256) return wm_uc_latin1_props[cp];
  uint32_t lo = 0, hi = wm_uc_prop_runs_n;  // last run with start <= cp
  while (hi - lo > 1) {
    uint32_t mid = (lo + hi) / 2;
    if ((wm_uc_prop_runs[mid] >> 8) <= cp) lo = mid; else hi = mid;
  }
  return wm_uc_prop_runs[lo] & 0xff;
}

// BertNormalizer's "Chinese character" ranges (CJK Unified Ideographs blocks and compatibility ideographs).
static inline int wm_uc_is_chinese(uint32_t cp) {
  return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) || (cp >= 0x20000 && cp <= 0x2A6DF) ||
         (cp >= 0x2A700 && cp <= 0x2B73F) || (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B920 && cp <= 0x2CEAF) ||
         (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
}

// Canonical combining class (Unicode 9 assignment).
uint32_t wm_uc_ccc(uint32_t cp);
// Full canonical decomposition of cp (Unicode 9, incl. Hangul) into out; returns the count (1 if none).
int wm_uc_nfd(uint32_t cp, uint32_t out[WM_UC_MAX_DECOMP]);
// Full lower-case mapping (Rust char::to_lowercase) into out; returns the count.
int wm_uc_lower(uint32_t cp, uint32_t out[WM_UC_MAX_LOWER]);

#endif
