// Unigram model (SentencePiece pieces with scores), exactly as Hugging Face tokenizers' models/unigram
// (encode_optimized): Viterbi over the byte positions of one pre-tokenized word; at each character start every piece
// that is a prefix of the rest (trie walk, shortest first) competes for the position where it ends (f64 sum of
// scores, strictly greater wins, so the earliest start keeps a tie), and a character with no single-character piece
// gets an unknown node scoring min score - 10. The best path is read back from the end; consecutive unknown nodes
// (and pieces whose id is unk_id) are fused into one token whose id is that of the fused string if it is a piece,
// else unk_id, or its bytes' <0xXX> pieces with byte_fallback.
//
// Streaming and early stop: a word can be a whole 1 MB text (CJK has no spaces). Characters are added as they
// arrive; a start is processed once max_piece bytes after it are known. Every so often the best paths of all
// positions a future piece can still start from are walked back: where they meet, the path before is final (any
// later best path passes through one of them), so it is emitted and the lattice before it dropped. Scores stay
// absolute (sums from the word start), so the arithmetic is the reference's, bit for bit. Memory is bounded by the
// distance between such meeting points: tens of bytes in real text, the whole word (7 bytes per byte) at worst,
// e.g. "aaaa...", whose best path depends on the word's length from its first piece on.
//
// Pruned vocabularies (convert --vocab-from): pieces flagged WM_TOK_PRUNED are left out of the lattice, as
// SentencePiece's SetVocabulary does with unused pieces, so a word falls back to smaller kept pieces, and a character
// without a kept one-character piece becomes an unknown node. A second score ring runs the same Viterbi over every
// piece (scores only): when the full vocabulary's best path of a word scores strictly higher than the kept one, the
// full model would have tokenized the word differently, and the encode reports a hit (ties aside).
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tokenizer/tokenizer_impl.h"

#define INITIAL_CAP 256
#define SHRINK_CAP 65536
#define CHECK_GAP 64

static int alloc_lattice(wm_tokenizer *tok, size_t cap) {
  tok->ub = malloc(cap);
  tok->ulast = malloc(cap * sizeof *tok->ulast);
  tok->uid = malloc(cap * sizeof *tok->uid);
  if (!tok->ub || !tok->ulast || !tok->uid) return 0;
  tok->ucap = cap;
  return 1;
}

static inline double score_of(const wm_tokenizer *tok, uint32_t id) {
  double d;
  memcpy(&d, tok->scores + 8 * (size_t)id, sizeof d);  // little-endian f64, any alignment
  return d;
}

// Child of node by byte b, or 0. The children's labels are distinct sorted bytes: a binary search narrows the range
// to at most 8, then one 8-byte load finds b among them (the label array has 8 bytes of padding after it).
static inline uint32_t child(const wm_tokenizer *tok, uint32_t node, uint8_t b) {
  uint32_t lo = tok->trie[2 * (size_t)node], hi = tok->trie[2 * (size_t)node + 2];
  const uint8_t *lab = tok->trie_lab;
  while (hi - lo > 8) {
    uint32_t mid = lo + (hi - lo) / 2;
    if (lab[mid] <= b) lo = mid; else hi = mid;
  }
  uint64_t x;
  memcpy(&x, lab + lo, 8);
  x ^= 0x0101010101010101ull * b;  // a zero byte where the label is b
  uint64_t z = (x - 0x0101010101010101ull) & ~x & 0x8080808080808080ull;  // its lowest bit marks the first zero byte
  if (!z) return 0;
  uint32_t i = (uint32_t)__builtin_ctzll(z) >> 3;
  return i < hi - lo ? lo + i : 0;
}

