// `wembed bench`'s measurements, shared with the repository's benchmark (bench/cases.mjs re-exports stats and
// ortEmbedder, so make bench and this command time the peer the same way). No Node APIs: the benchmark's Chromium
// page imports it too.

/** median, min, max and count of timings */
export const stats = (xs) => {
  const s = xs.slice().sort((a, b) => a - b);
  const n = s.length;
  return { median: n % 2 ? s[n >> 1] : (s[n / 2 - 1] + s[n / 2]) / 2, min: s[0], max: s[n - 1], n };
};

/**
 * onnxruntime-web on a list of id sequences, padded to the longest (as transformers.js does), pooled over the mask
 * (mean, or the first token) and L2-normalized in JS as asked: the work wembed does inside wasm, so both return the
 * same sentence vectors. Feeds token_type_ids only when the session has that input.
 */
export function ortEmbedder(ort, session, { pooling = 'mean', normalize = true } = {}) {
  const withTypes = session.inputNames.includes('token_type_ids');
  return async function ortEmbed(seqs) {
    const B = seqs.length, L = Math.max(...seqs.map((s) => s.length));
    const ids = new BigInt64Array(B * L), mask = new BigInt64Array(B * L);
    seqs.forEach((s, b) => s.forEach((id, j) => { ids[b * L + j] = BigInt(id); mask[b * L + j] = 1n; }));
    const feeds = { input_ids: new ort.Tensor('int64', ids, [B, L]), attention_mask: new ort.Tensor('int64', mask, [B, L]) };
    if (withTypes) feeds.token_type_ids = new ort.Tensor('int64', new BigInt64Array(B * L), [B, L]);
    const r = await session.run(feeds);
    const out = r.last_hidden_state ?? r[session.outputNames[0]];
    const h = out.data, H = out.dims[2];
    const vecs = seqs.map((s, b) => {
      const v = new Float32Array(H);
      const rows = pooling === 'cls' ? 1 : s.length;
      for (let j = 0; j < rows; j++) for (let k = 0; k < H; k++) v[k] += h[(b * L + j) * H + k];
      for (let k = 0; k < H; k++) v[k] /= rows;
      if (normalize) {
        let n = 0;
        for (let k = 0; k < H; k++) n += v[k] * v[k];
        n = n > 0 ? 1 / Math.sqrt(n) : 0;
        for (let k = 0; k < H; k++) v[k] *= n;
      }
      return v;
    });
    for (const t of Object.values(r)) t.dispose?.();
    return vecs;
  };
}

// Built-in texts for a model without --texts: English sentences (any tokenizer turns them into tokens; a batch-1
// text of N tokens is their concatenation cut at N by the tokenizer's own limit).
export const SAMPLE_SENTENCES = [
  'A man is playing a guitar on the street.', 'The new movie is awesome and everyone liked it.',
  'A woman is slicing an onion in the kitchen.', 'Two dogs run across a snowy field.',
  'The stock market fell sharply today after the announcement.', 'Children are playing football in the park.',
  'She is reading a book about the history of science.', 'The train to the city leaves every twenty minutes.',
  'A chef prepares a large meal for the guests.', 'Heavy rain is expected over the weekend.',
  'He fixed the old bicycle with a few simple tools.', 'The museum opens a new exhibition next month.',
  'A cat sleeps on the warm windowsill.', 'Scientists found water ice near the planet\'s pole.',
  'The team celebrated their victory late into the night.', 'Please remember to turn off the lights.',
];

// A pause before each timed run (default 20 ms): both runtimes' idle threads spin for a while after a parallel
// section before they sleep (ORT's thread pool, wembed's helpers); without it each run would share the cores with the
// other's spinning threads.
export const SETTLE_MS = 20;
export const settle = (ms = SETTLE_MS) => new Promise((r) => setTimeout(r, ms));

const now = () => performance.now();

/**
 * onnxruntime-web from the user's node_modules (not a dependency of wembed): found from the working directory first
 * (wembed may be installed elsewhere, e.g. globally), then from wembed's own; its wasm files from its own folder.
 */
