// The wembed command line as scripts meet it: `node js/cli.js ...` spawned with pipes (so stderr is never a TTY).
// Every run is checked for escape codes on stderr. Help and usage errors need no model; the formats, score,
// search and errors run on the small model (real tokenizer, tiny shapes); the reference round trip converts
// gte-small-synth with the CLI and compares its embeddings and token ids with ../shared/reference.
// Run: node --test tests/js/cli.test.js
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { load } from '../../js/index.js';
import { Progress } from '../../js/cli/progress.js';
import { f32Number, npyHeader, npyHeaderSize } from '../../js/cli/io.js';
import { convert } from '../../js/convert/index.js';
import { makeTinyFolder } from './fixtures.mjs';
import { HAVE_SHARED, ROOT, SHARED, cosine, dot, readF32, readJsonl, smallModel, testModel } from './common.mjs';

const CLI = path.join(ROOT, 'js/cli.js');
const skip = !HAVE_SHARED && 'no ../shared';
const COMMANDS = ['convert', 'embed', 'tokenize', 'score', 'search', 'info', 'bench'];
const ESC = /[\x1b\r]/;

let TMP, SMALL;
const tmp = (name) => path.join(TMP, name);

before(async () => {
  TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'wembed-cli-test-'));
  if (HAVE_SHARED) SMALL = await smallModel('int8');
});
after(() => fs.rmSync(TMP, { recursive: true, force: true }));

/** Spawns the CLI; resolves { code, signal, stdout (Buffer), out (string), err (string) }. */
function run(args, { input, onSpawn } = {}) {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
    const out = [], err = [];
    p.stdout.on('data', (d) => out.push(d));
    p.stderr.on('data', (d) => err.push(d));
    p.on('error', reject);
    p.on('close', (code, signal) => {
      const r = { code, signal, stdout: Buffer.concat(out), err: Buffer.concat(err).toString() };
      r.out = r.stdout.toString();
      // stderr is a pipe here: progress must be plain lines, never escape codes or carriage returns
      assert.doesNotMatch(r.err, ESC, `escape code on a non-TTY stderr: wembed ${args.join(' ')}`);
      resolve(r);
    });
    p.stdin.on('error', () => {});  // the CLI may exit before reading all of stdin
    onSpawn?.(p);
    p.stdin.end(input);
  });
}

/** Runs and expects exit status 0 (showing stderr otherwise). */
async function ok(args, opts) {
  const r = await run(args, opts);
  assert.equal(r.code, 0, `wembed ${args.join(' ')} exited ${r.code}:\n${r.err}`);
  return r;
}

function parseNpy(buf) {
  assert.equal(buf.subarray(0, 6).toString('latin1'), '\x93NUMPY', 'npy magic');
  assert.deepEqual([buf[6], buf[7]], [1, 0], 'npy version 1.0');
  const start = 10 + buf.readUInt16LE(8);
  assert.equal(start % 64, 0, 'npy data starts at a multiple of 64');
  const header = buf.subarray(10, start).toString('latin1');
  assert.match(header, /\n$/);
  // the header is a Python literal: make it JSON
  const dict = JSON.parse(header.trim().replace(/'/g, '"').replace(/\bFalse\b/g, 'false').replace(/\bTrue\b/g, 'true')
    .replace(/\(([^()]*)\)/g, (_, s) => `[${s.replace(/,\s*$/, '')}]`).replace(/,\s*\}$/, '}'));
  assert.equal(dict.descr, '<f4');
  assert.equal(dict.fortran_order, false);
  const [n, dim] = dict.shape;
  assert.equal(buf.length - start, n * dim * 4, 'npy data size = n × dim × 4');
  const data = buf.subarray(start);
  return { shape: dict.shape, data: new Float32Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.length)) };
}

const f32 = (buf) => new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length));
const jsonlVectors = (s) => s.split('\n').filter(Boolean).map((l) => Float32Array.from(JSON.parse(l).embedding));
const concat = (rows) => {
  const all = new Float32Array(rows.reduce((n, r) => n + r.length, 0));
  let at = 0;
  for (const r of rows) { all.set(r, at); at += r.length; }
  return all;
};
const writeJsonl = (file, objs) => fs.writeFileSync(file, objs.map((o) => JSON.stringify(o) + '\n').join(''));
const tempLeftovers = () => fs.readdirSync(TMP).filter((f) => f.endsWith('.tmp'));

// --- help and usage: no model needed ----------------------------------------------------------------------------

