// The relaxed-SIMD proof, in headless Chromium (Debian's, via playwright-core; Node 20 cannot run relaxed SIMD
// right, so these run nowhere else):
//   1. the kernel tests built with relaxed SIMD (build/test_kernels-relaxed.wasm: the relaxed variants of
//      wm_gemm_u6x2i8 and, where this engine's dot is u8 x s8 exact, wm_gemm_u8i8 against the scalar int16 / int8
//      GEMMs, bit for bit, and everything else test_kernels checks) pass in a page;
//   2. js/core.js picks dist/wembed-relaxed.wasm there (model.info.simd 'relaxed', also for a 2-thread pool), and
//      the relaxed module embeds exactly what dist/wembed.wasm does, bit for bit, on int8 files with 12-bit
//      activations in groups of 128 (the converter's default: the digits), with 8-bit activations (the u8 kernel on
//      x86 with AVX-VNNI), with 8-bit activations and per-channel scales (the v1 scheme), and on f32 files;
//      model.info.int8_gemm names the kernel each module ran.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { ROOT, startServer } from './server.mjs';
import { CHROMIUM, CHROMIUM_ARGS, runWasiInChromium } from './run-wasi-chromium.mjs';
import { parseRanges } from './ranges.js';
import { HAVE_SHARED, SHARED, relaxedInt8Gemm, testModel } from '../js/common.mjs';

const KERNELS = `${ROOT}build/test_kernels-relaxed.wasm`;
const MODEL = 'gte-small-synth';
// STS sentences (9-40 tokens) and long texts (100-512 tokens) of the reference set: every micro-kernel height and
// group count the encoder meets, without the minutes all 250 long texts take on a shared 2-core machine
const PICK = { int8: '0-255,2910-2929', 'int8-a8': '0-127,2914-2925', 'int8-v1': '0-47,2918-2925', f32: '0-47,2918-2925' };
const DEADLINE_MS = Number(process.env.WEMBED_BROWSER_TIMEOUT ?? 300_000);

const missing = [[CHROMIUM, "scripts/deps.sh installs Debian's chromium"], [KERNELS, 'make build/test_kernels-relaxed.wasm'],
  [`${ROOT}dist/wembed-relaxed.wasm`, 'make wasm'], [`${ROOT}dist/wembed.wasm`, 'make wasm']].filter(([p]) => !existsSync(p));
const skip = missing.length ? missing.map(([p, why]) => `${p} is absent (${why})`).join('; ') : false;
if (skip) process.stderr.write(`\n*** SKIPPING the relaxed-SIMD proof: ${skip} ***\n\n`);

test('relaxed SIMD: the kernel tests pass in Chromium', { skip, timeout: DEADLINE_MS }, async () => {
  const r = await runWasiInChromium(KERNELS, [], { timeoutMs: DEADLINE_MS });
  const lines = r.stdout.trim().split('\n');
  console.log(`# ${r.userAgent.match(/Chrom\S+/)?.[0]}: ${lines[0]}; ${lines.at(-1)}`);
  assert.equal(lines[0], 'test_kernels (relaxed)', 'the module is not the relaxed build');
  assert.equal(r.status, 0, `test_kernels failed in Chromium:\n${lines.filter((l) => l.startsWith('FAIL')).slice(0, 20).join('\n')}`);
  assert.match(lines.at(-1), /^\d+ passed, 0 failed$/);
});