async function importOrt(threads) {
  let ort, dist;
  try {
    const { createRequire } = await import('node:module');
    const { dirname } = await import('node:path');
    const { pathToFileURL } = await import('node:url');
    const from = (base) => { try { return createRequire(base).resolve('onnxruntime-web'); } catch { return null; } };
    const entry = from(`${process.cwd()}/`) ?? from(import.meta.url);
    if (!entry) throw new Error('not found');
    dist = dirname(entry);
    const mod = await import(pathToFileURL(entry).href);
    ort = mod.default ?? mod;
  } catch {
    throw new Error('--onnx needs the onnxruntime-web package where you run this (npm install onnxruntime-web)');
  }
  ort.env.wasm.numThreads = threads;
  ort.env.wasm.simd = true;
  ort.env.wasm.wasmPaths = `${dist}/`;  // the files in node_modules, never a CDN
  return ort;
}

/** cosine of two vectors */
export const cosine = (a, b) => {
  let d = 0, na = 0, nb = 0;
  for (let i = 0; i < a.length; i++) d += a[i] * b[i], na += a[i] * a[i], nb += b[i] * b[i];
  return d / Math.sqrt(na * nb);
};

/**
 * wembed bench: load time, batch-1 latency at each length, batch throughput; with --onnx, onnxruntime-web on the
 * same ids in the same process, runs interleaved. Returns { ..., table } (Markdown).
 */