test('--help: the main help lists every command and the exit codes; each command has its own help (exit 0)', async () => {
  const main = await ok(['--help']);
  for (const c of COMMANDS) assert.match(main.out, new RegExp(`^  ${c} `, 'm'));
  assert.match(main.out, /Exit status:\n\s+0 .*\n\s+1 .*runtime error.*\n\s+2 .*usage error/);
  for (const c of COMMANDS) {
    for (const args of [[c, '--help'], [c, '-h'], ['help', c]]) {
      const r = await ok(args);
      assert.match(r.out, new RegExp(`^Usage: wembed ${c} `), args.join(' '));
      assert.match(r.out, /Exit status:/);
      assert.equal(r.err, '');
    }
  }
  assert.match((await ok(['--version'])).out, /^wembed \d+\.\d+\.\d+\n$/);
});

test('usage errors exit 2 with "wembed <cmd>: message" and the usage, before touching any file', async () => {
  const M = '/nonexistent/model.wemb';  // never opened: usage is checked first
  const cases = [
    [['embed', '--model', M, '--in', 'a.txt', '--out', 'b.f32', '--bogus'], 'embed', /unknown option --bogus/],
    [['embed', '--in', 'a.txt', '--out', 'b.f32'], 'embed', /missing --model/],
    [['embed', '--model', M, '--in', 'a.txt', '--out', 'b.bin'], 'embed', /output format of b\.bin/],
    [['embed', '--model', M, '--in', 'a.txt', '--out', '-', '--out-format', 'npy'], 'embed', /npy output needs a file/],
    [['embed', '--model', M, '--in', 'a.txt', '--out', 'b.f32', '--batch', '0'], 'embed', /--batch needs a positive whole number/],
    [['embed', '--model', M, '--in', 'a.txt', '--out', 'b.f32', '--pooling', 'max'], 'embed', /--pooling must be cls or mean/],
    [['embed', '--model', M, '--in', 'a.txt', '--out', 'b.f32', 'stray'], 'embed', /unexpected argument "stray"/],
    [['embed', '--model'], 'embed', /--model needs a value/],
    [['tokenize', '--model', M, '--in', 'a.txt'], 'tokenize', /missing --out/],
    [['convert', 'some-dir'], 'convert', /missing --out/],
    [['convert', '-o', 'x.wemb'], 'convert', /missing <model-dir>/],
    [['convert', 'some-dir', '-o', 'x.wemb', '--dtype', 'bf16'], 'convert', /--dtype must be one of int8, f16, f32/],
    [['convert', 'some-dir', '-o', 'x.wemb', '--act-bits', '16'], 'convert', /option --act-bits must be 8 or 12, got "16"/],
    [['convert', 'some-dir', '-o', 'x.wemb', '--max-tokens', '-3'], 'convert', /--max-tokens needs a positive whole number/],
    [['score', '--model', M, 'only a query'], 'score', /missing candidates/],
    [['score', '--model', M, 'q', 'c', '--metric', 'l2'], 'score', /--metric must be cosine or dot/],
    [['search', '--model', M, '--docs', 'd.txt'], 'search', /missing the QUERY/],
    [['search', '--model', M, '--docs', 'd.txt', 'q', '--top', 'ten'], 'search', /--top needs a positive whole number/],
    [['search', '--model', M, '--docs', 'd.txt', 'two', 'queries'], 'search', /one QUERY only/],
    [['info'], 'info', /missing the model file/],
    [['bench'], 'bench', /missing --model/],
    [['bench', '--model', M, '--lengths', '16,many'], 'bench', /--lengths 16,many: expected token counts/],
    [['bench', '--model', M, '--threads', '0'], 'bench', /--threads needs a positive whole number|--threads 0: expected 1 to 64/],
  ];
  for (const [args, cmd, re] of cases) {
    const r = await run(args);
    assert.equal(r.code, 2, `${args.join(' ')} → ${r.code}: ${r.err}`);
    assert.equal(r.out, '');
    const [first] = r.err.split('\n');
    assert.match(first, new RegExp(`^wembed ${cmd}: `));
    assert.match(first, re);
    assert.match(r.err, new RegExp(`\nUsage: wembed ${cmd} `));
  }
  for (const args of [[], ['frobnicate'], ['help', 'frobnicate']]) {
    const r = await run(args);
    assert.equal(r.code, 2, args.join(' '));
    assert.match(r.err, /^wembed: (missing command|unknown command)/);
  }
});

// --- progress display (unit) --------------------------------------------------------------------------------------

function fakeStream(isTTY) {
  return { isTTY, columns: 100, text: '', write(s) { this.text += s; return true; } };
}

