// The benchmark's cases, shared by its Node half (compare.mjs) and its Chromium page (browser/bench.js), so both
// measure exactly the same thing. No Node or browser APIs here.

/** median, min, max and count of timings */
export const stats = (xs) => {
  const s = xs.slice().sort((a, b) => a - b);
  const n = s.length;
  return { median: n % 2 ? s[n >> 1] : (s[n / 2 - 1] + s[n / 2]) / 2, min: s[0], max: s[n - 1], n };
};
export const cos = (a, b) => { let d = 0, na = 0, nb = 0; for (let i = 0; i < a.length; i++) { d += a[i] * b[i]; na += a[i] * a[i]; nb += b[i] * b[i]; } return d / Math.sqrt(na * nb); };
// A pause before each timed run (default 20 ms): both runtimes' idle threads spin for a while after a parallel
// section before they sleep (ORT's thread pool, wembed's helpers); without it each run would share the cores with the
// other's spinning threads.
export const SETTLE_MS = 20;
export const settle = (ms = SETTLE_MS) => new Promise((r) => setTimeout(r, ms));
export const summary = (xs) => ({ mean: xs.reduce((a, b) => a + b, 0) / xs.length, min: Math.min(...xs) });

/**
 * ORT on a list of id sequences, padded to the longest (as transformers.js does), mean-pooled over the mask and
 * L2-normalized in JS: the work wembed does inside wasm, so both return the same sentence vectors.
 */
export function ortEmbedder(ort, session) {
  return async function ortEmbed(seqs) {
    const B = seqs.length, L = Math.max(...seqs.map((s) => s.length));
    const ids = new BigInt64Array(B * L), mask = new BigInt64Array(B * L);
    seqs.forEach((s, b) => s.forEach((id, j) => { ids[b * L + j] = BigInt(id); mask[b * L + j] = 1n; }));
    const r = await session.run({
      input_ids: new ort.Tensor('int64', ids, [B, L]),
      attention_mask: new ort.Tensor('int64', mask, [B, L]),
      token_type_ids: new ort.Tensor('int64', new BigInt64Array(B * L), [B, L]),
    });
    const h = r.last_hidden_state.data, H = r.last_hidden_state.dims[2];
    const vecs = seqs.map((s, b) => {
      const v = new Float32Array(H);
      for (let j = 0; j < s.length; j++) for (let k = 0; k < H; k++) v[k] += h[(b * L + j) * H + k];
      let n = 0;
      for (let k = 0; k < H; k++) { v[k] /= s.length; n += v[k] * v[k]; }
      n = 1 / Math.sqrt(n);
      for (let k = 0; k < H; k++) v[k] *= n;
      return v;
    });
    r.last_hidden_state.dispose?.();
    return vecs;
  };
}

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
