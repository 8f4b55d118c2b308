// The benchmark's cases, shared by its Node half (compare.mjs) and its Chromium page (browser/bench.js), so both
// measure exactly the same thing. No Node or browser APIs here.

// the timing statistics, cosine, the pause before each timed run and the onnxruntime-web runner come from the
// package (wembed bench uses them too)
export { SETTLE_MS, cosine as cos, ortEmbedder, settle, stats } from '../js/cli/bench.js';
export const summary = (xs) => ({ mean: xs.reduce((a, b) => a + b, 0) / xs.length, min: Math.min(...xs) });

/**
 * textOf(n): a text whose tokenization (tok, with [CLS] and [SEP]) has exactly n ids — the reference texts'
 * words taken greedily, then " a" until it fits.
 */
export function textMaker(refLines, tok) {
  const words = refLines.slice(0, 2910).flatMap((r) => r.text.split(/\s+/)).filter(Boolean);
  return function textOf(n) {
    let text = '', wi = 0;
    while (wi < words.length) {
      const cand = text ? `${text} ${words[wi]}` : words[wi];
      const len = tok(cand).length;
      if (len <= n) text = cand;
      if (len >= n - 1) break;
      wi++;
    }
    while (tok(text).length < n) text += ' a';
    if (tok(text).length !== n) throw new Error(`could not build a ${n}-token text`);
    return text;
  };
}
