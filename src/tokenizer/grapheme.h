// Extended grapheme cluster boundaries, streamed one code point at a time, exactly as the unicode-segmentation
// 1.12 crate (Unicode 16.0) that Hugging Face tokenizers uses: UAX #29 rules GB3..GB13 including GB9c (Indic
// conjunct clusters). Classes come from the generated table wm_gc_runs (tools/unicode16_grapheme.h).
#ifndef WM_TOKENIZER_GRAPHEME_H
#define WM_TOKENIZER_GRAPHEME_H

#include <stdint.h>

// Grapheme_Cluster_Break categories as the crate folds them (order = tools/unicode16_extract.mjs).
enum {
  WM_GC_ANY, WM_GC_CR, WM_GC_CONTROL, WM_GC_EXTEND, WM_GC_EXTPICT, WM_GC_INCB_CONSONANT, WM_GC_L, WM_GC_LF, WM_GC_LV,
  WM_GC_LVT, WM_GC_PREPEND, WM_GC_RI, WM_GC_SPACINGMARK, WM_GC_T, WM_GC_V, WM_GC_ZWJ
};
#define WM_GC_CAT 15
#define WM_GC_INCB_EXTEND 16  // Indic_Conjunct_Break=Extend
#define WM_GC_INCB_LINKER 32  // Indic_Conjunct_Break=Linker

extern const uint32_t wm_gc_runs[];  // start << 8 | class, sorted
extern const uint32_t wm_gc_runs_n;

// Streaming state: the class of the previous code point and the context the crate looks back for.
typedef struct {
  uint8_t started;  // a code point was seen
  uint8_t prev;     // its category
  uint8_t incb;     // GB9c: 0 none, 1 after Consonant [Extend]*, 2 after Consonant [Extend|Linker]* with a Linker
  uint8_t emoji;    // GB11: 0 none, 1 after ExtPict Extend*, 2 after ExtPict Extend* ZWJ
  uint32_t ris;     // GB12/13: regional indicators ending at the previous code point
  uint32_t lo, hi, cls;  // cache: the run [lo, hi] of the last non-ASCII lookup has class cls
} wm_gc_state;

static inline void wm_gc_reset(wm_gc_state *s) {
  s->started = 0;
  s->prev = WM_GC_ANY;
  s->incb = s->emoji = 0;
  s->ris = 0;
  s->lo = 1;
  s->hi = 0;
}

// Class of cp (category | WM_GC_INCB_* bits).
uint32_t wm_gc_class(wm_gc_state *s, uint32_t cp);

// Whether a cluster boundary lies before cp (always true for the first code point after a reset); updates the state.
int wm_gc_next(wm_gc_state *s, uint32_t cp);

#endif
