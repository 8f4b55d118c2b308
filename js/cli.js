#!/usr/bin/env node
// wembed command line: convert a model folder, embed or tokenize texts, show a model's info.
import { readFile, writeFile } from 'node:fs/promises';
import { load } from './index.js';

const USAGE = {
  convert: `wembed convert <model-dir> -o model.wemb [--dtype int8|f16|f32] [--pooling cls|mean] [--normalize|--no-normalize]
               [--max-tokens N] [--name NAME]
  Converts a Hugging Face / sentence-transformers BERT folder (config.json, tokenizer.json, model.safetensors)
  into one .wemb file. int8 (default): per-channel int8 weights, the fast path; f32/f16: exact reference path.`,
  embed: `wembed embed --model M.wemb --in texts.(txt|jsonl) --out out.(f32|jsonl) [--max-tokens N] [--pooling cls|mean]
               [--normalize|--no-normalize]
  txt: one text per line. jsonl: one {"text": ...} object per line (other fields ignored). "-" reads stdin.
  .f32: little-endian float32 rows in input order; .jsonl: {"embedding": [...]} per line.`,
  tokenize: `wembed tokenize --model M.wemb --in texts.(txt|jsonl) --out ids.jsonl [--max-tokens N]
  One {"ids": [...]} line per input text, special tokens included, truncated to the model's token limit.`,
  info: `wembed info model.wemb
  Prints the model's dimensions, pooling, normalization, token limit, dtype and size as JSON.`,
};

function usage(cmd) {
  const text = cmd && USAGE[cmd] ? USAGE[cmd] : `wembed — sentence embeddings in wasm\n\nCommands:\n${Object.values(USAGE).map((u) => '  ' + u.split('\n')[0]).join('\n')}\n\nwembed <command> --help for details.`;
  return text + '\n';
}

class UsageError extends Error {}

function parseArgs(argv, spec) {
  const out = { _: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--help' || a === '-h') { out.help = true; continue; }
    if (a.startsWith('--no-') && spec[a.slice(5)] === 'bool') { out[a.slice(5)] = false; continue; }
    const key = a === '-o' ? 'out' : a.startsWith('--') ? a.slice(2) : null;
    if (key === null) { out._.push(a); continue; }
    const type = spec[key];
    if (!type) throw new UsageError(`unknown option ${a}`);
    if (type === 'bool') { out[key] = true; continue; }
    if (i + 1 >= argv.length) throw new UsageError(`option ${a} needs a value`);
    const v = argv[++i];
    if (type === 'int') {
      if (!/^\d+$/.test(v)) throw new UsageError(`option ${a} needs a whole number, got ${JSON.stringify(v)}`);
      out[key] = Number(v);
    } else out[key] = v;
  }
  return out;
}

async function readTexts(path) {
  const raw = path === '-' ? await new Promise((res, rej) => {
    const parts = [];
    process.stdin.on('data', (d) => parts.push(d)).on('end', () => res(Buffer.concat(parts).toString('utf8'))).on('error', rej);
  }) : await readFile(path, 'utf8');
  const lines = raw.split('\n');
  if (lines.at(-1) === '') lines.pop();
  const jsonl = path.endsWith('.jsonl') || (path === '-' && lines.length > 0 && lines.every((l) => l.startsWith('{')));
  if (!jsonl) return lines.map((l) => l.replace(/\r$/, ''));
  return lines.map((l, i) => {
    let o;
    try { o = JSON.parse(l); } catch (e) { throw new Error(`${path}:${i + 1}: invalid JSON (${e.message})`); }
    if (typeof o?.text !== 'string') throw new Error(`${path}:${i + 1}: no "text" string field`);
    return o.text;
  });
}

function embedOptions(a) {
  return { pooling: a.pooling, normalize: a.normalize, maxTokens: a['max-tokens'] };
}

const BATCH = 64;

const commands = {
  async convert(argv) {
    const a = parseArgs(argv, { out: 'str', dtype: 'str', pooling: 'str', normalize: 'bool', 'max-tokens': 'int', name: 'str' });
    if (a.help) return process.stdout.write(usage('convert'));
    if (a._.length !== 1 || !a.out) throw new UsageError('convert needs <model-dir> and -o model.wemb');
    const { convert } = await import('./convert/index.js');
    const s = await convert(a._[0], { output: a.out, dtype: a.dtype ?? 'int8', pooling: a.pooling, normalize: a.normalize,
      maxTokens: a['max-tokens'], name: a.name, onLog: (m) => process.stderr.write(m + '\n') });
    for (const w of s.warnings ?? []) process.stderr.write(`warning: ${w}\n`);
    process.stderr.write(`wrote ${s.output}: ${(s.bytes / 1e6).toFixed(1)} MB, ${s.dtype}, ${s.seconds.toFixed(2)} s\n`);
  },

  async embed(argv) {
    const a = parseArgs(argv, { model: 'str', in: 'str', out: 'str', pooling: 'str', normalize: 'bool', 'max-tokens': 'int' });
    if (a.help) return process.stdout.write(usage('embed'));
    if (!a.model || !a.in || !a.out) throw new UsageError('embed needs --model, --in and --out');
    if (!/\.(f32|jsonl)$/.test(a.out)) throw new UsageError('--out must end in .f32 or .jsonl');
    const [model, texts] = await Promise.all([load(a.model), readTexts(a.in)]);
    const rows = [];
    for (let i = 0; i < texts.length; i += BATCH) rows.push(...model.embed(texts.slice(i, i + BATCH), embedOptions(a)));
    if (a.out.endsWith('.f32')) {
      const all = new Float32Array(rows.length * model.dim);
      rows.forEach((r, i) => all.set(r, i * model.dim));
      await writeFile(a.out, new Uint8Array(all.buffer));
    } else {
      await writeFile(a.out, rows.map((r) => JSON.stringify({ embedding: Array.from(r) }) + '\n').join(''));
    }
    process.stderr.write(`embedded ${texts.length} texts → ${a.out} (${rows.length} × ${model.dim})\n`);
    model.dispose();
  },

  async tokenize(argv) {
    const a = parseArgs(argv, { model: 'str', in: 'str', out: 'str', 'max-tokens': 'int' });
    if (a.help) return process.stdout.write(usage('tokenize'));
    if (!a.model || !a.in || !a.out) throw new UsageError('tokenize needs --model, --in and --out');
    const [model, texts] = await Promise.all([load(a.model), readTexts(a.in)]);
    const lines = texts.map((t) => JSON.stringify({ ids: model.tokenize(t, { maxTokens: a['max-tokens'] }) }) + '\n');
    await writeFile(a.out, lines.join(''));
    model.dispose();
  },

  async info(argv) {
    const a = parseArgs(argv, {});
    if (a.help) return process.stdout.write(usage('info'));
    if (a._.length !== 1) throw new UsageError('info needs one model file');
    const model = await load(a._[0]);
    process.stdout.write(JSON.stringify(model.info, null, 2) + '\n');
    model.dispose();
  },
};

async function main(argv) {
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === '--help' || cmd === '-h' || cmd === 'help') { process.stdout.write(usage(rest[0])); return 0; }
  if (!commands[cmd]) { process.stderr.write(`wembed: unknown command "${cmd}"\n\n${usage()}`); return 2; }
  try {
    await commands[cmd](rest);
    return 0;
  } catch (e) {
    if (e instanceof UsageError) { process.stderr.write(`wembed ${cmd}: ${e.message}\n\n${usage(cmd)}`); return 2; }
    process.stderr.write(`wembed ${cmd}: ${e.message}\n`);
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
