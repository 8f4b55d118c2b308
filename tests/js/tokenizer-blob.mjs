// Tokenizer blob tool (js/convert/tokenizer.js) for the native tests:
//   node tests/js/tokenizer-blob.mjs TOKENIZER_JSON OUT_BLOB   writes the blob of a tokenizer.json
//   node tests/js/tokenizer-blob.mjs --fixture OUT_BLOB        writes the small test tokenizer of tests/c/test_tokenizer.c
//   node tests/js/tokenizer-blob.mjs --check                   checks that unsupported tokenizer.json content is refused
import { readFileSync, writeFileSync } from 'node:fs';
import { tokenizerSectionFromJson } from '../../js/convert/tokenizer.js';

const special = (id, content) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });

/** The fixture: a BERT-uncased tokenizer with a tiny vocabulary (ids are what test_tokenizer.c expects). */
export function fixtureJson() {
  const words = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'hello', 'world', '##s', 'un', '##aff', '##able', ',', '!',
    'a', '##a', 'cafe', 'i', '中', '文', 'x', '##x', '[', ']', 'hell', '##o', 'é', 'ß', 'ა', '.', '##\u0307', 'x\u{1D165}\u{1D16D}'];
  return {
    version: '1.0', truncation: null, padding: null,
    added_tokens: [special(0, '[PAD]'), special(1, '[UNK]'), special(2, '[CLS]'), special(3, '[SEP]'), special(4, '[MASK]')],
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } }],
      pair: [],
      special_tokens: { '[CLS]': { id: '[CLS]', ids: [2], tokens: ['[CLS]'] }, '[SEP]': { id: '[SEP]', ids: [3], tokens: ['[SEP]'] } },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100,
      vocab: Object.fromEntries(words.map((w, i) => [w, i])) },
  };
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