const char *wm_uni_init(wm_tokenizer *tok, const uint8_t *blob, size_t size) {
  uint32_t flags = wm_rd32(blob + 44), maxp = wm_rd32(blob + 48), n = wm_rd32(blob + 52);
  uint32_t trie_off = wm_rd32(blob + 56), lab_off = wm_rd32(blob + 60);
  uint32_t sc_off = wm_rd32(blob + 64), bytes_off = wm_rd32(blob + 68);
  if (wm_rd32(blob + 72) || wm_rd32(blob + 84) || wm_rd32(blob + 88)) return "Unigram blob with WordPiece fields set";
  if (flags & ~(uint32_t)WM_TOK_UNIGRAM_BYTE_FALLBACK) return "unknown Unigram flags";
  if (maxp < 1 || maxp > WM_TOK_MAX_TOKEN_BYTES) return "bad Unigram max_piece_bytes";
  if (n < 1 || !wm_region_ok(size, trie_off, (uint64_t)n + 1, 8) || !wm_region_ok(size, lab_off, (uint64_t)n + 8, 1))
    return "Unigram trie out of bounds";
  const uint32_t *t = (const uint32_t *)(const void *)(blob + trie_off);
  const uint8_t *lab = blob + lab_off;
  if (t[2 * (size_t)n] != n) return "Unigram trie: bad sentinel";
  for (uint32_t i = 0; i < n; i++) {
    uint32_t fc = t[2 * (size_t)i], end = t[2 * (size_t)i + 2];
    if (fc <= i || fc > end) return "Unigram trie: bad child range";  // children after parents, in order (end <= n)
    uint32_t v = t[2 * (size_t)i + 1];
    if ((v & ~WM_TOK_PRUNED) > tok->vocab_count) return "Unigram trie: id out of range";
    if (v & WM_TOK_PRUNED) {
      if (v == WM_TOK_PRUNED) return "Unigram trie: pruned flag on a prefix that is no piece";
      tok->pruned = 1;
    }
    for (uint32_t k = fc + 1; k < end; k++)
      if (lab[k] <= lab[k - 1]) return "Unigram trie: children not sorted";
  }
  if (!wm_region_ok(size, sc_off, tok->vocab_count, 8)) return "Unigram scores out of bounds";
  tok->trie = t;
  tok->trie_lab = lab;
  tok->trie_n = n;
  tok->scores = blob + sc_off;
  tok->uni_flags = flags;
  tok->max_piece = maxp;
  if (flags & WM_TOK_UNIGRAM_BYTE_FALLBACK) {
    if (!wm_region_ok(size, bytes_off, 256, 4)) return "Unigram byte pieces out of bounds";
    tok->byte_ids = (const uint32_t *)(const void *)(blob + bytes_off);
    for (int b = 0; b < 256; b++)
      if (tok->byte_ids[b] >= tok->vocab_count) return "Unigram byte piece id out of range";
  } else if (bytes_off) {
    return "Unigram byte pieces without byte_fallback";
  }
  double min = INFINITY;  // as the reference: min over every score (a NaN is never smaller)
  for (uint32_t i = 0; i < tok->vocab_count; i++) {
    double s = score_of(tok, i);
    if (s < min) min = s;
  }
  tok->unk_score = min - 10.0;
  for (uint32_t k = t[0]; k < t[2]; k++) tok->root[lab[k]] = k;

  size_t ring = 16;
  while (ring < (size_t)maxp + 8) ring *= 2;
  tok->ring_mask = ring - 1;
  tok->ring = malloc(ring * sizeof *tok->ring);
  tok->ufront = malloc(((size_t)maxp + 1) * sizeof *tok->ufront);
  tok->unk_buf = malloc(maxp);
  if (tok->pruned && !(tok->fring = malloc(ring * sizeof *tok->fring))) return "out of memory";
  if (!tok->ring || !tok->ufront || !tok->unk_buf || !alloc_lattice(tok, INITIAL_CAP)) return "out of memory";
  wm_uni_reset(tok);
  return NULL;
}

void wm_uni_free(wm_tokenizer *tok) {
  free(tok->ub);
  free(tok->ulast);
  free(tok->uid);
  free(tok->ring);
  free(tok->fring);
  free(tok->ufront);
  free(tok->unk_buf);
}

