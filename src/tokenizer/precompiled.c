// The Precompiled normalizer (a SentencePiece charsmap) with Hugging Face tokenizers' semantics (normalizers/
// precompiled.rs over the spm_precompiled crate), which are NOT SentencePiece's own longest-match normalizer:
//   the text is split into extended grapheme clusters (grapheme.c); a cluster of fewer than 6 bytes whose prefix is a
//   key is replaced, WHOLE, by the value of its SHORTEST such prefix (so "e" U+0301 U+0301 becomes "é" and the second
//   accent is dropped, CR LF becomes one space); any other cluster is mapped one character at a time (a character
//   that is a key becomes its value, any other stays).
// The converter keeps only the keys that can match (<= 5 bytes, no shorter key as a prefix: js/convert/precompiled.js),
// so at most one prefix of a cluster is a key. Clusters are buffered only while they are shorter than 6 bytes.
#include <stdlib.h>
#include <string.h>

#include "tokenizer/tokenizer_impl.h"
#include "tokenizer/utf8.h"

const char *wm_pc_init(wm_norm_step *st, const uint8_t *blob, size_t size, const uint32_t *rec) {
  uint32_t count = rec[0], ent_off = rec[1], bits = rec[2], slot_off = rec[3], pool_off = rec[4], pool_size = rec[5];
  if (rec[6]) return "Precompiled step: reserved field is not zero";
  if (!wm_region_ok(size, ent_off, count, 12)) return "Precompiled step: entries out of bounds";
  if (bits < 1 || bits > WM_PC_MAX_HASH_BITS) return "Precompiled step: bad hash_bits";
  uint32_t nslots = 1u << bits;
  if (!wm_region_ok(size, slot_off, nslots, 4)) return "Precompiled step: hash slots out of bounds";
  if (pool_off < WM_TOK_HEADER || pool_off > size || pool_size > size - pool_off) return "Precompiled step: pool out of bounds";
  st->pc_entries = (const uint32_t *)(const void *)(blob + ent_off);
  st->pc_slots = (const uint32_t *)(const void *)(blob + slot_off);
  st->pc_pool = blob + pool_off;
  st->pc_mask = nslots - 1;
  st->pc_first = calloc(2 * 65536 / 8, 1);
  if (!st->pc_first) return "out of memory";
  for (uint32_t i = 0; i < count; i++) {
    const uint32_t *e = st->pc_entries + 3 * (size_t)i;
    uint32_t ko = e[0], vo = e[1], kl = e[2] & 0xFF, vl = e[2] >> 8;
    if (kl < 1 || kl > WM_PC_MAX_KEY || ko > pool_size || kl > pool_size - ko) return "Precompiled step: key out of bounds";
    if (vo > pool_size || vl > pool_size - vo) return "Precompiled step: value out of bounds";
    size_t p = 0;
    uint32_t cp = wm_utf8_next(st->pc_pool + ko, kl, &p), bit = (p < kl) * 65536 + (cp & 0xFFFF);
    st->pc_first[bit >> 3] |= (uint8_t)(1u << (bit & 7));
  }
  uint32_t empty = 0;
  for (uint32_t i = 0; i < nslots; i++) {
    uint32_t v = st->pc_slots[i];
    if (!v) empty++;
    else if (v > count) return "Precompiled step: bad hash slot";
  }
  if (!empty) return "Precompiled step: hash table has no empty slot";
  return NULL;
}

// Entry whose key is exactly s[0..n), or NULL.
static const uint32_t *lookup(const wm_norm_step *st, const uint8_t *s, size_t n) {
  uint32_t h = WM_FNV_BASIS;
  for (size_t i = 0; i < n; i++) h = (h ^ s[i]) * WM_FNV_PRIME;
  for (uint32_t i = h & st->pc_mask;; i = (i + 1) & st->pc_mask) {
    uint32_t v = st->pc_slots[i];
    if (!v) return NULL;
    const uint32_t *e = st->pc_entries + 3 * (size_t)(v - 1);
    if ((e[2] & 0xFF) == n && memcmp(st->pc_pool + e[0], s, n) == 0) return e;
  }
}

// Whether cp may be a one-character key (longer = 0) or start a longer key (longer = 1): a filter, not an answer.
static inline int maybe_key(const wm_norm_step *st, uint32_t cp, int longer) {
  uint32_t bit = (uint32_t)longer * 65536 + (cp & 0xFFFF);
  return (st->pc_first[bit >> 3] >> (bit & 7)) & 1;
}

static void emit_value(wm_tokenizer *tok, uint32_t k, const uint32_t *e) {
  const wm_norm_step *st = &tok->steps[k];
  const uint8_t *v = st->pc_pool + e[1];
  size_t n = e[2] >> 8, p = 0;
  while (p < n) wm_norm_out(tok, k + 1, wm_utf8_next(v, n, &p));
}

// One character on its own.
static void map_char(wm_tokenizer *tok, uint32_t k, uint32_t cp) {
  const wm_norm_step *st = &tok->steps[k];
  if (maybe_key(st, cp, 0)) {
    uint8_t b[4];
    const uint32_t *e = lookup(st, b, wm_utf8_put(b, cp));
    if (e) { emit_value(tok, k, e); return; }
  }
  wm_norm_out(tok, k + 1, cp);
}

// The buffered cluster (fewer than 6 bytes) is complete.
static void end_cluster(wm_tokenizer *tok, uint32_t k) {
  wm_norm_step *st = &tok->steps[k];
  uint32_t n = st->clu_n;
  st->clu_n = st->clu_bytes = 0;
  if (!n) return;
  if (n > 1 && (maybe_key(st, st->clu[0], 0) || maybe_key(st, st->clu[0], 1))) {  // (one character: map_char)
    uint8_t b[WM_PC_MAX_KEY + 4];
    size_t len = 0;
    for (uint32_t i = 0; i < n && len + wm_utf8_len(st->clu[i]) <= WM_PC_MAX_KEY; i++) {
      len += wm_utf8_put(b + len, st->clu[i]);
      if (i == 0 ? !maybe_key(st, st->clu[0], 0) : !maybe_key(st, st->clu[0], 1)) continue;
      const uint32_t *e = lookup(st, b, len);
      if (e) { emit_value(tok, k, e); return; }  // the rest of the cluster is dropped, as in the reference
    }
  }
  for (uint32_t i = 0; i < n; i++) map_char(tok, k, st->clu[i]);
}

void wm_pc_char(wm_tokenizer *tok, uint32_t k, uint32_t cp) {
  wm_norm_step *st = &tok->steps[k];
  if (wm_gc_next(&st->gc, cp)) {  // a new cluster starts with cp
    if (st->clu_n) end_cluster(tok, k);
    st->clu_long = 0;
  }
  if (st->clu_long) { map_char(tok, k, cp); return; }
  st->clu[st->clu_n++] = cp;
  st->clu_bytes += (uint32_t)wm_utf8_len(cp);
  if (st->clu_bytes > WM_PC_MAX_KEY) {  // 6 bytes or more: character by character from now on
    uint32_t n = st->clu_n;
    st->clu_n = st->clu_bytes = 0;
    st->clu_long = 1;
    for (uint32_t i = 0; i < n; i++) map_char(tok, k, st->clu[i]);
  }
}

void wm_pc_end(wm_tokenizer *tok, uint32_t k) {
  wm_norm_step *st = &tok->steps[k];
  end_cluster(tok, k);
  st->clu_long = 0;
  wm_gc_reset(&st->gc);
}
