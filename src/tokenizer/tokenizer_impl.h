// Internal shared definitions of the tokenizer: the validated blob view, the per-encode scratch state, and the
// entry points of each pipeline stage, driven by tokenizer.c. Two pipelines:
//   BERT:    normalize.c (BertNormalizer) -> pretokenize.c (BertPreTokenizer) -> wordpiece.c
//   generic: normseq.c (Sequence: precompiled.c, Replace) -> metaspace.c (Metaspace / WhitespaceSplit)
//            -> unigram.c or wordpiece.c
#ifndef WM_TOKENIZER_IMPL_H
#define WM_TOKENIZER_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "tokenizer/grapheme.h"
#include "tokenizer/tokenizer.h"

// Blob constants (docs/format.md, "Tokenizer blob"; writer: js/convert/tokenizer.js).
#define WM_TOK_MAGIC 0x4b4f5457u  // "WTOK"
#define WM_TOK_VERSION 1
#define WM_TOK_HEADER 128
#define WM_TOK_MODEL_WORDPIECE 1
#define WM_TOK_MODEL_UNIGRAM 2
#define WM_TOK_NORM_NONE 0
#define WM_TOK_NORM_BERT 1
#define WM_TOK_NORM_SEQUENCE 2
#define WM_TOK_PRE_NONE 0
#define WM_TOK_PRE_BERT 1
#define WM_TOK_PRE_METASPACE 2
#define WM_TOK_PRE_WHITESPACE_SPLIT 3
#define WM_TOK_PRE_WSPLIT_METASPACE 4  // WhitespaceSplit, then Metaspace on each piece
#define WM_TOK_PREPEND_ALWAYS 0        // metaspace flags, bits 0-1
#define WM_TOK_PREPEND_FIRST 1
#define WM_TOK_PREPEND_NEVER 2
#define WM_TOK_META_SPLIT 4
#define WM_TOK_STEP_PRECOMPILED 1      // normalizer sequence steps
#define WM_TOK_STEP_REPLACE 2
#define WM_TOK_STEP_SIZE 32
#define WM_TOK_MAX_STEPS 8
#define WM_TOK_UNIGRAM_BYTE_FALLBACK 1
// On a Unigram trie id or a WordPiece token length: the piece lies outside the kept vocabulary of a pruned model
// (convert --vocab-from). It stays in the blob so that the tokenizer can tell when the full vocabulary would have
// tokenized a word differently (wm_tokenizer_pruned_hit).
#define WM_TOK_PRUNED 0x80000000u
#define WM_PC_MAX_KEY 5                // longest charsmap key the reference can match (bytes)
#define WM_PC_MAX_HASH_BITS 24
#define WM_REPLACE_MAX_CHARS 16
#define WM_REPLACE_MAX_PATTERN 64      // bytes
#define WM_REPLACE_MAX_CONTENT 4096    // bytes
#define WM_REPLACE_MAX_REPEAT 65536
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

static inline uint32_t wm_rd32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
// [off, off + n * elem) lies inside a blob of size bytes, after its header, and off is 4-aligned.
static inline int wm_region_ok(size_t size, uint32_t off, uint64_t n, uint64_t elem) {
  return off % 4 == 0 && off >= WM_TOK_HEADER && (uint64_t)off <= size && n * elem <= (uint64_t)size - off;
}
static inline size_t wm_utf8_len(uint32_t cp) { return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4; }
static inline size_t wm_utf8_put(uint8_t *o, uint32_t cp) {
  if (cp < 0x80) { o[0] = (uint8_t)cp; return 1; }
  if (cp < 0x800) { o[0] = (uint8_t)(0xC0 | (cp >> 6)); o[1] = (uint8_t)(0x80 | (cp & 0x3F)); return 2; }
  if (cp < 0x10000) {
    o[0] = (uint8_t)(0xE0 | (cp >> 12)); o[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F)); o[2] = (uint8_t)(0x80 | (cp & 0x3F));
    return 3;
  }
  o[0] = (uint8_t)(0xF0 | (cp >> 18)); o[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
  o[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F)); o[3] = (uint8_t)(0x80 | (cp & 0x3F));
  return 4;
}

typedef struct {
  uint32_t id;
  uint32_t len;
  const uint8_t *bytes;
  uint32_t flags;
} wm_added_token;