void wm_uni_reset(wm_tokenizer *tok) {
  if (tok->ucap > SHRINK_CAP) {  // give back what a pathological word took
    free(tok->ub);
    free(tok->ulast);
    free(tok->uid);
    tok->ub = NULL;
    tok->ulast = NULL;
    tok->uid = NULL;
    tok->ucap = 0;
    if (!alloc_lattice(tok, INITIAL_CAP)) tok->oom = 1;
  }
  tok->ulen = tok->uproc = tok->ucheck = 0;
  tok->ugap = CHECK_GAP;
  tok->unk_len = 0;
  tok->ubase = 0;
  if (tok->ring) tok->ring[0] = 0.0;
  if (tok->fring) tok->fring[0] = 0.0;
}

// Room for positions 0..need.
static int reserve(wm_tokenizer *tok, size_t need) {
  if (need < tok->ucap) return 1;
  size_t cap = tok->ucap < INITIAL_CAP ? INITIAL_CAP : tok->ucap;  // 0 after a failed shrink
  while (cap <= need) cap *= 2;
  if (cap > ((size_t)1 << 31) / sizeof(int32_t)) { tok->oom = 1; return 0; }
  uint8_t *b = realloc(tok->ub, cap);
  if (b) tok->ub = b;
  uint16_t *l = realloc(tok->ulast, cap * sizeof *l);
  if (l) tok->ulast = l;
  int32_t *id = realloc(tok->uid, cap * sizeof *id);
  if (id) tok->uid = id;
  if (!b || !l || !id) { tok->oom = 1; return 0; }
  tok->ucap = cap;
  return 1;
}

static inline double *score_at(const wm_tokenizer *tok, size_t q) { return &tok->ring[(tok->ubase + q) & tok->ring_mask]; }
static inline double *full_at(const wm_tokenizer *tok, size_t q) { return &tok->fring[(tok->ubase + q) & tok->ring_mask]; }

static inline void relax(wm_tokenizer *tok, size_t e, size_t len, double cand, int32_t id) {
  double *sc = score_at(tok, e);
  if (!tok->ulast[e] || cand > *sc) {
    *sc = cand;
    tok->ulast[e] = (uint16_t)len;
    tok->uid[e] = id;
  }
}

// Every piece starting at s (and the unknown node if no piece is the character at s alone).
static void process(wm_tokenizer *tok, size_t s) {
  const uint8_t *w = tok->ub;
  const uint32_t *t = tok->trie;
  double base = *score_at(tok, s);
  uint8_t b0 = w[s];
  size_t mb = b0 < 0x80 ? 1 : b0 < 0xE0 ? 2 : b0 < 0xF0 ? 3 : 4;  // the word is valid UTF-8 (we encoded it)
  if (mb > tok->ulen - s) mb = tok->ulen - s;
  size_t lim = tok->ulen - s < tok->max_piece ? tok->ulen - s : tok->max_piece;
  int single = 0;
  uint32_t node = tok->root[b0];
  for (size_t len = 1; node; len++) {
    uint32_t v = t[2 * (size_t)node + 1];
    if (v) {
      relax(tok, s + len, len, score_of(tok, v - 1) + base, (int32_t)(v - 1));
      if (len == mb) single = 1;
    }
    if (len >= lim) break;
    node = child(tok, node, w[s + len]);
  }
  if (!single) relax(tok, s + mb, mb, tok->unk_score + base, (int32_t)tok->unk_id);
}

