// wembed vs onnxruntime-web (wasm backend) in headless Chromium, the real target: the browser half of `make bench`
// (bench/compare.mjs is the Node half; `make bench` runs it first, then this).
//
//   node bench/browser.mjs [--runs 20] [--warmup 3] [--batch-runs 5] [--loads 5] [--threads 1,2]
//                          [--lengths 16,32,128,512] [--batch 256] [--model build/models/gte-small-synth.int8.wemb]
//                          [--out bench/results.json] [--timeout 600] [--no-ort] [--compare URL]
//
// Chromium runs relaxed SIMD, so wembed's default there is dist/wembed-relaxed.wasm; the same model on the SIMD128
// module runs interleaved with it, and a second table gives relaxed vs SIMD128. That module is the page's choice
// for each thread count (dist/wembed.wasm on 1 thread, dist/wembed-mt.wasm on more, so that both run in the same
// thread mode) unless --compare names one ('' for none).
// --no-ort: wembed alone (that table only; bench/results.json is then left alone).
//
// Debian's Chromium (/usr/bin/chromium, or $WEMBED_CHROMIUM), driven by playwright-core as the browser proof does,
// opens bench/browser/bench.html from tests/browser/server.mjs (127.0.0.1 only, COOP/COEP: the page is
// cross-origin isolated, so ORT gets SharedArrayBuffer and its threaded wasm really runs 2 threads). One page
// load per thread count (ORT fixes its thread count when its wasm starts). The page measures; this prints the
// same kind of table as compare.mjs (rows marked "chromium") and merges it into bench/results.json under
// "chromium", keeping whatever else is there (compare.mjs's Node figures).
// Nothing is asserted: a measurement that cannot run is reported and exits non-zero.
import { existsSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { ROOT, SHARED, startServer } from '../tests/browser/server.mjs';
import { machine, mergeResults } from './machine.mjs';

const CHROMIUM = process.env.WEMBED_CHROMIUM ?? '/usr/bin/chromium';
const args = process.argv.slice(2);
const opt = (name, dflt) => { const i = args.indexOf(`--${name}`); return i >= 0 ? args[i + 1] : dflt; };
const RUNS = Number(opt('runs', 20));
const WARMUP = Number(opt('warmup', 3));
const BATCH_RUNS = Number(opt('batch-runs', 5));
const LOADS = Number(opt('loads', 5));
const THREADS = opt('threads', '1,2').split(',').map(Number);
const LENGTHS = opt('lengths', '16,32,128,512');
const N_BATCH = Number(opt('batch', 256));
const MODEL = resolve(opt('model', `${ROOT}build/models/gte-small-synth.int8.wemb`));
const OUT = resolve(opt('out', `${ROOT}bench/results.json`));
const TIMEOUT_MS = Number(opt('timeout', 600)) * 1000;   // per page; a normal page takes 1-2 minutes
const NO_ORT = args.includes('--no-ort');
const COMPARE = opt('compare', null);   // null: the page picks the SIMD128 module for its thread count
const ONNX_REL = 'models/gte-small-synth/onnx/model_quantized.onnx';
const TEXTS_REL = 'reference/models/gte-small-synth/texts.jsonl';

const f = (x, d = 2) => x.toFixed(d);

function deadline(promise, ms, what) {
  let timer;
  return Promise.race([promise, new Promise((_, fail) => {
    timer = setTimeout(() => fail(new Error(`${what} took longer than ${ms / 1000} s`)), ms);
  })]).finally(() => clearTimeout(timer));
}

// Node's own answer, for the closing note: the same hand-assembled module as the page (bench/browser/bench.js).
function nodeRelaxedSimd() {
  const op = [0xfd, 0x93, 0x02];
  return WebAssembly.validate(new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 1, 8, 1, 0x60, 3, 0x7b, 0x7b, 0x7b, 1, 0x7b,
    3, 2, 1, 0, 10, op.length + 10, 1, op.length + 8, 0, 0x20, 0, 0x20, 1, 0x20, 2, ...op, 0x0b]));
}

