// Tokenizer blob tool (js/convert/tokenizer.js) for the native tests:
//   node tests/js/tokenizer-blob.mjs TOKENIZER_JSON OUT_BLOB   writes the blob of a tokenizer.json (or .json.gz)
//   node tests/js/tokenizer-blob.mjs --fixture OUT_BLOB        writes the small test tokenizer of tests/c/test_tokenizer.c
//   node tests/js/tokenizer-blob.mjs --fixture-unigram OUT_BLOB   its SentencePiece Unigram twin (tests/js/unigram-fixture.mjs)
//   node tests/js/tokenizer-blob.mjs --fixture-bytes OUT_BLOB     the same with byte_fallback
//   node tests/js/tokenizer-blob.mjs --fixture-pruned OUT_BLOB    that one pruned to ▁hello hell o x e (+ specials, bytes)
//   node tests/js/tokenizer-blob.mjs --check                   checks that unsupported tokenizer.json content is refused
import { readFileSync, writeFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { tokenizerSectionFromJson, vocabularyOf } from '../../js/convert/tokenizer.js';
import { bertTokenizerJson, specialToken as special } from './fixtures.mjs';
import { unigramFixtureJson } from './unigram-fixture.mjs';

/** Parses a tokenizer.json, gunzipping a .gz file. */
export function readTokenizerJson(path) {
  const raw = readFileSync(path);
  return JSON.parse((path.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8'));
}

/** The fixture: a BERT-uncased tokenizer with a tiny vocabulary (ids are what test_tokenizer.c expects). */
export function fixtureJson() {
  const words = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'hello', 'world', '##s', 'un', '##aff', '##able', ',', '!',
    'a', '##a', 'cafe', 'i', '中', '文', 'x', '##x', '[', ']', 'hell', '##o', 'é', 'ß', 'ა', '.', '##\u0307', 'x\u{1D165}\u{1D16D}'];
  return bertTokenizerJson(words);
}

function expectError(json, msg, what) {
  let err = null;
  try { tokenizerSectionFromJson(json); } catch (e) { err = e; }
  if (!err || !err.message.includes(msg)) throw new Error(`expected an error containing ${JSON.stringify(msg)} for ${what}, got ${err ? err.message : 'none'}`);
}

function check() {
  const base = fixtureJson();
  const cases = [
    ['normalizer', { type: 'NFKC' }, 'unsupported normalizer type "NFKC"'],
    ['normalizer', { type: 'Precompiled', precompiled_charsmap: '' }, 'Precompiled precompiled_charsmap must be a non-empty base64 string'],
    ['normalizer', { type: 'BertNormalizer', clean_text: true, foo: 1 }, 'unsupported BertNormalizer option "foo"'],
    ['pre_tokenizer', { type: 'Metaspace', replacement: '▁' }, 'unsupported combination: BertNormalizer with WordPiece model'],
    ['pre_tokenizer', { type: 'ByteLevel' }, 'unsupported pre_tokenizer type "ByteLevel"'],
    ['model', { type: 'BPE', vocab: {}, merges: [] }, 'unsupported model type "BPE"'],
    ['model', { type: 'Unigram', vocab: [['<unk>', 0]], unk_id: 0 }, 'unsupported combination: BertNormalizer with Unigram model'],
    ['post_processor', { type: 'ByteLevel' }, 'unsupported post_processor type "ByteLevel"'],
    ['added_tokens', [{ ...special(5, 'hello'), normalized: true }], 'normalized=true'],
    ['added_tokens', [{ ...special(5, 'hello'), single_word: true }], 'single_word=true'],
    ['extra_field', 1, 'unsupported tokenizer.json option "extra_field"'],
  ];
  for (const [key, value, msg] of cases) {
    const j = structuredClone(base);
    j[key] = value;
    expectError(j, msg, key);
  }
  const noUnk = structuredClone(base);
  noUnk.model.unk_token = '<unk>';
  expectError(noUnk, 'unk_token', 'a missing unk_token');
  const blob = tokenizerSectionFromJson(base);
  if (!(blob instanceof Uint8Array) || blob.length < 128) throw new Error('no blob');

  // The SentencePiece pipeline: what it accepts, and what it refuses.
  const uni = unigramFixtureJson();
  const meta = (o) => ({ type: 'Metaspace', replacement: '▁', ...o });
  const accepted = [
    ['pre_tokenizer', { type: 'WhitespaceSplit' }], ['pre_tokenizer', null], ['normalizer', null],
    ['pre_tokenizer', meta({ prepend_scheme: 'first' })], ['pre_tokenizer', meta({ prepend_scheme: 'never', split: false })],
    ['pre_tokenizer', { type: 'Sequence', pretokenizers: [{ type: 'WhitespaceSplit' }, meta({ prepend_scheme: 'always' })] }],
    ['normalizer', { type: 'Replace', pattern: { String: "''" }, content: '"' }],
    ['normalizer', { type: 'Replace', pattern: { Regex: '\\.+' }, content: '.' }],
  ];
  for (const [key, value] of accepted) {
    const j = structuredClone(uni);
    j[key] = value;
    tokenizerSectionFromJson(j);
  }
  const seq = (...normalizers) => ({ type: 'Sequence', normalizers });
  const ucases = [
    ['normalizer', seq(uni.normalizer.normalizers[0], { type: 'Lowercase' }), 'unsupported normalizer type "Lowercase"'],
    ['normalizer', seq({ type: 'BertNormalizer' }), 'unsupported BertNormalizer inside a normalizer Sequence'],
    ['normalizer', { type: 'BertNormalizer' }, 'unsupported combination: BertNormalizer with Unigram model'],
    ['normalizer', { type: 'Replace', pattern: { Regex: '\\s+' }, content: ' ' }, 'unsupported Replace normalizer regex'],
    ['normalizer', { type: 'Replace', pattern: { Regex: 'a|b' }, content: ' ' }, 'unsupported Replace normalizer regex'],
    ['normalizer', { type: 'Replace', pattern: { String: '' }, content: ' ' }, 'unsupported Replace normalizer pattern'],
    ['normalizer', { type: 'Precompiled', precompiled_charsmap: 'AAAAAA==' }, 'Precompiled precompiled_charsmap: empty trie'],
    ['normalizer', { type: 'Precompiled', precompiled_charsmap: Buffer.from([16, 0, 0, 0, 1]).toString('base64') }, 'trie larger than the map'],
    ['pre_tokenizer', { type: 'BertPreTokenizer' }, 'unsupported combination: BertPreTokenizer with Unigram model'],
    ['pre_tokenizer', meta({ add_prefix_space: false }), 'Metaspace add_prefix_space does not match declared prepend_scheme'],
    ['pre_tokenizer', meta({ replacement: 'ab' }), 'Metaspace replacement must be one character'],
    ['pre_tokenizer', meta({ prepend_scheme: 'sometimes' }), 'unsupported Metaspace prepend_scheme "sometimes"'],
    ['pre_tokenizer', { type: 'Sequence', pretokenizers: [meta({}), { type: 'WhitespaceSplit' }] }, 'unsupported pre_tokenizer Sequence [Metaspace, WhitespaceSplit]'],
    ['pre_tokenizer', { type: 'Sequence', pretokenizers: [{ type: 'WhitespaceSplit' }, meta({ prepend_scheme: 'first' })] }, 'unsupported Metaspace prepend_scheme "first" after WhitespaceSplit'],
    ['added_tokens', [{ ...special(0, '<s>'), lstrip: true }], 'unsupported added token option lstrip/rstrip'],
  ];
  for (const [key, value, msg] of ucases) {
    const j = structuredClone(uni);
    j[key] = value;
    expectError(j, msg, `Unigram ${key}`);
  }
  const mcases = [
    [{ unk_id: null }, 'unsupported Unigram model without unk_id'],
    [{ unk_id: 1000 }, 'Unigram unk_id 1000 is not in the vocab'],
    [{ byte_fallback: true }, 'unsupported Unigram byte_fallback without the byte piece "<0x00>"'],
    [{ vocab: [] }, 'Unigram vocab must be a non-empty array'],
    [{ vocab: [['<unk>', 'x']], unk_id: 0 }, 'Unigram vocab[0] must be [piece, score]'],
  ];
  for (const [patch, msg] of mcases) {
    const j = structuredClone(uni);
    Object.assign(j.model, patch);
    expectError(j, msg, `Unigram model ${JSON.stringify(patch).slice(0, 40)}`);
  }
  const n = cases.length + 1 + ucases.length + mcases.length;
  console.log(`tokenizer-blob --check: ${n} refusals OK, ${accepted.length} SentencePiece variants accepted`);
}

const args = process.argv.slice(2);
if (args[0] === '--check') {
  check();
} else {
  const [src, dst] = args;
  if (!src || !dst) {
    console.error('usage: node tests/js/tokenizer-blob.mjs (TOKENIZER_JSON | --fixture) OUT_BLOB | --check');
    process.exit(2);
  }
  const json = src === '--fixture' ? fixtureJson()
    : src === '--fixture-unigram' ? unigramFixtureJson()
      : src === '--fixture-bytes' || src === '--fixture-pruned' ? unigramFixtureJson({ byteFallback: true }) : readTokenizerJson(src);
  let kept = null;
  if (src === '--fixture-pruned') {  // the ids test_tokenizer.c expects: ▁hello 5, hell 7, o 8, x 15, e 16
    const v = vocabularyOf(json);
    kept = new Uint8Array(v.numIds);
    for (const id of [...v.required, 5, 7, 8, 15, 16]) kept[id] = 1;
  }
  const blob = tokenizerSectionFromJson(json, { kept });
  writeFileSync(dst, blob);
  console.log(`${dst}: ${blob.length} bytes`);
}
