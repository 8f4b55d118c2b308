// Tokenizer entry points: validation of the untrusted blob (every offset and size is checked before use; the
// only allocations are bounded by the blob's real size and the validated limits), and the encode driver:
// added-token matching on the raw text (leftmost-longest, as Hugging Face's AddedVocabulary), the normalizer /
// pre-tokenizer / model pipeline on the text between them (BERT + WordPiece, or the generic SentencePiece-style one:
// see tokenizer_impl.h), the template's special tokens, and truncation that stops reading as soon as the id budget
// is full. Invalid UTF-8 decodes like Rust's from_utf8_lossy.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tokenizer/tokenizer_impl.h"
#include "tokenizer/unicode.h"
#include "tokenizer/utf8.h"

static uint32_t rd32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static wm_tokenizer *fail(wm_tokenizer *tok, char *err, size_t cap, const char *msg, int has_value, unsigned long v) {
  if (err && cap) {
    if (has_value) snprintf(err, cap, "tokenizer blob: %s %lu", msg, v);
    else snprintf(err, cap, "tokenizer blob: %s", msg);
  }
  wm_tokenizer_free(tok);
  return NULL;
}
#define FAIL(msg) return fail(tok, err, err_cap, msg, 0, 0)
#define FAILV(msg, v) return fail(tok, err, err_cap, msg, 1, (unsigned long)(v))

// [off, off + n * elem) lies inside the blob and off is 4-aligned.
static int region_ok(size_t size, uint32_t off, uint64_t n, uint64_t elem) {
  return off % 4 == 0 && off >= WM_TOK_HEADER && (uint64_t)off <= size && n * elem <= (uint64_t)size - off;
}

static int added_cmp(const void *a, const void *b) {
  const wm_added_token *x = a, *y = b;
  if (x->len != y->len) return x->len > y->len ? -1 : 1;
  return 0;
}

