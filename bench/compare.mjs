// wembed vs onnxruntime-web (wasm backend, Node) on the same model, the same token ids, the same machine.
//
//   node bench/compare.mjs [--runs 20] [--batch-runs 5] [--threads 1,2] [--out bench/results.json]
//                          [--model build/models/gte-small-synth.int8.wemb] [--wasm dist/wembed.wasm]
//                          [--wasm-mt dist/wembed-mt.wasm]
//   (make bench does the builds first, then runs this)
//
// Peer: onnxruntime-web 1.30 wasm backend (ort-wasm-simd-threaded.wasm loaded from node_modules, no network) on
// ../shared/models/gte-small-synth/onnx/model_quantized.onnx (int8 dynamic quantization, transformers.js "q8").
// Its last_hidden_state is mean-pooled over the attention mask and L2-normalized in JS, the work wembed does
// inside wasm, so both return the same sentence vectors. wembed's timings include its own tokenization (it
// embeds strings); ORT is given the ids wembed produced (tokenization not timed) — a small bias against
// wembed, quantified in the output as "wembed tokenize".
//
// ORT's thread count is fixed per process (env.wasm.numThreads is read once at init), so each thread count runs
// in a child process; inside a child, wembed and ORT runs are interleaved (alternating which goes first) and
// medians reported. wembed runs on the same thread count: load({ threads }) with the shared-memory module
// (js/pool.js, Team: one model, every op split across the threads), so batch 1 and batches both use them.
// Nothing is asserted: this prints a table and writes JSON.
import { spawnSync } from 'node:child_process';
import * as fsSync from 'node:fs';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { SETTLE_MS, cos, ortEmbedder, settle, stats, summary, textMaker } from './cases.mjs';
import { machine } from './machine.mjs';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const SHARED = process.env.WEMBED_SHARED ?? `${ROOT}../shared/`;
const ONNX = `${SHARED}models/gte-small-synth/onnx/model_quantized.onnx`;
const REF = `${SHARED}reference/models/gte-small-synth/`;
const ORT_DIST = `${ROOT}node_modules/onnxruntime-web/dist/`;
const ORT_WASM = 'ort-wasm-simd-threaded.wasm';   // what ort.node.min.mjs loads (its .mjs glue imports this name)

const args = process.argv.slice(2);
const opt = (name, dflt) => { const i = args.indexOf(`--${name}`); return i >= 0 ? args[i + 1] : dflt; };
const RUNS = Number(opt('runs', 20));
const WARMUP = Number(opt('warmup', 3));
const BATCH_RUNS = Number(opt('batch-runs', 5));
const THREADS = opt('threads', '1,2').split(',').map(Number);
const MODEL = opt('model', `${ROOT}build/models/gte-small-synth.int8.wemb`);
const WASM = opt('wasm', `${ROOT}dist/wembed.wasm`);
const WASM_MT = opt('wasm-mt', `${ROOT}dist/wembed-mt.wasm`);
const OUT = opt('out', `${ROOT}bench/results.json`);
const LENGTHS = opt('lengths', '16,32,128,512').split(',').map(Number);
const N_BATCH = Number(opt('batch', 256));
const CHUNK = 32;   // ORT padded batch size (= wembed's CHUNK_TEXTS: the same granularity)

const now = () => performance.now();
const SETTLE = Number(opt('settle', SETTLE_MS));  // ms before each timed run (cases.mjs)

