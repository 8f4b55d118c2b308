// Synthetic model folders for tests: seeded random BERT weights in safetensors, a tokenizer.json, the
// sentence-transformers files. Used by the converter tests (tiny shapes) and by the runtime tests that need a
// small, fast model with a real tokenizer (common.mjs smallModel()).
import fs from 'node:fs';
import path from 'node:path';
import { toF16 } from '../../js/convert/quantize.js';

export function rng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
export const randn = (r) => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
export const randArray = (n, r, std = 1, mean = 0) => Float32Array.from({ length: n }, () => mean + std * randn(r));

export function crcBitwise(bytes) {
  let c = 0xffffffff;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}

/** Independent binary16 decode (formula, not table). */
export function f16ToNumber(h) {
  const s = h & 0x8000 ? -1 : 1, e = (h >> 10) & 31, m = h & 1023;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

/** Writes a safetensors file. tensors: [{name, dtype, shape, data: Float32Array (F32/F16/BF16) | raw: Uint8Array}]. */
export function writeSafetensors(file, tensors, { patchHeader } = {}) {
  const blobs = [];
  const header = { __metadata__: { format: 'pt' } };
  let off = 0;
  for (const t of tensors) {
    let raw = t.raw;
    if (!raw) {
      if (t.dtype === 'F32') raw = new Uint8Array(Float32Array.from(t.data).buffer);
      else if (t.dtype === 'F16') raw = new Uint8Array(toF16(Float32Array.from(t.data)).buffer);
      else if (t.dtype === 'BF16') raw = new Uint8Array(Uint16Array.from(new Uint32Array(Float32Array.from(t.data).buffer), (u) => u >>> 16).buffer);
      else throw new Error('raw bytes needed for ' + t.dtype);
    }
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [off, off + raw.length] };
    blobs.push(raw);
    off += raw.length;
  }
  let json = JSON.stringify(patchHeader ? patchHeader(header) ?? header : header);
  json += ' '.repeat((8 - (json.length % 8)) % 8);
  const hb = new TextEncoder().encode(json);
  const len = new Uint8Array(8);
  new DataView(len.buffer).setUint32(0, hb.length, true);
  fs.writeFileSync(file, Buffer.concat([len, hb, ...blobs]));
}

export const TINY = { V: 24, H: 8, heads: 2, I: 16, L: 2, P: 16, T: 2 };
export const TINY_VOCAB = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'hello', 'world', 'the', 'a', 'cat', 'dog', '##s', '.', ',', '!', '?',
  'is', 'on', 'mat', '##ing', 'run', 'big', 'small', 'red'];

/** A BERT-uncased tokenizer.json (BertNormalizer, BertPreTokenizer, WordPiece, [CLS] $A [SEP]) over words, whose
 * first five are [PAD] [UNK] [CLS] [SEP] [MASK]. */
export const specialToken = (id, content) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });

export function bertTokenizerJson(words) {
  const special = specialToken;
  return {
    version: '1.0', truncation: null, padding: null,
    added_tokens: [special(0, '[PAD]'), special(1, '[UNK]'), special(2, '[CLS]'), special(3, '[SEP]'), special(4, '[MASK]')],
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } }],
      pair: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } },
        { Sequence: { id: 'B', type_id: 1 } }, { SpecialToken: { id: '[SEP]', type_id: 1 } }],
      special_tokens: { '[CLS]': { id: '[CLS]', ids: [2], tokens: ['[CLS]'] }, '[SEP]': { id: '[SEP]', ids: [3], tokens: ['[SEP]'] } },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100,
      vocab: Object.fromEntries(words.map((t, i) => [t, i])) },
  };
}

export const tinyTokenizerJson = () => bertTokenizerJson(TINY_VOCAB);

