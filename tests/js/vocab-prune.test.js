// Vocabulary pruning (convert --vocab-from, docs/format.md "Pruned vocabularies"):
//   - the pruned tokenizer (flags in the blob, the C code in wasm) against a reference: the full tokenizer built from
//     a tokenizer.json whose pruned pieces are gone (WordPiece: deleted; Unigram: renamed to strings no word can
//     contain, so ids and scores stay) — i.e. Hugging Face's semantics of the kept vocabulary — on every reference
//     text of XLM-R and BERT; corpus texts keep their full-vocabulary ids; "hit" is exactly "the ids changed";
//   - byte fallback, one-character pieces, fused unknowns that spell a pruned piece;
//   - EMB_WORD_MAP / emb_rows checks of the C reader (a corrupt map is an Error naming the section);
//   - pruned models embed their corpus bit-identically to the unpruned ones, for every embedding dtype;
//   - model.info.vocab / vocab_kept / vocab_corpus, model.stats, and the CLI.
// Run: node --test tests/js/vocab-prune.test.js
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';

import { KIND, encodeConfig, parseConfig, parseHeader, parseTable } from '../../js/format.js';
import { convert } from '../../js/convert/index.js';
import { WasmTokenizer, corpusIds } from '../../js/convert/corpus.js';
import { tokenizerSectionFromJson } from '../../js/convert/tokenizer.js';
import { embeddingRows, keptIds, vocabularyOf } from '../../js/convert/vocab.js';
import { buildWemb } from '../../js/convert/wemb-writer.js';
import { load } from '../../js/index.js';
import { HAVE_SHARED, ROOT, SHARED, readJsonl } from './common.mjs';
import { TINY, makeTinyFolder, tinyTokenizerJson } from './fixtures.mjs';
import { unigramFixtureJson } from './unigram-fixture.mjs';

const skip = !HAVE_SHARED && 'no ../shared';
let TMP;
before(() => (TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'wembed-prune-'))));
after(() => fs.rmSync(TMP, { recursive: true, force: true }));

const xlmrJson = () => JSON.parse(gunzipSync(fs.readFileSync(`${SHARED}/tokenizers/multilingual-e5-small/tokenizer.json.gz`)));
const gteJson = () => JSON.parse(fs.readFileSync(`${SHARED}/models/gte-small-synth/tokenizer.json`, 'utf8'));
const same = (a, b) => a.length === b.length && a.every((v, i) => v === b[i]);

/** A corpus file: JSON lines (name.jsonl; any text) or plain lines (name.txt; texts without line breaks). */
function writeCorpus(name, texts) {
  const file = path.join(TMP, name);
  if (name.endsWith('.txt')) assert.ok(texts.every((t) => !/[\r\n]/.test(t)));
  fs.writeFileSync(file, texts.map((text) => (name.endsWith('.jsonl') ? JSON.stringify({ text }) : text)).join('\n') + '\n');
  return file;
}

/** The reference: the same tokenizer.json without the pieces that are not kept (ids unchanged). */
function withoutPruned(json, kept) {
  const j = structuredClone(json);
  if (j.model.type === 'Unigram') {
    // a space never survives Metaspace inside a word: these pieces can never match, and every score stays
    j.model.vocab = j.model.vocab.map(([p, s], id) => (kept[id] ? [p, s] : [` pruned ${id}`, s]));
  } else {
    j.model.vocab = Object.fromEntries(Object.entries(j.model.vocab).filter(([, id]) => kept[id]));
  }
  return j;
}

/**
 * Prunes json to what corpusTexts produce and checks every text: pruned ids = reference ids; corpus texts keep their
 * full ids; the hit flag is set exactly when the ids differ from the full tokenizer's. Returns counts.
 */
