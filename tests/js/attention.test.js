// The encoder against an independent reference: a float64 BERT forward written here in plain JS, on tiny f32
// models whose head sizes take each of the attention's code paths (bert.c attend_part: the values read in place
// when the head size is a multiple of 4, copied and padded otherwise; heads of 1 and of more than 8 columns).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { convert } from '../../js/convert/index.js';
import { load } from '../../js/index.js';
import { TINY, makeTinyFolder } from './fixtures.mjs';

const TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'wembed-attention-'));
after(() => fs.rmSync(TMP, { recursive: true, force: true }));

const TEXTS = ['hello world', 'the big red dog is running on the mat!', 'a cat', 'small cats, big dogs? hello.'];

// erf to ~1e-15 (Abramowitz-Stegun 7.1.26 is too coarse for the bar below): its Taylor series, and the continued
// fraction of erfc beyond |x| > 3
function erf(x) {
  const ax = Math.abs(x);
  if (ax > 3) {
    let f = 0;
    for (let n = 60; n >= 1; n--) f = (n / 2) / (ax + f);
    return Math.sign(x) * (1 - Math.exp(-ax * ax) / Math.sqrt(Math.PI) / (ax + f));
  }
  let sum = 0, term = x;
  for (let n = 0; n < 80; n++) {
    sum += term / (2 * n + 1);
    term *= -x * x / (n + 1);
  }
  return 2 / Math.sqrt(Math.PI) * sum;
}

/** BERT (post-LayerNorm, erf GELU), mean pooling, L2 normalization, in float64. */
function reference(tensors, { H, heads, L }, ids) {
  const w = Object.fromEntries(tensors.map((t) => [t.name, t.data]));
  const n = ids.length, dh = H / heads;
  const linear = (x, name, out) => x.map((row) => Array.from({ length: out }, (_, o) => {
    let s = w[`${name}.bias`][o];
    for (let i = 0; i < row.length; i++) s += row[i] * w[`${name}.weight`][o * row.length + i];
    return s;
  }));
  const layerNorm = (x, name) => x.map((row) => {
    const mean = row.reduce((a, b) => a + b, 0) / row.length;
    const v = row.reduce((a, b) => a + (b - mean) ** 2, 0) / row.length;
    return row.map((e, i) => (e - mean) / Math.sqrt(v + 1e-12) * w[`${name}.weight`][i] + w[`${name}.bias`][i]);
  });
  let x = ids.map((id, t) => Array.from({ length: H }, (_, i) =>
    w['embeddings.word_embeddings.weight'][id * H + i] + w['embeddings.position_embeddings.weight'][t * H + i] +
    w['embeddings.token_type_embeddings.weight'][i]));
  x = layerNorm(x, 'embeddings.LayerNorm');
  for (let l = 0; l < L; l++) {
    const p = `encoder.layer.${l}.`;
    const q = linear(x, `${p}attention.self.query`, H), k = linear(x, `${p}attention.self.key`, H);
    const v = linear(x, `${p}attention.self.value`, H);
    const ctx = Array.from({ length: n }, () => new Array(H).fill(0));
    for (let h = 0; h < heads; h++) {
      for (let t = 0; t < n; t++) {
        const s = Array.from({ length: n }, (_, u) => {
          let d = 0;
          for (let j = h * dh; j < (h + 1) * dh; j++) d += q[t][j] * k[u][j];
          return d / Math.sqrt(dh);
        });
        const mx = Math.max(...s), e = s.map((z) => Math.exp(z - mx)), sum = e.reduce((a, b) => a + b, 0);
        for (let u = 0; u < n; u++) for (let j = h * dh; j < (h + 1) * dh; j++) ctx[t][j] += e[u] / sum * v[u][j];
      }
    }
    const a = linear(ctx, `${p}attention.output.dense`, H);
    x = layerNorm(a.map((row, t) => row.map((e, i) => e + x[t][i])), `${p}attention.output.LayerNorm`);
    const f = linear(x, `${p}intermediate.dense`, w[`${p}intermediate.dense.bias`].length)
      .map((row) => row.map((z) => 0.5 * z * (1 + erf(z / Math.SQRT2))));
    const o = linear(f, `${p}output.dense`, H);
    x = layerNorm(o.map((row, t) => row.map((e, i) => e + x[t][i])), `${p}output.LayerNorm`);
  }
  const pooled = Array.from({ length: H }, (_, i) => x.reduce((s, row) => s + row[i], 0) / n);
  const norm = Math.sqrt(pooled.reduce((s, e) => s + e * e, 0));
  return pooled.map((e) => e / norm);
}

for (const [H, heads] of [[9, 3], [12, 2], [16, 2], [40, 2], [36, 4]]) {
  test(`f32 encoder = float64 reference, head size ${H / heads} (hidden ${H}, ${heads} heads)`, async () => {
    const dims = { ...TINY, H, heads, I: 2 * H };
    const { dir, tensors } = makeTinyFolder(path.join(TMP, `h${H}x${heads}`), { dims });
    const out = path.join(TMP, `h${H}x${heads}.wemb`);
    await convert(dir, { output: out, dtype: 'f32', embDtype: 'f32' });
    const model = await load(out);
    try {
      const vecs = await model.embed(TEXTS);
      TEXTS.forEach((text, i) => {
        const ids = model.tokenize(text), ref = reference(tensors, dims, ids);
        let worst = 0;
        for (let j = 0; j < H; j++) worst = Math.max(worst, Math.abs(vecs[i][j] - ref[j]));
        assert.ok(worst < 2e-6, `"${text}" (${ids.length} tokens): max |wembed - reference| = ${worst.toExponential(2)}`);
      });
    } finally {
      model.dispose();
    }
  });
}
