// The normalizer Sequence of the generic pipeline, streamed: each step hands its output characters to the next
// (wm_norm_out), the last one to the pre-tokenizer (metaspace.c). Steps: Precompiled (precompiled.c) and Replace
// (here): a literal pattern, replaced leftmost-first without overlaps as the reference's regex find_iter does, or one
// character repeated at least n times (the regex "X{n,}" / "X+", e.g. XLM-R's " {2,}" -> " "), replaced greedily.
#include <stdlib.h>

#include "tokenizer/tokenizer_impl.h"
#include "tokenizer/utf8.h"

static const char *replace_init(wm_norm_step *st, const uint8_t *blob, size_t size, const uint32_t *rec) {
  uint32_t pool = rec[0], plen = rec[1], clen = rec[2], rep = rec[3];
  if (rec[4] || rec[5] || rec[6]) return "Replace step: reserved field is not zero";
  if (plen < 1 || plen > WM_REPLACE_MAX_PATTERN || clen > WM_REPLACE_MAX_CONTENT) return "Replace step: bad pattern or content length";
  if (pool < WM_TOK_HEADER || pool > size || (uint64_t)plen + clen > (uint64_t)size - pool) return "Replace step: strings out of bounds";
  if (rep > WM_REPLACE_MAX_REPEAT) return "Replace step: bad min_repeat";
  size_t p = 0;
  st->pat_n = 0;
  while (p < plen) {
    if (st->pat_n == WM_REPLACE_MAX_CHARS) return "Replace step: pattern too long";
    st->pat[st->pat_n++] = wm_utf8_next(blob + pool, plen, &p);
  }
  if (rep && st->pat_n != 1) return "Replace step: a repeated pattern must be one character";
  st->min_repeat = rep;
  st->content = blob + pool + plen;
  st->content_len = clen;
  return NULL;
}

const char *wm_seq_init(wm_tokenizer *tok, const uint8_t *blob, size_t size, uint32_t count, uint32_t off) {
  if (count > WM_TOK_MAX_STEPS) return "too many normalizer steps";
  if (!wm_region_ok(size, off, count, WM_TOK_STEP_SIZE)) return "normalizer steps out of bounds";
  tok->nsteps = count;
  for (uint32_t k = 0; k < count; k++) {
    const uint32_t *rec = (const uint32_t *)(const void *)(blob + off + (size_t)k * WM_TOK_STEP_SIZE);
    wm_norm_step *st = &tok->steps[k];
    st->type = rec[0];
    const char *e = st->type == WM_TOK_STEP_PRECOMPILED ? wm_pc_init(st, blob, size, rec + 1)
                    : st->type == WM_TOK_STEP_REPLACE   ? replace_init(st, blob, size, rec + 1)
                                                        : "unsupported normalizer step type";
    if (e) return e;
  }
  return NULL;
}

void wm_seq_free(wm_tokenizer *tok) {
  for (uint32_t k = 0; k < WM_TOK_MAX_STEPS; k++) {
    free(tok->steps[k].pc_first);
    tok->steps[k].pc_first = NULL;
  }
}

static void emit_content(wm_tokenizer *tok, uint32_t k) {
  const wm_norm_step *st = &tok->steps[k];
  size_t p = 0;
  while (p < st->content_len) wm_norm_out(tok, k + 1, wm_utf8_next(st->content, st->content_len, &p));
}

static void end_run(wm_tokenizer *tok, uint32_t k) {
  wm_norm_step *st = &tok->steps[k];
  uint32_t n = st->run;
  st->run = 0;
  if (!n) return;
  if (n >= st->min_repeat) emit_content(tok, k);
  else
    for (uint32_t i = 0; i < n; i++) wm_norm_out(tok, k + 1, st->pat[0]);
}

static void replace_char(wm_tokenizer *tok, uint32_t k, uint32_t cp) {
  wm_norm_step *st = &tok->steps[k];
  if (st->min_repeat) {
    if (cp != st->pat[0] && !st->run) {
      wm_norm_out(tok, k + 1, cp);
      return;
    }
    if (cp == st->pat[0]) {
      if (st->run < 0xFFFFFFFFu) st->run++;
      return;
    }
    end_run(tok, k);
    wm_norm_out(tok, k + 1, cp);
    return;
  }
  st->win[st->win_n++] = cp;
  if (st->win_n < st->pat_n) return;
  uint32_t i = 0;
  while (i < st->pat_n && st->win[i] == st->pat[i]) i++;
  if (i == st->pat_n) {
    st->win_n = 0;
    emit_content(tok, k);
    return;
  }
  uint32_t first = st->win[0];  // no match starts here: it leaves the window
  for (i = 1; i < st->win_n; i++) st->win[i - 1] = st->win[i];
  st->win_n--;
  wm_norm_out(tok, k + 1, first);
}

static void replace_end(wm_tokenizer *tok, uint32_t k) {
  wm_norm_step *st = &tok->steps[k];
  end_run(tok, k);
  uint32_t n = st->win_n;
  st->win_n = 0;
  for (uint32_t i = 0; i < n; i++) wm_norm_out(tok, k + 1, st->win[i]);
}

void wm_norm_out(wm_tokenizer *tok, uint32_t k, uint32_t cp) {
  if (k >= tok->nsteps) { wm_meta_char(tok, cp); return; }
  if (tok->steps[k].type == WM_TOK_STEP_PRECOMPILED) wm_pc_char(tok, k, cp);
  else replace_char(tok, k, cp);
}

void wm_seq_begin(wm_tokenizer *tok, int at_start) {
  for (uint32_t k = 0; k < tok->nsteps; k++) {
    wm_norm_step *st = &tok->steps[k];
    wm_gc_reset(&st->gc);
    st->clu_n = st->clu_bytes = 0;
    st->clu_long = 0;
    st->win_n = st->run = 0;
  }
  wm_meta_begin(tok, at_start);
}

void wm_seq_char(wm_tokenizer *tok, uint32_t cp) { wm_norm_out(tok, 0, cp); }

void wm_seq_end(wm_tokenizer *tok) {
  for (uint32_t k = 0; k < tok->nsteps; k++) {  // each step's tail goes through the later steps
    if (tok->steps[k].type == WM_TOK_STEP_PRECOMPILED) wm_pc_end(tok, k);
    else replace_end(tok, k);
  }
  wm_meta_end(tok);
}