async function checkPruned(json, corpusTexts, texts, chars) {
  const full = tokenizerSectionFromJson(json);
  const vocab = vocabularyOf(json);
  const { seen } = await corpusIds(writeCorpus(`corpus-${chars}.jsonl`, corpusTexts), full, { numIds: vocab.numIds });
  const kept = keptIds(vocab, seen, { chars });
  const dropped = tokenizerSectionFromJson(json, { kept, dropPruned: true });
  const [tf, tp, tr, td] = await Promise.all([full, tokenizerSectionFromJson(json, { kept }), tokenizerSectionFromJson(withoutPruned(json, kept)), dropped]
    .map((b) => WasmTokenizer.create(b)));
  let changed = 0, hits = 0;
  const bad = [];
  try {
    for (const t of corpusTexts) {
      const a = tf.encode(t), b = tp.encode(t);
      if (!same(a, b) || tp.prunedHit()) bad.push({ corpus: t.slice(0, 50), full: [...a].slice(0, 12), pruned: [...b].slice(0, 12) });
    }
    for (const t of texts) {
      const a = tf.encode(t), b = tp.encode(t), hit = tp.prunedHit(), r = tr.encode(t);
      if (!same(b, r)) bad.push({ text: t.slice(0, 50), pruned: [...b].slice(0, 12), reference: [...r].slice(0, 12) });
      if (!same(td.encode(t), r) || td.prunedHit()) bad.push({ text: t.slice(0, 50), dropped: true });
      for (const id of b) if (!kept[id]) bad.push({ text: t.slice(0, 50), prunedId: id });
      const differs = !same(a, b);
      changed += differs;
      hits += hit;
      if (differs !== !!hit) bad.push({ text: t.slice(0, 50), hit, full: [...a].slice(0, 12), pruned: [...b].slice(0, 12) });
      if (bad.length > 5) break;
    }
  } finally {
    tf.close(), tp.close(), tr.close(), td.close();
  }
  let k = 0;
  for (const x of kept) k += x;
  return { kept: k, changed, hits, bad, bytes: { full: full.length, dropped: dropped.length } };
}

for (const [name, json, step] of [['XLM-R Unigram', xlmrJson, 10], ['BERT WordPiece', gteJson, 10]]) {
  test(`${name}: pruned tokenizer = the kept vocabulary's tokenizer on every reference text; hits = changed ids`, { skip }, async () => {
    const set = name.startsWith('XLM') ? 'xlmr-unigram' : 'bert-uncased';
    const texts = readJsonl(`${SHARED}/reference/tokenizers/${set}.jsonl`).map((r) => r.text);
    const corpus = texts.filter((_, i) => i % step === 0);
    for (const chars of ['all', 'corpus']) {
      const r = await checkPruned(json(), corpus, texts, chars);
      console.log(`# ${name}, one-character pieces ${chars}: ${r.kept} ids kept from ${corpus.length} texts; ` +
        `${r.changed} of ${texts.length} texts tokenized differently, ${r.hits} hits; tokenizer ${r.bytes.full} bytes, ${r.bytes.dropped} without the pruned pieces`);
      assert.ok(r.bytes.dropped < r.bytes.full);
      assert.deepEqual(r.bad, []);
      assert.ok(r.changed > 0, 'some texts need pruned pieces');
    }
  });
}

