// The wembed commands. Each takes (argv after the command name, ctx) and throws UsageError (exit 2) or any
// other Error (exit 1); ctx = { stdin, stdout, stderr, quiet, signal, progress(label, opts), write(text), warn(msg) }.
import { stat } from 'node:fs/promises';
import { load } from '../index.js';
import { UsageError, parseArgs, requireOptions } from './args.js';
import { commandHelp } from './help.js';
import {
  InputError, batches, countLines, embeddingWriter, openSink, openTexts, outputFormatOf, sysMessage,
} from './io.js';

const EMBED_SPEC = { pooling: ['cls', 'mean'], normalize: 'bool', 'max-tokens': 'int' };
const KINDS = ['query', 'passage'];
const METRICS = ['cosine', 'dot'];
const IN_FORMATS = ['txt', 'jsonl'];
const BATCH = 32;
const TOKENIZE_BATCH = 256;

const embedOptions = (a, signal, kind = a.kind) => ({ kind, pooling: a.pooling, normalize: a.normalize, maxTokens: a['max-tokens'], signal });

/** Library messages start with "wembed: "; the CLI prefixes its own "wembed <command>: ". */
export const bare = (msg) => String(msg).replace(/^wembed: /, '').replace(/\s*\n\s*/g, ' ');

const isUrl = (s) => /^[a-z][a-z0-9+.-]+:\/\//i.test(s);

async function loadModel(file, ctx, { threads = 1 } = {}) {
  if (!isUrl(file)) {
    const st = await stat(file).catch((e) => {
      throw new InputError(sysMessage(e, `cannot open model ${file}`));
    });
    if (st.isDirectory()) {
      throw new InputError(`model ${file} is a directory, not a .wemb file (make one with: wembed convert ${file} -o model.wemb)`);
    }
  }
  try {
    return await load(file, { signal: ctx.signal, threads });
  } catch (e) {
    if (e?.name === 'AbortError') throw e;
    const msg = bare(e.message);
    throw new InputError(msg.includes(file) ? msg : `model ${file}: ${msg}`);
  }
}

/** Opens --in / --docs; says so when texts are about to be read from the terminal (stdin not redirected). */
async function openInput(file, a, ctx) {
  if (file === '-' && ctx.stdin.isTTY && !(a.quiet || ctx.quiet)) {
    ctx.stderr.write('(reading texts from the terminal, one per line; end with Ctrl-D)\n');
  }
  return openTexts(file, { format: a['in-format'], stdin: ctx.stdin });
}

/** --max-tokens must fit the model: from its special tokens up to its position table (a usage error). */
function checkMaxTokens(a, model) {
  const n = a['max-tokens'];
  if (n === undefined) return;
  const lo = Math.max(1, model.info.special_tokens ?? 2), hi = model.info.max_positions ?? model.info.max_tokens;
  if (n < lo || n > hi) {
    model.dispose();
    throw new UsageError(`option --max-tokens ${n} is out of range for this model (${lo} .. ${hi}; its default is ${model.info.max_tokens})`);
  }
}

function checkAborted(signal) {
  if (signal?.aborted) {
    const e = new Error('interrupted');
    e.name = 'AbortError';
    throw e;
  }
}

function noPositional(a) {
  if (a._.length) throw new UsageError(`unexpected argument ${JSON.stringify(a._[0])}`);
}