/** Tiny BERT tensors [{name, dtype, shape, data}] (names without prefix). */
export function tinyTensors(seed = 1, dtype = 'F32', dims = TINY) {
  const r = rng(seed);
  const { V, H, I, L, P, T } = dims;
  const t = [];
  const add = (name, shape, std = 0.05, mean = 0) => t.push({ name, dtype, shape, data: randArray(shape.reduce((a, b) => a * b), r, std, mean) });
  add('embeddings.word_embeddings.weight', [V, H]);
  add('embeddings.position_embeddings.weight', [P, H]);
  add('embeddings.token_type_embeddings.weight', [T, H]);
  add('embeddings.LayerNorm.weight', [H], 0.1, 1);
  add('embeddings.LayerNorm.bias', [H]);
  for (let l = 0; l < L; l++) {
    const p = `encoder.layer.${l}.`;
    for (const x of ['query', 'key', 'value']) add(`${p}attention.self.${x}.weight`, [H, H]), add(`${p}attention.self.${x}.bias`, [H]);
    add(`${p}attention.output.dense.weight`, [H, H]), add(`${p}attention.output.dense.bias`, [H]);
    add(`${p}attention.output.LayerNorm.weight`, [H], 0.1, 1), add(`${p}attention.output.LayerNorm.bias`, [H]);
    add(`${p}intermediate.dense.weight`, [I, H]), add(`${p}intermediate.dense.bias`, [I]);
    add(`${p}output.dense.weight`, [H, I]), add(`${p}output.dense.bias`, [H]);
    add(`${p}output.LayerNorm.weight`, [H], 0.1, 1), add(`${p}output.LayerNorm.bias`, [H]);
  }
  return t;
}

/**
 * Writes a tiny model folder at dir and returns its path. opts: dims (V, H, heads, I, L, P, T; default TINY),
 * tokenizerJson (default tinyTokenizerJson()), config (merged into config.json), tensors (function mapping the
 * tensor list), st (false: no sentence-transformers files), pooling (pooling config overrides), modules
 * (replacement modules.json), files ({name: content|null}: extra files / deletions), prefix, dtype, maxSeqLength.
 */
export function makeTinyFolder(dir, opts = {}) {
  fs.mkdirSync(dir, { recursive: true });
  const dims = opts.dims ?? TINY;
  const { V, H, heads, I, L, P, T } = dims;
  const config = {
    architectures: ['BertModel'], hidden_act: 'gelu', hidden_size: H, intermediate_size: I, layer_norm_eps: 1e-12,
    max_position_embeddings: P, model_type: 'bert', num_attention_heads: heads, num_hidden_layers: L,
    position_embedding_type: 'absolute', type_vocab_size: T, vocab_size: V, ...opts.config,
  };
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config));
  fs.writeFileSync(path.join(dir, 'tokenizer.json'), JSON.stringify(opts.tokenizerJson ?? tinyTokenizerJson()));
  fs.writeFileSync(path.join(dir, 'tokenizer_config.json'), JSON.stringify({ model_max_length: 1e30, do_lower_case: true }));
  if (opts.st !== false) {
    const modules = opts.modules ?? [
      { idx: 0, name: '0', path: '', type: 'sentence_transformers.models.Transformer' },
      { idx: 1, name: '1', path: '1_Pooling', type: 'sentence_transformers.models.Pooling' },
      { idx: 2, name: '2', path: '2_Normalize', type: 'sentence_transformers.models.Normalize' },
    ];
    fs.writeFileSync(path.join(dir, 'modules.json'), JSON.stringify(modules));
    fs.mkdirSync(path.join(dir, '1_Pooling'), { recursive: true });
    fs.writeFileSync(path.join(dir, '1_Pooling', 'config.json'), JSON.stringify({
      word_embedding_dimension: H, pooling_mode_cls_token: false, pooling_mode_mean_tokens: true, pooling_mode_max_tokens: false,
      pooling_mode_mean_sqrt_len_tokens: false, pooling_mode_weightedmean_tokens: false, pooling_mode_lasttoken: false, ...opts.pooling,
    }));
    fs.writeFileSync(path.join(dir, 'sentence_bert_config.json'), JSON.stringify({ max_seq_length: opts.maxSeqLength ?? 12, do_lower_case: false }));
  }
  let tensors = tinyTensors(7, opts.dtype ?? 'F32', dims);
  if (opts.prefix) tensors = tensors.map((t) => ({ ...t, name: opts.prefix + t.name }));
  if (opts.tensors) tensors = opts.tensors(tensors);
  if (opts.shards) {
    const map = {};
    const half = Math.ceil(tensors.length / 2);
    [tensors.slice(0, half), tensors.slice(half)].forEach((part, i) => {
      const f = `model-0000${i + 1}-of-00002.safetensors`;
      writeSafetensors(path.join(dir, f), part);
      for (const t of part) map[t.name] = f;
    });
    fs.writeFileSync(path.join(dir, 'model.safetensors.index.json'), JSON.stringify({ metadata: {}, weight_map: map }));
  } else writeSafetensors(path.join(dir, 'model.safetensors'), tensors, { patchHeader: opts.patchHeader });
  for (const [name, content] of Object.entries(opts.files ?? {})) {
    if (content === null) fs.rmSync(path.join(dir, name), { force: true });
    else fs.writeFileSync(path.join(dir, name), content);
  }
  return { dir, tensors };
}

