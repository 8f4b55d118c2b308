// The browser proof (issue 4 §3): headless Chromium (Debian's, driven by playwright-core; never a downloaded
// browser) opens tests/browser/page.html from a local static server, loads the int8 zh model **by URL** through
// js/index.js, tokenizes every reference text and embeds a few hundred (WEMBED_BROWSER_PICK=all: every one);
// Node embeds the same texts through js/index.js. Chromium runs relaxed SIMD, so it loads dist/wembed-relaxed.wasm,
// while Node 20 loads dist/wembed.wasm (SIMD128). Asserted: the vectors and scores are bit for bit identical
// anyway, the ids equal the reference ids, model.info matches (but for info.simd and info.int8_gemm), the download progress is sane,
// a corrupted copy rejects with an Error naming the section and the CRC, and nothing is fetched beyond 127.0.0.1.
// Screenshot of the page's results view: build/browser/page.png.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { ROOT, startServer } from './server.mjs';
import { parseRanges } from './ranges.js';
import { HAVE_SHARED, SHARED, relaxedInt8Gemm, testModel } from '../js/common.mjs';
import { load } from '../../js/index.js';
import { KIND, isPerLayer, parseTable, sectionName } from '../../js/format.js';

const CHROMIUM = process.env.WEMBED_CHROMIUM ?? '/usr/bin/chromium';
const MODEL = 'gte-small-zh-synth';
const DTYPE = 'int8';
const PICK = process.env.WEMBED_BROWSER_PICK ?? '0-299,3794-3899';  // 300 STS sentences + the 106 edge cases
const QUERIES = '1,3,5,7,9,13';
const POOL = '0-29';
const DEADLINE_MS = Number(process.env.WEMBED_BROWSER_TIMEOUT ?? 150_000);
const SHOT = `${ROOT}build/browser/page.png`;

const skip = !HAVE_SHARED ? `${SHARED} is absent`
  : !existsSync(CHROMIUM) ? `${CHROMIUM} is absent (scripts/deps.sh installs Debian's chromium)`
  : !existsSync(`${ROOT}dist/wembed.wasm`) || !existsSync(`${ROOT}dist/wembed-relaxed.wasm`) ? 'dist/wembed.wasm or dist/wembed-relaxed.wasm is absent (make wasm)'
  : false;
if (skip) process.stderr.write(`\n*** SKIPPING the browser proof: ${skip} ***\n\n`);

/** Rejects after ms (so that a hung page still reaches the finally blocks that close the browser and server). */
function deadline(promise, ms, what) {
  let timer;
  return Promise.race([promise, new Promise((_, fail) => {
    timer = setTimeout(() => fail(new Error(`browser proof: ${what} took longer than ${ms} ms`)), ms);
  })]).finally(() => clearTimeout(timer));
}

function nodeSide(workerData) {
  const worker = new Worker(new URL('./node-embed.mjs', import.meta.url), { workerData });
  const result = new Promise((ok, fail) => {
    worker.once('message', ok);
    worker.once('error', fail);
    worker.once('exit', (code) => fail(new Error(`node-embed worker exited (${code}) without a result`)));
  });
  return { result, stop: () => worker.terminate() };
}

/**
 * Bytes to invert, each with the section label the C reader prints: the middle of the last layer's largest
 * section (near the end of the file) and the middle of TOKENIZER (early: most of the download is still to come).
 */
function corruptionTargets(bytes) {
  const sections = parseTable(bytes);
  const layer = sections.filter((s) => isPerLayer(s.kind));
  const last = Math.max(...layer.map((s) => s.index));
  const big = layer.filter((x) => x.index === last).reduce((a, b) => (b.size > a.size ? b : a));
  const tok = sections.find((s) => s.kind === KIND.TOKENIZER);
  return [big, tok].map((s) => ({ offset: s.offset + Math.floor(s.size / 2), label: `${sectionName(s.kind)}[${s.index}]` }));
}

