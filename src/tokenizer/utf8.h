// UTF-8 decoding with Rust's String::from_utf8_lossy semantics (one U+FFFD per maximal invalid subsequence).
// Header-only: it sits in the tokenizer's innermost loop. (Encoding: wm_tok_word_add in tokenizer_impl.h.)
#ifndef WM_TOKENIZER_UTF8_H
#define WM_TOKENIZER_UTF8_H

#include <stddef.h>
#include <stdint.h>

// Decodes the character at s[*i] (*i < len), advances *i past it (or past the invalid subsequence).
static inline uint32_t wm_utf8_next(const uint8_t *s, size_t len, size_t *i) {
  size_t p = *i;
  uint32_t b0 = s[p];
  if (b0 < 0x80) { *i = p + 1; return b0; }
  size_t left = len - p;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    if (left >= 2 && (s[p + 1] & 0xC0) == 0x80) { *i = p + 2; return ((b0 & 0x1F) << 6) | (s[p + 1] & 0x3F); }
    *i = p + 1;
    return 0xFFFD;
  }
  if (b0 >= 0xE0 && b0 <= 0xEF) {
    if (left < 2) { *i = p + 1; return 0xFFFD; }
    uint32_t b1 = s[p + 1];
    int ok = b0 == 0xE0 ? (b1 >= 0xA0 && b1 <= 0xBF) : b0 == 0xED ? (b1 >= 0x80 && b1 <= 0x9F) : (b1 & 0xC0) == 0x80;
    if (!ok) { *i = p + 1; return 0xFFFD; }
    if (left < 3 || (s[p + 2] & 0xC0) != 0x80) { *i = p + 2; return 0xFFFD; }
    *i = p + 3;
    return ((b0 & 0x0F) << 12) | ((b1 & 0x3F) << 6) | (s[p + 2] & 0x3F);
  }
  if (b0 >= 0xF0 && b0 <= 0xF4) {
    if (left < 2) { *i = p + 1; return 0xFFFD; }
    uint32_t b1 = s[p + 1];
    int ok = b0 == 0xF0 ? (b1 >= 0x90 && b1 <= 0xBF) : b0 == 0xF4 ? (b1 >= 0x80 && b1 <= 0x8F) : (b1 & 0xC0) == 0x80;
    if (!ok) { *i = p + 1; return 0xFFFD; }
    if (left < 3 || (s[p + 2] & 0xC0) != 0x80) { *i = p + 2; return 0xFFFD; }
    if (left < 4 || (s[p + 3] & 0xC0) != 0x80) { *i = p + 3; return 0xFFFD; }
    *i = p + 4;
    return ((b0 & 0x07) << 18) | ((b1 & 0x3F) << 12) | ((uint32_t)(s[p + 2] & 0x3F) << 6) | (s[p + 3] & 0x3F);
  }
  *i = p + 1;  // 0x80..0xC1, 0xF5..0xFF
  return 0xFFFD;
}

#endif
