// WordPiece: greedy longest-match-first over the vocabulary, with the continuing-subword prefix; a word with any
// unmatchable position is a single [UNK] (Hugging Face tokenizers models/wordpiece). The vocabulary is a hash
// table built by the converter and used in place (FNV-1a 32, linear probing, an 8-bit tag per slot).
// A pruned vocabulary keeps its pruned tokens in the table, flagged: matching skips them (so a word falls back to
// shorter pieces or [UNK]), and a word where one was the longest match is segmented again with them to tell
// whether the full vocabulary would have given other ids (wm_tokenizer_pruned_hit).
#include <string.h>

#include "tokenizer/tokenizer_impl.h"

int32_t wm_vocab_lookup(const wm_tokenizer *tok, uint32_t h, int with_prefix, const uint8_t *s, size_t n) {
  uint32_t plen = with_prefix ? tok->prefix_len : 0;
  uint32_t tag = h >> 24, i = h & tok->slot_mask;
  for (;;) {
    uint32_t v = tok->slots[i];
    if (!v) return -1;
    if ((v >> 24) == tag) {
      uint32_t id = (v & 0xFFFFFF) - 1;
      const uint32_t *t = tok->tokens + 2 * (size_t)id;
      if ((t[1] & ~WM_TOK_PRUNED) == plen + n) {
        const uint8_t *b = tok->strings + t[0];
        if (memcmp(b, tok->prefix, plen) == 0 && memcmp(b + plen, s, n) == 0) return (int32_t)id;
      }
    }
    i = (i + 1) & tok->slot_mask;
  }
}

// Segments w greedily into tok->word_ids; returns the piece count, or -1 if some position has no piece (the word
// is [UNK]). Pruned tokens count only with all; *met is set when a pruned token was skipped as the longest match.
static int segment(wm_tokenizer *tok, const uint8_t *w, size_t len, int all, int *met) {
  size_t start = 0;
  int n = 0;
  uint32_t *hs = tok->hashes;
  while (start < len) {
    // No vocab token is longer than the longest one starting with these two bytes (one-byte tokens aside).
    size_t lim = 1;
    uint32_t mask = 0;  // lengths >= 2 that exist for these first two bytes (bit 31: 31 or more)
    if (len - start >= 2) {
      uint32_t k = (start > 0) * WM_MAXLEN_BUCKETS + wm_maxlen_bucket(w[start], w[start + 1]);
      lim = tok->maxlen[k];
      mask = tok->lenmask[k];
      if (lim < 1) lim = 1;
    }
    size_t end = len;
    if (end - start > lim) {
      end = start + lim;
      while (end > start && (w[end] & 0xC0) == 0x80) end--;
      if (end == start) {  // lim cuts the first character: only it can match (as a 1..4-byte token)
        end = start + 1;
        while (end < len && (w[end] & 0xC0) == 0x80) end++;
      }
    }
    // FNV-1a is computed left to right: one pass gives the hash of every candidate [start, start + k).
    uint32_t h = start > 0 ? tok->prefix_hash : WM_FNV_BASIS;
    for (size_t k = 0; k < end - start; k++) hs[k + 1] = h = (h ^ w[start + k]) * WM_FNV_PRIME;
    int32_t id = -1;
    while (start < end) {
      size_t n = end - start;
      if (n == 1 || (mask >> (n < 31 ? n : 31)) & 1) {
        id = wm_vocab_lookup(tok, hs[n], start > 0, w + start, n);
        if (id >= 0 && !all && (tok->tokens[2 * (size_t)id + 1] & WM_TOK_PRUNED)) {
          *met = 1;
          id = -1;
        }
        if (id >= 0) break;
      }
      end--;
      while (end > start && (w[end] & 0xC0) == 0x80) end--;
    }
    if (id < 0) return -1;
    tok->word_ids[n++] = id;  // n <= characters in the word <= max_chars
    start = end;
  }
  return n;
}

void wm_wordpiece(wm_tokenizer *tok, const uint8_t *w, size_t len) {
  int met = 0;
  int n = segment(tok, w, len, 0, &met);
  if (n < 0) wm_tok_emit(tok, (int32_t)tok->unk_id);
  for (int i = 0; i < n; i++) wm_tok_emit(tok, tok->word_ids[i]);
  // Where a pruned token was the longest match the full vocabulary diverges, unless both end in [UNK].
  if (met && !tok->hit && (n >= 0 || segment(tok, w, len, 1, &met) >= 0)) tok->hit = 1;
}