wm_tokenizer *wm_tokenizer_new(const uint8_t *blob, size_t size, char *err, size_t err_cap) {
  wm_tokenizer *tok = NULL;
  if (err && err_cap) err[0] = 0;
  if (!blob) FAIL("no data");
  if (size < WM_TOK_HEADER) FAILV("too small: bytes", size);
  if ((uintptr_t)blob % 4) FAIL("not 4-byte aligned in memory");
  if (rd32(blob) != WM_TOK_MAGIC) FAIL("bad magic (expected \"WTOK\")");
  if (rd32(blob + 4) != WM_TOK_VERSION) FAILV("unsupported version", rd32(blob + 4));
  if (rd32(blob + 8) != size) FAILV("total_size does not match the section size", rd32(blob + 8));
  tok = calloc(1, sizeof *tok);
  if (!tok) FAIL("out of memory");
  uint32_t model = rd32(blob + 12);
  if (model != WM_TOK_MODEL_WORDPIECE && model != WM_TOK_MODEL_UNIGRAM) FAILV("unsupported model type", model);
  tok->model_type = model;
  tok->norm_type = rd32(blob + 16);
  tok->norm_flags = rd32(blob + 20);
  tok->pre_type = rd32(blob + 24);
  tok->post_type = rd32(blob + 28);
  if (tok->norm_type > WM_TOK_NORM_SEQUENCE) FAILV("unsupported normalizer type", tok->norm_type);
  if (tok->norm_flags & ~15u) FAILV("unknown normalizer flags", tok->norm_flags);
  if (tok->norm_type != WM_TOK_NORM_BERT && tok->norm_flags) FAIL("normalizer flags without a BertNormalizer");
  if (tok->pre_type > WM_TOK_PRE_WSPLIT_METASPACE) FAILV("unsupported pre-tokenizer type", tok->pre_type);
  if (tok->post_type > WM_TOK_POST_TEMPLATE) FAILV("unsupported post-processor type", tok->post_type);
  // The BERT pipeline (BertNormalizer / BertPreTokenizer / none, WordPiece) or the generic one (normalizer sequence
  // / none, Metaspace / WhitespaceSplit / none, Unigram or WordPiece).
  tok->generic = !(model == WM_TOK_MODEL_WORDPIECE && tok->norm_type <= WM_TOK_NORM_BERT && tok->pre_type <= WM_TOK_PRE_BERT);
  if (tok->generic && (tok->norm_type == WM_TOK_NORM_BERT || tok->pre_type == WM_TOK_PRE_BERT))
    FAIL("BertNormalizer / BertPreTokenizer only with WordPiece, a BERT or no normalizer and a BERT or no pre-tokenizer");
  uint32_t nsteps = rd32(blob + 112), steps_off = rd32(blob + 116);
  tok->meta_cp = rd32(blob + 120);
  tok->meta_flags = rd32(blob + 124);
  if (tok->norm_type != WM_TOK_NORM_SEQUENCE && (nsteps || steps_off)) FAIL("normalizer steps without a sequence normalizer");
  if (tok->pre_type == WM_TOK_PRE_METASPACE || tok->pre_type == WM_TOK_PRE_WSPLIT_METASPACE) {
    if (!tok->meta_cp || tok->meta_cp > 0x10FFFF || (tok->meta_cp >= 0xD800 && tok->meta_cp <= 0xDFFF))
      FAILV("bad Metaspace replacement", tok->meta_cp);
    if ((tok->meta_flags & ~7u) || (tok->meta_flags & 3) > WM_TOK_PREPEND_NEVER) FAILV("bad Metaspace flags", tok->meta_flags);
    if (tok->pre_type == WM_TOK_PRE_WSPLIT_METASPACE && (tok->meta_flags & 3) == WM_TOK_PREPEND_FIRST)
      FAIL("Metaspace prepend_scheme first after WhitespaceSplit is not supported");
  } else if (tok->meta_cp || tok->meta_flags) {
    FAIL("Metaspace fields without a Metaspace pre-tokenizer");
  }
  tok->num_ids = rd32(blob + 32);
  tok->vocab_count = rd32(blob + 36);
  tok->unk_id = rd32(blob + 40);
  if (tok->num_ids > WM_TOK_MAX_IDS || tok->vocab_count < 1 || tok->vocab_count > tok->num_ids)
    FAILV("bad vocab_count / num_ids", tok->vocab_count);
  if (tok->unk_id >= tok->vocab_count) FAILV("unk id not in the vocab", tok->unk_id);
  uint32_t str_off = rd32(blob + 76), str_size = rd32(blob + 80);
  uint32_t added_n = rd32(blob + 92), added_off = rd32(blob + 96);
  uint32_t tp = rd32(blob + 100), ts = rd32(blob + 104), t_off = rd32(blob + 108);
  if (str_off < WM_TOK_HEADER || str_off > size || str_size > size - str_off) FAIL("strings out of bounds");
  tok->strings = blob + str_off;
  if (tok->norm_type == WM_TOK_NORM_SEQUENCE) {
    const char *e = wm_seq_init(tok, blob, size, nsteps, steps_off);
    if (e) return fail(tok, err, err_cap, e, 0, 0);
  }
  if (model == WM_TOK_MODEL_UNIGRAM) {
    const char *e = wm_uni_init(tok, blob, size);
    if (e) return fail(tok, err, err_cap, e, 0, 0);
  } else {
    tok->max_chars = rd32(blob + 44);
    tok->max_token_bytes = rd32(blob + 48);
    tok->prefix_len = rd32(blob + 52);
    tok->prefix = blob + 56;
    if (tok->max_chars < 1 || tok->max_chars > WM_TOK_MAX_WORD_CHARS) FAILV("bad max_input_chars_per_word", tok->max_chars);
    if (tok->max_token_bytes < 1 || tok->max_token_bytes > WM_TOK_MAX_TOKEN_BYTES) FAILV("bad max_token_bytes", tok->max_token_bytes);
    if (tok->prefix_len > WM_TOK_MAX_PREFIX) FAILV("continuing prefix too long", tok->prefix_len);
    for (uint32_t i = tok->prefix_len; i < WM_TOK_MAX_PREFIX; i++)
      if (tok->prefix[i]) FAIL("continuing prefix padding is not zero");
    uint32_t h = WM_FNV_BASIS;
    for (uint32_t i = 0; i < tok->prefix_len; i++) h = (h ^ tok->prefix[i]) * WM_FNV_PRIME;
    tok->prefix_hash = h;

    uint32_t hash_bits = rd32(blob + 72), tok_off = rd32(blob + 84), slot_off = rd32(blob + 88);
    if (!region_ok(size, tok_off, tok->vocab_count, 8)) FAIL("token index out of bounds");
    tok->tokens = (const uint32_t *)(const void *)(blob + tok_off);
    for (uint32_t i = 0; i < tok->vocab_count; i++) {
      uint32_t o = tok->tokens[2 * i], n = tok->tokens[2 * i + 1] & ~WM_TOK_PRUNED;
      if (n > tok->max_token_bytes || o > str_size || n > str_size - o) FAILV("token out of bounds: id", i);
      if (tok->tokens[2 * i + 1] & WM_TOK_PRUNED) {
        if (!n) FAILV("pruned flag on an empty token index entry: id", i);
        tok->pruned = 1;
      }
    }
    if ((tok->tokens[2 * tok->unk_id + 1] & ~WM_TOK_PRUNED) == 0) FAILV("unk id not in the vocab", tok->unk_id);
    if (tok->tokens[2 * tok->unk_id + 1] & WM_TOK_PRUNED) FAILV("unk token is pruned: id", tok->unk_id);
    if (hash_bits < 1 || hash_bits > WM_TOK_MAX_HASH_BITS) FAILV("bad hash_bits", hash_bits);
    uint32_t nslots = 1u << hash_bits;
    if (!region_ok(size, slot_off, nslots, 4)) FAIL("hash slots out of bounds");
    tok->slots = (const uint32_t *)(const void *)(blob + slot_off);
    tok->slot_mask = nslots - 1;
    uint32_t empty = 0;
    for (uint32_t i = 0; i < nslots; i++) {
      uint32_t v = tok->slots[i];
      if (!v) { empty++; continue; }
      uint32_t id = (v & 0xFFFFFF) - 1;
      if ((v & 0xFFFFFF) == 0 || id >= tok->vocab_count || (tok->tokens[2 * id + 1] & ~WM_TOK_PRUNED) == 0) FAILV("bad hash slot", i);
    }
    if (!empty) FAIL("hash table has no empty slot");
  }

  if (!region_ok(size, added_off, added_n, 16)) FAIL("added tokens out of bounds");
  if (added_n) {
    tok->added = calloc(added_n, sizeof *tok->added);  // bounded: 16 blob bytes per entry
    if (!tok->added) FAIL("out of memory");
  }
  tok->added_count = added_n;
  const uint8_t *a = blob + added_off;
  for (uint32_t i = 0; i < added_n; i++, a += 16) {
    uint32_t id = rd32(a), o = rd32(a + 4), n = rd32(a + 8), fl = rd32(a + 12);
    if (id >= tok->num_ids) FAILV("added token id out of range", id);
    if (n < 1 || o > str_size || n > str_size - o) FAILV("added token string out of bounds: index", i);
    if (fl & ~7u) FAILV("unknown added token flags", fl);
    tok->added[i] = (wm_added_token){id, n, tok->strings + o, fl};
    tok->added_first[tok->strings[o]] = 1;
  }
  if (added_n > 1) qsort(tok->added, added_n, sizeof *tok->added, added_cmp);

  if (tok->post_type == WM_TOK_POST_NONE && (tp || ts)) FAIL("template ids without a post-processor");
  if (tp > WM_TOK_MAX_TEMPLATE || ts > WM_TOK_MAX_TEMPLATE) FAIL("template too long");
  if (!region_ok(size, t_off, (uint64_t)tp + ts, 4)) FAIL("template out of bounds");
  tok->tmpl = (const uint32_t *)(const void *)(blob + t_off);
  tok->tmpl_prefix = tp;
  tok->tmpl_suffix = ts;
  for (uint32_t i = 0; i < tp + ts; i++)
    if (tok->tmpl[i] >= tok->num_ids) FAILV("template id out of range", tok->tmpl[i]);

  if (model == WM_TOK_MODEL_UNIGRAM) return tok;
  // scratch, bounded by the validated max_input_chars_per_word
  tok->word = malloc((size_t)tok->max_chars * 4 + 4);
  tok->word_ids = malloc((size_t)tok->max_chars * sizeof *tok->word_ids);
  tok->pend = malloc(((size_t)tok->max_chars + 1) * sizeof *tok->pend);
  tok->pend_ccc = malloc((size_t)tok->max_chars + 1);
  tok->hashes = malloc(((size_t)tok->max_token_bytes + 1) * sizeof *tok->hashes);
  tok->maxlen = calloc(2 * WM_MAXLEN_BUCKETS, sizeof *tok->maxlen);
  tok->lenmask = calloc(2 * WM_MAXLEN_BUCKETS, sizeof *tok->lenmask);
  if (!tok->word || !tok->word_ids || !tok->pend || !tok->pend_ccc || !tok->hashes || !tok->maxlen || !tok->lenmask)
    FAIL("out of memory");
  for (uint32_t i = 0; i < tok->vocab_count; i++) {
    const uint8_t *t = tok->strings + tok->tokens[2 * i];
    uint32_t n = tok->tokens[2 * i + 1] & ~WM_TOK_PRUNED, pl = tok->prefix_len;  // pruned ones too: see wordpiece.c
    if (n >= 2) {
      uint32_t k = wm_maxlen_bucket(t[0], t[1]);
      if (tok->maxlen[k] < n) tok->maxlen[k] = (uint16_t)n;
      tok->lenmask[k] |= 1u << (n < 31 ? n : 31);
    }
    if (n >= pl + 2 && memcmp(t, tok->prefix, pl) == 0) {
      uint32_t k = WM_MAXLEN_BUCKETS + wm_maxlen_bucket(t[pl], t[pl + 1]), m = n - pl;
      if (tok->maxlen[k] < m) tok->maxlen[k] = (uint16_t)m;
      tok->lenmask[k] |= 1u << (m < 31 ? m : 31);
    }
  }
  // What the pipeline does with each ASCII character (same decisions as normalize.c / pretokenize.c).
  for (uint32_t c = 0; c < 128; c++) {
    uint32_t cp = c;
    uint8_t cls = WM_ASCII_WORD;
    if (tok->norm_type == WM_TOK_NORM_BERT) {
      if (tok->norm_flags & WM_TOK_CLEAN_TEXT) {
        if (c == '\t' || c == '\n' || c == '\r') cp = ' ';
        else if (c == 0 || (wm_uc_props(c) & WM_UC_OTHER)) cls = WM_ASCII_DROP;
        else if (wm_uc_props(c) & WM_UC_WS) cp = ' ';
      }
      if ((tok->norm_flags & WM_TOK_LOWERCASE) && cp >= 'A' && cp <= 'Z') cp += 32;
    }
    if (cls != WM_ASCII_DROP && tok->pre_type == WM_TOK_PRE_BERT) {
      if (wm_uc_props(cp) & WM_UC_WS) cls = WM_ASCII_SPLIT;
      else if (wm_uc_props(cp) & WM_UC_PUNCT) cls = WM_ASCII_PUNCT;
    }
    tok->ascii_class[c] = cls;
    tok->ascii_map[c] = (uint8_t)cp;
  }
  return tok;
}

