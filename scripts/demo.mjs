// The main job: convert a Hugging Face model folder once, then embed and rank with the wasm module in Node.
//   node scripts/demo.mjs [model-dir] [out.wemb]
import { existsSync, statSync } from 'node:fs';
import { convert } from '../js/convert/index.js';
import { load } from '../js/index.js';

const dir = process.argv[2] ?? new URL('../../shared/models/gte-small-synth', import.meta.url).pathname;
const out = process.argv[3] ?? 'build/models/demo.int8.wemb';

if (!existsSync(out) || statSync(out).mtimeMs < statSync(`${dir}/model.safetensors`).mtimeMs) {
  const s = await convert(dir, { output: out, dtype: 'int8' });
  console.log(`converted ${dir}\n       → ${out} (${(s.bytes / 1e6).toFixed(1)} MB, ${s.dtype}) in ${s.seconds.toFixed(2)} s`);
}

const t0 = performance.now();
const model = await load(out);
console.log(`loaded in ${(performance.now() - t0).toFixed(0)} ms:`, JSON.stringify(model.info));

const sentences = [
  'A man is playing a guitar.',
  'The new movie is awesome.',
  'A woman is slicing an onion.',
  'Two dogs run across a snowy field.',
  'The stock market fell sharply today.',
];
const t1 = performance.now();
const vectors = await model.embed(sentences);
console.log(`\nembedded ${sentences.length} sentences in ${(performance.now() - t1).toFixed(1)} ms, dim ${model.dim}:`);
for (let i = 0; i < sentences.length; i++) {
  console.log(`  [${Array.from(vectors[i].subarray(0, 4), (x) => x.toFixed(4)).join(', ')}, …]  ${sentences[i]}`);
}

const query = 'Someone plays an instrument.';
const scores = await model.score(query, sentences);
console.log(`\nranking for "${query}" (${model.info.metric}):`);
scores.map((s, i) => [s, sentences[i]]).sort((a, b) => b[0] - a[0])
  .forEach(([s, t], r) => console.log(`  ${r + 1}. ${s.toFixed(4)}  ${t}`));
console.log('\n(The gte-small-synth weights are synthetic, so this ranking carries no meaning: it shows the pipeline,');
console.log(' whose numerical parity with onnxruntime is proven by `make test`.)');
model.dispose();
