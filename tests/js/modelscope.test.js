// ModelScope folders and tokenizers without tokenizer.json: the vocab.txt tokenizer builder
// (js/convert/vocab-tokenizer.js: transformers' BertTokenizerFast / BertConverter), configuration.json semantics
// (task, emb_pooler_type, normalize, sequence_length, dot-product scores) in js/convert/hf-folder.js, and the
// converted model's ids and info. The corom-tiny-synth tokenizer is proven here through a .wemb of a tiny model
// with its vocab.txt and configuration.json (its own pytorch_model.bin is read by the torch reader, tested
// elsewhere). Run: node --test tests/js/modelscope.test.js
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { convert } from '../../js/convert/index.js';
import { readHfFolder } from '../../js/convert/hf-folder.js';
import { tokenizerSectionFromJson } from '../../js/convert/tokenizer.js';
import { vocabLines, vocabTxtTokenizerJson } from '../../js/convert/vocab-tokenizer.js';
import { load } from '../../js/index.js';
import { HAVE_SHARED, SHARED, dot, readJsonl } from './common.mjs';
import { TINY, TINY_VOCAB, makeTinyFolder } from './fixtures.mjs';

const COROM = path.join(SHARED, 'models', 'corom-tiny-synth');
const COROM_REF = path.join(SHARED, 'reference', 'models', 'corom-tiny-synth', 'texts.jsonl');
const GTE = path.join(SHARED, 'models', 'gte-small-synth');
const HAVE_COROM = HAVE_SHARED && fs.existsSync(path.join(COROM, 'vocab.txt')) && fs.existsSync(COROM_REF);
if (!HAVE_COROM) process.stderr.write(`\n!!!!! ${COROM} is absent: SKIPPING the corom-tiny-synth and gte-small-synth tokenizer parity tests !!!!!\n\n`);
const skipShared = !HAVE_COROM && 'no ../shared';

let TMP;
before(() => {
  TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'wembed-modelscope-test-'));
});
after(() => fs.rmSync(TMP, { recursive: true, force: true }));

let count = 0;
const VOCAB_TXT = TINY_VOCAB.join('\n') + '\n';
const MS_CONFIG = (model = {}, preprocessor = { type: 'sentence-embedding', sequence_length: 12 }, extra = {}) => JSON.stringify({
  framework: 'pytorch', task: 'sentence-embedding', model: { type: 'bert', ...model }, pipeline: { type: 'sentence-embedding' }, preprocessor, ...extra,
});
/** A tiny ModelScope folder: config.json, configuration.json, vocab.txt, weights; no tokenizer.json, no sentence-transformers files. */
function msFolder({ configuration = MS_CONFIG(), files = {}, ...opts } = {}) {
  const dir = path.join(TMP, `ms-${++count}`);
  makeTinyFolder(dir, {
    st: false, ...opts,
    files: { 'tokenizer.json': null, 'tokenizer_config.json': null, 'vocab.txt': VOCAB_TXT, 'configuration.json': configuration, ...files },
  });
  return dir;
}
const out = () => path.join(TMP, `o-${++count}.wemb`);

