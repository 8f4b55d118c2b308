// The browser proof's page: loads a model by URL through the public API, tokenizes and embeds reference texts,
// renders a small "top match" table, and leaves everything the test compares in `window.proof` (a promise).
// Works opened by hand too (node tests/browser/server.mjs, then /tests/browser/page.html).
import { load } from '/js/index.js';
import { parseRanges } from '/tests/browser/ranges.js';

const params = new URLSearchParams(location.search);
const opt = {
  model: params.get('model') ?? '/build/models/gte-small-zh-synth.int8.wemb',
  texts: params.get('texts') ?? '/shared/reference/models/gte-small-zh-synth/texts.jsonl',
  pick: params.get('pick') ?? '0-299,3794-3899',  // texts to embed: ranges of line numbers, or "all"
  queries: params.get('queries') ?? '1,3,5,7,9,13',  // rows of the results table
  pool: params.get('pool') ?? '0-29',  // the candidates each query is scored against
};

const $ = (id) => document.getElementById(id);
const status = (text) => { $('status').firstChild.textContent = `${text} `; };

function fact(name, value) {
  const dt = document.createElement('dt'), dd = document.createElement('dd');
  dt.textContent = name; dd.textContent = value;
  $('facts').append(dt, dd);
}

function base64(bytes) {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

async function run() {
  const progress = [];
  const t0 = performance.now();
  status(`loading ${opt.model}…`);
  const model = await load(opt.model, {
    onProgress: ({ loaded, total }) => {
      progress.push({ loaded, total });
      $('progress').max = total; $('progress').value = loaded;
    },
  });
  const loadMs = performance.now() - t0;
  const { info } = model;
  fact('model', `${info.name ?? opt.model.split('/').pop()} — ${info.layers} layers, hidden ${info.hidden}, dim ${info.dim}, ${info.dtype}`);
  fact('loaded', `${(info.size / 2 ** 20).toFixed(1)} MiB by URL in ${loadMs.toFixed(0)} ms (${progress.length} progress events)`);

  status('reading texts…');
  const res = await fetch(opt.texts);
  if (!res.ok) throw new Error(`cannot fetch ${opt.texts}: HTTP ${res.status}`);
  const rows = (await res.text()).split('\n').filter(Boolean).map((l) => JSON.parse(l));

  status(`tokenizing ${rows.length} texts…`);
  const ids = rows.map((r) => model.tokenize(r.text));

  const picked = parseRanges(opt.pick, rows.length);
  status(`embedding ${picked.length} texts…`);
  const t1 = performance.now();
  const embedProgress = [];
  const vectors = await model.embed(picked.map((i) => rows[i].text), { onProgress: (p) => embedProgress.push(p) });
  const embedMs = performance.now() - t1;
  fact('embedded', `${picked.length} texts in ${(embedMs / 1000).toFixed(2)} s (${(picked.length / embedMs * 1000).toFixed(1)} texts/s)`);
  const flat = new Float32Array(vectors.length * model.dim);
  vectors.forEach((v, i) => flat.set(v, i * model.dim));

  status('scoring…');
  const pool = parseRanges(opt.pool, rows.length);
  const table = [];
  const tbody = $('results').tBodies[0];
  for (const q of parseRanges(opt.queries, rows.length)) {
    const cands = pool.filter((i) => i !== q);
    const scores = await model.score(rows[q].text, cands.map((i) => rows[i].text));
    let best = 0;
    scores.forEach((s, i) => { if (s > scores[best]) best = i; });
    table.push({ query: q, candidates: cands, scores, best: cands[best] });
    const tr = tbody.insertRow();
    tr.insertCell().textContent = rows[q].text;
    tr.insertCell().textContent = rows[cands[best]].text;
    const c = tr.insertCell(); c.className = 'num'; c.textContent = scores[best].toFixed(4);
  }
  // The same API in a module Web Worker: the first texts again, to be compared bit for bit with the page's.
  status('embedding in a Web Worker…');
  const inWorker = picked.slice(0, 40);
  const worker = new Worker('/tests/browser/worker.js', { type: 'module' });
  const reply = await new Promise((resolve, reject) => {
    worker.onmessage = ({ data }) => (data.error ? reject(new Error(`worker: ${data.error}`)) : resolve(data));
    worker.onerror = (e) => reject(new Error(`worker: ${e.message}`));
    worker.postMessage({ model: new URL(opt.model, location.href).href, texts: inWorker.map((i) => rows[i].text) });
  });
  worker.terminate();
  const workerSame = reply.vectors.length === inWorker.length * model.dim && reply.vectors.every((x, k) => Object.is(x, flat[k]));
  fact('worker', `${inWorker.length} texts embedded in a Web Worker: ${workerSame ? 'identical' : 'DIFFERENT'}`);

  // Threads: the same model on this thread plus a worker (js/pool.js), the same texts, bit for bit.
  status('embedding on 2 threads…');
  const t2 = performance.now();
  const threaded = await load(opt.model, { threads: 2 });
  const tv = await threaded.embed(picked.map((i) => rows[i].text));
  const threadsMs = performance.now() - t2;
  const threads = threaded.info.threads, threadMode = threaded.info.thread_mode;
  threaded.dispose();
  const threadsSame = tv.length === picked.length && tv.every((v, i) => v.every((x, k) => Object.is(x, flat[i * model.dim + k])));
  fact('threads', `${picked.length} texts on ${threads} threads, ${threadMode} (load + embed ${(threadsMs / 1000).toFixed(2)} s): ${threadsSame ? 'identical' : 'DIFFERENT'}`);

  // The ModelScope pipeline form, once: the first query against its candidates.
  const first = table[0];
  const pipe = await model.pipeline({ source_sentence: [rows[first.query].text], sentences_to_compare: first.candidates.map((i) => rows[i].text) });
  $('results').hidden = false;
  fact('results', `each text against ${pool.length - 1} others with model.score (${info.metric})`);
  fact('isolated', String(self.crossOriginIsolated));
  model.dispose();
  $('progress').remove();
  status('done');

  return {
    userAgent: navigator.userAgent, crossOriginIsolated: self.crossOriginIsolated,
    info, dim: model.dim, progress, loadMs, embedMs, embedProgress, picked, ids, table, pipelineScores: pipe.scores, workerSame, threads, threadMode, threadsSame,
    vectors: base64(new Uint8Array(flat.buffer)),
  };
}

window.proof = run();
window.proof.catch((e) => {
  status('failed');
  const pre = document.createElement('pre');
  pre.className = 'error';
  pre.textContent = `${e?.name}: ${e?.message}\n${e?.stack ?? ''}`;
  document.body.append(pre);
});