test('Unigram with byte fallback: unseen characters become kept byte pieces, a fused run that spells a pruned piece too', async () => {
  const json = unigramFixtureJson({ byteFallback: true });
  const texts = ['hello world', 'qq', 'world', 'a b ab', '中文中', 'hellohello', 'x', '\u{1F600}', 'fi ﬁ', 'abé', '', ' '];
  for (const chars of ['all', 'corpus']) {
    const r = await checkPruned(json, ['hello'], texts, chars);
    assert.deepEqual(r.bad, [], chars);
  }
  const vocab = vocabularyOf(json);
  const seen = new Uint8Array(vocab.numIds);
  for (const id of [0, 2, 5]) seen[id] = 1;  // <s> </s> ▁hello
  const kept = keptIds(vocab, seen, { chars: 'corpus' });
  const tok = await WasmTokenizer.create(tokenizerSectionFromJson(json, { kept }));
  const B0 = 30;  // <0x00>
  // "▁world" is a (pruned) piece: every character is unknown, the fused run is "▁world", which is no kept piece
  assert.deepEqual([...tok.encode('world')], [0, ...[...Buffer.from('\u2581world')].map((b) => B0 + b), 2]);
  assert.equal(tok.prunedHit(), 1);
  assert.deepEqual([...tok.encode('hello')], [0, 5, 2]);
  assert.equal(tok.prunedHit(), 0);
  tok.close();
  // the blob writer refuses to drop what must stay
  const noBytes = kept.slice();
  noBytes[B0 + 7] = 0;
  assert.throws(() => tokenizerSectionFromJson(json, { kept: noBytes }), /id 37 .* must be kept/);
});

test('embeddingRows: kept rows in id order, every other id on unk\'s row', () => {
  const kept = Uint8Array.from([1, 0, 1, 0, 1]);
  const { rows, map } = embeddingRows(kept, 7, 2);
  assert.deepEqual([...rows], [0, 2, 4]);
  assert.deepEqual([...map], [0, 1, 1, 1, 2, 1, 1]);
  assert.throws(() => embeddingRows(kept, 7, 1), /unk id 1 must be kept/);
});

// A tiny pruned model and its sections, for the reader's checks.
async function tinyPruned(embDtype = 'int8') {
  const { dir } = makeTinyFolder(path.join(TMP, `tiny-${embDtype}`));
  const out = path.join(TMP, `tiny-${embDtype}.pruned.wemb`);
  const s = await convert(dir, { output: out, dtype: 'f32', embDtype, vocabFrom: writeCorpus('tiny.txt', ['hello world', 'the cat']), vocabChars: 'corpus' });
  const bytes = new Uint8Array(fs.readFileSync(out));
  const sections = parseTable(bytes, parseHeader(bytes)).sort((x, y) => x.offset - y.offset);
  const rebuild = (edit, list = sections) =>
    buildWemb(list.map((x) => ({ kind: x.kind, index: x.index, data: edit(x, bytes.slice(x.offset, x.offset + x.size)) })));
  return { s, out, bytes, sections, rebuild };
}

test('C reader: EMB_WORD_MAP entries and sizes are checked, the errors name the section', async () => {
  const { s, sections, rebuild } = await tinyPruned('int8');
  // [PAD] [UNK] [CLS] [SEP] [MASK] hello world the cat: 9 of 24 rows
  assert.equal(s.config.embRows, 9);
  assert.equal(s.vocabulary.kept, 9);
  assert.equal(sections.find((x) => x.kind === KIND.EMB_WORD).size, 9 * TINY.H);
  assert.equal(sections.find((x) => x.kind === KIND.EMB_WORD_MAP).size, 4 * TINY.V);
  const m = await load(rebuild((x, d) => d));
  assert.deepEqual([m.info.vocab, m.info.vocab_kept, m.info.vocab_corpus], [24, 9, 'tiny.txt']);
  m.dispose();
  const map = (edit) => rebuild((x, d) => {
    if (x.kind !== KIND.EMB_WORD_MAP) return d;
    const u = new Uint32Array(d.buffer.slice(d.byteOffset, d.byteOffset + d.length));
    edit(u);
    return u;
  });
  await assert.rejects(load(map((u) => { u[17] = 9; })), /section EMB_WORD_MAP maps id 17 to row 9, EMB_WORD has 9 rows/);
  await assert.rejects(load(map((u) => { u[0] = 0xffffffff; })), /EMB_WORD_MAP maps id 0 to row 4294967295/);
  await assert.rejects(load(rebuild((x, d) => (x.kind === KIND.EMB_WORD_MAP ? d.subarray(0, d.length - 4) : d))),
    /section EMB_WORD_MAP\[0\] is 92 bytes, the config implies 96/);
  const config = (patch) => (x, d) => (x.kind === KIND.CONFIG ? encodeConfig({ ...parseConfig(d), ...patch }) : d);
  await assert.rejects(load(rebuild(config({ embRows: 10 }))), /section EMB_WORD\[0\] is 72 bytes, the config implies 80/);
  await assert.rejects(load(rebuild(config({ embRows: 0 }))), /section EMB_WORD\[0\] is 72 bytes, the config implies 192/);
  // emb_rows beyond the vocabulary is refused by the C reader too (the JS encoder would refuse to write it)
  const cfg = sections.find((x) => x.kind === KIND.CONFIG);
  await assert.rejects(load(rebuild((x, d) => {
    if (x.kind !== KIND.CONFIG) return d;
    const c = d.slice();
    new DataView(c.buffer).setUint32(68, 25, true);
    return c;
  })), /invalid .wemb config: embedding rows 25 \(vocab_size 24\)/);
  assert.ok(cfg);
  // a map without emb_rows, and emb_rows without a map
  const unpruned = rebuild((x, d) => (x.kind === KIND.CONFIG ? encodeConfig({ ...parseConfig(d), embRows: 0 }) : x.kind === KIND.EMB_WORD || x.kind === KIND.EMB_WORD_SCALE ? new Uint8Array(x.kind === KIND.EMB_WORD ? 24 * TINY.H : 24 * 4) : d));
  await assert.rejects(load(unpruned), /unexpected section EMB_WORD_MAP\[0\] for this config/);
  await assert.rejects(load(rebuild((x, d) => d, sections.filter((x) => x.kind !== KIND.EMB_WORD_MAP))), /missing section EMB_WORD_MAP/);
});

