// Where wembed's time goes in Chromium: V8's sampling profiler (DevTools protocol) over batch-1 runs of one length,
// self time per wasm function (the modules keep their name section). compare.mjs --profile is the Node twin.
//
//   node bench/chromium-profile.mjs [--tokens 128] [--runs 40] [--model build/models/gte-small-synth.int8.wemb]
//                                   [--wasm dist/wembed-relaxed.wasm]
//
// Caveat, checked: V8 attributes some of a function's samples to a neighbouring one (with an 8-bit file the u8
// GEMM's show up in part as wm_gemm_u6x2i8_relaxed, a kernel that module never calls: a build where it traps runs
// through). Read adjacent kernels of one family together, and confirm a share by A/B (e.g. the op run twice).
import { relative, resolve } from 'node:path';
import { CHROMIUM, CHROMIUM_ARGS } from '../tests/browser/run-wasi-chromium.mjs';
import { ROOT, startServer } from '../tests/browser/server.mjs';

const args = process.argv.slice(2);
const opt = (name, dflt) => { const i = args.indexOf(`--${name}`); return i >= 0 ? args[i + 1] : dflt; };
const TOKENS = Number(opt('tokens', 128)), RUNS = Number(opt('runs', 40));
const url = (p) => `/${relative(ROOT, resolve(p))}`;
const MODEL = url(opt('model', `${ROOT}build/models/gte-small-synth.int8.wemb`));
const WASM = url(opt('wasm', `${ROOT}dist/wembed-relaxed.wasm`));

const { chromium } = await import('playwright-core');
const server = await startServer();
const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
try {
  const page = await browser.newPage();
  await page.goto(`${server.url}/tests/browser/page.html`);
  const info = await page.evaluate(async ({ TOKENS, MODEL, WASM }) => {
    const { load } = await import('/js/index.js');
    const m = await load(MODEL, { wasm: WASM });
    let t = '';
    while (m.tokenize(t).length < TOKENS) t += (t ? ' ' : '') + 'word';
    for (let i = 0; i < 5; i++) await m.embed([t]);  // warm-up: V8's optimized tier
    Object.assign(window, { m, t });
    return { gemm: m.info.int8_gemm, simd: m.info.simd };
  }, { TOKENS, MODEL, WASM });
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.setSamplingInterval', { interval: 100 });  // µs
  await cdp.send('Profiler.start');
  const ms = await page.evaluate(async (runs) => {
    const t0 = performance.now();
    for (let i = 0; i < runs; i++) await window.m.embed([window.t]);
    return (performance.now() - t0) / runs;
  }, RUNS);
  const { profile } = await cdp.send('Profiler.stop');
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const name = byId.get(id).callFrame.functionName || '(anonymous)';
    const us = profile.timeDeltas[i] ?? 0;
    self.set(name, (self.get(name) ?? 0) + us);
    total += us;
  });
  console.log(`${MODEL} on ${WASM} (${JSON.stringify(info)}), ${TOKENS} tokens, batch 1: ${ms.toFixed(2)} ms per run ` +
    `while profiled (${RUNS} runs); self time:`);
  for (const [name, us] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 14))
    console.log(`  ${(100 * us / total).toFixed(1).padStart(5)}%  ${(us / 1e3 / RUNS).toFixed(2).padStart(7)} ms/run  ${name}`);
} finally {
  await browser.close();
  await server.close();
}