// wembed's default module (relaxed SIMD in Chromium) vs the --compare module, run interleaved in the same pages
function relaxedTable(pages, before, after, browserVersion) {
  const rows = [];
  for (const p of pages.filter((x) => x.compare)) {
    for (const [n, c] of Object.entries(p.batch1)) {
      rows.push({ threads: p.threads, case: `batch 1, ${n} tokens`, unit: 'ms', relaxed: c.wembed, simd128: c.wembed_compare,
        ratio: c.wembed_compare.median / c.wembed.median, ratio_min: c.wembed_compare.min / c.wembed.min, identical: c.compare_identical });
    }
    const b = p.batch, bc = p.batch_compare;
    rows.push({ threads: p.threads, case: `${b.sentences} STS sentences`, unit: 'sent/s', relaxed: b.sentences_per_s.wembed, simd128: bc.sentences_per_s,
      ratio: bc.ms.median / b.ms.wembed.median, ratio_min: bc.ms.min / b.ms.wembed.min, identical: bc.identical });
  }
  if (!rows.length) return { rows, text: `(no relaxed vs SIMD128 comparison: wembed's default module in ${browserVersion} is ${pages[0].wembed_simd})` };
  const cell = (v) => (typeof v === 'number' ? f(v, 1) : `${f(v.median)} (${f(v.min)}–${f(v.max)})`);
  const text = [
    `wembed in ${browserVersion}: dist/wembed-relaxed.wasm (its default there) vs ` +
      `${pages.filter((p) => p.compare).map((p) => `${p.compare.wasm} (${p.compare.simd}, ${p.compare.thread_mode}) on ${p.threads} thread${p.threads > 1 ? 's' : ''}`).join(', ')}, ` +
      `the same model, interleaved in the same page; load average before ${before.loadavg.join(' ')}, after ${after.loadavg.join(' ')}`,
    '',
    '| threads | case | relaxed SIMD | SIMD128 | ratio SIMD128/relaxed (> 1: relaxed faster) | ratio of mins | same vectors |',
    '|---|---|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.threads} | ${r.case} [${r.unit}] | ${cell(r.relaxed)} | ${cell(r.simd128)} | ${f(r.ratio)} | ${f(r.ratio_min)} | ${r.identical} |`),
  ].join('\n');
  return { rows, text };
}

