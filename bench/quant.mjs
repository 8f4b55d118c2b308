// Fidelity of one int8 quantization scheme against a reference model's onnxruntime fp32 embeddings: converts
// ../shared/models/<model> with the given options and prints cosine mean/min, Spearman on pairs.tsv, and the norm
// error (worst |norm/ref - 1| and its spread), the figures behind docs/architecture.md's scheme tables.
//   node bench/quant.mjs corom-tiny-synth [--group 128] [--act-bits 12] [--alpha 0.5] [--emb-dtype int8]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { load } from '../js/index.js';
import { convert } from '../js/convert/index.js';
import { SHARED, cosine, norm, readF32, readJsonl, readPairs, spearman, modelFolder } from '../tests/js/common.mjs';

const { values: o, positionals: [name = 'corom-tiny-synth'] } = parseArgs({
  allowPositionals: true,
  options: { group: { type: 'string' }, 'act-bits': { type: 'string' }, alpha: { type: 'string' }, 'emb-dtype': { type: 'string' } },
});
const opts = { dtype: 'int8' };
if (o.group !== undefined) opts.group = Number(o.group);
if (o['act-bits'] !== undefined) opts.actBits = Number(o['act-bits']);
if (o.alpha !== undefined) opts.smoothAlpha = Number(o.alpha);
if (o['emb-dtype'] !== undefined) opts.embDtype = o['emb-dtype'];

const dir = mkdtempSync(path.join(tmpdir(), 'wembed-quant-'));
try {
  const file = path.join(dir, 'model.wemb');
  const s = await convert(modelFolder(name), { ...opts, output: file });
  const ref = `${SHARED}/reference/models/${name}`;
  const rows = readJsonl(`${ref}/texts.jsonl`);
  const want = readF32(`${ref}/embeddings.f32`);
  const model = await load(file);
  const dim = model.dim;
  const { quant_group: group, activation_bits: bits } = model.info;
  const got = [];
  for (let i = 0; i < rows.length; i += 64) got.push(...await model.embed(rows.slice(i, i + 64).map((r) => r.text)));
  model.dispose();
  const refv = (i) => want.subarray(i * dim, (i + 1) * dim);
  const cos = got.map((v, i) => cosine(v, refv(i)));
  const ne = got.map((v, i) => norm(v) / norm(refv(i)) - 1);
  const mean = (a) => a.reduce((x, y) => x + y, 0) / a.length;
  const m = mean(ne), sd = Math.sqrt(mean(ne.map((e) => (e - m) ** 2)));
  const pairs = readPairs(`${ref}/pairs.tsv`);
  const rho = spearman(pairs.map(([a, b]) => cosine(got[a], got[b])), pairs.map(([, , x]) => x));
  console.log(`${name} int8: scale groups of ${group || 'K (per channel)'}, ${bits}-bit activations, smoothing alpha ${opts.smoothAlpha ?? 0.5}`);
  console.log(`  ${(s.bytes / 1e6).toFixed(1)} MB; cosine mean ${mean(cos).toFixed(6)} min ${Math.min(...cos).toFixed(6)}; ` +
    `Spearman ${rho.toFixed(5)}; |norm/ref - 1| worst ${(100 * Math.max(...ne.map(Math.abs))).toFixed(2)}% ` +
    `(mean ${(100 * m).toFixed(2)}%, sd ${(100 * sd).toFixed(2)}%) over ${rows.length} texts`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