test('relaxed SIMD: Chromium picks dist/wembed-relaxed.wasm, which embeds bit-identically to dist/wembed.wasm',
  { skip: skip || (!HAVE_SHARED && `${SHARED} is absent`), timeout: DEADLINE_MS + 60_000 }, async () => {
    const texts = readFileSync(`${SHARED}/reference/models/${MODEL}/texts.jsonl`, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l).text);
    const files = {
      int8: await testModel(MODEL, 'int8'),
      'int8-a8': await testModel(MODEL, 'int8', { actBits: 8 }, 'int8-a8'),
      'int8-v1': await testModel(MODEL, 'int8', { actBits: 8, group: 0 }, 'int8-v1'),  // one scale per channel
      f32: await testModel(MODEL, 'f32'),
    };
    const bits = { int8: 12, 'int8-a8': 8, 'int8-v1': 8 };
    const cases = Object.entries(files).map(([kind, path]) => ({ kind, model: `/${path.slice(ROOT.length)}`, texts: parseRanges(PICK[kind], texts.length).map((i) => texts[i]) }));

    const { chromium } = await import('playwright-core');
    let server, browser, timer;
    const pageErrors = [];
    try {
      server = await startServer();
      browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 30_000 });
      const page = await browser.newPage();
      page.on('pageerror', (e) => pageErrors.push(String(e?.stack ?? e)));
      await page.goto(`${server.url}/tests/browser/wasi.html`, { waitUntil: 'load', timeout: 30_000 });
      const run = page.evaluate(async (c) => (await import('/tests/browser/relaxed-page.js')).compareModules(c), cases.map(({ model, texts: t }) => ({ model, texts: t })));
      const got = await Promise.race([run, new Promise((_, fail) => { timer = setTimeout(() => fail(new Error('the page took too long')), DEADLINE_MS); })]);

      console.log(`# ${got.userAgent.match(/Chrom\S+/)?.[0]}: relaxedSimdWorks() ${got.relaxedSimdWorks}`);
      for (const [i, c] of got.cases.entries()) {
        console.log(`# ${cases[i].kind}: ${c.texts} texts, default module ${c.simd.default} (${c.gemm.default}) ${c.ms.default.toFixed(0)} ms, ` +
          `relaxed ${c.ms.relaxed.toFixed(0)} ms, simd128 ${c.ms.simd128.toFixed(0)} ms; identical: ${Object.values(c.diff).every((d) => d === null)}`);
      }
      assert.deepEqual(pageErrors, []);
      assert.equal(got.relaxedSimdWorks, true, 'this Chromium does not run relaxed SIMD right (Chromium >= 114 should)');
      const fetched = (p) => server.requests.some((r) => r.path === p && r.status === 200);
      assert.ok(fetched('/dist/wembed-relaxed.wasm'), 'the relaxed module was never fetched');
      assert.ok(fetched('/dist/wembed-relaxed-mt.wasm'), 'the shared-memory relaxed module was never fetched');
      for (const [i, c] of got.cases.entries()) {
        const kind = cases[i].kind;
        assert.deepEqual(c.simd, { default: 'relaxed', relaxed: 'relaxed', simd128: 'simd128', threaded: 'relaxed', copies: 'relaxed' }, `${kind}: modules (model.info.simd)`);
        assert.deepEqual(c.threads, [2, 'shared', 2, 'copies'], `${kind}: threads and thread_mode`);
        const relaxedGemm = kind === 'f32' ? null : relaxedInt8Gemm(bits[kind]) ?? c.gemm.relaxed;  // null: either
        assert.match(String(c.gemm.relaxed), kind === 'f32' ? /^null$/ : /^(u8i8|u6x2i8)$/, `${kind}: the relaxed int8 GEMM`);
        assert.deepEqual(c.gemm, { default: relaxedGemm, relaxed: relaxedGemm, simd128: kind === 'f32' ? null : 'i16i8', threaded: relaxedGemm, copies: relaxedGemm },
          `${kind}: the int8 GEMM each module ran (model.info.int8_gemm)`);
        for (const [what, d] of Object.entries(c.diff)) {
          assert.equal(d, null, `${kind}: ${what}: vectors differ, first at text ${d?.text} ${d?.reason ?? JSON.stringify(cases[i].texts[d?.text]?.slice(0, 60))}`);
        }
      }
    } finally {
      clearTimeout(timer);
      await browser?.close().catch(() => {});
      await server?.close();
    }
  });
