// The Chromium half of `make bench`: wembed vs onnxruntime-web (wasm backend) in one page, on the same model and
// the same token ids, with the cases of bench/compare.mjs (its Node half). Driven by bench/browser.mjs, which loads
// this page once per thread count: ORT reads env.wasm.numThreads once, when its wasm starts, so a second count
// needs a fresh page. Everything the driver reads is in `window.bench` (a promise); progress lines go to the
// console prefixed "[bench]". Works opened by hand too (node tests/browser/server.mjs, then
// /bench/browser/bench.html?threads=2).
//
// Parity with compare.mjs, on purpose: the same texts (STS words until wembed's tokenizer gives exactly n ids),
// ORT fed the ids wembed produced (not timed) and mean-pooled + L2-normalized in JS (the work wembed does in
// wasm, timed), wembed and ORT runs interleaved with alternating order, median/min/max.
import { load } from '/js/index.js';
import { SETTLE_MS, cos, ortEmbedder, settle, stats, summary, textMaker } from '/bench/cases.mjs';

const q = new URLSearchParams(location.search);
const num = (k, d) => Number(q.get(k) ?? d);
const P = {
  threads: num('threads', 1),
  settle: num('settle', SETTLE_MS),  // ms before each timed run (cases.mjs)
  runs: num('runs', 20),
  warmup: num('warmup', 3),
  batchRuns: num('batchRuns', 5),
  loads: num('loads', 5),
  lengths: (q.get('lengths') ?? '16,32,128,512').split(',').map(Number),
  batch: num('batch', 256),
  model: q.get('model') ?? '/build/models/gte-small-synth.int8.wemb',
  onnx: q.get('onnx') ?? '/shared/models/gte-small-synth/onnx/model_quantized.onnx',
  texts: q.get('texts') ?? '/shared/reference/models/gte-small-synth/texts.jsonl',
  // served from the local node_modules: never a CDN (ORT's default wasmPaths would point at one)
  ortDist: q.get('ortDist') ?? '/node_modules/onnxruntime-web/dist/',
  ort: q.get('ort') !== '0',  // ort=0: wembed alone (its relaxed vs SIMD128 modules)
  // the module wembed is also run with, interleaved, when its default is the relaxed-SIMD one ('' = none): the
  // SIMD128 build (on a shared memory for threads)
  compare: q.get('compare') ?? (num('threads', 1) > 1 ? '/dist/wembed-mt.wasm' : '/dist/wembed.wasm'),
};
const CHUNK = 32;   // ORT padded batch size (= wembed's CHUNK_TEXTS, as in compare.mjs)

const logEl = document.getElementById('log');
const log = (s) => { console.log(`[bench] ${s}`); logEl.textContent += `${s}\n`; };
const now = () => performance.now();

// ORT silently falls back to one thread when the page is not cross-origin isolated, and env.wasm.numThreads does
// not always say so; counting the workers it actually starts (emscripten pthreads) does. Installed before ORT
// and wembed's pool are imported or used, since both look Worker up when they spawn.
const spawned = [];
const NativeWorker = globalThis.Worker;
globalThis.Worker = class extends NativeWorker {
  constructor(url, opts) {
    super(url, opts);
    spawned.push({ url: String(url).replace(location.origin, ''), name: opts?.name ?? '' });
  }
};

// Relaxed SIMD: a hand-assembled module `(func (param v128 v128 v128) (result v128) local.get 0 local.get 1
// local.get 2 OP)`. OP = i32x4.relaxed_dot_i8x16_i7x16_add_s (0xfd 0x113, LEB128 0x93 0x02), the instruction
// an int8 GEMM would use; the same module with v128.bitselect (0xfd 0x52, plain SIMD128) must validate, which
// proves the bytes are well formed and a "false" really means the engine lacks relaxed SIMD.
const wasmWith = (op) => new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
  0x01, 0x08, 0x01, 0x60, 0x03, 0x7b, 0x7b, 0x7b, 0x01, 0x7b,     // type: (v128 v128 v128) -> v128
  0x03, 0x02, 0x01, 0x00,                                          // function 0 has type 0
  0x0a, op.length + 10, 0x01, op.length + 8, 0x00,                 // code: one body, no locals
  0x20, 0x00, 0x20, 0x01, 0x20, 0x02, ...op, 0x0b]);
