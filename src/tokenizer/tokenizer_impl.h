// Internal shared definitions of the tokenizer: the validated blob view, the per-encode scratch state, and the
// entry points of each pipeline stage (normalize.c -> pretokenize.c -> wordpiece.c, driven by tokenizer.c).
#ifndef WM_TOKENIZER_IMPL_H
#define WM_TOKENIZER_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "tokenizer/tokenizer.h"

// Blob constants (docs/format.md, "Tokenizer blob"; writer: js/convert/tokenizer.js).
#define WM_TOK_MAGIC 0x4b4f5457u  // "WTOK"
#define WM_TOK_VERSION 1
#define WM_TOK_HEADER 128
#define WM_TOK_MODEL_WORDPIECE 1
#define WM_TOK_NORM_NONE 0
#define WM_TOK_NORM_BERT 1
#define WM_TOK_PRE_NONE 0
#define WM_TOK_PRE_BERT 1
#define WM_TOK_POST_NONE 0
#define WM_TOK_POST_TEMPLATE 1
#define WM_TOK_CLEAN_TEXT 1
#define WM_TOK_HANDLE_CHINESE 2
#define WM_TOK_STRIP_ACCENTS 4
#define WM_TOK_LOWERCASE 8
#define WM_TOK_ADDED_LSTRIP 1
#define WM_TOK_ADDED_RSTRIP 2
#define WM_TOK_ADDED_SPECIAL 4
#define WM_TOK_MAX_IDS ((1u << 24) - 1)
#define WM_TOK_MAX_PREFIX 16
#define WM_TOK_MAX_WORD_CHARS 65536
#define WM_TOK_MAX_TOKEN_BYTES 1024
#define WM_TOK_MAX_TEMPLATE 16
#define WM_TOK_MAX_HASH_BITS 26

#define WM_ASCII_DROP 0
#define WM_ASCII_SPLIT 1
#define WM_ASCII_PUNCT 2
#define WM_ASCII_WORD 3
#define WM_MAXLEN_BUCKETS 4096
static inline uint32_t wm_maxlen_bucket(uint8_t b0, uint8_t b1) { return ((uint32_t)b0 * 61u + b1) & (WM_MAXLEN_BUCKETS - 1); }

#define WM_FNV_BASIS 0x811c9dc5u
#define WM_FNV_PRIME 0x01000193u

typedef struct {
  uint32_t id;
  uint32_t len;
  const uint8_t *bytes;
  uint32_t flags;
} wm_added_token;

struct wm_tokenizer {
  // --- validated view of the blob ---
  uint32_t norm_type, norm_flags, pre_type, post_type;
  uint32_t num_ids, vocab_count, unk_id, max_chars, max_token_bytes;
  const uint8_t *prefix;
  uint32_t prefix_len, prefix_hash;
  const uint8_t *strings;
  const uint32_t *tokens;  // vocab_count x {offset into strings, length}
  const uint32_t *slots;   // hash slots: tag << 24 | (id + 1), 0 = empty
  uint32_t slot_mask;
  wm_added_token *added;   // sorted by length, longest first
  uint32_t added_count;
  uint8_t added_first[256];  // first bytes of added tokens
  const uint32_t *tmpl;      // template ids: prefix then suffix
  uint32_t tmpl_prefix, tmpl_suffix;
  uint8_t ascii_class[128];  // what the whole pipeline does with an ASCII character (WM_ASCII_*)
  uint8_t ascii_map[128];    // the character it becomes (lower-casing)
  uint16_t *maxlen;          // [2][WM_MAXLEN_BUCKETS]: longest vocab token (bytes, >= 2) by its first two bytes,
                             // for word-start (0) and continuation (1, after the prefix) lookups
  uint32_t *lenmask;         // same buckets: bit min(length, 31) set if some token of that length exists

  // --- scratch for one encode call (sized at init from the validated limits) ---
  int32_t *out;        // content ids
  int out_n, out_cap;  // the encode stops once out_n == out_cap
  uint8_t *word;       // current word, UTF-8 (max_chars * 4 bytes)
  size_t word_len;
  uint32_t word_chars;  // may exceed max_chars (then only counted: the word is [UNK])
  int32_t *word_ids;    // WordPiece pieces of one word (max_chars entries)
  uint32_t *hashes;     // WordPiece: FNV state after each byte of a candidate (max_token_bytes + 1 entries)
  uint32_t *pend;       // NFD: pending non-starters, with their combining class (max_chars + 1 entries)
  uint8_t *pend_ccc;
  uint32_t pend_n;
};

// Appends cp to the current word (only counted past max_chars: the word is [UNK] then).
static inline void wm_tok_word_add(wm_tokenizer *tok, uint32_t cp) {
  if (++tok->word_chars <= tok->max_chars) {
    uint8_t *o = tok->word + tok->word_len;
    if (cp < 0x80) { o[0] = (uint8_t)cp; tok->word_len += 1; }
    else if (cp < 0x800) { o[0] = (uint8_t)(0xC0 | (cp >> 6)); o[1] = (uint8_t)(0x80 | (cp & 0x3F)); tok->word_len += 2; }
    else if (cp < 0x10000) {
      o[0] = (uint8_t)(0xE0 | (cp >> 12)); o[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F)); o[2] = (uint8_t)(0x80 | (cp & 0x3F));
      tok->word_len += 3;
    } else {
      o[0] = (uint8_t)(0xF0 | (cp >> 18)); o[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
      o[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F)); o[3] = (uint8_t)(0x80 | (cp & 0x3F));
      tok->word_len += 4;
    }
  }
}

// Appends one content id (callers check tok->out_n < tok->out_cap first).
static inline void wm_tok_emit(wm_tokenizer *tok, int32_t id) {
  if (tok->out_n < tok->out_cap) tok->out[tok->out_n++] = id;
}
static inline int wm_tok_full(const wm_tokenizer *tok) { return tok->out_n >= tok->out_cap; }

// normalize.c: feeds one code point of the (added-token-free) text through the normalizer.
void wm_norm_char(wm_tokenizer *tok, uint32_t cp);
// normalize.c: end of a text segment (flushes NFD reordering, then the current word).
void wm_norm_flush(wm_tokenizer *tok);
// pretokenize.c: one normalized code point; wm_pre_end_word ends the current word (runs WordPiece on it).
void wm_pre_char(wm_tokenizer *tok, uint32_t cp);
void wm_pre_end_word(wm_tokenizer *tok);
// wordpiece.c: tokenizes word[0..len) (at most max_chars characters), emitting ids.
void wm_wordpiece(wm_tokenizer *tok, const uint8_t *word, size_t len);
// wordpiece.c: vocabulary id of prefix (if with_prefix) + s[0..n), or -1. h is the FNV-1a state over those bytes.
int32_t wm_vocab_lookup(const wm_tokenizer *tok, uint32_t h, int with_prefix, const uint8_t *s, size_t n);

#endif