test('tiny WordPiece model: pruned embeds its corpus bit-identically for every embedding dtype, and says which texts changed', async () => {
  const { dir } = makeTinyFolder(path.join(TMP, 'tiny-dtypes'));
  const corpus = ['hello world', 'the cat is on the mat.', 'a big red dog!'];
  const file = writeCorpus('tiny-dtypes.txt', corpus);
  const others = ['small cats running', 'dogs?', 'unknownword hello', ''];
  for (const embDtype of ['f32', 'f16', 'int8', 'q4']) {
    const full = path.join(TMP, `d-${embDtype}.wemb`), pruned = path.join(TMP, `d-${embDtype}.p.wemb`);
    await convert(dir, { output: full, dtype: 'f32', embDtype });
    await convert(dir, { output: pruned, dtype: 'f32', embDtype, vocabFrom: file, vocabChars: 'corpus' });
    const [mf, mp] = await Promise.all([load(full), load(pruned)]);
    const a = await mf.embed(corpus), b = await mp.embed(corpus);
    for (let i = 0; i < corpus.length; i++) assert.deepEqual(b[i], a[i], `${embDtype}: text ${i}`);
    assert.deepEqual(mp.stats, { texts: 3, prunedTexts: 0 });
    let changed = 0;
    for (const t of others) changed += !same(mf.tokenize(t), mp.tokenize(t));
    assert.ok(changed >= 2);
    assert.deepEqual(mp.stats, { texts: 3 + others.length, prunedTexts: changed });
    assert.deepEqual(mf.stats, { texts: 3 + others.length, prunedTexts: 0 });
    assert.deepEqual([mf.info.vocab, mf.info.vocab_kept, mf.info.vocab_corpus], [24, 24, null]);
    mf.dispose(), mp.dispose();
  }
});

test('threads: texts embedded by the workers are counted too', async () => {
  const { dir } = makeTinyFolder(path.join(TMP, 'threads'));
  const out = path.join(TMP, 'threads.wemb');
  await convert(dir, { output: out, dtype: 'f32', vocabFrom: writeCorpus('threads.txt', ['hello world', 'the cat']), vocabChars: 'corpus' });
  const texts = Array.from({ length: 90 }, (_, i) => (i % 3 ? 'hello world the cat' : `small dogs ${i}`));
  const [one, many] = await Promise.all([load(out), load(out, { threads: 3 })]);
  const a = await one.embed(texts), b = await many.embed(texts);
  assert.deepEqual(b, a);
  assert.deepEqual(one.stats, { texts: 90, prunedTexts: 30 });
  assert.deepEqual(many.stats, one.stats);
  one.dispose(), many.dispose();
});