const wasmFeatures = () => ({
  simd128: WebAssembly.validate(wasmWith([0xfd, 0x52])),
  relaxed_simd: WebAssembly.validate(wasmWith([0xfd, 0x93, 0x02])),
});

async function run() {
  const out = {
    threads: P.threads,
    params: P,
    userAgent: navigator.userAgent,
    crossOriginIsolated: self.crossOriginIsolated,
    hardwareConcurrency: navigator.hardwareConcurrency,
    sharedArrayBuffer: typeof SharedArrayBuffer === 'function',
    wasm: wasmFeatures(),
  };
  log(`threads ${P.threads}; cross-origin isolated ${out.crossOriginIsolated}; relaxed SIMD ${out.wasm.relaxed_simd}`);

  const ort = P.ort ? await import(`${P.ortDist}ort.wasm.min.mjs`) : null;
  if (ort) {
    ort.env.wasm.numThreads = P.threads;
    ort.env.wasm.simd = true;
    ort.env.wasm.wasmPaths = new URL(P.ortDist, location.href).href;
    out.ort_version = ort.env.versions.web;
  }

  // Load to ready, both by URL from the same server (the download is part of it, as on a real page). The first
  // of each ("cold") also compiles its wasm module (and for ORT starts its threads).
  const wLoads = [], oLoads = [];
  let model, session;
  for (let i = 0; i <= P.loads; i++) {
    let t = now();
    const m = await load(P.model, { threads: P.threads });  // threads: the page is cross-origin isolated: 'shared'
    wLoads.push(now() - t);
    if (model) m.dispose(); else model = m;
    if (!ort) continue;
    t = now();
    const s = await ort.InferenceSession.create(P.onnx, { executionProviders: ['wasm'] });
    oLoads.push(now() - t);
    if (session) await s.release(); else session = s;
  }
  out.load = {
    wembed: { cold_ms: wLoads[0], warm: stats(wLoads.slice(1)) },
    ...(ort && { ort: { cold_ms: oLoads[0], warm: stats(oLoads.slice(1)) } }),
  };
  out.ort_num_threads = ort?.env.wasm.numThreads ?? 0;
  out.ort_workers = spawned.filter((w) => w.url.includes('ort-wasm')).length;
  out.wembed_simd = model.info.simd;
  log(`load to ready (cold): wembed ${wLoads[0].toFixed(0)} ms (${model.info.simd} module)${ort ? `, ort ${oLoads[0].toFixed(0)} ms; ORT started ${out.ort_workers} worker(s)` : ''}`);
  // The same model on the other module (dist/wembed.wasm where the default is the relaxed one): relaxed vs SIMD128,
  // interleaved in the same page
  const other = model.info.simd === 'relaxed' && P.compare ? await load(P.model, { wasm: P.compare, threads: P.threads }) : null;
  if (other) out.compare = { wasm: P.compare, simd: other.info.simd, thread_mode: other.info.thread_mode };
  const sameBits = (a, b) => a.length === b.length && new Uint32Array(a.buffer, a.byteOffset, a.length).every((x, i) => x === new Uint32Array(b.buffer, b.byteOffset, b.length)[i]);

  const tok = (t) => model.tokenize(t);
  const ortEmbed = ortEmbedder(ort, session);

  const res = await fetch(P.texts);
  if (!res.ok) throw new Error(`cannot fetch ${P.texts}: HTTP ${res.status}`);
  const refLines = (await res.text()).trim().split('\n').map((l) => JSON.parse(l));
  const textOf = textMaker(refLines, tok);

  out.batch1 = {};
  for (const n of P.lengths) {
    const text = textOf(n), ids = tok(text);
    const w = [], o = [], c = [], tk = [];
    let wv, ov, cv;
    const runW = async () => { await settle(P.settle); const t = now(); wv = (await model.embed([text]))[0]; w.push(now() - t); };
    const runO = async () => { if (!ort) return; await settle(P.settle); const t = now(); [ov] = await ortEmbed([ids]); o.push(now() - t); };
    const runC = async () => { if (!other) return; await settle(P.settle); const t = now(); cv = (await other.embed([text]))[0]; c.push(now() - t); };
    for (let i = 0; i < P.warmup; i++) { await runW(); await runO(); await runC(); }
    w.length = o.length = c.length = 0;
    for (let i = 0; i < P.runs; i++) {
      for (const run of i % 2 ? [runC, runO, runW] : [runW, runO, runC]) await run();
      const t = now(); tok(text); tk.push(now() - t);
    }
    out.batch1[n] = { tokens: ids.length, wembed: stats(w), ...(ort && { ort: stats(o), cosine_wembed_ort: cos(wv, ov) }), wembed_tokenize: stats(tk),
      ...(other && { wembed_compare: stats(c), compare_identical: sameBits(wv, cv) }) };
    log(`batch 1 × ${n} tokens: wembed ${stats(w).median.toFixed(2)} ms${ort ? `, ort ${stats(o).median.toFixed(2)} ms` : ''}${other ? `, wembed ${other.info.simd} ${stats(c).median.toFixed(2)} ms` : ''}`);
  }

  // The first STS sentences of texts.jsonl. ORT two ways (compare.mjs's third, all padded in one batch, was its
  // slowest in Node every time and would add a minute here).
  const sents = refLines.slice(0, P.batch);
  const texts = sents.map((r) => r.text);
  const seqs = texts.map(tok);
  out.ids_equal_reference = seqs.every((s, i) => s.length === sents[i].ids.length && s.every((x, j) => x === sents[i].ids[j]));
  const ortModes = !ort ? {} : {
    [`padded chunks of ${CHUNK}`]: async () => { const v = []; for (let i = 0; i < seqs.length; i += CHUNK) v.push(...await ortEmbed(seqs.slice(i, i + CHUNK))); return v; },
    'one at a time': async () => { const v = []; for (const s of seqs) v.push(...await ortEmbed([s])); return v; },
  };
  const bt = { wembed: [] }, vecs = {}, ct = [];
  for (const k of Object.keys(ortModes)) bt[k] = [];
  out.wembed_threads = `${model.info.threads} ${model.info.thread_mode}`;
  vecs.wembed = await model.embed(texts);   // warm-up
  if (other) vecs.compare = await other.embed(texts);
  for (const [k, f] of Object.entries(ortModes)) vecs[k] = await f();
  for (let i = 0; i < P.batchRuns; i++) {
    let t = now(); vecs.wembed = await model.embed(texts); bt.wembed.push(now() - t);
    if (other) { t = now(); vecs.compare = await other.embed(texts); ct.push(now() - t); }
    for (const [k, f] of Object.entries(ortModes)) { t = now(); vecs[k] = await f(); bt[k].push(now() - t); }
  }
  out.batch = {
    sentences: P.batch,
    tokens_total: seqs.reduce((a, s) => a + s.length, 0),
    tokens_max: Math.max(...seqs.map((s) => s.length)),
    ms: Object.fromEntries(Object.entries(bt).map(([k, v]) => [k, stats(v)])),
    sentences_per_s: Object.fromEntries(Object.entries(bt).map(([k, v]) => [k, (P.batch * 1000) / stats(v).median])),
  };
  if (other) {
    out.batch_compare = { ms: stats(ct), sentences_per_s: (P.batch * 1000) / stats(ct).median,
      identical: vecs.wembed.every((v, i) => sameBits(v, vecs.compare[i])) };
  }
  if (ort) {
    out.fidelity = {
      sentences: P.batch,
      cosine_wembed_vs_ort: summary(texts.map((_, i) => cos(vecs.wembed[i], vecs['one at a time'][i]))),
    };
  }
  log(`batch ${P.batch}: ${Object.entries(out.batch.sentences_per_s).map(([k, v]) => `${k} ${v.toFixed(1)}/s`).join(', ')}` +
    `${other ? `, wembed ${other.info.simd} ${out.batch_compare.sentences_per_s.toFixed(1)}/s` : ''}`);
  out.workers = spawned;
  other?.dispose();
  model.dispose();
  await session?.release();
  log('done');
  return out;
}

window.bench = run();
window.bench.catch((e) => {
  const pre = document.createElement('pre');
  pre.className = 'error';
  pre.textContent = `${e?.name}: ${e?.message}\n${e?.stack ?? ''}`;
  document.body.append(pre);
  console.error(`[bench] failed: ${e?.message}`);
});
