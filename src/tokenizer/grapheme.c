// Extended grapheme cluster boundaries as unicode-segmentation 1.12 computes them (src/grapheme.rs: check_pair and
// the look-behind handlers for GB9c, GB11 and GB12/13). The crate looks backwards from each candidate boundary; the
// same facts are kept here as a small forward state (grapheme.h), so a cluster is known when its next code point
// arrives and nothing is buffered.
#include "tokenizer/grapheme.h"

uint32_t wm_gc_class(wm_gc_state *s, uint32_t cp) {
  if (cp < 0x7F) return cp >= 0x20 ? WM_GC_ANY : cp == '\n' ? WM_GC_LF : cp == '\r' ? WM_GC_CR : WM_GC_CONTROL;
  if (cp >= s->lo && cp <= s->hi) return s->cls;
  uint32_t lo = 0, hi = wm_gc_runs_n;  // last run with start <= cp
  while (hi - lo > 1) {
    uint32_t mid = (lo + hi) / 2;
    if ((wm_gc_runs[mid] >> 8) <= cp) lo = mid; else hi = mid;
  }
  s->lo = wm_gc_runs[lo] >> 8;
  s->hi = lo + 1 < wm_gc_runs_n ? (wm_gc_runs[lo + 1] >> 8) - 1 : 0x10FFFF;
  s->cls = wm_gc_runs[lo] & 0xFF;
  return s->cls;
}

static int is_break(const wm_gc_state *s, uint32_t before, uint32_t after) {
  if (before == WM_GC_CR && after == WM_GC_LF) return 0;                                                   // GB3
  if (before == WM_GC_CONTROL || before == WM_GC_CR || before == WM_GC_LF) return 1;                       // GB4
  if (after == WM_GC_CONTROL || after == WM_GC_CR || after == WM_GC_LF) return 1;                          // GB5
  if (before == WM_GC_L && (after == WM_GC_L || after == WM_GC_V || after == WM_GC_LV || after == WM_GC_LVT))
    return 0;                                                                                              // GB6
  if ((before == WM_GC_LV || before == WM_GC_V) && (after == WM_GC_V || after == WM_GC_T)) return 0;       // GB7
  if ((before == WM_GC_LVT || before == WM_GC_T) && after == WM_GC_T) return 0;                            // GB8
  if (after == WM_GC_EXTEND || after == WM_GC_ZWJ) return 0;                                               // GB9
  if (after == WM_GC_SPACINGMARK) return 0;                                                                // GB9a
  if (before == WM_GC_PREPEND) return 0;                                                                   // GB9b
  if (after == WM_GC_INCB_CONSONANT) return s->incb != 2;                                                  // GB9c
  if (before == WM_GC_ZWJ && after == WM_GC_EXTPICT) return s->emoji != 2;                                 // GB11
  if (before == WM_GC_RI && after == WM_GC_RI) return s->ris % 2 == 0;                                     // GB12/13
  return 1;                                                                                                // GB999
}

int wm_gc_next(wm_gc_state *s, uint32_t cp) {
  if (cp - 0x20 < 0x5F) {  // printable ASCII (Any): a boundary unless after Prepend (GB9b); no context survives it
    int brk = !s->started || s->prev != WM_GC_PREPEND;
    s->started = 1;
    s->prev = WM_GC_ANY;
    s->incb = s->emoji = 0;
    s->ris = 0;
    return brk;
  }
  uint32_t cls = wm_gc_class(s, cp), cat = cls & WM_GC_CAT;
  int brk = s->started ? is_break(s, s->prev, cat) : 1;
  s->started = 1;
  s->prev = (uint8_t)cat;
  // GB9c context: Consonant [Extend | Linker]*, and whether a Linker was among them (the crate scans back the same way)
  if (cls & WM_GC_INCB_LINKER) s->incb = s->incb ? 2 : 0;
  else if (!(cls & WM_GC_INCB_EXTEND)) s->incb = cat == WM_GC_INCB_CONSONANT ? 1 : 0;
  // GB11 context: ExtPict Extend* ZWJ
  if (cat == WM_GC_EXTPICT) s->emoji = 1;
  else if (cat == WM_GC_EXTEND && s->emoji == 1) s->emoji = 1;
  else if (cat == WM_GC_ZWJ && s->emoji == 1) s->emoji = 2;
  else s->emoji = 0;
  s->ris = cat == WM_GC_RI ? s->ris + 1 : 0;
  return brk;
}