// ---------------------------------------------------------------------------------------------------------------
async function worker(threads) {
  const ort = await import('onnxruntime-web');
  ort.env.wasm.numThreads = threads;
  ort.env.wasm.simd = true;
  ort.env.wasm.wasmPaths = ORT_DIST;   // explicit: the files in node_modules, never a CDN
  const { load } = await import('../js/index.js');
  const out = { threads, ort_version: ort.env.versions.web };
  const loadOptions = threads > 1 ? { wasm: WASM_MT, threads } : { wasm: WASM };

  // Session creation / load-to-ready. The first of each includes compiling its wasm module (cold).
  const wLoads = [], oLoads = [];
  let model, session;
  for (let i = 0; i < 6; i++) {
    let t = now();
    const m = await load(MODEL, loadOptions);
    wLoads.push(now() - t);
    if (model) m.dispose(); else model = m;
    t = now();
    const s = await ort.InferenceSession.create(ONNX, { executionProviders: ['wasm'] });
    oLoads.push(now() - t);
    if (session) await s.release(); else session = s;
  }
  out.load = {
    wembed: { cold_ms: wLoads[0], warm: stats(wLoads.slice(1)) },
    ort: { cold_ms: oLoads[0], warm: stats(oLoads.slice(1)) },
  };
  out.ort_inputs = session.inputNames;
  out.ort_outputs = session.outputNames;

  const tok = (t) => model.tokenize(t);
  // ORT on a list of id sequences, padded to the longest (as transformers.js does), mean-pooled + L2 in JS.
  const ortEmbed = ortEmbedder(ort, session);

  // Texts whose wembed tokenization has exactly N tokens ([CLS] and [SEP] included): STS words, greedily, then "a".
  const refLines = readFileSync(`${REF}texts.jsonl`, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const textOf = textMaker(refLines, tok);

  out.batch1 = {};
  for (const n of LENGTHS) {
    const text = textOf(n), ids = tok(text);
    const w = [], o = [], tk = [];
    let wv, ov;
    for (let i = 0; i < WARMUP; i++) { wv = (await model.embed([text]))[0]; [ov] = await ortEmbed([ids]); }
    for (let i = 0; i < RUNS; i++) {
      const runW = async () => { await settle(SETTLE); const t = now(); wv = (await model.embed([text]))[0]; w.push(now() - t); };
      const runO = async () => { await settle(SETTLE); const t = now(); [ov] = await ortEmbed([ids]); o.push(now() - t); };
      if (i % 2) { await runO(); await runW(); } else { await runW(); await runO(); }
      const t = now(); tok(text); tk.push(now() - t);
    }
    out.batch1[n] = { tokens: ids.length, wembed: stats(w), ort: stats(o), wembed_tokenize: stats(tk), cosine_wembed_ort: cos(wv, ov) };
    process.stderr.write(`  [${threads}t] batch 1 × ${n} tokens: wembed ${stats(w).median.toFixed(2)} ms, ort ${stats(o).median.toFixed(2)} ms\n`);
  }

  // 256 mixed-length STS sentences (the first lines of texts.jsonl).
  const sents = refLines.slice(0, N_BATCH);
  const texts = sents.map((r) => r.text);
  const seqs = texts.map(tok);
  out.ids_equal_reference = seqs.every((s, i) => s.length === sents[i].ids.length && s.every((x, j) => x === sents[i].ids[j]));
  const ortModes = {
    [`padded chunks of ${CHUNK}`]: async () => { const v = []; for (let i = 0; i < seqs.length; i += CHUNK) v.push(...await ortEmbed(seqs.slice(i, i + CHUNK))); return v; },
    'one at a time': async () => { const v = []; for (const s of seqs) v.push(...await ortEmbed([s])); return v; },
    [`padded, all ${N_BATCH} in one batch`]: () => ortEmbed(seqs),
  };
  const bt = { wembed: [] }, vecs = {};
  for (const k of Object.keys(ortModes)) bt[k] = [];
  vecs.wembed = await model.embed(texts);                               // warm-up
  for (const [k, f] of Object.entries(ortModes)) vecs[k] = await f();
  for (let i = 0; i < BATCH_RUNS; i++) {
    let t = now(); vecs.wembed = await model.embed(texts); bt.wembed.push(now() - t);
    for (const [k, f] of Object.entries(ortModes)) { t = now(); vecs[k] = await f(); bt[k].push(now() - t); }
  }
  const ref = new Float32Array(readFileSync(`${REF}embeddings.f32`).buffer.slice(0, N_BATCH * 384 * 4));
  const refRow = (i) => ref.subarray(i * 384, (i + 1) * 384);
  out.batch = {
    sentences: N_BATCH,
    tokens_total: seqs.reduce((a, s) => a + s.length, 0),
    tokens_max: Math.max(...seqs.map((s) => s.length)),
    ms: Object.fromEntries(Object.entries(bt).map(([k, v]) => [k, stats(v)])),
    sentences_per_s: Object.fromEntries(Object.entries(bt).map(([k, v]) => [k, (N_BATCH * 1000) / stats(v).median])),
  };
  const oneVecs = vecs['one at a time'];
  out.fidelity = {
    sentences: N_BATCH,
    cosine_wembed_vs_ort: summary(texts.map((_, i) => cos(vecs.wembed[i], oneVecs[i]))),
    cosine_wembed_vs_reference_fp32: summary(texts.map((_, i) => cos(vecs.wembed[i], refRow(i)))),
    cosine_ort_vs_reference_fp32: summary(texts.map((_, i) => cos(oneVecs[i], refRow(i)))),
    cosine_ort_padded_vs_ort_one: summary(texts.map((_, i) => cos(vecs[`padded chunks of ${CHUNK}`][i], oneVecs[i]))),
  };
  process.stderr.write(`  [${threads}t] batch ${N_BATCH}: ${Object.entries(out.batch.sentences_per_s).map(([k, v]) => `${k} ${v.toFixed(1)}/s`).join(', ')}\n`);
  model.dispose();
  await session.release();
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
const sizeOf = (p) => { const b = readFileSync(p); return { file: p.replace(ROOT, ''), raw: b.length, gzip: gzipSync(b, { level: 9 }).length }; };
const f = (x, d = 2) => x.toFixed(d);

async function main() {
  const before = machine(/compare\.mjs/);
  const command = `node bench/compare.mjs ${args.join(' ')}`.trim();
  process.stderr.write(`machine: ${before.cpu}, ${before.cores} cores, node ${before.node}, load average ${before.loadavg.join(' ')}\n`);
  const workers = [];
  for (const t of THREADS) {
    const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--worker', String(t), ...args],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 26 });
    if (r.status !== 0) throw new Error(`worker (${t} threads) failed with status ${r.status}`);
    workers.push(JSON.parse(r.stdout.trim().split('\n').pop()));
  }
  const after = machine(/compare\.mjs/);
  const sizes = {
    wembed: { wasm: sizeOf(WASM), wasm_mt: sizeOf(WASM_MT), js: ['js/index.js', 'js/core.js', 'js/sources.js', 'js/crc32.js'].map((p) => sizeOf(ROOT + p)) },
    ort: { wasm: sizeOf(ORT_DIST + ORT_WASM), js: [sizeOf(`${ORT_DIST}ort-wasm-simd-threaded.mjs`), sizeOf(`${ORT_DIST}ort.wasm.min.mjs`)] },
  };
  const rows = [];
  for (const w of workers) {
    for (const [n, c] of Object.entries(w.batch1)) {
      rows.push({ threads: w.threads, case: `batch 1, ${n} tokens`, unit: 'ms', wembed: c.wembed, ort: c.ort, ratio: c.ort.median / c.wembed.median });
    }
    const modes = Object.keys(w.batch.ms).filter((k) => k !== 'wembed');
    const best = modes.reduce((a, b) => (w.batch.ms[a].median <= w.batch.ms[b].median ? a : b));
    for (const m of modes) {
      rows.push({ threads: w.threads, case: `${w.batch.sentences} STS sentences, ORT ${m}${m === best ? ' (best for ORT)' : ''}`, unit: 'sent/s',
        wembed: w.batch.sentences_per_s.wembed, ort: w.batch.sentences_per_s[m], ratio: w.batch.ms[m].median / w.batch.ms.wembed.median });
    }
    rows.push({ threads: w.threads, case: 'load to ready (warm, median of 5)', unit: 'ms', wembed: w.load.wembed.warm, ort: w.load.ort.warm,
      ratio: w.load.ort.warm.median / w.load.wembed.warm.median });
    rows.push({ threads: w.threads, case: 'load to ready (cold: first, incl. wasm compile)', unit: 'ms', wembed: { median: w.load.wembed.cold_ms }, ort: { median: w.load.ort.cold_ms },
      ratio: w.load.ort.cold_ms / w.load.wembed.cold_ms });
  }
  rows.push({ threads: '-', case: 'wasm size raw (KB)', unit: 'KB', wembed: { median: sizes.wembed.wasm.raw / 1024 }, ort: { median: sizes.ort.wasm.raw / 1024 }, ratio: sizes.ort.wasm.raw / sizes.wembed.wasm.raw });
  rows.push({ threads: '2', case: 'wasm size, shared-memory module, raw (KB)', unit: 'KB', wembed: { median: sizes.wembed.wasm_mt.raw / 1024 }, ort: { median: sizes.ort.wasm.raw / 1024 }, ratio: sizes.ort.wasm.raw / sizes.wembed.wasm_mt.raw });
  rows.push({ threads: '-', case: 'wasm size gzip -9 (KB)', unit: 'KB', wembed: { median: sizes.wembed.wasm.gzip / 1024 }, ort: { median: sizes.ort.wasm.gzip / 1024 }, ratio: sizes.ort.wasm.gzip / sizes.wembed.wasm.gzip });

  const cell = (v, unit) => (typeof v === 'number' ? f(v, 1)
    : v.min === undefined ? f(v.median, unit === 'KB' ? 1 : 1) : `${f(v.median)} (${f(v.min)}–${f(v.max)})`);
  const lines = [
    `| threads | case | wembed | onnxruntime-web (wasm) | ratio ORT/wembed (> 1: wembed faster/smaller) | ratio of mins |`,
    `|---|---|---|---|---|---|`,
    ...rows.map((r) => `| ${r.threads} | ${r.case} [${r.unit}] | ${cell(r.wembed, r.unit)} | ${cell(r.ort, r.unit)} | ${f(r.ratio)} | ${r.wembed.min !== undefined && r.unit === 'ms' ? f(r.ort.min / r.wembed.min) : ''} |`),
  ];
  const w1 = workers[0];
  const notes = [
    `ms cells: median (min–max) of ${RUNS} interleaved runs after ${WARMUP} warm-up runs; sent/s from the median of ${BATCH_RUNS} runs of the whole batch.`,
    `wembed times include its tokenization (median at 512 tokens: ${f(w1.batch1[LENGTHS.at(-1)]?.wembed_tokenize.median ?? NaN, 3)} ms); ORT is fed the same ids and its time includes mean pooling + L2 in JS.`,
    `batch: ${w1.batch.sentences} STS sentences, ${w1.batch.tokens_total} tokens, longest ${w1.batch.tokens_max}; wembed ids == reference ids: ${w1.ids_equal_reference}.`,
    `fidelity (${w1.fidelity.sentences} sentences, mean / min cosine): wembed vs ORT int8 ${f(w1.fidelity.cosine_wembed_vs_ort.mean, 5)} / ${f(w1.fidelity.cosine_wembed_vs_ort.min, 5)}; ` +
      `wembed vs fp32 reference ${f(w1.fidelity.cosine_wembed_vs_reference_fp32.mean, 5)} / ${f(w1.fidelity.cosine_wembed_vs_reference_fp32.min, 5)}; ` +
      `ORT int8 vs fp32 reference ${f(w1.fidelity.cosine_ort_vs_reference_fp32.mean, 5)} / ${f(w1.fidelity.cosine_ort_vs_reference_fp32.min, 5)}; ` +
      `batch-1 cases wembed vs ORT: ${Object.entries(w1.batch1).map(([n, c]) => `${n}: ${f(c.cosine_wembed_ort, 4)}`).join(', ')}.`,
    `wasm: ${sizes.wembed.wasm.file} vs node_modules/onnxruntime-web/dist/${ORT_WASM} (the module ORT loads; plus its JS glue).`,
    `machine: ${before.cpu}, ${before.cores} cores (${before.flags_simd.join(' ')}), node ${before.node}, onnxruntime-web ${w1.ort_version}; ` +
      `load average before ${before.loadavg.join(' ')}, after ${after.loadavg.join(' ')}; other busy processes: ${[...new Set([...before.top_processes, ...after.top_processes])].join('; ') || 'none seen'}` +
      `${before.top_processes.length || after.top_processes.length ? ' (other work was running on the 2 cores: medians are noisy; min columns show the uncontended speed)'
        : before.loadavg[0] > 0.5 ? ' (1-min load was already > 0.5 at the start: recent or intermittent other work; compare the min columns)' : ''}.`,
  ];
  const text = `command: ${command}\n\n${lines.join('\n')}\n\n${notes.map((n) => `- ${n}`).join('\n')}\n`;
  console.log(text);
  writeFileSync(OUT, `${JSON.stringify({ command, date: new Date().toISOString(), machine: { before, after }, sizes, settings: { runs: RUNS, warmup: WARMUP, batch_runs: BATCH_RUNS, onnx: ONNX.replace(SHARED, '../shared/'), model: MODEL.replace(ROOT, '') }, rows, workers, table: lines.join('\n'), notes }, null, 1)}\n`);
  console.log(`wrote ${OUT.replace(ROOT, '')}`);
}

// --profile: wembed alone under node --cpu-prof (build/bench/wembed.prof.wasm has function names: make bench-profile),
// on the same batch-1 texts and STS batch; prints self time per function.
async function profileWorker() {
  const { load } = await import('../js/index.js');
  const model = await load(MODEL, { wasm: WASM });
  const refLines = readFileSync(`${REF}texts.jsonl`, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const texts = refLines.slice(0, N_BATCH).map((r) => r.text);
  for (const n of LENGTHS) {
    let t = ''; while (model.tokenize(t).length < n) t += (t ? ' ' : '') + 'a';
    for (let i = 0; i < Math.max(3, Math.round(RUNS * 128 / n / 4)); i++) await model.embed([t]);
  }
  for (let i = 0; i < BATCH_RUNS; i++) await model.embed(texts);
  model.dispose();
}
function profileMain() {
  const dir = `${ROOT}build/bench/prof`;
  const { rmSync, mkdirSync, readdirSync } = fsSync;
  rmSync(dir, { recursive: true, force: true }); mkdirSync(dir, { recursive: true });
  const r = spawnSync(process.execPath, ['--cpu-prof', '--cpu-prof-dir', dir, fileURLToPath(import.meta.url), '--profile-worker', ...args],
    { stdio: 'inherit' });
  if (r.status !== 0) throw new Error('profile run failed');
  const prof = JSON.parse(readFileSync(`${dir}/${readdirSync(dir).find((x) => x.endsWith('.cpuprofile'))}`, 'utf8'));
  const self = new Map(); const byId = new Map(prof.nodes.map((nd) => [nd.id, nd]));
  const dt = new Map();
  prof.samples.forEach((id, i) => dt.set(id, (dt.get(id) ?? 0) + (prof.timeDeltas[i] ?? 0)));
  let total = 0;
  for (const [id, us] of dt) { const nd = byId.get(id); const k = nd.callFrame.functionName || `(${nd.callFrame.url.split('/').pop() || 'anonymous'})`; self.set(k, (self.get(k) ?? 0) + us); total += us; }
  const top = [...self].sort((a, b) => b[1] - a[1]).slice(0, 20);
  console.log(`self time, lengths ${LENGTHS.join('/')} + batch ${N_BATCH} (wasm ${WASM.replace(ROOT, '')}), total ${(total / 1e3).toFixed(0)} ms:`);
  for (const [k, us] of top) console.log(`  ${(100 * us / total).toFixed(1).padStart(5)}%  ${(us / 1e3).toFixed(0).padStart(6)} ms  ${k}`);
}

if (args[0] === '--profile-worker') {
  await profileWorker();
} else if (args[0] === '--profile') {
  profileMain();
} else if (args[0] === '--worker') {
  const r = await worker(Number(args[1]));
  console.log(JSON.stringify(r));
  process.exit(0);   // ORT's pthread workers would keep a 2-thread process alive
} else {
  await main();
}