// process() for a pruned vocabulary: the kept pieces feed the lattice, every piece the full-vocabulary scores.
static void process_pruned(wm_tokenizer *tok, size_t s) {
  const uint8_t *w = tok->ub;
  const uint32_t *t = tok->trie;
  double base = *score_at(tok, s), fbase = *full_at(tok, s);
  uint8_t b0 = w[s];
  size_t mb = b0 < 0x80 ? 1 : b0 < 0xE0 ? 2 : b0 < 0xF0 ? 3 : 4;
  if (mb > tok->ulen - s) mb = tok->ulen - s;
  size_t lim = tok->ulen - s < tok->max_piece ? tok->ulen - s : tok->max_piece;
  int single = 0, fsingle = 0;
  uint32_t node = tok->root[b0];
  for (size_t len = 1; node; len++) {
    uint32_t v = t[2 * (size_t)node + 1];
    if (v) {
      uint32_t id = (v & ~WM_TOK_PRUNED) - 1;
      double sc = score_of(tok, id), *f = full_at(tok, s + len);
      if (!(v & WM_TOK_PRUNED)) {
        relax(tok, s + len, len, sc + base, (int32_t)id);
        if (len == mb) single = 1;
      }
      if (sc + fbase > *f) *f = sc + fbase;
      if (len == mb) fsingle = 1;
    }
    if (len >= lim) break;
    node = child(tok, node, w[s + len]);
  }
  if (!fsingle && tok->unk_score + fbase > *full_at(tok, s + mb)) *full_at(tok, s + mb) = tok->unk_score + fbase;
  if (!single) relax(tok, s + mb, mb, tok->unk_score + base, (int32_t)tok->unk_id);
}

// Id of the piece that is exactly s[0..n), or -1.
static int32_t exact(const wm_tokenizer *tok, const uint8_t *s, size_t n) {
  if (!n || n > tok->max_piece) return -1;
  uint32_t node = tok->root[s[0]];
  for (size_t i = 1; node && i < n; i++) node = child(tok, node, s[i]);
  if (!node) return -1;
  uint32_t v = tok->trie[2 * (size_t)node + 1];
  return v & WM_TOK_PRUNED ? -1 : (int32_t)v - 1;  // a pruned piece is no piece here
}

static void unk_add(wm_tokenizer *tok, const uint8_t *b, size_t n) {
  for (size_t i = 0; i < n; i++, tok->unk_len++) {
    if (tok->unk_len < tok->max_piece) {
      tok->unk_buf[tok->unk_len] = b[i];
    } else if (tok->byte_ids) {  // too long to be a piece: its bytes' pieces can go out now
      if (tok->unk_len == tok->max_piece)
        for (size_t j = 0; j < tok->max_piece; j++) wm_tok_emit(tok, (int32_t)tok->byte_ids[tok->unk_buf[j]]);
      wm_tok_emit(tok, (int32_t)tok->byte_ids[b[i]]);
    }
  }
}

static void unk_flush(wm_tokenizer *tok) {
  size_t n = tok->unk_len;
  if (!n) return;
  tok->unk_len = 0;
  if (n <= tok->max_piece) {
    int32_t id = exact(tok, tok->unk_buf, n);
    if (id >= 0) { wm_tok_emit(tok, id); return; }
    if (tok->byte_ids) {
      for (size_t j = 0; j < n; j++) wm_tok_emit(tok, (int32_t)tok->byte_ids[tok->unk_buf[j]]);
      return;
    }
  } else if (tok->byte_ids) {
    return;  // emitted by unk_add
  }
  wm_tok_emit(tok, (int32_t)tok->unk_id);
}

// Emits the best path ending at position c, then drops the lattice before c.
static void commit(wm_tokenizer *tok, size_t c) {
  uint16_t *last = tok->ulast;
  size_t e = c;
  uint16_t carry = 0;
  while (e > 0) {  // turn the back links (lengths of the last pieces) into forward ones
    uint16_t l = last[e];
    last[e] = carry;
    carry = l;
    if (!l || l > e) break;  // cannot happen: every reached position has a piece ending there
    e -= l;
  }
  size_t s = 0;
  for (uint16_t l = carry; l && s + l <= c;) {
    e = s + l;
    int32_t id = tok->uid[e];
    if (id == (int32_t)tok->unk_id) {
      unk_add(tok, tok->ub + s, e - s);
    } else {
      unk_flush(tok);
      wm_tok_emit(tok, id);
    }
    l = last[e];
    s = e;
  }
  size_t keep = tok->ulen - c;
  memmove(tok->ub, tok->ub + c, keep);
  memmove(tok->uid, tok->uid + c, (keep + 1) * sizeof *tok->uid);
  for (size_t q = 1; q <= keep; q++) {
    uint16_t l = last[c + q];
    last[q] = l <= q ? l : (uint16_t)q;  // a piece starting before c is never read again
  }
  tok->ubase += c;
  tok->ulen = keep;
  tok->uproc -= c;
  tok->ucheck = tok->uproc;
}