test('progress: plain lines (every 10%, no escape codes) off a terminal; one redrawn line with bar, rate and ETA on one', () => {
  let t = 0;
  const plain = fakeStream(false);
  const p = new Progress({ label: 'embed', total: 1000, stream: plain, now: () => t });
  for (let i = 1; i <= 1000; i++) { t += 10; p.update(i); }
  p.finish(' → out.f32');
  assert.doesNotMatch(plain.text, ESC);
  const lines = plain.text.trimEnd().split('\n');
  assert.ok(lines.length >= 5 && lines.length <= 11, `${lines.length} lines:\n${plain.text}`);
  assert.match(lines[0], /^embed: \d+\/1000 texts, \d+%, [\d.]+ texts\/s, ETA \d+s$/);
  assert.equal(lines.at(-1), 'embed: 1000 texts in 10.0 s (100 texts/s) → out.f32');

  t = 0;
  const unknown = fakeStream(false);  // stdin: no total, a line every 5 s
  const u = new Progress({ label: 'embed', stream: unknown, now: () => t });
  for (let i = 1; i <= 120; i++) { t += 100; u.update(i); }
  u.finish();
  assert.deepEqual(unknown.text.trimEnd().split('\n').slice(0, 2), ['embed: 50 texts, 10.0 texts/s', 'embed: 100 texts, 10.0 texts/s']);

  t = 0;
  const tty = fakeStream(true);
  const q = new Progress({ label: 'embed', total: 1000, stream: tty, now: () => t });
  for (let i = 1; i <= 1000; i++) { t += 10; q.update(i); }
  q.finish();
  assert.match(tty.text, /^\rembed \[█*░*\] 1\/1000 texts {2}0% {2}100 texts\/s {2}ETA 10s\x1b\[K/);
  assert.match(tty.text, /\rembed \[█{30}\] 1000\/1000 texts {2}100%/);
  assert.ok(tty.text.split('\r').length < 200, 'redraws are throttled');
  assert.ok(tty.text.endsWith('\r\x1b[Kembed: 1000 texts in 10.0 s (100 texts/s)\n'), JSON.stringify(tty.text.slice(-80)));

  const quiet = fakeStream(true);
  const z = new Progress({ label: 'embed', total: 10, stream: quiet, quiet: true });
  z.update(5); z.finish();
  assert.equal(quiet.text, '');
});

test('formats: npy header, float32 text round trip', () => {
  for (const dim of [1, 64, 384, 100000]) {
    const size = npyHeaderSize(dim);
    assert.equal(size % 64, 0);
    assert.equal(npyHeader(0, dim).length, size);
    assert.equal(npyHeader(2 ** 53, dim, size).length, size);  // room for any row count: rewritten in place
  }
  const a = new Float32Array(10000).map((_, i) => (Math.sin(i * 12.9898) * 43758.5453 % 1) * 10 ** ((i % 15) - 7));
  for (const v of a) assert.equal(Math.fround(Number(JSON.stringify(f32Number(v)))), v);
});

// --- convert: a tiny folder, no ../shared needed ----------------------------------------------------------------

test('convert: a tiny model folder; flags reach the model; bad folders exit 1; info prints the model', async () => {
  const { dir } = makeTinyFolder(tmp('tiny-folder'));
  const out = tmp('tiny.wemb');
  const r = await ok(['convert', dir, '-o', out, '--dtype', 'f32', '--pooling', 'cls', '--no-normalize', '--max-tokens', '10', '--name', 'tiny-test', '--metric', 'dot']);
  assert.match(r.err, /^tiny-folder: bert, 2 layers/m);
  assert.match(r.err, new RegExp(`^wrote ${out.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: [\\d.]+ MB, f32, [\\d.]+ s$`, 'm'));
  const info = JSON.parse((await ok(['info', out])).out);
  assert.equal(info.dim, 8);
  assert.equal(info.pooling, 'cls');
  assert.equal(info.normalize, false);
  assert.equal(info.max_tokens, 10);
  assert.equal(info.metric, 'dot');
  assert.equal(info.dtype, 'f32');
  assert.deepEqual(JSON.parse((await ok(['info', '--model', out, '-q'])).out), info);
  const model = await load(out);
  assert.deepEqual(info, { ...model.info });
  model.dispose();

  assert.equal((await ok(['-q', 'convert', dir, '-o', tmp('tiny-q.wemb')])).err, '', '-q: nothing on stderr');
  // int8 (the default dtype): 12-bit activations unless --act-bits 8
  assert.equal(JSON.parse((await ok(['info', tmp('tiny-q.wemb')])).out).activation_bits, 12);
  await ok(['-q', 'convert', dir, '-o', tmp('tiny-a8.wemb'), '--act-bits', '8']);
  assert.equal(JSON.parse((await ok(['info', tmp('tiny-a8.wemb')])).out).activation_bits, 8);

  for (const [args, re] of [
    [['convert', tmp('no-such-folder'), '-o', tmp('x.wemb')], /^wembed convert: cannot open model folder .*no-such-folder: no such file or directory\n$/],
    [['convert', TMP, '-o', tmp('x.wemb')], /^wembed convert: no config\.json in /],
    [['convert', out, '-o', tmp('x.wemb')], /^wembed convert: .*tiny\.wemb is not a folder/],
  ]) {
    const e = await run(args);
    assert.equal(e.code, 1, e.err);
    assert.match(e.err, re);
  }
  assert.ok(!fs.existsSync(tmp('x.wemb')));
});

// --- the small model: formats, inputs, options, score, search, errors -------------------------------------------

const TEXTS = [
  'A man is playing a guitar.', 'Someone plays an instrument.', '', '   ', 'The stock market fell sharply today.',
  'Ünïcödé àccents, full-width ＡＢＣ and 中文句子', 'emoji 🎸🎶 and a tab\there', '{not json, but a txt line}',
  'A woman is slicing an onion.', 'Two dogs run across a snowy field.',
];

describe('small model', { skip }, () => {
  let want;  // the library's vectors for TEXTS
  before(async () => {
    if (!HAVE_SHARED) return;
    fs.writeFileSync(tmp('t.txt'), TEXTS.join('\n') + '\n');
    writeJsonl(tmp('t.jsonl'), TEXTS.map((text, i) => ({ id: i, text, extra: { ignored: true } })));
    const model = await load(SMALL);
    want = await model.embed(TEXTS);
    model.dispose();
  });

  test('embed: txt, jsonl and stdin inputs × f32, jsonl and npy outputs agree exactly with the library', async () => {
    const dim = want[0].length;
    const runs = [
      [['--in', tmp('t.txt'), '--out', tmp('a.f32')], null, () => f32(fs.readFileSync(tmp('a.f32')))],
      [['--in', tmp('t.jsonl'), '--out', tmp('b.jsonl')], null, () => concat(jsonlVectors(fs.readFileSync(tmp('b.jsonl'), 'utf8')))],
      [['--in', tmp('t.jsonl'), '--out', tmp('c.npy'), '--batch', '3'], null, () => {
        const { shape, data } = parseNpy(fs.readFileSync(tmp('c.npy')));
        assert.deepEqual(shape, [TEXTS.length, dim]);
        return data;
      }],
      [['--in', '-', '--out', '-', '--out-format', 'f32'], fs.readFileSync(tmp('t.jsonl')), (r) => f32(r.stdout)],
      [['--in', '-', '--in-format', 'txt', '--out', '-'], fs.readFileSync(tmp('t.txt')), (r) => concat(jsonlVectors(r.out))],
      [['--in', '-', '--out', tmp('d.npy'), '--batch', '1'], TEXTS.map((t) => JSON.stringify({ text: t })).join('\r\n'), () => parseNpy(fs.readFileSync(tmp('d.npy'))).data],
      [['--in', tmp('t.txt'), '--out', tmp('e.f32'), '--threads', '2'], null, () => f32(fs.readFileSync(tmp('e.f32')))],
    ];
    for (const [args, input, read] of runs) {
      const r = await ok(['embed', '--model', SMALL, ...args], { input });
      assert.deepEqual(read(r), concat(want), args.join(' '));
      assert.match(r.err, new RegExp(`^embed: ${TEXTS.length} texts in [\\d.]+ s`, 'm'));
    }
    assert.deepEqual(tempLeftovers(), []);
  });

  test('embed: plain text on stdin, blank lines, CRLF, a missing final newline, empty input', async () => {
    const r = await ok(['embed', '--model', SMALL, '--in', '-', '--out', '-', '--out-format', 'f32'], { input: '\ufeffA man is playing a guitar.\r\n\r\nThe stock market fell sharply today.' });
    assert.deepEqual(f32(r.stdout), concat([want[0], want[2], want[4]]));
    const empty = await ok(['embed', '--model', SMALL, '--in', '-', '--out', tmp('empty.npy')], { input: '' });
    assert.deepEqual(parseNpy(fs.readFileSync(tmp('empty.npy'))).shape, [0, want[0].length]);
    assert.match(empty.err, /embed: 0 texts/);
  });

  test('embed: --pooling, --no-normalize and --max-tokens reach the model; --max-tokens beyond the model is a usage error', async () => {
    const model = await load(SMALL);
    const opts = { pooling: 'cls', normalize: false, maxTokens: 5 };
    const expect = await model.embed(TEXTS, opts);
    model.dispose();
    const r = await ok(['embed', '-m', SMALL, '--in', tmp('t.txt'), '-o', '-', '--pooling', 'cls', '--no-normalize', '--max-tokens', '5', '--out-format', 'f32', '-q']);
    assert.deepEqual(f32(r.stdout), concat(expect));
    assert.equal(r.err, '', '-q');
    assert.notDeepEqual(expect[0], want[0]);
    const big = await run(['embed', '-m', SMALL, '--in', tmp('t.txt'), '-o', tmp('never.f32'), '--max-tokens', '100000']);
    assert.equal(big.code, 2, big.err);
    assert.match(big.err, /^wembed embed: option --max-tokens 100000 is out of range for this model \(2 \.\. 512; its default is 512\)\n/);
  });

  test('tokenize: ids with special tokens, truncated by --max-tokens; txt, jsonl and stdin', async () => {
    const model = await load(SMALL);
    const ids = TEXTS.map((t) => Array.from(model.tokenize(t)));
    const short = TEXTS.map((t) => Array.from(model.tokenize(t, { maxTokens: 4 })));
    model.dispose();
    const read = (s) => s.split('\n').filter(Boolean).map((l) => JSON.parse(l).ids);
    await ok(['tokenize', '--model', SMALL, '--in', tmp('t.txt'), '--out', tmp('ids.jsonl')]);
    assert.deepEqual(read(fs.readFileSync(tmp('ids.jsonl'), 'utf8')), ids);
    assert.deepEqual(read((await ok(['tokenize', '--model', SMALL, '--in', tmp('t.jsonl'), '--out', '-'])).out), ids);
    const r = await ok(['tokenize', '--model', SMALL, '--in', '-', '--out', '-', '--max-tokens', '4'], { input: fs.readFileSync(tmp('t.jsonl')) });
    assert.deepEqual(read(r.out), short);
    assert.equal(ids[0][0], 101);
    assert.equal(ids[0].at(-1), 102);
    assert.ok(short.every((s) => s.length <= 4 && s.at(-1) === 102));
  });

  test('score: one "score<TAB>text" line per candidate in input order, --sort, --metric dot, --json', async () => {
    const [q, ...cands] = ['Someone plays an instrument.', 'A man is playing a guitar.', 'Stocks fell.\tHard.', 'A woman slices an onion.'];
    const model = await load(SMALL);
    const [vq, ...vc] = await model.embed([q, ...cands]);
    model.dispose();
    const cos = vc.map((v) => cosine(vq, v)), dots = vc.map((v) => dot(vq, v));

    const r = await ok(['score', '--model', SMALL, q, ...cands]);
    const lines = r.out.trimEnd().split('\n');
    assert.equal(lines.length, cands.length);
    lines.forEach((l, i) => {
      const [s, text, ...rest] = l.split('\t');
      assert.deepEqual(rest, []);
      assert.match(s, /^-?\d+\.\d{6}$/);
      assert.ok(Math.abs(Number(s) - cos[i]) < 2e-6, `${s} vs ${cos[i]}`);
      assert.equal(text, cands[i].replace('\t', ' '));
    });

    const sorted = (await ok(['score', '--model', SMALL, '--sort', q, ...cands])).out.trimEnd().split('\n').map((l) => Number(l.split('\t')[0]));
    assert.deepEqual(sorted, [...sorted].sort((a, b) => b - a));
    assert.deepEqual(new Set(sorted.map((s) => s.toFixed(6))), new Set(cos.map((s) => s.toFixed(6))));

    const j = JSON.parse((await ok(['score', '--model', SMALL, '--metric', 'dot', '--json', '--', q, ...cands])).out);
    assert.deepEqual(j.map((x) => x.index), [0, 1, 2]);
    assert.deepEqual(j.map((x) => x.text), cands);
    j.forEach((x, i) => assert.ok(Math.abs(x.score - dots[i]) < 1e-6));
  });

  test('search: top K "rank<TAB>score<TAB>id-or-line<TAB>text", best first, as the library ranks; --json; txt docs', async () => {
    const long = 'A very long document about guitars and music. '.repeat(10);
    const docs = [...TEXTS.filter((t) => t.trim()), long].map((text, i) => (i % 3 === 2 ? { text } : { id: i % 3 ? `doc-${i}` : i, text }));
    writeJsonl(tmp('docs.jsonl'), docs);
    const query = 'a man plays the guitar';
    const model = await load(SMALL);
    const [vq, ...vd] = await model.embed([query, ...docs.map((d) => d.text)]);
    model.dispose();
    const ranked = vd.map((v, i) => ({ i, s: cosine(vq, v) })).sort((a, b) => b.s - a.s || a.i - b.i);

    const r = await ok(['search', '--model', SMALL, '--docs', tmp('docs.jsonl'), query, '--top', '4']);
    const rows = r.out.trimEnd().split('\n').map((l) => l.split('\t'));
    assert.equal(rows.length, 4);
    rows.forEach(([rank, score, id, text, ...rest], k) => {
      assert.deepEqual(rest, []);
      const { i, s } = ranked[k];
      assert.equal(rank, String(k + 1));
      assert.ok(Math.abs(Number(score) - s) < 2e-6);
      assert.equal(id, docs[i].id !== undefined ? String(docs[i].id) : String(i + 1));  // no id: the line number
      assert.ok([...text].length <= 100);
      if (docs[i].text === long) assert.match(text, /…$/);
      else assert.equal(text, docs[i].text.replace(/\t/g, ' '));
    });

    const all = JSON.parse((await ok(['search', '-m', SMALL, '--docs', tmp('docs.jsonl'), '-k', '100', '--json', query])).out);
    assert.equal(all.length, docs.length, '--top beyond the number of docs: all of them');
    assert.deepEqual(all.map((x) => x.rank), docs.map((_, k) => k + 1));
    assert.deepEqual(all.map((x) => x.line - 1), ranked.map((x) => x.i));
    assert.deepEqual(all.map((x) => x.text), ranked.map((x) => docs[x.i].text), 'full texts');
    assert.deepEqual(all.map((x) => x.id), ranked.map((x) => docs[x.i].id));

    fs.writeFileSync(tmp('docs.txt'), docs.map((d) => d.text).join('\n'));
    const txt = (await ok(['search', '--model', SMALL, '--docs', tmp('docs.txt'), query])).out.trimEnd().split('\n');
    assert.equal(txt.length, Math.min(10, docs.length), 'default top 10');
    assert.deepEqual(txt.map((l) => Number(l.split('\t')[2]) - 1), ranked.slice(0, 10).map((x) => x.i));
  });

  test('runtime errors exit 1 with one clear line: missing, foreign, corrupt and truncated models, bad input, unwritable output', async () => {
    const bytes = fs.readFileSync(SMALL);
    const flipped = Buffer.from(bytes);
    flipped[bytes.length >> 1] ^= 0x40;
    fs.writeFileSync(tmp('flipped.wemb'), flipped);
    fs.writeFileSync(tmp('truncated.wemb'), bytes.subarray(0, bytes.length >> 1));
    fs.writeFileSync(tmp('foreign.wemb'), 'PK\x03\x04'.padEnd(300, 'x'));
    writeJsonl(tmp('bad.jsonl'), [{ text: 'fine' }, { text: 'fine too', id: 1 }, { txt: 'typo' }]);
    fs.writeFileSync(tmp('badtype.jsonl'), '{"text": "ok"}\n{"text": 42}\n');
    fs.mkdirSync(tmp('dir.f32'));
    fs.writeFileSync(tmp('broken.jsonl'), '{"text": "ok"}\n{"text": "unterminated\n');
    const embed = (model, input, out = tmp('never.f32')) => ['embed', '--model', model, '--in', input, '--out', out];
    const cases = [
      [embed(tmp('missing.wemb'), tmp('t.txt')), /^wembed embed: cannot open model \S*missing\.wemb: no such file or directory$/],
      [['info', TMP], /^wembed info: model \S+ is a directory, not a \.wemb file/],
      [['info', tmp('flipped.wemb')], /^wembed info: model \S*flipped\.wemb: corrupt \.wemb: .*CRC-32/],
      [embed(tmp('truncated.wemb'), tmp('t.txt')), /^wembed embed: model \S*truncated\.wemb: truncated/],
      [['score', '--model', tmp('foreign.wemb'), 'q', 'c'], /^wembed score: model \S*foreign\.wemb: not a \.wemb file/],
      [embed(SMALL, tmp('missing.txt')), /^wembed embed: cannot read \S*missing\.txt: no such file or directory$/],
      [embed(SMALL, tmp('bad.jsonl')), /^wembed embed: \S*bad\.jsonl:3: no "text" field$/],
      [embed(SMALL, tmp('badtype.jsonl')), /^wembed embed: \S*badtype\.jsonl:2: "text" is number, not a string$/],
      [['tokenize', '--model', SMALL, '--in', tmp('broken.jsonl'), '--out', tmp('never.jsonl')], /^wembed tokenize: \S*broken\.jsonl:2: invalid JSON/],
      [['search', '--model', SMALL, '--docs', tmp('bad.jsonl'), 'q'], /^wembed search: \S*bad\.jsonl:3: no "text" field$/],
      [embed(SMALL, tmp('t.txt'), tmp('no/such/dir/out.f32')), /^wembed embed: cannot write \S*out\.f32: no such file or directory$/],
      [embed(SMALL, tmp('t.txt'), tmp('dir.f32')), /^wembed embed: cannot write \S*dir\.f32: is a directory$/],
    ];
    for (const [args, re] of cases) {
      const r = await run(args, { input: '{"text": "a"}\nnot json\n' });
      assert.equal(r.code, 1, `${args.join(' ')} → ${r.code}: ${r.err}`);
      assert.equal(r.err.split('\n').length, 2, `one line: ${r.err}`);
      assert.match(r.err.trimEnd(), re);
    }
    const stdin = await run(['embed', '--model', SMALL, '--in', '-', '--out', tmp('never.f32')], { input: '{"text": "a"}\nplain text\n' });
    assert.equal(stdin.code, 1);
    assert.match(stdin.err, /^wembed embed: stdin:2: invalid JSON: .*--in-format txt/);
    assert.ok(!fs.existsSync(tmp('never.f32')) && !fs.existsSync(tmp('never.jsonl')), 'no output after a failure');
    assert.deepEqual(tempLeftovers(), []);
  });

  test('Ctrl-C stops at the next batch: exit 130, no output file left', async () => {
    const lines = Array.from({ length: 200000 }, (_, i) => `text number ${i} about guitars`).join('\n');
    fs.writeFileSync(tmp('many.txt'), lines);
    const out = tmp('many.f32');
    const r = await run(['embed', '--model', SMALL, '--in', tmp('many.txt'), '--out', out], {
      onSpawn(p) {
        const poll = setInterval(() => {  // interrupt once the first batches are written
          if (tempLeftovers().some((f) => fs.statSync(tmp(f)).size > 0)) {
            clearInterval(poll);
            p.kill('SIGINT');
          }
        }, 20);
        p.on('close', () => clearInterval(poll));
      },
    });
    assert.equal(r.code, 130, r.err);
    assert.match(r.err, /^wembed embed: interrupted$/m);
    assert.ok(!fs.existsSync(out));
    assert.deepEqual(tempLeftovers(), []);
  });

  test('on a terminal, progress is one line redrawn in place (via script(1))', { skip: spawnSync('script', ['--version']).status !== 0 && 'no script(1)' }, () => {
    fs.writeFileSync(tmp('tty.txt'), Array.from({ length: 3000 }, (_, i) => `sentence ${i}`).join('\n'));
    const cmd = [process.execPath, CLI, 'embed', '--model', SMALL, '--in', tmp('tty.txt'), '--out', tmp('tty.f32')].map((a) => `'${a}'`).join(' ');
    const r = spawnSync('script', ['-qec', cmd, '/dev/null'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /\rembed \[[█░]+\] \d+\/3000 texts .*\x1b\[K/);
    assert.match(r.stdout, /\r\x1b\[Kembed: 3000 texts in [\d.]+ s .*\r?\n/);  // the pty turns \n into \r\n
  });
});

// --- the reference round trip: gte-small-synth ------------------------------------------------------------------

describe('gte-small-synth reference round trip', { skip }, () => {
  const REF = `${SHARED}/reference/models/gte-small-synth`;
  let refs, refVecs, model, dim;
  before(async () => {
    if (!HAVE_SHARED) return;
    refs = readJsonl(`${REF}/texts.jsonl`);
    refVecs = readF32(`${REF}/embeddings.f32`);
    dim = refVecs.length / refs.length;
  });

  test('convert with the CLI: byte-identical to the library conversion', async () => {
    model = tmp('gte.int8.wemb');
    const r = await ok(['convert', `${SHARED}/models/gte-small-synth`, '-o', model]);
    assert.match(r.err, /^wrote .*gte\.int8\.wemb: [\d.]+ MB, int8/m);
    assert.ok(fs.readFileSync(model).equals(fs.readFileSync(await testModel('gte-small-synth', 'int8'))));
  });

  test('embed: a few hundred reference texts, cosine ≥ 0.99 each; txt, stdin, jsonl and npy agree', async () => {
    // STS sentences, every edge case (four of them past the token limit), a long document
    const idx = refs.map((_, i) => i).filter((i) => (i < 2910 && i % 15 === 0) || i === 2910 || i >= 3060);
    writeJsonl(tmp('ref.jsonl'), idx.map((i) => ({ text: refs[i].text, ids: refs[i].ids })));
    const r = await ok(['embed', '--model', model, '--in', tmp('ref.jsonl'), '--out', tmp('ref.f32')]);
    assert.match(r.err, new RegExp(`^embed: ${idx.length} texts in [\\d.]+ s \\([\\d.]+ texts/s\\) → \\S+ref\\.f32 \\(${idx.length} × ${dim} f32\\)$`, 'm'));
    const got = f32(fs.readFileSync(tmp('ref.f32')));
    assert.equal(got.length, idx.length * dim);
    let sum = 0, worst = 1;
    idx.forEach((t, k) => {
      const c = cosine(got.subarray(k * dim, (k + 1) * dim), refVecs.subarray(t * dim, (t + 1) * dim));
      sum += c;
      worst = Math.min(worst, c);
      assert.ok(c >= 0.99, `text ${t} (${JSON.stringify(refs[t].text.slice(0, 40))}): cosine ${c}`);
    });
    assert.ok(sum / idx.length >= 0.998, `mean cosine ${sum / idx.length} (worst ${worst})`);

    // single-line texts as .txt → .npy, and the same as JSON lines on stdin → JSON lines on stdout
    const pick = idx.map((t, k) => [t, k]).filter(([t]) => !/[\r\n]/.test(refs[t].text) && !refs[t].text.startsWith('\ufeff')).slice(0, 60);
    const rows = concat(pick.map(([, k]) => got.subarray(k * dim, (k + 1) * dim)));
    fs.writeFileSync(tmp('ref.txt'), pick.map(([t]) => refs[t].text).join('\n') + '\n');
    await ok(['embed', '--model', model, '--in', tmp('ref.txt'), '--out', tmp('ref.npy')]);
    const npy = parseNpy(fs.readFileSync(tmp('ref.npy')));
    assert.deepEqual(npy.shape, [pick.length, dim]);
    assert.deepEqual(npy.data, rows);
    const s = await ok(['embed', '--model', model, '--in', '-', '--out', '-'], { input: pick.map(([t]) => JSON.stringify({ text: refs[t].text })).join('\n') });
    assert.deepEqual(concat(jsonlVectors(s.out)), rows);
  });

  test('tokenize: every reference text gives the reference ids', async () => {
    const r = await ok(['tokenize', '--model', model, '--in', `${REF}/texts.jsonl`, '--out', '-']);
    const got = r.out.split('\n').filter(Boolean).map((l) => JSON.parse(l).ids);
    assert.equal(got.length, refs.length);
    refs.forEach((ref, i) => assert.deepEqual(got[i], ref.ids, `text ${i}`));
  });

  test('bench: against onnxruntime-web on the same ids, one row per length it takes, vectors that agree; --texts; errors', async () => {
    const m = await testModel('gte-small-synth', 'int8'), onnx = `${SHARED}/models/gte-small-synth/onnx/model_quantized.onnx`;
    const common = ['--model', m, '--runs', '2', '--batch-runs', '1', '-q'];
    const j = JSON.parse((await ok(['bench', ...common, '--onnx', onnx, '--lengths', '16,600', '--json'])).out);
    assert.deepEqual(j.batch1.map((r) => r.tokens), [16]);  // 600: more than the model takes, skipped
    const [row] = j.batch1;
    assert.equal(row.wembed_ms.n, 2);
    assert.ok(row.wembed_ms.median > 0 && row.ort_ms.median > 0 && row.ratio > 0);
    assert.ok(row.cosine > 0.97, `cosine of the two engines' vectors ${row.cosine}`);  // int8 against int8
    assert.match(j.ort.version, /^\d+\.\d+/);
    assert.equal(j.batch.texts, 256);
    assert.deepEqual(Object.keys(j.batch.ort_texts_per_s).sort(), ['one_at_a_time', 'padded_chunks_of_32']);
    fs.writeFileSync(tmp('bench.txt'), 'a first text\nand a second one\n');
    const t = (await ok(['bench', ...common, '--lengths', '8', '--texts', tmp('bench.txt')])).out;
    assert.match(t, /^\| batch 1, 8 tokens \[ms, median \(min-max\)\] \| [\d.]+ \([\d.]+-[\d.]+\) \|$/m);
    assert.match(t, /^\| 2 texts, \d+ tokens \[texts\/s, median of 1\] \| [\d.]+ \|$/m);
    assert.doesNotMatch(t, /onnxruntime-web/);
    const bad = await run(['bench', ...common, '--lengths', '8', '--onnx', tmp('missing.onnx')]);
    assert.equal(bad.code, 1);
    assert.match(bad.err, /^wembed bench: onnxruntime-web cannot open .*missing\.onnx/);
  });
});
