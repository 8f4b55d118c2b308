// BertNormalizer, streamed one code point at a time: clean_text, handle_chinese_chars, strip_accents (NFD, then
// drop Mn) and lowercase, in that order, with the Unicode versions Hugging Face tokenizers uses (unicode.h).
// NFD's canonical reordering buffers the non-starters after a starter; Mn marks are dropped before buffering
// (dropping them after a stable sort by combining class gives the same sequence).
#include "tokenizer/tokenizer_impl.h"
#include "tokenizer/unicode.h"

static inline void lower_out(wm_tokenizer *tok, uint32_t cp) {
  if (tok->norm_flags & WM_TOK_LOWERCASE) {
    uint32_t l[WM_UC_MAX_LOWER];
    int n = wm_uc_lower(cp, l);
    for (int i = 0; i < n; i++) wm_pre_char(tok, l[i]);
  } else {
    wm_pre_char(tok, cp);
  }
}

static void flush_pending(wm_tokenizer *tok) {
  uint32_t n = tok->pend_n;
  if (!n) return;
  // stable insertion sort by combining class (runs are short)
  for (uint32_t i = 1; i < n; i++) {
    uint32_t c = tok->pend[i];
    uint8_t k = tok->pend_ccc[i];
    uint32_t j = i;
    while (j > 0 && tok->pend_ccc[j - 1] > k) {
      tok->pend[j] = tok->pend[j - 1];
      tok->pend_ccc[j] = tok->pend_ccc[j - 1];
      j--;
    }
    tok->pend[j] = c;
    tok->pend_ccc[j] = k;
  }
  tok->pend_n = 0;
  for (uint32_t i = 0; i < n; i++) lower_out(tok, tok->pend[i]);
}

// After NFD: one decomposed code point.
static inline void reorder(wm_tokenizer *tok, uint32_t cp) {
  if (cp < 0x300) {  // no combining class, not Mn
    if (tok->pend_n) flush_pending(tok);
    lower_out(tok, cp);
    return;
  }
  if (wm_uc_props(cp) & WM_UC_MN) return;  // strip_accents drops Mn
  uint32_t k = wm_uc_ccc(cp);
  if (k == 0) {
    if (tok->pend_n) flush_pending(tok);
    lower_out(tok, cp);
    return;
  }
  if (tok->pend_n > tok->max_chars) {
    // More non-starters than a word may hold: the word they belong to is [UNK] whatever their order.
    flush_pending(tok);
  }
  tok->pend[tok->pend_n] = cp;
  tok->pend_ccc[tok->pend_n] = (uint8_t)k;
  tok->pend_n++;
}

static inline void after_chinese(wm_tokenizer *tok, uint32_t cp) {
  if (tok->norm_flags & WM_TOK_STRIP_ACCENTS) {
    if (cp < 0xC0) { reorder(tok, cp); return; }
    uint32_t d[WM_UC_MAX_DECOMP];
    int n = wm_uc_nfd(cp, d);
    for (int i = 0; i < n; i++) reorder(tok, d[i]);
  } else {
    lower_out(tok, cp);
  }
}

void wm_norm_char(wm_tokenizer *tok, uint32_t cp) {
  if (tok->norm_type == WM_TOK_NORM_NONE) { wm_pre_char(tok, cp); return; }
  uint32_t flags = tok->norm_flags;
  if (tok->pre_type == WM_TOK_PRE_BERT && wm_uc_is_plain(cp)) {
    // Fast path: every stage leaves cp unchanged (a starter: it ends NFD reordering) and it is a word character.
    if (tok->pend_n) flush_pending(tok);
    if ((flags & WM_TOK_HANDLE_CHINESE) && wm_uc_is_chinese(cp)) {
      wm_pre_end_word(tok);
      wm_tok_word_add(tok, cp);
      wm_pre_end_word(tok);
    } else {
      wm_tok_word_add(tok, cp);
    }
    return;
  }
  if (flags & WM_TOK_CLEAN_TEXT) {
    if (cp == 0 || cp == 0xFFFD) return;
    uint32_t p = wm_uc_props(cp);
    if (cp == '\t' || cp == '\n' || cp == '\r') cp = ' ';
    else if (p & WM_UC_OTHER) return;
    else if (p & WM_UC_WS) cp = ' ';
  }
  if ((flags & WM_TOK_HANDLE_CHINESE) && cp >= 0x3400 && wm_uc_is_chinese(cp)) {
    after_chinese(tok, ' ');
    after_chinese(tok, cp);
    after_chinese(tok, ' ');
    return;
  }
  after_chinese(tok, cp);
}

void wm_norm_flush(wm_tokenizer *tok) {
  if (tok->pend_n) flush_pending(tok);
  wm_pre_end_word(tok);
}
