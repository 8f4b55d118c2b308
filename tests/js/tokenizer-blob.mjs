// Tokenizer blob tool (js/convert/tokenizer.js) for the native tests:
//   node tests/js/tokenizer-blob.mjs TOKENIZER_JSON OUT_BLOB   writes the blob of a tokenizer.json
//   node tests/js/tokenizer-blob.mjs --fixture OUT_BLOB        writes the small test tokenizer of tests/c/test_tokenizer.c
//   node tests/js/tokenizer-blob.mjs --check                   checks that unsupported tokenizer.json content is refused
import { readFileSync, writeFileSync } from 'node:fs';
import { tokenizerSectionFromJson } from '../../js/convert/tokenizer.js';
import { bertTokenizerJson, specialToken as special } from './fixtures.mjs';

/** The fixture: a BERT-uncased tokenizer with a tiny vocabulary (ids are what test_tokenizer.c expects). */
export function fixtureJson() {
  const words = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'hello', 'world', '##s', 'un', '##aff', '##able', ',', '!',
    'a', '##a', 'cafe', 'i', '中', '文', 'x', '##x', '[', ']', 'hell', '##o', 'é', 'ß', 'ა', '.', '##\u0307', 'x\u{1D165}\u{1D16D}'];
  return bertTokenizerJson(words);
}

function check() {
  const base = fixtureJson();
  const cases = [
    ['normalizer', { type: 'Precompiled', precompiled_charsmap: '' }, 'unsupported normalizer type "Precompiled"'],
    ['normalizer', { type: 'BertNormalizer', clean_text: true, foo: 1 }, 'unsupported BertNormalizer option "foo"'],
    ['pre_tokenizer', { type: 'Metaspace', replacement: '▁' }, 'unsupported pre_tokenizer type "Metaspace"'],
    ['model', { type: 'Unigram', vocab: [] }, 'unsupported model type "Unigram"'],
    ['post_processor', { type: 'ByteLevel' }, 'unsupported post_processor type "ByteLevel"'],
    ['added_tokens', [{ ...special(5, 'hello'), normalized: true }], 'normalized=true'],
    ['added_tokens', [{ ...special(5, 'hello'), single_word: true }], 'single_word=true'],
    ['extra_field', 1, 'unsupported tokenizer.json option "extra_field"'],
  ];
  for (const [key, value, msg] of cases) {
    const j = structuredClone(base);
    j[key] = value;
    let err = null;
    try { tokenizerSectionFromJson(j); } catch (e) { err = e; }
    if (!err || !err.message.includes(msg)) throw new Error(`expected an error containing ${JSON.stringify(msg)} for ${key}, got ${err ? err.message : 'none'}`);
  }
  const noUnk = structuredClone(base);
  noUnk.model.unk_token = '<unk>';
  try { tokenizerSectionFromJson(noUnk); throw new Error('missing unk accepted'); } catch (e) { if (!e.message.includes('unk_token')) throw e; }
  const blob = tokenizerSectionFromJson(base);
  if (!(blob instanceof Uint8Array) || blob.length < 128) throw new Error('no blob');
  console.log(`tokenizer-blob --check: ${cases.length + 1} refusals OK`);
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
  const json = src === '--fixture' ? fixtureJson() : JSON.parse(readFileSync(src, 'utf8'));
  const blob = tokenizerSectionFromJson(json);
  writeFileSync(dst, blob);
  console.log(`${dst}: ${blob.length} bytes`);
}
