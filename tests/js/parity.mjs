// Embedding and token-id parity with onnxruntime's fp32 references (../shared/reference/models/<model>/).
// Bars (issue 3): f32 path cosine >= 0.99999 for every text; int8 path mean >= 0.997, min >= 0.99 and
// Spearman of the pair scores >= 0.995 — onnxruntime's own int8 on the same weights reaches 0.987 / 0.967 / 0.991.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { load } from '../../js/index.js';
import { HAVE_SHARED, SHARED, cosine, norm, readF32, readJsonl, readPairs, spearman, testModel } from './common.mjs';

// The cases are spread over several *.test.js files so that `node --test` runs them on both cores.
const BARS = { f32: { min: 0.99999 }, f16: { min: 0.99999 }, int8: { mean: 0.997, min: 0.99, spearman: 0.995 } };

// bars: overrides of BARS[dtype]; normRatio bounds |norm / reference norm - 1| for every text (for models whose
// vectors are not normalized, where the norm carries information).
export function parityTest(name, dtype, bars = {}) {
  {
    test(`${name} ${dtype}: ids and embeddings match the reference`, { skip: !HAVE_SHARED && 'no ../shared' }, async () => {
      const ref = `${SHARED}/reference/models/${name}`;
      const rows = readJsonl(`${ref}/texts.jsonl`);
      const want = readF32(`${ref}/embeddings.f32`);
      const model = await load(await testModel(name, dtype));
      const dim = model.dim;
      assert.equal(want.length, rows.length * dim);

      let sameIds = 0;
      const firstBad = [];
      for (const r of rows) {
        const ids = model.tokenize(r.text);
        if (ids.length === r.ids.length && ids.every((v, i) => v === r.ids[i])) sameIds++;
        else if (firstBad.length < 3) firstBad.push({ text: r.text.slice(0, 80), got: ids.slice(0, 20), want: r.ids.slice(0, 20) });
      }

      const t0 = performance.now();
      const got = [];
      for (let i = 0; i < rows.length; i += 64) got.push(...await model.embed(rows.slice(i, i + 64).map((r) => r.text)));
      const seconds = (performance.now() - t0) / 1000;
      const cos = got.map((v, i) => cosine(v, want.subarray(i * dim, (i + 1) * dim)));
      const normErr = got.map((v, i) => Math.abs(norm(v) / norm(want.subarray(i * dim, (i + 1) * dim)) - 1));
      const worstNorm = Math.max(...normErr);
      const mean = cos.reduce((s, c) => s + c, 0) / cos.length;
      let min = 1, argmin = 0;
      cos.forEach((c, i) => { if (c < min) { min = c; argmin = i; } });
      const pairs = readPairs(`${ref}/pairs.tsv`);
      const rho = spearman(pairs.map(([a, b]) => cosine(got[a], got[b])), pairs.map(([, , s]) => s));
      console.log(`# ${name} ${dtype}: ids ${sameIds}/${rows.length} identical; cosine mean ${mean.toFixed(6)} min ${min.toFixed(7)} (1 - min = ${(1 - min).toExponential(1)}) ` +
        `(text ${argmin}); Spearman ${rho.toFixed(5)} over ${pairs.length} pairs; worst |norm/ref - 1| ${worstNorm.toExponential(2)} ` +
        `(${normErr.filter((e) => e > 0.01).length} texts > 1%); ${(rows.length / seconds).toFixed(1)} texts/s`);
      model.dispose();

      assert.deepEqual(firstBad, [], 'token ids differ');
      assert.equal(sameIds, rows.length);
      const bar = { ...BARS[dtype], ...bars };
      assert.ok(min >= bar.min, `min cosine ${min} < ${bar.min} (text ${argmin}: ${JSON.stringify(rows[argmin].text.slice(0, 80))})`);
      if (bar.mean) assert.ok(mean >= bar.mean, `mean cosine ${mean} < ${bar.mean}`);
      if (bar.spearman) assert.ok(rho >= bar.spearman, `Spearman ${rho} < ${bar.spearman}`);
      if (bar.normRatio) assert.ok(worstNorm <= bar.normRatio, `worst |norm/ref - 1| ${worstNorm} > ${bar.normRatio}`);
    });
  }
}
