// BertPreTokenizer, streamed: splits the normalized text on whitespace (dropped) and isolates every punctuation
// character, collecting each word's UTF-8 bytes and handing complete words to WordPiece.
#include "tokenizer/tokenizer_impl.h"
#include "tokenizer/unicode.h"

void wm_pre_end_word(wm_tokenizer *tok) {
  if (!tok->word_chars) return;
  if (tok->word_chars > tok->max_chars) wm_tok_emit(tok, (int32_t)tok->unk_id);
  else wm_wordpiece(tok, tok->word, tok->word_len);
  tok->word_chars = 0;
  tok->word_len = 0;
}

void wm_pre_char(wm_tokenizer *tok, uint32_t cp) {
  if (tok->pre_type == WM_TOK_PRE_NONE) { wm_tok_word_add(tok, cp); return; }
  uint32_t p = wm_uc_props(cp);
  if (p & WM_UC_WS) {
    wm_pre_end_word(tok);
  } else if (p & WM_UC_PUNCT) {
    wm_pre_end_word(tok);
    wm_tok_word_add(tok, cp);
    wm_pre_end_word(tok);
  } else {
    wm_tok_word_add(tok, cp);
  }
}
