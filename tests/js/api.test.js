// The public API as users meet it: every kind of source, progress, cancellation, queued concurrent calls, the
// ModelScope pipeline form, dispose. Runs on the small model (real tokenizer, tiny shapes) unless noted.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import v8 from 'node:v8';
import vm from 'node:vm';
import { load } from '../../js/index.js';
import { HAVE_SHARED, cosine, dot, norm, smallModel, testModel } from './common.mjs';

const skip = !HAVE_SHARED && 'no ../shared';
let path, bytes, server, base;
const TEXTS = ['A man is playing a guitar.', 'Someone plays an instrument.', '', '中文句子', 'The stock market fell sharply today.'];

before(async () => {
  if (!HAVE_SHARED) return;
  path = await smallModel('int8');
  bytes = new Uint8Array(readFileSync(path));
  server = createServer((req, res) => {
    if (req.url === '/model.wemb') {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': bytes.length });
      // in uneven chunks, like a network
      let at = 0;
      const step = () => {
        if (at >= bytes.length) return res.end();
        const n = 1 + ((at * 7919) % 300000);
        res.write(bytes.subarray(at, at + n), step);
        at += n;
      };
      step();
    } else {
      res.writeHead(404).end('not found');
    }
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${server.address().port}`;
});
after(() => server?.close());

function streamOf(chunks, { failAfter } = {}) {
  let i = 0;
  return new ReadableStream({
    pull(c) {
      if (failAfter !== undefined && i === failAfter) return c.error(new Error('network connection lost'));
      if (i < chunks.length) c.enqueue(chunks[i++]);
      else c.close();
    },
  });
}
const split = (b, n) => Array.from({ length: n }, (_, i) => b.subarray(Math.floor((i * b.length) / n), Math.floor(((i + 1) * b.length) / n)));

test('every kind of source loads the same model', { skip }, async () => {
  const want = await (await load(bytes)).embed(TEXTS);
  const sources = {
    'path': () => path,
    'file URL': () => pathToFileURL(path),
    'http URL string': () => `${base}/model.wemb`,
    'URL object': () => new URL(`${base}/model.wemb`),
    'Uint8Array': () => bytes,
    'ArrayBuffer': () => bytes.slice().buffer,
    'Response': () => new Response(bytes),
    'fetch Response': () => fetch(`${base}/model.wemb`),
    'ReadableStream': () => streamOf(split(bytes, 37)),
    'async iterable': () => (async function* () { yield* split(bytes, 5); })(),
  };
  for (const [kind, make] of Object.entries(sources)) {
    const events = [];
    const model = await load(await make(), { onProgress: (p) => events.push(p) });
    assert.deepEqual(await model.embed(TEXTS), want, kind);
    assert.ok(events.length >= 1, `${kind}: progress events`);
    assert.deepEqual(events.at(-1), { loaded: bytes.length, total: bytes.length }, `${kind}: last progress event`);
    for (let i = 1; i < events.length; i++) assert.ok(events[i].loaded > events[i - 1].loaded, `${kind}: progress increases`);
    model.dispose();
  }
});

test('a stream that stops half-way, fails, or carries a corrupted chunk is an Error naming the problem', { skip }, async () => {
  await assert.rejects(load(streamOf(split(bytes, 8).slice(0, 4))), new RegExp(`truncated \\.wemb: got \\d+ of ${bytes.length} bytes`));
  await assert.rejects(load(streamOf(split(bytes, 8), { failAfter: 3 })), /network connection lost/);
  const chunks = split(bytes, 8).map((c) => c.slice());
  chunks[5][1000] ^= 1;
  await assert.rejects(load(streamOf(chunks)), /corrupt \.wemb: section .+ CRC-32 expected [0-9a-f]{8}, got [0-9a-f]{8}/);
  await assert.rejects(load(`${base}/missing.wemb`), /cannot fetch .*missing\.wemb: HTTP 404/);
  await assert.rejects(load(42), TypeError);
  await assert.rejects(load(bytes, { onProgress: 'yes' }), /onProgress must be a function/);
});

test('loading can be aborted', { skip }, async () => {
  const ac = new AbortController();
  const p = load(streamOf(split(bytes, 50)), { signal: ac.signal, onProgress: ({ loaded }) => loaded > bytes.length / 3 && ac.abort() });
  await assert.rejects(p, { name: 'AbortError' });
  await assert.rejects(load(bytes, { signal: AbortSignal.abort() }), { name: 'AbortError' });
});

test('embed: shapes, options, single string, progress and cancellation', { skip }, async () => {
  const model = await load(path);
  const rows = await model.embed(TEXTS);
  assert.equal(rows.length, TEXTS.length);
  for (const r of rows) assert.ok(r instanceof Float32Array && r.length === model.dim);
  assert.deepEqual(await model.embed(TEXTS[0]), rows[0], 'a single string gives its vector');
  assert.ok(Math.abs(norm(rows[0]) - 1) < 1e-5, 'normalized by default (the model says so)');
  const raw = await model.embed(TEXTS, { normalize: false });
  assert.ok(Math.abs(cosine(raw[0], rows[0]) - 1) < 1e-6 && Math.abs(norm(raw[0]) - 1) > 1e-3);
  const cls = await model.embed(TEXTS, { pooling: 'cls' });
  assert.notDeepEqual(cls[0], rows[0]);
  // CLS pooling skips all but the first row of each sequence in the last layer (rows move within the batch)
  for (let i = 0; i < TEXTS.length; i++) assert.deepEqual(cls[i], await model.embed(TEXTS[i], { pooling: 'cls' }), `cls text ${i}: batch = alone`);
  const short = await model.embed(['one two three four five six'], { maxTokens: 4 });
  assert.deepEqual(short[0], (await model.embed(['one two']))[0], 'maxTokens 4 keeps [CLS] one two [SEP]');

  const many = Array.from({ length: 400 }, (_, i) => `text ${i}`);
  const progress = [];
  await model.embed(many, { onProgress: (p) => progress.push(p) });
  assert.deepEqual(progress.at(-1), { done: 400, total: 400 });
  assert.ok(progress.length > 1);

  const ac = new AbortController();
  await assert.rejects(model.embed(many, { signal: ac.signal, onProgress: () => ac.abort() }), { name: 'AbortError' });
  assert.deepEqual(await model.embed(TEXTS), rows, 'usable after an abort');
  await assert.rejects(model.embed(['x'], { signal: 'no' }), /signal must be an AbortSignal/);
  await assert.rejects(model.embed([1, 2]), /texts\[0\] is number, not a string/);
  model.dispose();
});

test('score, tokenize, info', { skip }, async () => {
  const model = await load(path);
  const [q, ...c] = await model.embed(TEXTS);
  const scores = await model.score(TEXTS[0], TEXTS.slice(1));
  scores.forEach((s, i) => assert.ok(Math.abs(s - cosine(q, c[i])) < 1e-6));
  const dots = await model.score(TEXTS[0], TEXTS.slice(1), { metric: 'dot' });
  dots.forEach((s, i) => assert.ok(Math.abs(s - dot(q, c[i])) < 1e-6));
  await assert.rejects(model.score(TEXTS[0], TEXTS, { metric: 'l2' }), /metric must be 'cosine' or 'dot'/);
  assert.deepEqual(model.tokenize('hello world'), [101, 7592, 2088, 102]);
  assert.deepEqual(model.tokenize('hello world', { maxTokens: 3 }), [101, 7592, 102]);
  assert.throws(() => model.tokenize(null), TypeError);
  assert.equal(model.info.dim, model.dim);
  assert.equal(model.info.pooling, 'mean');
  assert.equal(model.info.size, bytes.length);
  assert.ok(Object.isFrozen(model.info));
  model.dispose();
});

test('pipeline form (ModelScope): embeddings as the model defines them, scores = dot products with the first', { skip }, async () => {
  const model = await load(path);
  const source_sentence = ['how long does it take to get a master degree'];
  const sentences_to_compare = ['two years', 'it depends on the program', 'the weather is nice', ''];
  const out = await model.pipeline({ source_sentence, sentences_to_compare });
  assert.equal(out.text_embedding.length, 5);
  assert.deepEqual(out.text_embedding, await model.embed([...source_sentence, ...sentences_to_compare]));
  out.scores.forEach((s, i) => assert.ok(Math.abs(s - dot(out.text_embedding[0], out.text_embedding[i + 1])) < 1e-6));
  const only = await model.pipeline({ source_sentence: ['a', 'b'] });
  assert.equal(only.text_embedding.length, 2);
  assert.deepEqual(only.scores, []);
  await assert.rejects(model.pipeline({ source_sentence: 'a' }), /source_sentence must be an array of strings/);
  model.dispose();
});

test('100 interleaved concurrent calls give the same results as sequential ones', { skip }, async () => {
  const model = await load(path);
  const calls = Array.from({ length: 100 }, (_, i) => () => {
    if (i % 3 === 0) return model.embed(Array.from({ length: 1 + (i % 40) }, (_, k) => `call ${i} text ${k} ${'x '.repeat(k)}`));
    if (i % 3 === 1) return model.score(`query ${i}`, [`doc ${i}`, `other ${i}`, '']);
    return model.pipeline({ source_sentence: [`s ${i}`], sentences_to_compare: [`c ${i}`] });
  });
  const sequential = [];
  for (const c of calls) sequential.push(await c());
  const concurrent = await Promise.all(calls.map((c) => c()));
  assert.deepEqual(concurrent, sequential);
  model.dispose();
});

test('dispose: later calls throw, queued calls finish, memory returns', { skip }, async () => {
  const model = await load(path);
  const pending = model.embed(TEXTS);
  model.dispose();
  assert.equal((await pending).length, TEXTS.length, 'a call queued before dispose completes');
  await assert.rejects(model.embed(TEXTS), /model is disposed/);
  assert.throws(() => model.tokenize('x'), /model is disposed/);
  model.dispose();  // twice is fine

  // Loading and disposing a 35 MB model many times must not grow the process: the wasm memory is released.
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc');
  const big = await testModel('gte-small-synth', 'int8');
  const rss = () => process.memoryUsage().rss;
  gc();
  const before = rss();
  for (let i = 0; i < 12; i++) {
    const m = await load(big);
    await m.embed(['warm the arena']);
    m.dispose();
    await new Promise((r) => setTimeout(r, 0));
    gc();
  }
  const grown = (rss() - before) / 1e6;
  assert.ok(grown < 150, `RSS grew by ${grown.toFixed(0)} MB over 12 load/dispose cycles of a 35 MB model`);
});

test('query / passage prefixes: from config_sentence_transformers.json or convert options, used by embed, score, pipeline', { skip }, async () => {
  const { makeTinyFolder } = await import('./fixtures.mjs');
  const { convert } = await import('../../js/convert/index.js');
  const { mkdtempSync, rmSync } = await import('node:fs');
  const tmp = mkdtempSync(`${(await import('node:os')).tmpdir()}/wembed-prefix-`);
  try {
    const tokenizerJson = JSON.parse(readFileSync(`${(await import('./common.mjs')).SHARED}/models/gte-small-synth/tokenizer.json`, 'utf8'));
    const dims = { V: Object.keys(tokenizerJson.model.vocab).length, H: 32, heads: 4, I: 64, L: 1, P: 64, T: 2 };
    const prompts = { query: 'query: ', passage: 'passage: ', classification: 'classify: ' };
    const { dir } = makeTinyFolder(`${tmp}/m`, { tokenizerJson, dims, maxSeqLength: 64, files: { 'config_sentence_transformers.json': JSON.stringify({ prompts }) } });
    const s = await convert(dir, { output: `${tmp}/m.wemb` });
    assert.ok(s.warnings.some((w) => /prompts "classification" are not used/.test(w)));
    const model = await load(`${tmp}/m.wemb`);
    assert.deepEqual(model.info.prefixes, { query: 'query: ', passage: 'passage: ' });
    const [q] = await model.embed(['how are you'], { kind: 'query' });
    assert.deepEqual(q, (await model.embed(['query: how are you']))[0]);
    const [p] = await model.embed(['fine'], { kind: 'passage' });
    assert.deepEqual(p, (await model.embed(['passage: fine']))[0]);
    const [sc] = await model.score('how are you', ['fine']);
    assert.ok(Math.abs(sc - cosine(q, p)) < 1e-12, `score ${sc} vs cosine of the prefixed texts ${cosine(q, p)}`);
    const pipe = await model.pipeline({ source_sentence: ['a'], sentences_to_compare: ['b'] });
    assert.deepEqual(pipe.text_embedding, await model.embed(['query: a', 'query: b']), 'the pipeline uses the query prefix');
    await assert.rejects(model.embed(['x'], { kind: 'doc' }), /kind must be 'query' or 'passage'/);
    model.dispose();

    await convert(dir, { output: `${tmp}/o.wemb`, queryPrefix: 'Q: ', passagePrefix: '' });
    const over = await load(`${tmp}/o.wemb`);
    assert.deepEqual(over.info.prefixes, { query: 'Q: ', passage: '' }, 'convert options override the folder');
    over.dispose();
    const none = await load(path);
    assert.deepEqual(none.info.prefixes, { query: '', passage: '' });
    assert.deepEqual(await none.embed(['x'], { kind: 'query' }), await none.embed(['x']), 'no prefix: kind changes nothing');
    none.dispose();
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

// Both ways of running on threads (js/pool.js): 'shared' (Node's default: one model on a shared memory, every op
// split) and 'copies' (a non-shared module given explicitly: a copy of the model per worker, batches split).
for (const [mode, wasm] of [['shared', undefined], ['copies', new URL('../../dist/wembed.wasm', import.meta.url)]]) {
  test(`threads (${mode}): the same vectors, progress, cancellation, errors and disposal`, { skip }, async () => {
    const one = await load(path);
    const many = Array.from({ length: 300 }, (_, i) => `${TEXTS[i % TEXTS.length]} ${i}`);
    const want = await one.embed(many);
    const model = await load(path, { threads: 3, wasm });
    assert.equal(model.info.threads, 3);
    assert.equal(model.info.thread_mode, mode);
    assert.equal(one.info.threads, 1);
    assert.equal(one.info.thread_mode, 'single');
    const progress = [];
    const got = await model.embed(many, { onProgress: (p) => progress.push(p.done) });
    assert.deepEqual(got, want, 'bit-identical to one thread, in input order');
    assert.equal(progress.at(-1), 300);
    assert.ok(progress.every((d, i) => i === 0 || d > progress[i - 1]), 'progress increases');
    assert.deepEqual(await model.embed(TEXTS[1]), await one.embed(TEXTS[1]), 'one text');
    const long = many.join(' ');  // one text at the model's token limit: every op split (shared)
    assert.deepEqual(await model.embed(long), await one.embed(long), 'one long text');
    // options reach the workers
    assert.deepEqual(await model.embed(many.slice(0, 40), { pooling: 'cls', normalize: false }), await one.embed(many.slice(0, 40), { pooling: 'cls', normalize: false }));
    // concurrent calls queue as with one thread
    const both = await Promise.all([model.embed(many.slice(0, 50)), model.score(many[0], many.slice(1, 30))]);
    assert.deepEqual(both[0], want.slice(0, 50));
    assert.deepEqual(both[1], await one.score(many[0], many.slice(1, 30)));
    const ac = new AbortController();
    await assert.rejects(model.embed(many, { signal: ac.signal, onProgress: () => ac.abort() }), { name: 'AbortError' });
    assert.deepEqual(await model.embed(many.slice(0, 20)), want.slice(0, 20), 'usable after an abort');
    await assert.rejects(model.embed(many, { maxTokens: 1 }), /max_tokens|maxTokens|token/i, 'a C error (on a worker too) is an Error');
    model.dispose();
    await assert.rejects(model.embed(TEXTS), /disposed/);
    for (const bad of [0, 1.5, '2', 65]) await assert.rejects(load(path, { threads: bad }), { name: 'TypeError' });
    one.dispose();
  });
}
