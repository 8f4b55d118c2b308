// Worker thread of browser.test.js: the Node side of the comparison, off the main thread so that the test's HTTP
// server keeps serving the browser meanwhile. Same js/index.js, same calls as tests/browser/page.js (its module here:
// dist/wembed.wasm, as Node 20 cannot run relaxed SIMD; the page gets dist/wembed-relaxed.wasm).
import { parentPort, workerData } from 'node:worker_threads';
import { readFileSync } from 'node:fs';
import { load } from '../../js/index.js';

const { modelPath, textsPath, picked, table } = workerData;
const rows = readFileSync(textsPath, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
const model = await load(modelPath);
try {
  const t0 = performance.now();
  const vectors = await model.embed(picked.map((i) => rows[i].text));
  const embedMs = performance.now() - t0;
  const flat = new Float32Array(vectors.length * model.dim);
  vectors.forEach((v, i) => flat.set(v, i * model.dim));
  const scores = [];
  for (const { query, candidates } of table) scores.push(await model.score(rows[query].text, candidates.map((i) => rows[i].text)));
  const { query, candidates } = table[0];
  const pipe = await model.pipeline({ source_sentence: [rows[query].text], sentences_to_compare: candidates.map((i) => rows[i].text) });
  parentPort.postMessage({ info: model.info, dim: model.dim, embedMs, vectors: flat.buffer, scores, pipelineScores: pipe.scores }, [flat.buffer]);
} finally {
  model.dispose();
}