async function main() {
  const missing = [[CHROMIUM, 'scripts/deps.sh installs Debian\'s chromium'], [MODEL, 'make builds it'],
    ...(NO_ORT ? [] : [[`${SHARED}${ONNX_REL}`, 'the peer\'s model']]), [`${ROOT}dist/wembed.wasm`, 'make wasm']].filter(([p]) => !existsSync(p));
  if (missing.length) {
    console.log(`!! SKIPPED the Chromium bench: ${missing.map(([p, why]) => `${p} is absent (${why})`).join('; ')}`);
    return;
  }
  const modelUrl = `/${relative(ROOT, MODEL)}`;
  if (modelUrl.startsWith('/..')) throw new Error(`--model must be under ${ROOT} (the server serves the repository)`);
  const command = `node bench/browser.mjs ${args.join(' ')}`.trim();
  const before = machine(/browser\.mjs|chromium/);
  process.stderr.write(`chromium bench: ${CHROMIUM}; load average ${before.loadavg.join(' ')}\n`);

  const { chromium } = await import('playwright-core');
  let server, browser;
  const pages = [], pageErrors = [], foreign = [];
  try {
    server = await startServer();
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
        '--disable-sync', '--no-first-run', '--disable-dev-shm-usage',
        // a hidden or occluded page is throttled; a benchmark page must not be
        '--disable-background-timer-throttling', '--disable-renderer-backgrounding', '--disable-backgrounding-occluded-windows',
        '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1'],
      timeout: 30_000,
    });
    for (const threads of THREADS) {
      // a fresh context per thread count: nothing (ORT's threads, wembed's workers, caches) carries over
      const context = await browser.newContext();
      const page = await context.newPage();
      page.on('console', (m) => { if (m.text().startsWith('[bench]')) process.stderr.write(`  [chromium ${threads}t] ${m.text().slice(8)}\n`); });
      page.on('pageerror', (e) => pageErrors.push(`[${threads}t] ${e?.stack ?? e}`));
      page.on('request', (r) => { if (!r.url().startsWith(`${server.url}/`) && !/^(data|blob|about):/.test(r.url())) foreign.push(r.url()); });
      const q = new URLSearchParams({ threads, runs: RUNS, warmup: WARMUP, batchRuns: BATCH_RUNS, loads: LOADS, lengths: LENGTHS,
        batch: N_BATCH, model: modelUrl, onnx: `/shared/${ONNX_REL}`, texts: `/shared/${TEXTS_REL}`, ort: NO_ORT ? '0' : '1', ...(COMPARE !== null && { compare: COMPARE }) });
      await page.goto(`${server.url}/bench/browser/bench.html?${q}`, { waitUntil: 'load', timeout: 30_000 });
      const r = await deadline(page.evaluate(() => window.bench ?? Promise.reject(new Error('bench.js did not run'))), TIMEOUT_MS, `the ${threads}-thread page`);
      pages.push(r);
      await context.close();
    }
  } catch (e) {
    if (pageErrors.length) process.stderr.write(`page errors:\n${pageErrors.join('\n')}\n`);
    throw e;
  } finally {
    await browser?.close().catch(() => {});
    await server?.close();
  }
  const after = machine(/browser\.mjs|chromium/);
  const browserVersion = pages[0].userAgent.match(/Chrom\S+/)?.[0] ?? pages[0].userAgent;
  const relaxed = relaxedTable(pages, before, after, browserVersion);
  if (NO_ORT) {
    console.log(`command: ${command}\n\n${relaxed.text}\n`);
    return;
  }

  const rows = [];
  for (const p of pages) {
    for (const [n, c] of Object.entries(p.batch1)) {
      rows.push({ runtime: 'chromium', threads: p.threads, case: `batch 1, ${n} tokens`, unit: 'ms', wembed: c.wembed, ort: c.ort, ratio: c.ort.median / c.wembed.median });
    }
    const modes = Object.keys(p.batch.ms).filter((k) => k !== 'wembed');
    const best = modes.reduce((a, b) => (p.batch.ms[a].median <= p.batch.ms[b].median ? a : b));
    for (const m of modes) {
      rows.push({ runtime: 'chromium', threads: p.threads, case: `${p.batch.sentences} STS sentences, ORT ${m}${m === best ? ' (best for ORT)' : ''}`, unit: 'sent/s',
        wembed: p.batch.sentences_per_s.wembed, ort: p.batch.sentences_per_s[m], ratio: p.batch.ms[m].median / p.batch.ms.wembed.median });
    }
    rows.push({ runtime: 'chromium', threads: p.threads, case: `load by URL to ready (warm, median of ${LOADS})`, unit: 'ms', wembed: p.load.wembed.warm, ort: p.load.ort.warm,
      ratio: p.load.ort.warm.median / p.load.wembed.warm.median });
    rows.push({ runtime: 'chromium', threads: p.threads, case: 'load by URL to ready (cold: first, incl. wasm compile)', unit: 'ms', wembed: { median: p.load.wembed.cold_ms }, ort: { median: p.load.ort.cold_ms },
      ratio: p.load.ort.cold_ms / p.load.wembed.cold_ms });
  }
  const cell = (v) => (typeof v === 'number' ? f(v, 1) : v.min === undefined ? f(v.median, 1) : `${f(v.median)} (${f(v.min)}–${f(v.max)})`);
  const lines = [
    '| runtime | threads | case | wembed | onnxruntime-web (wasm) | ratio ORT/wembed (> 1: wembed faster) | ratio of mins |',
    '|---|---|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.runtime} | ${r.threads} | ${r.case} [${r.unit}] | ${cell(r.wembed)} | ${cell(r.ort)} | ${f(r.ratio)} | ${r.wembed.min !== undefined && r.unit === 'ms' ? f(r.ort.min / r.wembed.min) : ''} |`),
  ];
  const p1 = pages[0];
  const last = LENGTHS.split(',').at(-1);
  const notes = [
    `${browserVersion} headless (${CHROMIUM}), page cross-origin isolated: ${pages.map((p) => `${p.threads}t ${p.crossOriginIsolated}`).join(', ')}; ` +
      `ORT threads (env.wasm.numThreads after init / pthread workers started): ${pages.map((p) => `${p.threads}t ${p.ort_num_threads}/${p.ort_workers}`).join(', ')}; ` +
      `wembed threads: ${pages.map((p) => `${p.threads}t ${p.wembed_threads}`).join(', ')}.`,
    `wasm features in Chromium: SIMD128 ${p1.wasm.simd128}, relaxed SIMD ${p1.wasm.relaxed_simd} (WebAssembly.validate of i32x4.relaxed_dot_i8x16_i7x16_add_s); ` +
      `in ${process.version} (the Node half): relaxed SIMD ${nodeRelaxedSimd()} without flags.`,
    `ms cells: median (min–max) of ${RUNS} interleaved runs after ${WARMUP} warm-up runs; sent/s from the median of ${BATCH_RUNS} runs of the whole batch (after one warm-up).`,
    `wembed times include its tokenization (median at ${last} tokens: ${f(p1.batch1[last]?.wembed_tokenize.median ?? NaN, 3)} ms); ORT is fed the same ids and its time includes mean pooling + L2 in JS.`,
    `batch: ${p1.batch.sentences} STS sentences, ${p1.batch.tokens_total} tokens, longest ${p1.batch.tokens_max}; wembed ids == reference ids: ${p1.ids_equal_reference}; ` +
      `ORT padded to the longest in chunks of 32, and one at a time (compare.mjs's third way, all ${p1.batch.sentences} in one padded batch, is left out: always ORT's slowest in Node).`,
    `load: by URL from the local server (127.0.0.1, no-store: every load downloads again), wembed load(url) vs ort.InferenceSession.create(url); cold = the page's first, which compiles the wasm.`,
    `sanity (cosine wembed vs ORT int8): batch ${f(p1.fidelity.cosine_wembed_vs_ort.mean, 5)} mean / ${f(p1.fidelity.cosine_wembed_vs_ort.min, 5)} min; ` +
      `batch-1 ${Object.entries(p1.batch1).map(([n, c]) => `${n}: ${f(c.cosine_wembed_ort, 4)}`).join(', ')}.`,
    `machine: ${before.cpu}, ${before.cores} cores, hardwareConcurrency ${p1.hardwareConcurrency}; load average before ${before.loadavg.join(' ')}, after ${after.loadavg.join(' ')}; ` +
      `other busy processes: ${[...new Set([...before.top_processes, ...after.top_processes])].join('; ') || 'none seen'}` +
      `${before.loadavg[0] > 0.5 ? ' (the 2 cores were not idle at the start: medians are noisy, compare the min columns)' : ''}.`,
  ];
  if (foreign.length) notes.push(`requests beyond 127.0.0.1 (blocked): ${[...new Set(foreign)].join(', ')}`);
  if (pageErrors.length) notes.push(`page errors: ${pageErrors.join(' | ')}`);

  console.log(`command: ${command}\n\n${lines.join('\n')}\n\n${notes.map((n) => `- ${n}`).join('\n')}\n`);
  if (relaxed.rows.length) console.log(`${relaxed.text}\n`);

  mergeResults(OUT, 'chromium', {
    command, date: new Date().toISOString(), browser: browserVersion, executable: CHROMIUM,
    machine: { before, after },
    settings: { runs: RUNS, warmup: WARMUP, batch_runs: BATCH_RUNS, loads: LOADS, lengths: LENGTHS, batch: N_BATCH,
      onnx: `../shared/${ONNX_REL}`, model: relative(ROOT, MODEL) },
    wasm_features: { chromium: p1.wasm, node: { version: process.version, relaxed_simd: nodeRelaxedSimd() } },
    rows, pages, table: lines.join('\n'), notes,
    ...(relaxed.rows.length && { relaxed: { rows: relaxed.rows, table: relaxed.text } }),
  });
  console.log(`wrote ${relative(ROOT, OUT)} (key "chromium")`);
}

await main();