test('XLM-R shaped model: corpus texts embed bit-identically, prefixes are kept, ids past the tokenizer map to unk', { skip }, async () => {
  const tokenizerJson = xlmrJson();
  const V = 250037;  // as e5: 35 rows no token id reaches
  const { dir } = makeTinyFolder(path.join(TMP, 'xlmr'), { tokenizerJson, dtype: 'F16', dims: { V, H: 16, heads: 2, I: 32, L: 1, P: 128, T: 1 }, maxSeqLength: 128 });
  const rows = readJsonl(`${SHARED}/reference/tokenizers/xlmr-unigram.jsonl`);
  const corpus = rows.filter((_, i) => i % 40 === 0).map((r) => r.text);
  const file = writeCorpus('xlmr.jsonl', corpus);
  const full = path.join(TMP, 'xlmr.wemb'), pruned = path.join(TMP, 'xlmr.p.wemb');
  await convert(dir, { output: full, dtype: 'int8' });
  const s = await convert(dir, { output: pruned, dtype: 'int8', vocabFrom: file, queryPrefix: 'query: ', passagePrefix: 'passage: ' });
  assert.deepEqual(s.vocabulary.prefixes, ['query: ', 'passage: ']);
  assert.equal(s.vocabulary.corpus_texts, corpus.length);
  assert.equal(s.vocabulary.rows, V);
  const [mf, mp] = await Promise.all([load(full), load(pruned)]);
  const some = corpus.slice(0, 200);
  for (const kind of [undefined, 'query', 'passage']) {
    const a = await mf.embed(some.map((t) => (kind ? `${kind}: ${t}` : t))), b = await mp.embed(some, { kind });
    for (let i = 0; i < some.length; i++) assert.deepEqual(b[i], a[i], `${kind}: text ${i}`);
  }
  assert.equal(mp.stats.prunedTexts, 0);
  // every reference text: hits = ids changed (the model's 128-token limit on both sides)
  let changed = 0;
  for (const r of rows) changed += !same(mp.tokenize(r.text), mf.tokenize(r.text));
  assert.equal(mp.stats.prunedTexts, changed);
  // the map is total: the 35 rows beyond the tokenizer's 250002 ids, like every pruned id, read unk's row
  const bytes = fs.readFileSync(pruned);
  const sec = parseTable(bytes, parseHeader(bytes)).find((x) => x.kind === KIND.EMB_WORD_MAP);
  const map = new Uint32Array(bytes.buffer.slice(bytes.byteOffset + sec.offset, bytes.byteOffset + sec.offset + sec.size));
  assert.equal(map.length, V);
  for (let id = 250002; id < V; id++) assert.equal(map[id], map[3]);
  assert.equal(new Set(map).size, s.vocabulary.kept);
  assert.ok(changed > 1000, `${changed}`);
  assert.equal(mp.info.vocab, V);
  assert.equal(mp.info.vocab_kept, s.vocabulary.kept);
  console.log(`# XLM-R shaped model: ${s.vocabulary.kept} of ${V} ids kept from ${corpus.length} texts; ${changed} of ${rows.length} reference texts changed; ` +
    `${fs.statSync(pruned).size} vs ${fs.statSync(full).size} bytes`);
  mf.dispose(), mp.dispose();
});