test('browser proof: Chromium loads by URL, and ids, info and vectors match Node bit for bit', { skip, timeout: DEADLINE_MS + 30_000 }, async () => {
  const started = performance.now();
  const modelPath = await testModel(MODEL, DTYPE);
  const modelUrl = `/${modelPath.slice(ROOT.length)}`;
  const textsPath = `${SHARED}/reference/models/${MODEL}/texts.jsonl`;
  const rows = readFileSync(textsPath, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
  const picked = parseRanges(PICK, rows.length);
  const pool = parseRanges(POOL, rows.length);
  const table = parseRanges(QUERIES, rows.length).map((query) => ({ query, candidates: pool.filter((i) => i !== query) }));
  const fileBytes = readFileSync(modelPath);
  const targets = corruptionTargets(fileBytes);

  const { chromium } = await import('playwright-core');
  let server, browser, node;
  const consoleLines = [], pageErrors = [], foreign = [];
  try {
    server = await startServer();
    node = nodeSide({ modelPath, textsPath, picked, table });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
        '--disable-sync', '--no-first-run', '--disable-dev-shm-usage',
        // nothing but 127.0.0.1 resolves: no request can leave the machine even if something tried
        '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1'],
      timeout: 30_000,
    });
    const context = await browser.newContext({ viewport: { width: 1000, height: 640 }, deviceScaleFactor: 1 });
    const page = await context.newPage();
    page.on('console', (m) => consoleLines.push(`[${m.type()}] ${m.text()}`));
    page.on('pageerror', (e) => pageErrors.push(String(e?.stack ?? e)));
    page.on('request', (r) => { if (!r.url().startsWith(`${server.url}/`) && !/^(data|blob|about):/.test(r.url())) foreign.push(r.url()); });

    const q = new URLSearchParams({ model: modelUrl, texts: `/shared/reference/models/${MODEL}/texts.jsonl`, pick: PICK, queries: QUERIES, pool: POOL });
    await page.goto(`${server.url}/tests/browser/page.html?${q}`, { waitUntil: 'load', timeout: 30_000 });
    const got = await deadline(page.evaluate(() => window.proof ?? null), DEADLINE_MS, 'the page');
    assert.ok(got, `page.js did not run:\n${[...pageErrors, ...consoleLines].join('\n')}`);
    assert.equal(await page.locator('#results tbody tr').count(), table.length, 'rows of the rendered results table');
    mkdirSync(`${ROOT}build/browser`, { recursive: true });
    await page.screenshot({ path: SHOT, fullPage: true });

    // Copies with one byte inverted, by URL: each must reject naming the section and the CRC, as Node does.
    const corrupted = [];
    for (const target of targets) {
      const path = `/__corrupt__${modelUrl}`;
      const bad = await deadline(page.evaluate(async (url) => {
        const { load } = await import('/js/index.js');
        try { (await load(url)).dispose(); return null; } catch (e) { return { isError: e instanceof Error, name: e.name, message: e.message }; }
      }, `${path}?flip=${target.offset}`), 60_000, 'a corrupted load');
      const flipped = Buffer.from(fileBytes); flipped[target.offset] ^= 0xff;
      const nodeMessage = await load(new Uint8Array(flipped)).then((m) => { m.dispose(); return null; }, (e) => e.message);
      await new Promise((ok) => setTimeout(ok, 200));
      const served = server.requests.findLast((r) => r.path === path);
      corrupted.push({ ...target, bad, nodeMessage, download: served.complete ? 'complete' : served.closed ? 'cancelled' : 'left open' });
    }

    const want = await deadline(node.result, DEADLINE_MS, 'the Node side');

    // --- report
    const ev = got.progress;
    console.log(`# browser: ${got.userAgent.match(/Chrom\S+/)?.[0]}; cross-origin isolated ${got.crossOriginIsolated}`);
    console.log(`# load by URL: ${(got.info.size / 2 ** 20).toFixed(1)} MiB in ${got.loadMs.toFixed(0)} ms, ${ev.length} progress events`);
    console.log(`# embed ${picked.length} texts: browser ${(got.embedMs / 1000).toFixed(2)} s, Node ${(want.embedMs / 1000).toFixed(2)} s`);
    for (const c of corrupted) {
      console.log(`# corrupted copy (byte ${c.offset} in ${c.label}): ${c.bad?.name}: ${c.bad?.message}; download ${c.download}`);
    }

    // --- nothing beyond 127.0.0.1; the server's types
    assert.deepEqual(foreign, [], 'requests beyond the local server');
    assert.deepEqual(pageErrors, [], `uncaught errors in the page:\n${consoleLines.join('\n')}`);
    const served = (p) => server.requests.find((r) => r.path === p);
    assert.equal(served('/dist/wembed-relaxed.wasm')?.type, 'application/wasm');
    assert.match(served('/js/index.js')?.type ?? '', /^text\/javascript/);
    assert.equal(got.crossOriginIsolated, true);

    // --- info: the same, but for the module each loaded (Chromium: relaxed SIMD; Node 20 cannot run it)
    const { simd: gotSimd, int8_gemm: gotGemm, ...gotInfo } = got.info, { simd: wantSimd, int8_gemm: wantGemm, ...wantInfo } = want.info;
    assert.deepEqual(gotInfo, wantInfo, 'model.info differs between the browser and Node');
    assert.equal(gotSimd, 'relaxed', 'Chromium runs relaxed SIMD, yet js/core.js did not load dist/wembed-relaxed.wasm');
    assert.equal(wantSimd, 'simd128');
    assert.equal(wantGemm, 'i16i8');
    const relaxedGemm = relaxedInt8Gemm(got.info.activation_bits);
    if (relaxedGemm) assert.equal(gotGemm, relaxedGemm, 'the relaxed module\'s int8 GEMM');
    else assert.match(gotGemm, /^(u8i8|u6x2i8)$/);
    assert.equal(got.dim, 512);
    assert.equal(got.info.size, fileBytes.length);
    assert.equal(got.info.max_tokens, 512);
    assert.equal(got.info.pooling, 'cls');
    assert.equal(got.info.normalize, true);
    assert.equal(got.info.dtype, DTYPE);

    // --- progress: several events, strictly increasing, constant total = file size, ending at total
    assert.ok(ev.length >= 3, `only ${ev.length} progress events`);
    for (let i = 0; i < ev.length; i++) {
      assert.equal(ev[i].total, fileBytes.length, `progress event ${i}: total`);
      assert.ok(ev[i].loaded > (i ? ev[i - 1].loaded : 0) && ev[i].loaded <= ev[i].total, `progress event ${i}: loaded ${ev[i].loaded}`);
    }
    assert.equal(ev.at(-1).loaded, ev.at(-1).total);

    // --- token ids of every reference text
    assert.equal(got.ids.length, rows.length);
    const badIds = [];
    rows.forEach((r, i) => {
      if (badIds.length < 3 && JSON.stringify(got.ids[i]) !== JSON.stringify(r.ids)) badIds.push({ i, text: r.text.slice(0, 60), got: got.ids[i].slice(0, 16), want: r.ids.slice(0, 16) });
    });
    assert.deepEqual(badIds, [], 'browser token ids differ from the reference');

    assert.equal(got.workerSame, true, 'a module Web Worker embeds the same vectors, bit for bit');
    assert.equal(got.threads, 2);
    assert.equal(got.threadMode, 'shared', 'a cross-origin isolated page shares one model between threads');
    assert.equal(got.threadsSame, true, 'load({ threads: 2 }) embeds the same vectors, bit for bit');

    // --- vectors and scores, bit for bit
    assert.deepEqual(got.picked, picked);
    const gotBytes = Buffer.from(got.vectors, 'base64'), wantBytes = Buffer.from(want.vectors);
    assert.equal(gotBytes.length, picked.length * 512 * 4);
    if (!gotBytes.equals(wantBytes)) {
      const row = Math.floor(gotBytes.findIndex((b, i) => b !== wantBytes[i]) / (512 * 4));
      assert.fail(`vectors differ from Node's, first at text ${picked[row]}: ${JSON.stringify(rows[picked[row]].text.slice(0, 60))}`);
    }
    assert.deepEqual(got.table.map((t) => t.scores), want.scores, 'model.score differs between the browser and Node');
    assert.deepEqual(got.table.map((t) => t.candidates), table.map((t) => t.candidates));
    assert.deepEqual(got.pipelineScores, want.pipelineScores, 'model.pipeline scores differ between the browser and Node');
    const ep = got.embedProgress;
    assert.ok(ep.length >= 2 && ep.every((p, i) => p.total === picked.length && p.done > (i ? ep[i - 1].done : 0)), `embed progress: ${JSON.stringify(ep.slice(0, 5))}`);
    assert.equal(ep.at(-1).done, picked.length);

    // --- the corrupted copies
    for (const { label, bad, nodeMessage } of corrupted) {
      assert.ok(bad, `the copy corrupted in ${label} loaded without an error`);
      assert.equal(bad.isError, true);
      assert.match(bad.message, /^wembed: /);
      assert.ok(bad.message.includes(`section ${label} CRC-32`), `the error does not name ${label} and the CRC: ${bad.message}`);
      assert.equal(bad.message, nodeMessage, 'the browser and Node report the corruption differently');
    }
    // corrupted early (TOKENIZER), the load stops and cancels the rest of the download instead of leaving it open
    assert.equal(corrupted[1].download, 'cancelled', `the download after an early corruption was ${corrupted[1].download}`);

    console.log(`# screenshot: ${SHOT} (${statSync(SHOT).size} bytes); whole proof ${((performance.now() - started) / 1000).toFixed(1)} s`);
  } catch (e) {
    if (consoleLines.length) console.log(`# page console:\n${consoleLines.map((l) => `#   ${l}`).join('\n')}`);
    throw e;
  } finally {
    await browser?.close().catch(() => {});
    await node?.stop();
    await server?.close();
  }
});