// --- the builder -------------------------------------------------------------------------------------------------
describe('vocab.txt -> tokenizer.json (BertTokenizerFast)', () => {
  test('vocab.txt lines as transformers load_vocab reads them', () => {
    assert.deepEqual(vocabLines('a\nb\n'), ['a', 'b']);
    assert.deepEqual(vocabLines('a\nb'), ['a', 'b'], 'no newline at the end');
    assert.deepEqual(vocabLines('a\r\nb\rc\n\nd'), ['a', 'b', 'c', '', 'd'], 'universal newlines; an empty line keeps its index');
    assert.deepEqual(vocabLines('a \t\nb'), ['a \t', 'b'], 'only the line ending is removed');
    assert.deepEqual(vocabLines('a\u2028b\u0085c\n'), ['a\u2028b\u0085c'], 'readlines() splits on \\n, \\r only');
    assert.deepEqual(vocabLines(new Uint8Array([0xef, 0xbb, 0xbf, 0x61, 0x0a, 0x62])), ['\ufeffa', 'b'], 'a BOM stays (encoding utf-8)');
    assert.throws(() => vocabLines(new Uint8Array([0x61, 0xff, 0x0a])), /vocab\.txt: not valid UTF-8/);
  });

  test('ids: line index, the last of duplicates, gaps for empty lines, "__proto__" is a token', () => {
    const w = [];
    const j = vocabTxtTokenizerJson('[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nx\n\nx\n__proto__\n', undefined, undefined, { warnings: w });
    const v = j.model.vocab;
    assert.equal(v.x, 7, 'a duplicate takes its last line');
    assert.equal(Object.hasOwn(v, '__proto__') && v.__proto__, 8); // eslint-disable-line no-proto
    assert.ok(!Object.hasOwn(v, ''), 'the empty line is not a token');
    assert.deepEqual(Object.values(v).sort((a, b) => a - b), [0, 1, 2, 3, 4, 7, 8]);
    assert.equal(w.length, 2, `warnings: ${w.join(' | ')}`);
    // the blob accepts the gaps
    assert.ok(tokenizerSectionFromJson(j).length > 128);
  });

  test('BertTokenizerFast defaults: lower-case, accents follow it, Chinese chars, [CLS] $A [SEP], five special tokens', () => {
    const j = vocabTxtTokenizerJson(VOCAB_TXT);
    assert.deepEqual(j.normalizer, { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true });
    assert.deepEqual(j.pre_tokenizer, { type: 'BertPreTokenizer' });
    assert.deepEqual(
      { ...j.model, vocab: undefined },
      { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab: undefined },
    );
    assert.deepEqual(j.added_tokens.map((t) => [t.id, t.content, t.special, t.normalized]),
      [[0, '[PAD]', true, false], [1, '[UNK]', true, false], [2, '[CLS]', true, false], [3, '[SEP]', true, false], [4, '[MASK]', true, false]]);
    assert.deepEqual(j.post_processor.single.map((p) => p.SpecialToken?.id ?? p.Sequence.id), ['[CLS]', 'A', '[SEP]']);
    assert.deepEqual(j.post_processor.special_tokens['[CLS]'].ids, [2]);
    assert.deepEqual(j.post_processor.special_tokens['[SEP]'].ids, [3]);
  });

  test('tokenizer_config.json and special_tokens_map.json', () => {
    const vocab = ['<pad>', '<unk>', '<s>', '</s>', '<mask>', '[UNK]', 'a'].join('\n');
    const j = vocabTxtTokenizerJson(vocab, {
      do_lower_case: false, tokenize_chinese_chars: false, strip_accents: true, tokenizer_class: 'BertTokenizerFast',
      unk_token: '[UNK]', cls_token: '<s>', sep_token: '</s>', pad_token: '<pad>', mask_token: '<mask>',
    }, { unk_token: { content: '<unk>', lstrip: false, rstrip: false, normalized: false, single_word: false } });
    assert.deepEqual(j.normalizer, { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: false, strip_accents: true, lowercase: false });
    assert.equal(j.model.unk_token, '<unk>', 'special_tokens_map.json overrides tokenizer_config.json');
    assert.deepEqual(j.post_processor.special_tokens['<s>'].ids, [2]);
    assert.deepEqual(j.post_processor.special_tokens['</s>'].ids, [3]);
    assert.deepEqual(j.added_tokens.map((t) => t.content), ['<pad>', '<unk>', '<s>', '</s>', '<mask>']);

    // with added_tokens_decoder (transformers >= 4.34) special_tokens_map.json is not read
    const k = vocabTxtTokenizerJson(vocab, {
      unk_token: '[UNK]', cls_token: '<s>', sep_token: '</s>',
      added_tokens_decoder: { 5: { content: '[UNK]', lstrip: false, normalized: false, rstrip: false, single_word: false, special: true } },
    }, { unk_token: '<unk>' });
    assert.equal(k.model.unk_token, '[UNK]');
    assert.deepEqual(k.added_tokens.map((t) => [t.id, t.content]), [[2, '<s>'], [3, '</s>'], [5, '[UNK]'], [7, '[PAD]'], [8, '[MASK]']],
      'special tokens missing from vocab.txt get new ids after it, as the tokenizers library gives them');
    const m = vocabTxtTokenizerJson(VOCAB_TXT, { added_tokens_decoder: { 1: { content: '[UNK]', normalized: false, special: false } } });
    assert.equal(m.added_tokens.find((t) => t.content === '[UNK]').special, true, 'a special token listed as not special is special (transformers)');
  });

  test('refusals name the file and the value', () => {
    assert.throws(() => vocabTxtTokenizerJson('a\nb\n'), /unk_token "\[UNK\]" is not in vocab\.txt/);
    assert.throws(() => vocabTxtTokenizerJson('[UNK]\n[SEP]\n'), /cls_token "\[CLS\]" is not in vocab\.txt/);
    assert.throws(() => vocabTxtTokenizerJson(VOCAB_TXT, { tokenizer_class: 'XLMRobertaTokenizer' }), /tokenizer_config\.json: tokenizer_class "XLMRobertaTokenizer" is not supported/);
    assert.throws(() => vocabTxtTokenizerJson(VOCAB_TXT, { do_lower_case: 'yes' }), /tokenizer_config\.json: do_lower_case "yes"/);
    assert.throws(() => vocabTxtTokenizerJson(''), /vocab\.txt is empty/);
    assert.throws(() => vocabTxtTokenizerJson(VOCAB_TXT, undefined, { mask_token: 5 }), /special_tokens_map\.json mask_token: expected a string or an AddedToken/);
  });

  test('gte-small-synth: vocab.txt + tokenizer_config.json give its tokenizer.json, and the same blob', { skip: skipShared }, () => {
    const w = [];
    const j = vocabTxtTokenizerJson(fs.readFileSync(path.join(GTE, 'vocab.txt')), JSON.parse(fs.readFileSync(path.join(GTE, 'tokenizer_config.json'), 'utf8')),
      JSON.parse(fs.readFileSync(path.join(GTE, 'special_tokens_map.json'), 'utf8')), { warnings: w });
    const ref = JSON.parse(fs.readFileSync(path.join(GTE, 'tokenizer.json'), 'utf8'));
    assert.deepEqual(w, []);
    for (const k of Object.keys(ref)) if (k !== 'truncation') assert.deepEqual(j[k], ref[k], `tokenizer.json ${k}`);
    // identical blob => identical ids on every text (47,512 of reference/tokenizers/bert-uncased.jsonl, make test-tokenizer)
    assert.deepEqual(tokenizerSectionFromJson(j), tokenizerSectionFromJson(ref));
  });
});