// One step of a normalizer sequence: its validated parameters and its streaming state.
typedef struct {
  uint32_t type;
  // Precompiled: charsmap keys (<= WM_PC_MAX_KEY bytes) and replacement strings, hash table over the keys
  const uint32_t *pc_entries;  // {key offset, value offset, key length | value length << 8} into pc_pool
  const uint32_t *pc_slots;    // entry index + 1, 0 = empty (FNV-1a of the key, linear probing)
  const uint8_t *pc_pool;
  uint32_t pc_mask;
  uint8_t *pc_first;           // 2 x 2^16 bits, by cp & 0xFFFF: [0] a one-character key may be cp, [1] a longer key
                               // may start with cp
  wm_gc_state gc;              // grapheme cluster state
  uint32_t clu[WM_PC_MAX_KEY + 1];
  uint32_t clu_n, clu_bytes;   // the current cluster while it is shorter than 6 bytes
  int clu_long;                // the current cluster reached 6 bytes: its characters are mapped one by one
  // Replace: a literal pattern (min_repeat 0) or one character repeated at least min_repeat times
  uint32_t pat[WM_REPLACE_MAX_CHARS], pat_n, min_repeat;
  const uint8_t *content;
  uint32_t content_len;
  uint32_t win[WM_REPLACE_MAX_CHARS], win_n;  // literal: the last characters that may start a match
  uint32_t run;                               // repeat: length of the current run
} wm_norm_step;

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
  int pruned;                // some entry carries WM_TOK_PRUNED
  int hit;                   // this encode: the kept vocabulary changed the tokenization of a word
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

  // --- generic pipeline (normalizer sequence, Metaspace / WhitespaceSplit, Unigram) ---
  uint32_t model_type;
  int generic;                          // not the BERT pipeline
  wm_norm_step steps[WM_TOK_MAX_STEPS];
  uint32_t nsteps;
  uint32_t meta_cp, meta_flags;         // Metaspace replacement and flags
  int seg_first, seg_at_start;          // Metaspace: no character of this split seen yet; the split starts the text
  // Unigram model
  const uint32_t *trie;                 // piece trie, breadth-first: (nodes + 1) x {first child, id + 1 (0: none)}
  const uint8_t *trie_lab;              // last byte of each node (each node's children sorted by it)
  uint32_t trie_n;
  const uint8_t *scores;                // vocab_count little-endian f64
  const uint32_t *byte_ids;             // byte fallback: id of <0xXX>, or NULL
  uint32_t uni_flags, max_piece;
  double unk_score;                     // min score - 10, as Hugging Face
  uint32_t root[256];                   // children of the trie root by byte (0 = none)
  // Unigram: the current word from the last committed position on, with its Viterbi lattice (positions 0..ulen)
  uint8_t *ub;
  uint16_t *ulast;                      // length of the best last piece ending at each position (0: not reached)
  int32_t *uid;                         // its id
  double *ring;                         // best path scores, by absolute position modulo ring_mask + 1
  double *fring;                        // pruned blobs: the same over the full vocabulary (kept and pruned pieces)
  size_t ring_mask, ubase;              // ubase: absolute position of lattice position 0
  uint32_t *ufront;                     // convergence check scratch (max_piece + 1 entries)
  size_t ucap, ulen, uproc, ucheck, ugap;
  uint8_t *unk_buf;                     // pending run of fused unknown pieces (first max_piece bytes)
  size_t unk_len;
  int oom;                              // an encode ran out of memory (encode returns -2)
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

// --- generic pipeline ---
// normseq.c: validates the normalizer steps (blob offsets are absolute); returns an error message or NULL.
const char *wm_seq_init(wm_tokenizer *tok, const uint8_t *blob, size_t size, uint32_t count, uint32_t off);
void wm_seq_free(wm_tokenizer *tok);
// normseq.c: a split of the text between added tokens: begin (at_start: it starts the text), characters, end.
void wm_seq_begin(wm_tokenizer *tok, int at_start);
void wm_seq_char(wm_tokenizer *tok, uint32_t cp);
void wm_seq_end(wm_tokenizer *tok);
// normseq.c: hands cp to step k of the sequence (k == nsteps: to the pre-tokenizer).
void wm_norm_out(wm_tokenizer *tok, uint32_t k, uint32_t cp);
// precompiled.c: the Precompiled step (step k): validation, characters, end of the split.
const char *wm_pc_init(wm_norm_step *st, const uint8_t *blob, size_t size, const uint32_t *rec);
void wm_pc_char(wm_tokenizer *tok, uint32_t k, uint32_t cp);
void wm_pc_end(wm_tokenizer *tok, uint32_t k);
// metaspace.c: the generic pre-tokenizers, fed with normalized characters of one split.
void wm_meta_begin(wm_tokenizer *tok, int at_start);
void wm_meta_char(wm_tokenizer *tok, uint32_t cp);
void wm_meta_end(wm_tokenizer *tok);
// unigram.c: validation of the Unigram header fields and regions; returns an error message or NULL.
const char *wm_uni_init(wm_tokenizer *tok, const uint8_t *blob, size_t size);
void wm_uni_free(wm_tokenizer *tok);
// unigram.c: the characters of one pre-tokenized word, then its end (Viterbi, fused unknowns, byte fallback).
void wm_uni_char(wm_tokenizer *tok, uint32_t cp);
void wm_uni_end(wm_tokenizer *tok);
void wm_uni_reset(wm_tokenizer *tok);

// The generic pipeline's word sink: the model of the blob.
static inline void wm_word_char(wm_tokenizer *tok, uint32_t cp) {
  if (tok->model_type == WM_TOK_MODEL_UNIGRAM) wm_uni_char(tok, cp);
  else wm_tok_word_add(tok, cp);
}
static inline void wm_word_end(wm_tokenizer *tok) {
  if (tok->model_type == WM_TOK_MODEL_UNIGRAM) wm_uni_end(tok);
  else wm_pre_end_word(tok);
}

#endif
