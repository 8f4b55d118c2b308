// The generic pipeline's pre-tokenizers, streamed over the normalized characters of one split of the text (the
// parts between added tokens are separate splits, as in Hugging Face's PreTokenizedString):
//   Metaspace (pre_tokenizers/metaspace.rs): ' ' becomes the replacement character (U+2581); the split gets one in
//     front unless it already starts with it (prepend_scheme "always"; "first": only the split that starts the
//     text; "never"); with split = true a new word starts at every replacement character (MergedWithNext).
//   WhitespaceSplit: words are the runs of non-whitespace (char::is_whitespace) characters.
//   WhitespaceSplit then Metaspace: Metaspace on each whitespace-separated word (prepend "always" / "never").
#include "tokenizer/tokenizer_impl.h"
#include "tokenizer/unicode.h"

void wm_meta_begin(wm_tokenizer *tok, int at_start) {
  tok->seg_first = 1;
  tok->seg_at_start = at_start;
}

static void metaspace(wm_tokenizer *tok, uint32_t cp) {
  uint32_t repl = tok->meta_cp;
  if (cp == ' ') cp = repl;
  if (tok->seg_first) {
    tok->seg_first = 0;
    uint32_t scheme = tok->meta_flags & 3;
    if (cp != repl && (scheme == WM_TOK_PREPEND_ALWAYS || (scheme == WM_TOK_PREPEND_FIRST && tok->seg_at_start)))
      wm_word_char(tok, repl);
  }
  if (cp == repl && (tok->meta_flags & WM_TOK_META_SPLIT)) wm_word_end(tok);
  wm_word_char(tok, cp);
}

void wm_meta_char(wm_tokenizer *tok, uint32_t cp) {
  switch (tok->pre_type) {
    case WM_TOK_PRE_METASPACE: metaspace(tok, cp); return;
    case WM_TOK_PRE_WHITESPACE_SPLIT:
      if (wm_uc_props(cp) & WM_UC_WS) wm_word_end(tok);
      else wm_word_char(tok, cp);
      return;
    case WM_TOK_PRE_WSPLIT_METASPACE:
      if (wm_uc_props(cp) & WM_UC_WS) {
        wm_word_end(tok);
        tok->seg_first = 1;  // the next word is a split of its own
      } else {
        metaspace(tok, cp);
      }
      return;
    default: wm_word_char(tok, cp); return;  // no pre-tokenizer: the split is one word
  }
}

void wm_meta_end(wm_tokenizer *tok) { wm_word_end(tok); }