void wm_tokenizer_free(wm_tokenizer *tok) {
  if (!tok) return;
  wm_seq_free(tok);
  wm_uni_free(tok);
  free(tok->added);
  free(tok->word);
  free(tok->word_ids);
  free(tok->pend);
  free(tok->pend_ccc);
  free(tok->hashes);
  free(tok->maxlen);
  free(tok->lenmask);
  free(tok);
}

int wm_tokenizer_pruned_hit(const wm_tokenizer *tok) { return tok->hit; }

int wm_tokenizer_num_special(const wm_tokenizer *tok) { return (int)(tok->tmpl_prefix + tok->tmpl_suffix); }

int wm_tokenizer_num_ids(const wm_tokenizer *tok) { return (int)tok->num_ids; }

// Longest added token matching text at p, or NULL.
static const wm_added_token *match_added(const wm_tokenizer *tok, const uint8_t *s, size_t len, size_t p) {
  size_t left = len - p;
  for (uint32_t i = 0; i < tok->added_count; i++) {  // longest first
    const wm_added_token *t = &tok->added[i];
    if (t->len <= left && t->bytes[0] == s[p] && memcmp(t->bytes, s + p, t->len) == 0) return t;
  }
  return NULL;
}

// The generic pipeline: added tokens split the text; each split between them goes through the normalizer sequence,
// the pre-tokenizer and the model (normseq.c -> metaspace.c -> unigram.c / wordpiece.c).
static void encode_generic(wm_tokenizer *tok, const uint8_t *s, size_t len) {
  if (tok->model_type == WM_TOK_MODEL_UNIGRAM) wm_uni_reset(tok);
  size_t p = 0;
  int in_split = 0;
  while (p < len && !wm_tok_full(tok)) {
    uint8_t b = s[p];
    if (tok->added_first[b]) {
      const wm_added_token *t = match_added(tok, s, len, p);
      if (t) {
        if (in_split) {
          wm_seq_end(tok);
          in_split = 0;
        }
        wm_tok_emit(tok, (int32_t)t->id);
        p += t->len;
        continue;
      }
    }
    if (!in_split) {
      wm_seq_begin(tok, p == 0);
      in_split = 1;
    }
    uint32_t cp = b;
    if (b < 0x80) p++;
    else cp = wm_utf8_next(s, len, &p);
    wm_seq_char(tok, cp);
  }
  if (in_split && !wm_tok_full(tok)) wm_seq_end(tok);
}