// --- configuration.json ------------------------------------------------------------------------------------------
describe('ModelScope configuration.json', () => {
  test('cls / avg, normalize, sequence_length, dot; the files read', async () => {
    let f = await readHfFolder(msFolder());
    assert.deepEqual([f.layout, f.pooling, f.normalize, f.maxTokens, f.metric, f.tokenizerFrom], ['modelscope', 'cls', false, 12, 'dot', 'vocab.txt']);
    assert.deepEqual(f.files, ['config.json', 'configuration.json', 'vocab.txt']);
    assert.deepEqual(f.warnings, []);
    f = await readHfFolder(msFolder({ configuration: MS_CONFIG({ emb_pooler_type: 'avg', normalize: true }, { sequence_length: 16 }) }));
    assert.deepEqual([f.pooling, f.normalize, f.maxTokens, f.metric], ['mean', true, 16, 'dot']);
    // max_length is what the preprocessor passes to the tokenizer when both are there
    f = await readHfFolder(msFolder({ configuration: MS_CONFIG({}, { sequence_length: 16, max_length: 10 }) }));
    assert.equal(f.maxTokens, 10);
    // ModelScope defaults: cls, not normalized, 128 tokens
    f = await readHfFolder(msFolder({ dims: { ...TINY, P: 128 }, configuration: JSON.stringify({ task: 'sentence-embedding' }) }));
    assert.deepEqual([f.pooling, f.normalize, f.maxTokens, f.metric], ['cls', false, 128, 'dot']);
    // with tokenizer_config.json / special_tokens_map.json: read, and model_max_length does not override sequence_length
    f = await readHfFolder(msFolder({ files: { 'tokenizer_config.json': JSON.stringify({ do_lower_case: true, model_max_length: 8 }), 'special_tokens_map.json': '{}' } }));
    assert.deepEqual(f.files, ['config.json', 'configuration.json', 'vocab.txt', 'tokenizer_config.json', 'special_tokens_map.json']);
    assert.equal(f.maxTokens, 12);
  });

  test('unsupported values are Errors naming the field, the value and the file', async () => {
    const rejects = (configuration, re, opts = {}) => assert.rejects(readHfFolder(msFolder({ configuration, ...opts })), re);
    await rejects(MS_CONFIG({}, {}, { task: 'text-classification' }), /configuration\.json: task "text-classification" is not supported \(wembed converts ModelScope "sentence-embedding" models\)/);
    await rejects(JSON.stringify({ framework: 'pytorch' }), /configuration\.json: task \(none\) is not supported/);
    await rejects(MS_CONFIG({ emb_pooler_type: 'avg_top2' }), /configuration\.json: model\.emb_pooler_type "avg_top2" is not supported/);
    await rejects(MS_CONFIG({ emb_pooler_type: 'cls_before_pooler' }), /emb_pooler_type "cls_before_pooler"/);
    await rejects(MS_CONFIG({ normalize: 'true' }), /configuration\.json: model\.normalize "true"/);
    await rejects(MS_CONFIG({ type: 'structbert' }), /configuration\.json: model\.type "structbert" is not supported/);
    await rejects(MS_CONFIG({}, { sequence_length: 0 }), /preprocessor\.sequence_length 0/);
    await rejects(MS_CONFIG({}, { sequence_length: 64 }), /configuration\.json: preprocessor\.sequence_length 64: expected an integer in 2\.\.16 \(max_position_embeddings/);
    await rejects(MS_CONFIG({}, { sequence_length: 12, boq: 'query: ' }), /preprocessor\.boq "query: " is not supported/);
    await rejects('{"task": "sentence-embedding",', /configuration\.json: not valid JSON/);
    await rejects(MS_CONFIG(), /no tokenizer\.json in .*, and no vocab\.txt to build a BERT WordPiece tokenizer from \(wembed looked for tokenizer\.json, then vocab\.txt/,
      { files: { 'vocab.txt': null } });
    await rejects(MS_CONFIG(), /unk_token "\[UNK\]" is not in vocab\.txt/, { files: { 'vocab.txt': 'a\nb\n' } });
    await rejects(MS_CONFIG(), /added_tokens\.json: added tokens are not supported without tokenizer\.json/, { files: { 'added_tokens.json': '{"foo": 24}' } });
    // a special token outside the embedding table (vocab 24 rows)
    await rejects(MS_CONFIG(), /vocab\.txt \(the tokenizer built from it\): token id 24 is outside the embedding table \(vocab_size 24/,
      { files: { 'tokenizer_config.json': JSON.stringify({ additional_special_tokens: ['<extra>'] }) } });
  });

  test('precedence: configuration.json over sentence-transformers files, options over both; tokenizer.json over vocab.txt', async () => {
    // a sentence-transformers folder (mean + Normalize, max_seq_length 12) that also has a ModelScope configuration.json
    const dir = path.join(TMP, `st-ms-${++count}`);
    makeTinyFolder(dir, { files: { 'configuration.json': MS_CONFIG({ emb_pooler_type: 'cls', normalize: false }, { sequence_length: 10 }), 'vocab.txt': VOCAB_TXT } });
    let f = await readHfFolder(dir);
    assert.deepEqual([f.layout, f.pooling, f.normalize, f.maxTokens, f.metric, f.tokenizerFrom], ['modelscope', 'cls', false, 10, 'dot', 'tokenizer.json']);
    assert.ok(f.files.includes('configuration.json') && f.files.includes('tokenizer.json') && !f.files.includes('vocab.txt'));
    assert.match(f.warnings.join('\n'), /the sentence-transformers files are not used/);
    f = await readHfFolder(dir, { pooling: 'mean', normalize: true, maxTokens: 8, metric: 'cosine' });
    assert.deepEqual([f.pooling, f.normalize, f.maxTokens, f.metric], ['mean', true, 8, 'cosine']);

    // a ModelScope mirror of an HF model (configuration.json for another task) stays a sentence-transformers folder
    const dir2 = path.join(TMP, `st-mirror-${++count}`);
    makeTinyFolder(dir2, { files: { 'configuration.json': JSON.stringify({ framework: 'pytorch', task: 'feature-extraction' }) } });
    f = await readHfFolder(dir2);
    assert.deepEqual([f.layout, f.pooling, f.normalize, f.maxTokens, f.metric], ['sentence-transformers', 'mean', true, 12, 'cosine']);
    assert.ok(!f.files.includes('configuration.json'));
    assert.match(f.warnings.join('\n'), /configuration\.json: task "feature-extraction" is not sentence-embedding; ignored/);
  });

  test('a converted ModelScope model: info, METADATA files, dot scores, the pipeline form', async () => {
    const dir = msFolder({ configuration: MS_CONFIG({ emb_pooler_type: 'avg', normalize: false }, { sequence_length: 14 }) });
    const s = await convert(dir, { output: out(), dtype: 'f32' });
    assert.deepEqual(s.metadata.files, ['config.json', 'configuration.json', 'vocab.txt', 'model.safetensors']);
    const model = await load(s.output);
    try {
      assert.deepEqual([model.info.pooling, model.info.normalize, model.info.max_tokens, model.info.metric], ['mean', false, 14, 'dot']);
      assert.deepEqual(model.tokenize('The big red dogs!'), [2, 7, 21, 23, 10, 11, 14, 3]);
      const [a, b] = await model.embed(['the cat is on the mat.', 'a dog']);
      const [sc] = await model.score('the cat is on the mat.', ['a dog']);
      assert.ok(Math.abs(sc - dot(a, b)) <= 1e-5 * Math.max(1, Math.abs(sc)), `score ${sc} = dot ${dot(a, b)}`);
      const p = await model.pipeline({ source_sentence: ['the cat is on the mat.'], sentences_to_compare: ['a dog'] });
      assert.ok(Math.abs(p.scores[0] - sc) <= 1e-6 * Math.max(1, Math.abs(sc)));
    } finally {
      model.dispose();
    }
  });
});

// --- corom-tiny-synth ids through a .wemb ----------------------------------------------------------------------------
describe('corom-tiny-synth tokenizer (vocab.txt, no tokenizer.json)', () => {
  test('ids identical to the reference on every text, truncated at 128', { skip: skipShared }, async () => {
    const vocab = fs.readFileSync(path.join(COROM, 'vocab.txt'));
    const V = vocabLines(vocab).length;
    const dir = path.join(TMP, `corom-tok-${++count}`);
    makeTinyFolder(dir, {
      dims: { V, H: 8, heads: 2, I: 16, L: 1, P: 512, T: 2 }, st: false,
      files: {
        'tokenizer.json': null, 'tokenizer_config.json': null, 'vocab.txt': vocab,
        'configuration.json': fs.readFileSync(path.join(COROM, 'configuration.json')),
      },
    });
    const s = await convert(dir, { output: out(), dtype: 'f16' });
    assert.deepEqual(s.metadata.files, ['config.json', 'configuration.json', 'vocab.txt', 'model.safetensors']);
    const model = await load(s.output);
    try {
      assert.deepEqual([model.info.pooling, model.info.normalize, model.info.max_tokens, model.info.metric], ['cls', false, 128, 'dot']);
      const ref = readJsonl(COROM_REF);
      let same = 0;
      const bad = [];
      for (const { text, ids } of ref) {
        const got = model.tokenize(text);
        if (got.length === ids.length && got.every((x, i) => x === ids[i])) same++;
        else if (bad.length < 3) bad.push({ text: text.slice(0, 80), got: got.slice(0, 20), ids: ids.slice(0, 20) });
      }
      console.log(`corom-tiny-synth: ${same}/${ref.length} identical ids (vocab.txt tokenizer, max_tokens 128)`);
      assert.equal(same, ref.length, JSON.stringify(bad));
      assert.ok(ref.some((r) => r.ids.length === 128), 'the reference has truncated texts');
    } finally {
      model.dispose();
    }
  });

  test('readHfFolder on the real folder: ModelScope semantics and the files used', { skip: skipShared }, async () => {
    const f = await readHfFolder(COROM);
    assert.deepEqual([f.layout, f.pooling, f.normalize, f.maxTokens, f.metric, f.tokenizerFrom], ['modelscope', 'cls', false, 128, 'dot', 'vocab.txt']);
    assert.deepEqual(f.files, ['config.json', 'configuration.json', 'vocab.txt']);
    assert.deepEqual(f.warnings, []);
  });
});