function dot(a, b) {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** Cosine similarity or dot product, as the library's score() computes them. */
export function scorer(metric, q) {
  if (metric === 'dot') return (v) => dot(q, v);
  const nq = dot(q, q);
  return (v) => {
    const n = Math.sqrt(nq * dot(v, v));
    return n ? dot(q, v) / n : 0;
  };
}

/** A text on one line: tabs and line breaks become spaces; optionally shortened to about max characters. */
export function oneLine(text, max = Infinity) {
  let t = text.replace(/[\t\n\r\v\f\u0085\u2028\u2029]/g, ' ');
  if (t.length > max) {
    const cps = Array.from(t);
    if (cps.length > max) t = cps.slice(0, max - 1).join('').trimEnd() + '…';
  }
  return t;
}

const fmtScore = (s) => s.toFixed(6);

// The shape of embed and tokenize: texts from --in, in batches, through the model into --out, with progress;
// the output is committed only when every batch succeeded. start(model, sink) returns { batch(texts), finish() }.
async function streamTexts(a, ctx, name, batchSize, start) {
  const input = await openInput(a.in, a, ctx);
  const total = a.quiet || ctx.quiet ? null : await countLines(a.in);
  const model = await loadModel(a.model, ctx, { threads: a.threads });
  checkMaxTokens(a, model);
  try {
    const sink = await openSink(a.out, ctx);
    const progress = ctx.progress(name, { total, quiet: a.quiet, toStdout: a.out === '-' });
    try {
      const step = await start(model, sink);
      for await (const batch of batches(input.records(), batchSize)) {
        checkAborted(ctx.signal);
        await step.batch(batch.map((r) => r.text));
        progress.add(batch.length);
      }
      const summary = await step.finish();
      await sink.commit();
      progress.finish(summary);
      reportPruned(model, a, ctx);
    } catch (e) {
      progress.clear();
      await sink.abort();
      throw e;
    }
  } finally {
    model.dispose();
  }
}

/** With a pruned vocabulary, how many texts the full model would have tokenized differently (stderr, unless quiet). */
function reportPruned(model, a, ctx) {
  const corpus = model.info.vocab_corpus;
  const { texts, prunedTexts } = model.stats;
  if (corpus === null || prunedTexts === null || a.quiet || ctx.quiet) return;
  ctx.stderr.write(`${prunedTexts} of ${texts} texts contained pieces outside the pruned vocabulary (${model.info.vocab_kept} of ${model.info.vocab} ids, from ${corpus})\n`);
}

export const commands = {
  async convert(argv, ctx) {
    const a = parseArgs(argv, {
      out: 'str', dtype: ['int8', 'f16', 'f32'], 'emb-dtype': ['int8', 'q4', 'f16', 'f32'], 'act-bits': ['8', '12'], ...EMBED_SPEC, name: 'str', metric: METRICS,
      'query-prefix': 'str', 'passage-prefix': 'str', 'vocab-from': 'str', 'vocab-chars': ['all', 'corpus'],
      'vocab-drop-pruned': 'bool',
    });
    if (a.help) return ctx.stdout.write(commandHelp('convert'));
    for (const o of ['vocab-chars', 'vocab-drop-pruned']) if (a[o] !== undefined && !a['vocab-from']) throw new UsageError(`--${o} needs --vocab-from`);
    if (a._.length === 0) throw new UsageError('missing <model-dir>');
    if (a._.length > 1) throw new UsageError(`unexpected argument ${JSON.stringify(a._[1])} (one model folder at a time)`);
    requireOptions(a, 'out');
    const dir = a._[0];
    const st = await stat(dir).catch((e) => {
      throw new InputError(sysMessage(e, `cannot open model folder ${dir}`));
    });
    if (!st.isDirectory()) throw new InputError(`${dir} is not a folder (convert takes a Hugging Face / sentence-transformers model folder)`);
    if (a['vocab-from']) {
      const cst = await stat(a['vocab-from']).catch((e) => {
        throw new InputError(sysMessage(e, `cannot read the vocabulary corpus ${a['vocab-from']}`));
      });
      if (!cst.isFile()) throw new InputError(`the vocabulary corpus ${a['vocab-from']} is not a file (one text per line, or JSON lines with "text")`);
    }
    const { convert } = await import('../convert/index.js');
    const progress = ctx.progress('convert', { unit: 'layers', quiet: a.quiet });
    const summary = await convert(dir, {
      output: a.out, dtype: a.dtype ?? 'int8', embDtype: a['emb-dtype'], actBits: a['act-bits'] && Number(a['act-bits']), pooling: a.pooling, normalize: a.normalize, maxTokens: a['max-tokens'],
      name: a.name, metric: a.metric, queryPrefix: a['query-prefix'], passagePrefix: a['passage-prefix'],
      vocabFrom: a['vocab-from'], vocabChars: a['vocab-chars'], vocabDropPruned: a['vocab-drop-pruned'] ?? false,
      onLog(msg) {
        const m = /^layer (\d+)\/(\d+)$/.exec(msg);
        if (m) {
          progress.setTotal(Number(m[2]));
          progress.update(Number(m[1]) - 1);
        } else if (!/^wrote /.test(msg)) progress.log(msg);
      },
    });
    progress.update(progress.total ?? 0);
    const v = summary.vocabulary;
    const pruned = v ? `, vocabulary pruned to ${v.kept} of ${v.rows} ids by ${v.corpus_texts} texts of ${v.corpus} (${(v.bytes_saved / 1e6).toFixed(1)} MB saved)` : '';
    progress.end(`wrote ${summary.output}: ${(summary.bytes / 1e6).toFixed(1)} MB, ${summary.dtype}${pruned}, ${summary.seconds.toFixed(2)} s`);
    for (const w of summary.warnings ?? []) ctx.warn(w);
  },

  async embed(argv, ctx) {
    const a = parseArgs(argv, {
      model: 'str', in: 'str', out: 'str', 'in-format': IN_FORMATS, 'out-format': ['f32', 'jsonl', 'npy'], batch: 'int',
      threads: 'int', ...EMBED_SPEC, kind: KINDS,
    });
    if (a.threads !== undefined && !(a.threads >= 1 && a.threads <= 64)) throw new UsageError(`--threads ${a.threads}: expected 1 to 64`);
    if (a.help) return ctx.stdout.write(commandHelp('embed'));
    noPositional(a);
    requireOptions(a, 'model', 'in', 'out');
    const format = a['out-format'] ?? (a.out === '-' ? 'jsonl' : outputFormatOf(a.out));
    if (!format) throw new UsageError(`cannot tell the output format of ${a.out}: name it .f32, .jsonl or .npy, or give --out-format`);
    if (format === 'npy' && a.out === '-') throw new UsageError('npy output needs a file, not stdout (its header holds the row count); use --out-format f32 or jsonl for stdout');
    await streamTexts(a, ctx, 'embed', a.batch ?? BATCH * (a.threads ?? 1), async (model, sink) => {
      const writer = await embeddingWriter(sink, format, model.dim);
      return {
        batch: async (texts) => writer.rows(await model.embed(texts, embedOptions(a, ctx.signal))),
        finish: async () => ` → ${sink.name} (${await writer.finish()} × ${model.dim} ${format})`,
      };
    });
  },

  async tokenize(argv, ctx) {
    const a = parseArgs(argv, { model: 'str', in: 'str', out: 'str', 'in-format': IN_FORMATS, 'max-tokens': 'int' });
    if (a.help) return ctx.stdout.write(commandHelp('tokenize'));
    noPositional(a);
    requireOptions(a, 'model', 'in', 'out');
    await streamTexts(a, ctx, 'tokenize', TOKENIZE_BATCH, async (model, sink) => ({
      batch: (texts) => sink.write(texts.map((t) => `{"ids":[${model.tokenize(t, { maxTokens: a['max-tokens'] }).join(',')}]}\n`).join('')),
      finish: async () => ` → ${sink.name}`,
    }));
  },

  async score(argv, ctx) {
    const a = parseArgs(argv, { model: 'str', metric: METRICS, sort: 'bool', json: 'bool', ...EMBED_SPEC });
    if (a.help) return ctx.stdout.write(commandHelp('score'));
    requireOptions(a, 'model');
    if (a._.length < 2) throw new UsageError(a._.length ? 'missing candidates: give at least one text after the query' : 'missing the query and candidates');
    const [query, ...candidates] = a._;
    const model = await loadModel(a.model, ctx);
    checkMaxTokens(a, model);
    let rows;
    try {
      const metric = a.metric ?? model.info.metric;
      // the model's prefixes: query for the query, passage for the candidates (e5)
      const [q] = await model.embed([query], embedOptions(a, ctx.signal, 'query'));
      const vectors = await model.embed(candidates, embedOptions(a, ctx.signal, 'passage'));
      const score = scorer(metric, q);
      rows = candidates.map((text, index) => ({ index, score: score(vectors[index]), text }));
    } finally {
      model.dispose();
    }
    if (a.sort) rows.sort((x, y) => y.score - x.score || x.index - y.index);
    if (a.json) await ctx.write(JSON.stringify(rows, null, 2) + '\n');
    else await ctx.write(rows.map((r) => `${fmtScore(r.score)}\t${oneLine(r.text)}\n`).join(''));
  },

  async search(argv, ctx) {
    const a = parseArgs(argv, {
      model: 'str', docs: 'str', top: 'int', metric: METRICS, json: 'bool', 'in-format': IN_FORMATS, batch: 'int',
      ...EMBED_SPEC,
    });
    if (a.help) return ctx.stdout.write(commandHelp('search'));
    requireOptions(a, 'model', 'docs');
    if (a._.length === 0) throw new UsageError('missing the QUERY');
    if (a._.length > 1) throw new UsageError(`one QUERY only (quote it), got ${a._.length} arguments: ${a._.map((s) => JSON.stringify(s)).join(' ')}`);
    const [query] = a._;
    const K = a.top ?? 10;
    const input = await openInput(a.docs, a, ctx);
    const total = a.quiet || ctx.quiet ? null : await countLines(a.docs);
    const model = await loadModel(a.model, ctx);
    checkMaxTokens(a, model);
    const top = [];  // best first; ties: earlier documents first
    const progress = ctx.progress('search', { total, unit: 'docs', quiet: a.quiet });
    try {
      const metric = a.metric ?? model.info.metric;
      const [q] = await model.embed([query], embedOptions(a, ctx.signal, 'query'));
      const score = scorer(metric, q);
      for await (const batch of batches(input.records(), a.batch ?? BATCH)) {
        checkAborted(ctx.signal);
        const vectors = await model.embed(batch.map((r) => r.text), embedOptions(a, ctx.signal, 'passage'));
        batch.forEach((rec, i) => {
          const s = score(vectors[i]);
          if (top.length === K && !(s > top[K - 1].score)) return;
          let lo = 0, hi = top.length;
          while (lo < hi) {
            const mid = (lo + hi) >> 1;
            if (top[mid].score >= s) lo = mid + 1; else hi = mid;
          }
          top.splice(lo, 0, { score: s, rec });
          if (top.length > K) top.pop();
        });
        progress.add(batch.length);
      }
      progress.finish();
      reportPruned(model, a, ctx);
    } catch (e) {
      progress.clear();
      throw e;
    } finally {
      model.dispose();
    }
    if (a.json) {
      const out = top.map(({ score, rec }, i) => ({
        rank: i + 1, score, ...(rec.id !== undefined ? { id: rec.id } : {}), line: rec.line, text: rec.text,
      }));
      await ctx.write(JSON.stringify(out, null, 2) + '\n');
    } else {
      await ctx.write(top.map(({ score, rec }, i) => {
        const id = rec.id === undefined ? String(rec.line) : typeof rec.id === 'string' ? rec.id : JSON.stringify(rec.id);
        return `${i + 1}\t${fmtScore(score)}\t${oneLine(id)}\t${oneLine(rec.text, 100)}\n`;
      }).join(''));
    }
  },

  async bench(argv, ctx) {
    const a = parseArgs(argv, {
      model: 'str', threads: 'int', lengths: 'str', runs: 'int', 'batch-runs': 'int', texts: 'str', 'in-format': IN_FORMATS,
      onnx: 'str', json: 'bool',
    });
    if (a.help) return ctx.stdout.write(commandHelp('bench'));
    noPositional(a);
    requireOptions(a, 'model');
    const threads = a.threads ?? 1, runs = a.runs ?? 20, batchRuns = a['batch-runs'] ?? 5;
    if (!(threads >= 1 && threads <= 64)) throw new UsageError(`--threads ${threads}: expected 1 to 64`);
    if (!(runs >= 1) || !(batchRuns >= 1)) throw new UsageError('--runs and --batch-runs: expected at least 1');
    const lengths = (a.lengths ?? '16,32,128,512').split(',').map((x) => (/^\d+$/.test(x.trim()) ? Number(x) : NaN));
    if (lengths.some((n) => !(n >= 1))) throw new UsageError(`--lengths ${a.lengths}: expected token counts, e.g. 16,128`);
    const { run } = await import('./bench.js');
    const result = await run({ ...a, threads, runs, batchRuns, lengths }, ctx, { loadModel, openInput, checkAborted });
    await ctx.write(a.json ? JSON.stringify(result, null, 2) + '\n' : result.table);
  },

  async info(argv, ctx) {
    const a = parseArgs(argv, { model: 'str' });
    if (a.help) return ctx.stdout.write(commandHelp('info'));
    if (a.model !== undefined) a._.unshift(a.model);
    if (a._.length === 0) throw new UsageError('missing the model file');
    if (a._.length > 1) throw new UsageError(`one model at a time, got ${a._.length}`);
    const model = await loadModel(a._[0], ctx);
    try {
      await ctx.write(JSON.stringify(model.info, null, 2) + '\n');
    } finally {
      model.dispose();
    }
  },
};
