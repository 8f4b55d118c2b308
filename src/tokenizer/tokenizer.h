// wembed tokenizer: UTF-8 text -> token ids, with Hugging Face `tokenizers` (Rust) semantics.
// Constructed over the TOKENIZER section bytes of a .wemb file (docs/format.md, "Tokenizer blob"): the
// vocabulary is used where it lies (no per-token allocation); init validates every offset and size.
#ifndef WM_TOKENIZER_H
#define WM_TOKENIZER_H

#include <stddef.h>
#include <stdint.h>

typedef struct wm_tokenizer wm_tokenizer;

// Validates blob[0..size) and returns a tokenizer that points into it (the blob must outlive it), or NULL
// with a message in err (never NULL on success). err_cap >= 128 is plenty.
wm_tokenizer *wm_tokenizer_new(const uint8_t *blob, size_t size, char *err, size_t err_cap);
void wm_tokenizer_free(wm_tokenizer *tok);

// Tokenizes text[0..len) (any bytes: invalid UTF-8 is handled as the reference does, see tokenizer.c) into
// ids with the template's special tokens, truncated to at most max_tokens ids (special tokens kept; HF
// "longest_first" on a single sequence). Stops reading once the limit is reached, so a 1 MB text costs
// little. Returns the number of ids written (<= max_tokens), -1 if max_tokens is smaller than the number of
// special tokens, or -2 if memory ran out (a Unigram word without a safe cut point grows the lattice with it).
// ids must have room for max_tokens entries.
int wm_tokenizer_encode(wm_tokenizer *tok, const char *text, size_t len, int32_t *ids, int max_tokens);

// 1 if the last encode of a pruned tokenizer (docs/format.md, "Pruned vocabularies") tokenized some word
// differently than the full vocabulary would have, else 0.
int wm_tokenizer_pruned_hit(const wm_tokenizer *tok);

// Number of special tokens the template adds to a single sequence (2 for [CLS] ... [SEP]).
int wm_tokenizer_num_special(const wm_tokenizer *tok);

// 1 + the largest id encode can produce (vocab, added tokens, template): check it against the embedding rows.
int wm_tokenizer_num_ids(const wm_tokenizer *tok);

#endif