test('CLI: convert --vocab-from, info, and the count of texts outside the pruned vocabulary', async () => {
  const { dir } = makeTinyFolder(path.join(TMP, 'cli'));
  const cli = (...args) => spawnSync(process.execPath, [path.join(ROOT, 'js/cli.js'), ...args], { cwd: ROOT, encoding: 'utf8' });
  const corpus = path.join(TMP, 'cli-corpus.txt');
  fs.writeFileSync(corpus, 'hello world\nthe cat\n');
  const out = path.join(TMP, 'cli.wemb');
  let r = cli('convert', dir, '-o', out, '--dtype', 'f32', '--vocab-from', corpus, '--vocab-chars', 'corpus');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /vocabulary pruned to 9 of 24 ids by 2 texts of cli-corpus\.txt/);
  r = cli('info', out);
  const info = JSON.parse(r.stdout);
  assert.deepEqual([info.vocab, info.vocab_kept, info.vocab_corpus], [24, 9, 'cli-corpus.txt']);
  const texts = path.join(TMP, 'cli-texts.txt');
  fs.writeFileSync(texts, 'hello world\nthe big cat\nsmall dogs\n');
  r = cli('embed', '--model', out, '--in', texts, '--out', path.join(TMP, 'v.npy'));
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /^2 of 3 texts contained pieces outside the pruned vocabulary \(9 of 24 ids, from cli-corpus\.txt\)$/m);
  r = cli('-q', 'embed', '--model', out, '--in', texts, '--out', path.join(TMP, 'v.npy'));
  assert.equal(r.stderr, '');
  r = cli('tokenize', '--model', out, '--in', texts, '--out', '-');
  assert.match(r.stderr, /2 of 3 texts contained pieces outside/);
  r = cli('convert', dir, '-o', out, '--vocab-chars', 'corpus');
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--vocab-chars needs --vocab-from/);
  r = cli('convert', dir, '-o', out, '--vocab-from', path.join(TMP, 'absent.txt'));
  assert.equal(r.status, 1);
  assert.match(r.stderr, /cannot read the vocabulary corpus .*absent\.txt: no such file or directory/);
  fs.writeFileSync(path.join(TMP, 'empty.txt'), '');
  r = cli('convert', dir, '-o', out, '--vocab-from', path.join(TMP, 'empty.txt'));
  assert.equal(r.status, 1);
  assert.match(r.stderr, /vocabulary corpus .*empty\.txt: no texts/);
  fs.writeFileSync(path.join(TMP, 'bad.jsonl'), '{"text": "ok"}\n{"txt": 1}\n');
  r = cli('convert', dir, '-o', out, '--vocab-from', path.join(TMP, 'bad.jsonl'));
  assert.equal(r.status, 1);
  assert.match(r.stderr, /bad\.jsonl:2/);
  // --vocab-drop-pruned: the same ids, a smaller tokenizer, and nothing to count
  const dropped = path.join(TMP, 'cli-dropped.wemb');
  r = cli('convert', dir, '-o', dropped, '--dtype', 'f32', '--vocab-from', corpus, '--vocab-chars', 'corpus', '--vocab-drop-pruned');
  assert.equal(r.status, 0, r.stderr);
  assert.ok(fs.statSync(dropped).size < fs.statSync(out).size);
  r = cli('tokenize', '--model', dropped, '--in', texts, '--out', '-');
  assert.equal(r.stdout, cli('tokenize', '--model', out, '--in', texts, '--out', '-').stdout);
  assert.doesNotMatch(r.stderr, /pruned/);
  const md = await load(dropped);
  md.tokenize('small dogs');
  assert.deepEqual(md.stats, { texts: 1, prunedTexts: null });
  md.dispose();
  assert.equal(cli('convert', dir, '-o', out, '--vocab-drop-pruned').status, 2);
  // an unpruned model says nothing
  const plain = path.join(TMP, 'plain.wemb');
  assert.equal(cli('convert', dir, '-o', plain, '--dtype', 'f32').status, 0);
  r = cli('embed', '--model', plain, '--in', texts, '--out', path.join(TMP, 'v.npy'));
  assert.doesNotMatch(r.stderr, /pruned/);
});