export async function run(a, ctx, { loadModel, openInput, checkAborted }) {
  const log = (msg) => { if (!(a.quiet || ctx.quiet)) ctx.stderr.write(`${msg}\n`); };
  let t = now();
  const model = await loadModel(a.model, ctx, { threads: a.threads });
  const loadMs = now() - t;
  let ort = null, session = null, ortLoadMs = null;
  try {
    const info = model.info;
    const out = { model: a.model, threads: a.threads, thread_mode: info.thread_mode, runs: a.runs, load_ms: loadMs, batch1: [] };
    if (a.onnx) {
      ort = await importOrt(a.threads);
      t = now();
      session = await ort.InferenceSession.create(a.onnx, { executionProviders: ['wasm'] }).catch((e) => {
        throw new Error(`onnxruntime-web cannot open ${a.onnx}: ${e.message}`);
      });
      ortLoadMs = now() - t;
      out.ort = { version: ort.env.versions.web, onnx: a.onnx, load_ms: ortLoadMs };
    }
    const ortEmbed = session && ortEmbedder(ort, session, { pooling: info.pooling, normalize: info.normalize });
    const maxTok = info.max_positions ?? info.max_tokens;

    // batch 1: the sample sentences run together, cut at n tokens by the tokenizer's own limit
    let long = SAMPLE_SENTENCES.join(' ');
    while (model.tokenize(long).length < Math.min(Math.max(...a.lengths), maxTok)) long += ` ${SAMPLE_SENTENCES.join(' ')}`;
    for (const n of a.lengths) {
      if (n > maxTok) { log(`bench: skipping ${n} tokens (this model takes at most ${maxTok})`); continue; }
      const opts = { maxTokens: n }, ids = model.tokenize(long, opts);
      const w = [], o = [];
      let wv, ov;
      for (let i = 0; i < 3; i++) {
        [wv] = await model.embed([long], opts);
        if (ortEmbed) [ov] = await ortEmbed([ids]);
      }
      for (let i = 0; i < a.runs; i++) {
        checkAborted(ctx.signal);
        await settle();
        t = now(); [wv] = await model.embed([long], opts); w.push(now() - t);
        if (ortEmbed) { await settle(); t = now(); [ov] = await ortEmbed([ids]); o.push(now() - t); }
      }
      const row = { tokens: ids.length, wembed_ms: stats(w) };
      if (ortEmbed) Object.assign(row, { ort_ms: stats(o), ratio: stats(o).median / stats(w).median, cosine: cosine(wv, ov) });
      out.batch1.push(row);
      log(`bench: ${ids.length} tokens: wembed ${row.wembed_ms.median.toFixed(2)} ms${ortEmbed ? `, onnxruntime-web ${row.ort_ms.median.toFixed(2)} ms` : ''}`);
    }

    // a batch: --texts, or 256 of the sample sentences
    let texts = [];
    if (a.texts) {
      for await (const r of (await openInput(a.texts, a, ctx)).records()) texts.push(r.text);
      if (!texts.length) throw new Error(`${a.texts} has no texts`);
    } else {
      texts = Array.from({ length: 256 }, (_, i) => SAMPLE_SENTENCES[i % SAMPLE_SENTENCES.length]);
    }
    const seqs = texts.map((s) => model.tokenize(s));
    await model.embed(texts);
    const bw = [], bo = { one_at_a_time: [], padded_chunks_of_32: [] };
    for (let i = 0; i < a.batchRuns; i++) {
      checkAborted(ctx.signal);
      await settle();
      t = now(); await model.embed(texts); bw.push(now() - t);
      if (ortEmbed) {
        await settle();
        t = now(); for (const s of seqs) await ortEmbed([s]); bo.one_at_a_time.push(now() - t);
        await settle();
        t = now(); for (let j = 0; j < seqs.length; j += 32) await ortEmbed(seqs.slice(j, j + 32)); bo.padded_chunks_of_32.push(now() - t);
      }
    }
    const perS = (ms) => (texts.length * 1000) / stats(ms).median;
    out.batch = { texts: texts.length, tokens: seqs.reduce((s, x) => s + x.length, 0), wembed_texts_per_s: perS(bw) };
    if (ortEmbed) {
      out.batch.ort_texts_per_s = Object.fromEntries(Object.entries(bo).map(([k, v]) => [k, perS(v)]));
      out.batch.ratio = out.batch.wembed_texts_per_s / Math.max(...Object.values(out.batch.ort_texts_per_s));
    }

    const f = (x, d = 2) => x.toFixed(d);
    const head = ortEmbed ? '| case | wembed | onnxruntime-web | ratio (> 1: wembed faster) |\n|---|---|---|---|\n' : '| case | wembed |\n|---|---|\n';
    const lines = [`wembed bench: ${a.model}, ${a.threads} thread(s) (${info.thread_mode}); medians of ${a.runs} runs` +
      `${ortEmbed ? `; onnxruntime-web ${out.ort.version} on ${a.onnx}, the same ids, runs interleaved` : ''}\n`, head];
    lines.push(ortEmbed ? `| load to ready [ms] | ${f(loadMs, 1)} | ${f(ortLoadMs, 1)} | ${f(ortLoadMs / loadMs)} |\n` : `| load to ready [ms] | ${f(loadMs, 1)} |\n`);
    for (const r of out.batch1) {
      const c = `batch 1, ${r.tokens} tokens [ms, median (min-max)]`, wc = `${f(r.wembed_ms.median)} (${f(r.wembed_ms.min)}-${f(r.wembed_ms.max)})`;
      lines.push(ortEmbed ? `| ${c} | ${wc} | ${f(r.ort_ms.median)} (${f(r.ort_ms.min)}-${f(r.ort_ms.max)}) | ${f(r.ratio)} |\n` : `| ${c} | ${wc} |\n`);
    }
    const bc = `${texts.length} texts, ${out.batch.tokens} tokens [texts/s, median of ${a.batchRuns}]`;
    lines.push(ortEmbed
      ? `| ${bc} | ${f(out.batch.wembed_texts_per_s, 1)} | ${f(Math.max(...Object.values(out.batch.ort_texts_per_s)), 1)} (its best of one at a time / padded chunks of 32) | ${f(out.batch.ratio)} |\n`
      : `| ${bc} | ${f(out.batch.wembed_texts_per_s, 1)} |\n`);
    if (ortEmbed) lines.push(`\ncosine of the two engines' vectors at batch 1: ${out.batch1.map((r) => f(r.cosine, 4)).join(', ')}\n`);
    out.table = lines.join('');
    return out;
  } finally {
    model.dispose();
    await session?.release();
  }
}