// The latest position that the best paths of every possible future predecessor go through (0 if none but the start):
// the path read back from the word's end crosses position uproc with a piece that is the current best one of some
// position after uproc, or it passes through uproc itself.
static size_t converge(wm_tokenizer *tok) {
  size_t hi = tok->uproc, end = tok->ulen < hi + tok->max_piece ? tok->ulen : hi + tok->max_piece;
  uint32_t *p = tok->ufront, n = 0;
  p[n++] = (uint32_t)hi;
  for (size_t e = hi + 1; e <= end; e++) {
    uint32_t l = tok->ulast[e];
    if (!l || e - l >= hi) continue;
    uint32_t q = (uint32_t)(e - l), j = 0;
    while (j < n && p[j] != q) j++;
    if (j == n) p[n++] = q;
  }
  for (;;) {
    uint32_t m = 0, all = 1;
    for (uint32_t i = 0; i < n; i++)
      if (p[i] > m) m = p[i];
    for (uint32_t i = 0; i < n && all; i++) all = p[i] == m;
    if (all || m == 0) return m;
    uint32_t k = 0, l = tok->ulast[m];
    uint32_t back = l && l <= m ? m - l : 0;
    for (uint32_t i = 0; i < n; i++) {  // step the latest back; drop duplicates
      uint32_t v = p[i] == m ? back : p[i];
      uint32_t j = 0;
      while (j < k && p[j] != v) j++;
      if (j == k) p[k++] = v;
    }
    n = k;
  }
}

static void advance(wm_tokenizer *tok, int final) {
  while (tok->uproc < tok->ulen && (final || tok->uproc + tok->max_piece <= tok->ulen)) {
    if (tok->fring) process_pruned(tok, tok->uproc);
    else process(tok, tok->uproc);
    uint8_t b0 = tok->ub[tok->uproc];
    tok->uproc += b0 < 0x80 ? 1 : b0 < 0xE0 ? 2 : b0 < 0xF0 ? 3 : 4;
    if (tok->uproc > tok->ulen) tok->uproc = tok->ulen;
  }
  if (!final && tok->uproc >= tok->ucheck + tok->ugap) {
    size_t c = converge(tok);
    if (c > 0) {
      commit(tok, c);
      tok->ugap = CHECK_GAP;
    } else {
      tok->ucheck = tok->uproc;
      if (tok->ugap < ((size_t)1 << 30)) tok->ugap *= 2;  // keeps the checks linear in total when paths never meet
    }
  }
}

void wm_uni_char(wm_tokenizer *tok, uint32_t cp) {
  if (tok->ulen + 4 >= tok->ucap && !reserve(tok, tok->ulen + 4)) return;
  size_t n = wm_utf8_put(tok->ub + tok->ulen, cp);
  for (size_t i = 1; i <= n; i++) tok->ulast[tok->ulen + i] = 0;
  // not reached yet; ulen - uproc < max_piece + 4 <= ring size, so no live position shares the slot
  if (tok->fring)
    for (size_t i = 1; i <= n; i++) *full_at(tok, tok->ulen + i) = -INFINITY;
  tok->ulen += n;
  // nothing to do until a start has max_piece bytes after it (most words end before)
  if (tok->uproc + tok->max_piece <= tok->ulen && !tok->oom && !wm_tok_full(tok)) advance(tok, 0);
}

void wm_uni_end(wm_tokenizer *tok) {
  if (tok->ulen && !tok->oom && !wm_tok_full(tok)) {
    advance(tok, 1);
    // absolute sums from the word start: the two best paths of the whole word
    if (tok->fring && *full_at(tok, tok->ulen) > *score_at(tok, tok->ulen)) tok->hit = 1;
    commit(tok, tok->ulen);
    unk_flush(tok);
  }
  wm_uni_reset(tok);
}