int wm_tokenizer_encode(wm_tokenizer *tok, const char *text, size_t len, int32_t *ids, int max_tokens) {
  int nspecial = wm_tokenizer_num_special(tok);
  if (max_tokens < nspecial) return -1;
  if (!text) len = 0;
  const uint8_t *s = (const uint8_t *)text;
  for (uint32_t i = 0; i < tok->tmpl_prefix; i++) ids[i] = (int32_t)tok->tmpl[i];
  tok->out = ids + tok->tmpl_prefix;
  tok->out_n = 0;
  tok->out_cap = max_tokens - nspecial;
  tok->word_len = 0;
  tok->word_chars = 0;
  tok->pend_n = 0;
  tok->hit = 0;
  if (tok->generic) {
    encode_generic(tok, s, len);
    int n = (int)tok->tmpl_prefix + tok->out_n;
    for (uint32_t i = 0; i < tok->tmpl_suffix; i++) ids[n++] = (int32_t)tok->tmpl[tok->tmpl_prefix + i];
    tok->out = NULL;
    if (tok->oom) {
      tok->oom = 0;
      return -2;
    }
    return n;
  }

  size_t p = 0;
  while (p < len && !wm_tok_full(tok)) {
    uint8_t b = s[p];
    if (b < 0x80 && !tok->added_first[b] && !tok->pend_n) {  // ASCII fast path (nothing pending in NFD)
      switch (tok->ascii_class[b]) {
        case WM_ASCII_WORD: wm_tok_word_add(tok, tok->ascii_map[b]); break;
        case WM_ASCII_SPLIT: wm_pre_end_word(tok); break;
        case WM_ASCII_PUNCT:
          wm_pre_end_word(tok);
          wm_tok_word_add(tok, tok->ascii_map[b]);
          wm_pre_end_word(tok);
          break;
        default: break;
      }
      p++;
      continue;
    }
    if (tok->added_first[b]) {
      const wm_added_token *t = match_added(tok, s, len, p);
      if (t) {
        // lstrip / rstrip only move whitespace between segments: with the whitespace-splitting pre-tokenizer
        // (the converter refuses them otherwise) that changes no id.
        wm_norm_flush(tok);
        wm_tok_emit(tok, (int32_t)t->id);
        p += t->len;
        continue;
      }
    }
    uint32_t cp = wm_utf8_next(s, len, &p);
    wm_norm_char(tok, cp);
  }
  if (!wm_tok_full(tok)) wm_norm_flush(tok);
  int n = (int)tok->tmpl_prefix + tok->out_n;
  for (uint32_t i = 0; i < tok->tmpl_suffix; i++) ids[n++] = (int32_t)tok->tmpl[tok->tmpl_prefix + i];
  tok->out = NULL;
  return n;
}
