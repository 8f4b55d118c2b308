// Tokenizer throughput, MB/s of UTF-8 text: ours vs @huggingface/tokenizers (the tokenizer package transformers.js
// v4 uses), measured in the same run on the texts of a reference JSONL (default: ../shared bert-uncased.jsonl).
//   node bench/tokenizer.mjs [--name bert-uncased|bert-zh|xlmr-unigram]
// "Ours" is measured two ways until the real loader exists: the native build (build/tok/tokenize_jsonl --bench) and
// the same C built with emcc -O3 -msimd128 into a tokenizer-only module (build/tok/tokenizer_bench.wasm), called
// from JS per text (TextEncoder.encodeInto into wasm memory + wm_tokenizer_encode), which is what the API will do.
// `make bench-tokenizer` builds both. All truncate to 512 ids; transformers.js tokenizes the whole text and truncates
// after (as transformers.js does), ours stops reading at the limit, so "no limit" figures are also given.
// Before timing, it checks the ids of @huggingface/tokenizers and of the wasm module against the reference.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Tokenizer } from '@huggingface/tokenizers';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const shared = path.resolve(root, process.env.SHARED ?? '../shared');
const args = process.argv.slice(2);
const name = args[args.indexOf('--name') + 1] && args.includes('--name') ? args[args.indexOf('--name') + 1] : 'bert-uncased';
const tokDir = {
  'bert-uncased': path.join(shared, 'models/gte-small-synth'),
  'bert-zh': path.join(shared, 'models/gte-small-zh-synth'),
  'xlmr-unigram': path.join(shared, 'tokenizers/multilingual-e5-small'),
}[name];
if (!tokDir) throw new Error(`unknown --name ${name}`);
const jsonl = path.join(shared, 'reference/tokenizers', `${name}.jsonl`);
const tokJson = ['tokenizer.json', 'tokenizer.json.gz'].map((f) => path.join(tokDir, f)).find(existsSync) ?? path.join(tokDir, 'tokenizer.json');
const tool = path.join(root, 'build/tok/tokenize_jsonl');
const blob = path.join(root, 'build/tok', `${name}.blob`);
const wasmFile = path.join(root, 'build/tok/tokenizer_bench.wasm');
for (const f of [jsonl, tokJson, tool, blob, wasmFile]) if (!existsSync(f)) throw new Error(`missing ${f} (run make bench-tokenizer)`);

const rows = readFileSync(jsonl, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
const texts = rows.map((r) => r.text);
const bytes = texts.reduce((s, t) => s + Buffer.byteLength(t, 'utf8'), 0);
const MAX = 512;

const rawJson = readFileSync(tokJson);
const json = JSON.parse((tokJson.endsWith('.gz') ? gunzipSync(rawJson) : rawJson).toString('utf8'));
const config = JSON.parse(readFileSync(path.join(tokDir, 'tokenizer_config.json'), 'utf8'));
const hf = new Tokenizer(json, config);
const encodeHF = (t) => {
  const ids = hf.encode(t).ids;
  return ids.length > MAX ? [...ids.slice(0, MAX - 1), ids[ids.length - 1]] : ids;
};

let same = 0;
for (let i = 0; i < rows.length; i++) {
  const ids = encodeHF(texts[i]);
  if (ids.length === rows[i].ids.length && ids.every((v, k) => v === rows[i].ids[k])) same++;
}
console.log(`@huggingface/tokenizers 0.2.0 vs reference ids (${name}): ${same}/${rows.length} identical`);

// ours, wasm
const ex = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(wasmFile)), { env: { emscripten_notify_memory_growth() {} } }).exports;
ex._initialize();
const blobBytes = readFileSync(blob);
const maxText = Math.max(...texts.map((t) => t.length)) * 3 + 16;
const bp = ex.malloc(blobBytes.length), errp = ex.malloc(256), tp = ex.malloc(maxText), idsp = ex.malloc(4 * maxText); // no-limit runs: at most one id per byte, plus specials
new Uint8Array(ex.memory.buffer, bp, blobBytes.length).set(blobBytes);
const tok = ex.wm_tokenizer_new(bp, blobBytes.length, errp, 256);
if (!tok) throw new Error('wasm: tokenizer blob rejected');
const enc = new TextEncoder();
const textMem = new Uint8Array(ex.memory.buffer, tp, maxText); // no allocation after init: the views stay valid
const encodeOurs = (t, max = MAX) => ex.wm_tokenizer_encode(tok, tp, enc.encodeInto(t, textMem).written, idsp, max);
const idsView = new Int32Array(ex.memory.buffer, idsp, MAX);
let sameWasm = 0;
for (let i = 0; i < rows.length; i++) {
  const n = encodeOurs(texts[i]);
  if (n === rows[i].ids.length && rows[i].ids.every((v, k) => v === idsView[k])) sameWasm++;
}
console.log(`ours (wasm) vs reference ids (${name}): ${sameWasm}/${rows.length} identical`);

function time(fn) {
  let reps = 0, n = 0;
  const t0 = performance.now();
  let t = 0;
  do {
    for (const s of texts) n += fn(s);
    reps++;
    t = (performance.now() - t0) / 1000;
  } while (t < 2);
  return { mbs: (bytes * reps) / 1e6 / t, n };
}
for (const s of texts.slice(0, 2000)) encodeHF(s); // warm-up
const js = time((s) => encodeHF(s).length);
const wasm = time((s) => encodeOurs(s));
const wasmNoLimit = time((s) => encodeOurs(s, maxText));
const mbOf = (out) => Number(/([\d.]+) MB\/s/.exec(out)[1]);
const ours = mbOf(execFileSync(tool, ['--bench', '--max', String(MAX), blob, jsonl], { encoding: 'utf8' }));
const oursNoLimit = mbOf(execFileSync(tool, ['--bench', '--max', '100000000', blob, jsonl], { encoding: 'utf8' }));
console.log(`${rows.length} texts, ${(bytes / 1e6).toFixed(2)} MB UTF-8, max ${MAX} tokens`);
console.log(`${'transformers.js (@huggingface/tokenizers):'.padEnd(44)}${js.mbs.toFixed(2).padStart(7)} MB/s`);
const row = (label, v) => console.log(`${label.padEnd(44)}${v.toFixed(2).padStart(7)} MB/s  (${(v / js.mbs).toFixed(1)}x)`);
row('ours, wasm SIMD128 module, from JS:', wasm.mbs);
row('ours, wasm, no limit (whole texts):', wasmNoLimit.mbs);
row('ours, native (tokenize_jsonl --bench):', ours);
row('ours, native, no limit:', oursNoLimit);
