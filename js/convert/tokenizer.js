// tokenizer.json (Hugging Face `tokenizers`) -> the tokenizer blob that src/tokenizer/ reads (docs/format.md,
// "Tokenizer blob"). Node-only part of the converter. Everything the C side does not implement is refused here
// with an Error naming it, so a converted model never tokenizes differently from the reference.
// The vocabulary hash table is built here (FNV-1a 32, linear probing), so the runtime allocates nothing per token.
// Two pipelines: BERT (BertNormalizer / BertPreTokenizer, WordPiece: byte-identical to the first format) and the
// generic one (a normalizer sequence of Precompiled / Replace, Metaspace / WhitespaceSplit, Unigram or WordPiece).
import { decodeCharsmap } from './precompiled.js';
import { unigramOf, UNIGRAM_BYTE_FALLBACK } from './unigram.js';

const MAGIC = 0x4b4f5457; // "WTOK" little-endian
const VERSION = 1;
const HEADER_SIZE = 128;

export const MODEL_WORDPIECE = 1;
export const MODEL_UNIGRAM = 2; // 3 = BPE: reserved
export const NORMALIZER_NONE = 0;
export const NORMALIZER_BERT = 1;
export const NORMALIZER_SEQUENCE = 2;
export const PRETOKENIZER_NONE = 0;
export const PRETOKENIZER_BERT = 1;
export const PRETOKENIZER_METASPACE = 2;
export const PRETOKENIZER_WHITESPACE_SPLIT = 3;
export const PRETOKENIZER_WHITESPACE_SPLIT_METASPACE = 4;
export const PREPEND = { always: 0, first: 1, never: 2 };
export const METASPACE_SPLIT = 4;
export const STEP_PRECOMPILED = 1;
export const STEP_REPLACE = 2;
export const STEP_SIZE = 32;
export const MAX_STEPS = 8;
export const REPLACE_MAX_CHARS = 16;
export const REPLACE_MAX_PATTERN = 64;
export const REPLACE_MAX_CONTENT = 4096;
export const REPLACE_MAX_REPEAT = 65536;
export const POSTPROCESSOR_NONE = 0;
export const POSTPROCESSOR_TEMPLATE = 1;

export const NORM_CLEAN_TEXT = 1;
export const NORM_HANDLE_CHINESE = 2;
export const NORM_STRIP_ACCENTS = 4;
export const NORM_LOWERCASE = 8;

export const ADDED_LSTRIP = 1;
export const ADDED_RSTRIP = 2;
export const ADDED_SPECIAL = 4;

export const MAX_IDS = (1 << 24) - 1; // slot values store id + 1 in 24 bits
export const MAX_PREFIX = 16;
export const MAX_WORD_CHARS = 65536;
export const MAX_TOKEN_BYTES = 1024;
export const MAX_TEMPLATE = 16;
/** On a Unigram trie id / WordPiece token length: the piece is outside a pruned model's kept vocabulary. */
export const PRUNED = 0x80000000;

/** FNV-1a 32-bit over bytes[from..to), continuing from state h (the C side uses the same function). */
export function fnv1a(bytes, h = 0x811c9dc5, from = 0, to = bytes.length) {
  for (let i = from; i < to; i++) h = Math.imul(h ^ bytes[i], 0x01000193) >>> 0;
  return h >>> 0;
}

function checkKeys(obj, allowed, what) {
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) throw new Error(`${what} must be an object`);
  for (const k of Object.keys(obj)) if (!allowed.includes(k)) throw new Error(`unsupported ${what} option "${k}"`);
}
function bool(v, what, dflt) {
  if (v === undefined) return dflt;
  if (typeof v !== 'boolean') throw new Error(`${what} must be a boolean, got ${JSON.stringify(v)}`);
  return v;
}
function uint(v, what, max) {
  if (!Number.isInteger(v) || v < 0 || v > max) throw new Error(`${what} must be an integer in [0, ${max}], got ${JSON.stringify(v)}`);
  return v;
}

function normalizerOf(n) {
  if (n === null || n === undefined) return { type: NORMALIZER_NONE, flags: 0, steps: [] };
  if (typeof n !== 'object' || typeof n.type !== 'string') throw new Error('normalizer must be null or an object with a "type"');
  if (n.type !== 'BertNormalizer') {
    const steps = stepsOf(n);
    return { type: steps.length ? NORMALIZER_SEQUENCE : NORMALIZER_NONE, flags: 0, steps };
  }
  checkKeys(n, ['type', 'clean_text', 'handle_chinese_chars', 'strip_accents', 'lowercase'], 'BertNormalizer');
  const clean = bool(n.clean_text, 'BertNormalizer clean_text', true);
  const chinese = bool(n.handle_chinese_chars, 'BertNormalizer handle_chinese_chars', true);
  const lower = bool(n.lowercase, 'BertNormalizer lowercase', true);
  const strip = n.strip_accents === null || n.strip_accents === undefined ? lower : bool(n.strip_accents, 'BertNormalizer strip_accents');
  return {
    type: NORMALIZER_BERT,
    flags: (clean ? NORM_CLEAN_TEXT : 0) | (chinese ? NORM_HANDLE_CHINESE : 0) | (strip ? NORM_STRIP_ACCENTS : 0) | (lower ? NORM_LOWERCASE : 0),
    steps: [],
  };
}

const codePoints = (str) => [...str].map((c) => c.codePointAt(0));

// Replace's regex: only one literal character repeated ("X{n,}", "X+"), the form SentencePiece conversions write.
function repeatRegexOf(r) {
  const m = /^(\\[^A-Za-z0-9]|[^\\.^$|?*+()[\]{}])(?:\{(\d+),\}|(\+))$/u.exec(r);
  if (!m) return null;
  const ch = m[1].length > 1 && m[1][0] === '\\' ? m[1].slice(1) : m[1];
  const min = m[3] ? 1 : Number(m[2]);
  if (min < 1 || min > REPLACE_MAX_REPEAT) return null;
  return { ch, min };
}

function stepsOf(n) {
  if (n === null || typeof n !== 'object' || typeof n.type !== 'string') throw new Error('normalizer must be an object with a "type"');
  switch (n.type) {
    case 'Sequence': {
      checkKeys(n, ['type', 'normalizers'], 'Sequence normalizer');
      if (!Array.isArray(n.normalizers)) throw new Error('Sequence normalizer "normalizers" must be an array');
      const steps = n.normalizers.flatMap((x) => {
        if (x && x.type === 'BertNormalizer') throw new Error('unsupported BertNormalizer inside a normalizer Sequence');
        return stepsOf(x);
      });
      if (steps.length > MAX_STEPS) throw new Error(`normalizer Sequence longer than ${MAX_STEPS} steps`);
      return steps;
    }
    case 'Precompiled':
      checkKeys(n, ['type', 'precompiled_charsmap'], 'Precompiled normalizer');
      return [{ kind: STEP_PRECOMPILED, entries: decodeCharsmap(n.precompiled_charsmap) }];
    case 'Replace': {
      checkKeys(n, ['type', 'pattern', 'content'], 'Replace normalizer');
      if (typeof n.content !== 'string') throw new Error('Replace normalizer content must be a string');
      const content = new TextEncoder().encode(n.content);
      if (content.length > REPLACE_MAX_CONTENT) throw new Error(`Replace normalizer content longer than ${REPLACE_MAX_CONTENT} bytes`);
      const pat = n.pattern;
      if (pat === null || typeof pat !== 'object') throw new Error('Replace normalizer pattern must be {"String": ...} or {"Regex": ...}');
      checkKeys(pat, ['String', 'Regex'], 'Replace normalizer pattern');
      if (typeof pat.String === 'string' && pat.Regex === undefined) {
        const cps = codePoints(pat.String);
        const bytes = new TextEncoder().encode(pat.String);
        if (cps.length < 1 || cps.length > REPLACE_MAX_CHARS || bytes.length > REPLACE_MAX_PATTERN) {
          throw new Error(`unsupported Replace normalizer pattern ${JSON.stringify(pat.String)} (1 to ${REPLACE_MAX_CHARS} characters)`);
        }
        return [{ kind: STEP_REPLACE, pattern: bytes, content, minRepeat: 0 }];
      }
      if (typeof pat.Regex === 'string' && pat.String === undefined) {
        const r = repeatRegexOf(pat.Regex);
        if (!r) throw new Error(`unsupported Replace normalizer regex ${JSON.stringify(pat.Regex)} (only one character repeated: "X{n,}" or "X+")`);
        return [{ kind: STEP_REPLACE, pattern: new TextEncoder().encode(r.ch), content, minRepeat: r.min }];
      }
      throw new Error('Replace normalizer pattern must be {"String": ...} or {"Regex": ...}');
    }
    default:
      throw new Error(`unsupported normalizer type "${n.type}"`);
  }
}

function metaspaceOf(p) {
  checkKeys(p, ['type', 'replacement', 'add_prefix_space', 'prepend_scheme', 'split', 'str_rep'], 'Metaspace pre_tokenizer');
  const cps = typeof p.replacement === 'string' ? codePoints(p.replacement) : [];
  if (cps.length !== 1) throw new Error('Metaspace replacement must be one character');
  let scheme = p.prepend_scheme ?? 'always';
  if (!Object.prototype.hasOwnProperty.call(PREPEND, scheme)) throw new Error(`unsupported Metaspace prepend_scheme ${JSON.stringify(scheme)}`);
  const add = p.add_prefix_space;
  if (add !== undefined && add !== null && typeof add !== 'boolean') throw new Error('Metaspace add_prefix_space must be a boolean');
  if (add === false) {
    // as tokenizers' deserializer: a missing prepend_scheme means "always", which contradicts add_prefix_space=false
    if (scheme !== 'never') throw new Error('Metaspace add_prefix_space does not match declared prepend_scheme');
  }
  const split = bool(p.split, 'Metaspace split', true);
  return { replacement: cps[0], flags: PREPEND[scheme] | (split ? METASPACE_SPLIT : 0), scheme };
}

function preTokenizerOf(p) {
  const none = { type: PRETOKENIZER_NONE, replacement: 0, flags: 0 };
  if (p === null || p === undefined) return none;
  if (typeof p !== 'object' || typeof p.type !== 'string') throw new Error('pre_tokenizer must be null or an object with a "type"');
  if (p.type === 'BertPreTokenizer') {
    checkKeys(p, ['type'], 'BertPreTokenizer');
    return { ...none, type: PRETOKENIZER_BERT };
  }
  if (p.type === 'Metaspace') return { type: PRETOKENIZER_METASPACE, ...metaspaceOf(p) };
  if (p.type === 'WhitespaceSplit') {
    checkKeys(p, ['type'], 'WhitespaceSplit');
    return { ...none, type: PRETOKENIZER_WHITESPACE_SPLIT };
  }
  if (p.type === 'Sequence') {
    checkKeys(p, ['type', 'pretokenizers'], 'Sequence pre_tokenizer');
    const list = p.pretokenizers;
    if (!Array.isArray(list)) throw new Error('Sequence pre_tokenizer "pretokenizers" must be an array');
    if (list.length === 0) return none;
    if (list.length === 1) return preTokenizerOf(list[0]);
    const types = list.map((x) => (x && typeof x === 'object' ? x.type : typeof x));
    if (list.length === 2 && types[0] === 'WhitespaceSplit' && types[1] === 'Metaspace') {
      checkKeys(list[0], ['type'], 'WhitespaceSplit');
      const m = metaspaceOf(list[1]);
      if (m.scheme === 'first') throw new Error('unsupported Metaspace prepend_scheme "first" after WhitespaceSplit');
      return { type: PRETOKENIZER_WHITESPACE_SPLIT_METASPACE, replacement: m.replacement, flags: m.flags };
    }
    throw new Error(`unsupported pre_tokenizer Sequence [${types.join(', ')}] (supported: [WhitespaceSplit, Metaspace])`);
  }
  throw new Error(`unsupported pre_tokenizer type "${p.type}"`);
}

function wordPieceOf(m) {
  if (m === null || typeof m !== 'object') throw new Error('model must be an object');
  if (m.type !== 'WordPiece') throw new Error(`unsupported model type "${m.type}"`);
  checkKeys(m, ['type', 'unk_token', 'continuing_subword_prefix', 'max_input_chars_per_word', 'vocab'], 'WordPiece model');
  const vocab = m.vocab;
  if (vocab === null || typeof vocab !== 'object' || Array.isArray(vocab)) throw new Error('WordPiece vocab must be an object {token: id}');
  const unk = m.unk_token ?? '[UNK]';
  const prefix = m.continuing_subword_prefix ?? '##';
  if (typeof unk !== 'string' || typeof prefix !== 'string') throw new Error('WordPiece unk_token and continuing_subword_prefix must be strings');
  const maxChars = uint(m.max_input_chars_per_word ?? 100, 'WordPiece max_input_chars_per_word', MAX_WORD_CHARS);
  if (maxChars < 1) throw new Error('WordPiece max_input_chars_per_word must be >= 1');
  const prefixBytes = new TextEncoder().encode(prefix);
  if (prefixBytes.length > MAX_PREFIX) throw new Error(`WordPiece continuing_subword_prefix longer than ${MAX_PREFIX} bytes`);
  if (!Object.prototype.hasOwnProperty.call(vocab, unk)) throw new Error(`WordPiece unk_token "${unk}" is not in the vocab`);
  return { vocab, unkId: vocab[unk], prefixBytes, maxChars };
}

function templateOf(pp) {
  if (pp === null || pp === undefined) return { type: POSTPROCESSOR_NONE, prefix: [], suffix: [] };
  if (typeof pp !== 'object' || typeof pp.type !== 'string') throw new Error('post_processor must be null or an object with a "type"');
  const pairOf = (v, what) => {
    if (!Array.isArray(v) || v.length !== 2 || typeof v[0] !== 'string' || !Number.isInteger(v[1])) throw new Error(`${what} must be [token, id]`);
    return v[1];
  };
  if (pp.type === 'BertProcessing') {
    checkKeys(pp, ['type', 'sep', 'cls'], 'BertProcessing');
    return { type: POSTPROCESSOR_TEMPLATE, prefix: [pairOf(pp.cls, 'BertProcessing cls')], suffix: [pairOf(pp.sep, 'BertProcessing sep')] };
  }
  if (pp.type === 'RobertaProcessing') {
    checkKeys(pp, ['type', 'sep', 'cls', 'trim_offsets', 'add_prefix_space'], 'RobertaProcessing');
    return { type: POSTPROCESSOR_TEMPLATE, prefix: [pairOf(pp.cls, 'RobertaProcessing cls')], suffix: [pairOf(pp.sep, 'RobertaProcessing sep')] };
  }
  if (pp.type !== 'TemplateProcessing') throw new Error(`unsupported post_processor type "${pp.type}"`);
  checkKeys(pp, ['type', 'single', 'pair', 'special_tokens'], 'TemplateProcessing');
  if (!Array.isArray(pp.single)) throw new Error('TemplateProcessing single must be an array');
  const specials = pp.special_tokens ?? {};
  const prefix = [], suffix = [];
  let seen = 0;
  for (const piece of pp.single) {
    checkKeys(piece, ['SpecialToken', 'Sequence'], 'TemplateProcessing piece');
    if (piece.Sequence) {
      checkKeys(piece.Sequence, ['id', 'type_id'], 'TemplateProcessing Sequence');
      if (piece.Sequence.id !== 'A') throw new Error(`unsupported TemplateProcessing single sequence "${piece.Sequence.id}"`);
      seen++;
    } else if (piece.SpecialToken) {
      checkKeys(piece.SpecialToken, ['id', 'type_id'], 'TemplateProcessing SpecialToken');
      const st = specials[piece.SpecialToken.id];
      if (!st || !Array.isArray(st.ids)) throw new Error(`TemplateProcessing special token "${piece.SpecialToken.id}" is not in special_tokens`);
      for (const id of st.ids) (seen ? suffix : prefix).push(uint(id, `TemplateProcessing special token "${piece.SpecialToken.id}" id`, MAX_IDS - 1));
    } else throw new Error('TemplateProcessing piece must be a SpecialToken or a Sequence');
  }
  if (seen !== 1) throw new Error('TemplateProcessing single must contain the sequence $A exactly once');
  if (prefix.length > MAX_TEMPLATE || suffix.length > MAX_TEMPLATE) throw new Error(`TemplateProcessing adds more than ${MAX_TEMPLATE} tokens on a side`);
  return { type: POSTPROCESSOR_TEMPLATE, prefix, suffix };
}

function addedTokensOf(list, preTokenizer) {
  if (list === undefined || list === null) return [];
  if (!Array.isArray(list)) throw new Error('added_tokens must be an array');
  return list.map((t, i) => {
    checkKeys(t, ['id', 'content', 'single_word', 'lstrip', 'rstrip', 'normalized', 'special'], `added_tokens[${i}]`);
    const id = uint(t.id, `added_tokens[${i}].id`, MAX_IDS - 1);
    if (typeof t.content !== 'string' || t.content.length === 0) throw new Error(`added_tokens[${i}].content must be a non-empty string`);
    const special = bool(t.special, `added_tokens[${i}].special`, false);
    // HF's default is normalized = !special.
    if (bool(t.normalized, `added_tokens[${i}].normalized`, !special)) throw new Error(`unsupported added token option normalized=true ("${t.content}")`);
    if (bool(t.single_word, `added_tokens[${i}].single_word`, false)) throw new Error(`unsupported added token option single_word=true ("${t.content}")`);
    const lstrip = bool(t.lstrip, `added_tokens[${i}].lstrip`, false), rstrip = bool(t.rstrip, `added_tokens[${i}].rstrip`, false);
    // With a whitespace-splitting pre-tokenizer the stripped spaces yield no tokens anyway: ids are unaffected.
    if ((lstrip || rstrip) && preTokenizer !== PRETOKENIZER_BERT) throw new Error(`unsupported added token option lstrip/rstrip ("${t.content}") without BertPreTokenizer`);
    return { id, bytes: new TextEncoder().encode(t.content), flags: (lstrip ? ADDED_LSTRIP : 0) | (rstrip ? ADDED_RSTRIP : 0) | (special ? ADDED_SPECIAL : 0) };
  });
}

// Both blob layouts end their string pool with the added tokens (entries of id, offset, length, flags) and keep
// the template's special ids in one table. Writes both; returns the string-pool position after the added tokens.
function writeAddedAndTemplate(out, u32, { added, addedOffset, tmpl, templateOffset, stringsOffset, p }) {
  added.forEach((a, i) => {
    out.set(a.bytes, stringsOffset + p);
    const o = addedOffset + i * 16;
    u32(o, a.id); u32(o + 4, p); u32(o + 8, a.bytes.length); u32(o + 12, a.flags);
    p += a.bytes.length;
  });
  [...tmpl.prefix, ...tmpl.suffix].forEach((id, i) => u32(templateOffset + i * 4, id));
  return p;
}

const oneChar = (s) => s.length > 0 && s.length <= 2 && [...s].length === 1;

/**
 * What pruning a tokenizer.json's vocabulary needs to know (js/convert/vocab.js): { model: 'WordPiece' | 'Unigram',
 * pieces: vocabulary entries, numIds: 1 + the largest id the tokenizer can produce, unkId, required: the ids every pruned
 * vocabulary keeps (unk, added tokens, template ids, byte-fallback pieces), singleChars: ids of the one-character
 * pieces (WordPiece: also continuation prefix + one character) }. Throws like tokenizerSectionFromJson.
 */
export function vocabularyOf(json) {
  if (json === null || typeof json !== 'object' || json.model === null || typeof json.model !== 'object') throw new Error('tokenizer.json must be an object with a model');
  const m = json.model;
  const tmpl = templateOf(json.post_processor);
  const added = addedTokensOf(json.added_tokens, preTokenizerOf(json.pre_tokenizer).type);
  const required = new Set([...tmpl.prefix, ...tmpl.suffix, ...added.map((a) => a.id)]);
  const singleChars = [];
  let pieces, numIds, unkId;
  if (m.type === 'Unigram') {
    const uni = unigramOf(m, MAX_IDS, MAX_TOKEN_BYTES);
    unkId = uni.unkId;
    required.add(uni.unkId);
    if (uni.byteIds) for (const id of uni.byteIds) required.add(id);
    m.vocab.forEach(([piece], id) => { if (oneChar(piece)) singleChars.push(id); });
    pieces = uni.vocabCount;
    numIds = uni.vocabCount;
  } else if (m.type === 'WordPiece') {
    const wp = wordPieceOf(m);
    unkId = wp.unkId;
    required.add(wp.unkId);
    const prefix = new TextDecoder().decode(wp.prefixBytes);
    pieces = 0;
    numIds = 0;
    for (const [t, id] of Object.entries(wp.vocab)) {
      uint(id, `vocab id of "${t}"`, MAX_IDS - 1);
      pieces++;
      numIds = Math.max(numIds, id + 1);
      if (oneChar(t) || (prefix && t.startsWith(prefix) && oneChar(t.slice(prefix.length)))) singleChars.push(id);
    }
  } else throw new Error(`unsupported model type "${m.type}"`);
  for (const id of required) numIds = Math.max(numIds, id + 1);
  return { model: m.type, pieces, numIds, unkId, required: [...required].sort((a, b) => a - b), singleChars };
}

/** The ids a pruned vocabulary cannot lose. */
function checkKept(kept, required) {
  if (!kept) return;
  for (const id of required) if (!kept[id]) throw new Error(`pruned vocabulary: id ${id} (unk, special, added or byte piece) must be kept`);
}

/**
 * Builds the tokenizer blob from a parsed tokenizer.json. Throws an Error naming anything unsupported.
 * opts.kept: a pruned vocabulary, Uint8Array over ids (1 = kept; js/convert/vocab.js): the other pieces are no
 * longer used; they stay in the blob, flagged, so that the tokenizer can tell when one would have been
 * (docs/format.md, "Pruned vocabularies"), or with opts.dropPruned they are left out altogether (a smaller blob).
 * @param {object} json
 * @param {{ kept?: Uint8Array, dropPruned?: boolean }} [opts]
 * @returns {Uint8Array}
 */
export function tokenizerSectionFromJson(json, { kept = null, dropPruned = false } = {}) {
  if (json === null || typeof json !== 'object') throw new Error('tokenizer.json must be an object');
  // truncation / padding are encode-time settings (the caller passes max_tokens); the decoder is not used.
  checkKeys(json, ['version', 'truncation', 'padding', 'added_tokens', 'normalizer', 'pre_tokenizer', 'post_processor', 'decoder', 'model'], 'tokenizer.json');
  const norm = normalizerOf(json.normalizer);
  const preTok = preTokenizerOf(json.pre_tokenizer);
  const m = json.model;
  if (m === null || typeof m !== 'object') throw new Error('model must be an object');
  if (m.type !== 'WordPiece' && m.type !== 'Unigram') throw new Error(`unsupported model type "${m.type}"`);
  const bertPipeline = m.type === 'WordPiece' && norm.type <= NORMALIZER_BERT && preTok.type <= PRETOKENIZER_BERT;
  if (!bertPipeline) {
    const what = `${m.type} model, ${json.normalizer?.type ?? 'no'} normalizer, ${json.pre_tokenizer?.type ?? 'no'} pre_tokenizer`;
    if (norm.type === NORMALIZER_BERT) throw new Error(`unsupported combination: BertNormalizer with ${what} (BertNormalizer needs WordPiece and BertPreTokenizer or none)`);
    if (preTok.type === PRETOKENIZER_BERT) throw new Error(`unsupported combination: BertPreTokenizer with ${what} (BertPreTokenizer needs WordPiece and BertNormalizer or none)`);
  }
  const tmpl = templateOf(json.post_processor);
  const added = addedTokensOf(json.added_tokens, preTok.type);
  if (m.type === 'Unigram') return unigramBlob(m, norm, preTok, tmpl, added, kept, dropPruned);
  const wp = wordPieceOf(m);
  checkKept(kept, [wp.unkId, ...tmpl.prefix, ...tmpl.suffix, ...added.map((a) => a.id)]);

  // Vocabulary: ids may have gaps; an entry with length 0 is "no token".
  const enc = new TextEncoder();
  let vocabCount = 0;
  const entries = [];
  const seenIds = new Set();
  for (const [tok, id] of Object.entries(wp.vocab)) {
    uint(id, `vocab id of "${tok}"`, MAX_IDS - 1);
    if (seenIds.has(id)) throw new Error(`vocab id ${id} is used twice`);
    seenIds.add(id);
    const bytes = enc.encode(tok);
    if (bytes.length === 0) throw new Error('vocab contains the empty token');
    if (bytes.length > MAX_TOKEN_BYTES) throw new Error(`vocab token longer than ${MAX_TOKEN_BYTES} bytes`);
    entries.push({ id, bytes });
    if (id + 1 > vocabCount) vocabCount = id + 1;
  }
  if (vocabCount === 0) throw new Error('WordPiece vocab is empty');
  let numIds = vocabCount;
  for (const a of added) numIds = Math.max(numIds, a.id + 1);
  for (const id of [...tmpl.prefix, ...tmpl.suffix]) numIds = Math.max(numIds, id + 1);
  if (numIds > MAX_IDS) throw new Error(`too many token ids (${numIds})`);

  // strings pool: vocab tokens by id, then added tokens
  const byId = new Array(vocabCount).fill(null);
  for (const e of entries) if (!(dropPruned && kept && !kept[e.id])) byId[e.id] = e.bytes;
  let poolSize = 0, present = 0;
  for (const b of byId) if (b) poolSize += b.length, present++;
  for (const a of added) poolSize += a.bytes.length;
  let hashBits = 1;
  while ((1 << hashBits) < present * 2) hashBits++;
  const nSlots = 1 << hashBits;

  const tokensOffset = HEADER_SIZE;
  const slotsOffset = tokensOffset + vocabCount * 8;
  const addedOffset = slotsOffset + nSlots * 4;
  const templateOffset = addedOffset + added.length * 16;
  const stringsOffset = templateOffset + (tmpl.prefix.length + tmpl.suffix.length) * 4;
  const total = align4(stringsOffset + poolSize);
  if (total > 0x7fffffff) throw new Error('tokenizer blob too large');

  const out = new Uint8Array(total);
  const dv = new DataView(out.buffer);
  const u32 = (off, v) => dv.setUint32(off, v >>> 0, true);
  let maxTokenBytes = 0;
  let p = 0;
  for (let id = 0; id < vocabCount; id++) {
    const b = byId[id];
    if (!b) continue;
    out.set(b, stringsOffset + p);
    u32(tokensOffset + id * 8, p);
    u32(tokensOffset + id * 8 + 4, kept && !kept[id] ? (b.length | PRUNED) >>> 0 : b.length);
    p += b.length;
    if (b.length > maxTokenBytes) maxTokenBytes = b.length;
  }
  p = writeAddedAndTemplate(out, u32, { added, addedOffset, tmpl, templateOffset, stringsOffset, p });

  // hash slots: (fnv >>> 24) << 24 | (id + 1), linear probing from fnv & mask
  const mask = nSlots - 1;
  for (let id = 0; id < vocabCount; id++) {
    const b = byId[id];
    if (!b) continue;
    const h = fnv1a(b);
    let s = h & mask;
    while (dv.getUint32(slotsOffset + s * 4, true) !== 0) s = (s + 1) & mask;
    u32(slotsOffset + s * 4, ((h >>> 24) << 24) | (id + 1));
  }

  u32(0, MAGIC); u32(4, VERSION); u32(8, total);
  u32(12, MODEL_WORDPIECE); u32(16, norm.type); u32(20, norm.flags); u32(24, preTok.type); u32(28, tmpl.type);
  u32(32, numIds); u32(36, vocabCount); u32(40, wp.unkId); u32(44, wp.maxChars); u32(48, maxTokenBytes);
  u32(52, wp.prefixBytes.length); out.set(wp.prefixBytes, 56);
  u32(72, hashBits); u32(76, stringsOffset); u32(80, poolSize); u32(84, tokensOffset); u32(88, slotsOffset);
  u32(92, added.length); u32(96, addedOffset);
  u32(100, tmpl.prefix.length); u32(104, tmpl.suffix.length); u32(108, templateOffset);
  if (bertPipeline) return out;
  return withPipeline(out, norm, preTok); // generic pipeline around WordPiece: the same layout plus its regions
}

const align4 = (x) => (x + 3) & ~3;

/** The normalizer steps region at blob offset base: 32-byte records, then each step's data. */
function stepsRegion(steps, base) {
  let size = steps.length * STEP_SIZE;
  const plans = steps.map((st) => {
    if (st.kind === STEP_PRECOMPILED) {
      const n = st.entries.length;
      let bits = 1;
      while ((1 << bits) < n * 2) bits++;
      let pool = 0;
      for (const e of st.entries) {
        if (e.value.length > 0xffffff) throw new Error('Precompiled value too long');
        pool += e.key.length + e.value.length;
      }
      const ent = size; size += n * 12;
      const slots = size; size += (1 << bits) * 4;
      const poolOff = size; size = align4(size + pool);
      return { ent, slots, poolOff, pool, bits };
    }
    const poolOff = size;
    size = align4(size + st.pattern.length + st.content.length);
    return { poolOff };
  });
  const out = new Uint8Array(size);
  const dv = new DataView(out.buffer);
  const u32 = (off, v) => dv.setUint32(off, v >>> 0, true);
  steps.forEach((st, k) => {
    const r = k * STEP_SIZE, pl = plans[k];
    u32(r, st.kind);
    if (st.kind === STEP_PRECOMPILED) {
      u32(r + 4, st.entries.length); u32(r + 8, base + pl.ent); u32(r + 12, pl.bits); u32(r + 16, base + pl.slots);
      u32(r + 20, base + pl.poolOff); u32(r + 24, pl.pool);
      let p = 0;
      const mask = (1 << pl.bits) - 1;
      st.entries.forEach((e, i) => {
        out.set(e.key, pl.poolOff + p);
        out.set(e.value, pl.poolOff + p + e.key.length);
        u32(pl.ent + i * 12, p); u32(pl.ent + i * 12 + 4, p + e.key.length); u32(pl.ent + i * 12 + 8, e.key.length | (e.value.length << 8));
        p += e.key.length + e.value.length;
        let h = fnv1a(e.key) & mask;
        while (dv.getUint32(pl.slots + h * 4, true) !== 0) h = (h + 1) & mask;
        u32(pl.slots + h * 4, i + 1);
      });
    } else {
      u32(r + 4, base + pl.poolOff); u32(r + 8, st.pattern.length); u32(r + 12, st.content.length); u32(r + 16, st.minRepeat);
      out.set(st.pattern, pl.poolOff);
      out.set(st.content, pl.poolOff + st.pattern.length);
    }
  });
  return out;
}

/** Appends the normalizer steps to a finished blob and sets the generic pipeline's header fields (112..127). */
function withPipeline(blob, norm, preTok) {
  const base = blob.length;
  const steps = stepsRegion(norm.steps, base);
  const out = new Uint8Array(base + steps.length);
  out.set(blob);
  out.set(steps, base);
  const dv = new DataView(out.buffer);
  const u32 = (off, v) => dv.setUint32(off, v >>> 0, true);
  if (out.length > 0x7fffffff) throw new Error('tokenizer blob too large');
  u32(8, out.length);
  u32(112, norm.steps.length); u32(116, norm.steps.length ? base : 0);
  u32(120, preTok.replacement); u32(124, preTok.flags);
  return out;
}

function unigramBlob(m, norm, preTok, tmpl, added, kept, dropPruned) {
  const uni = unigramOf(m, MAX_IDS, MAX_TOKEN_BYTES, kept, dropPruned);
  checkKept(kept, [uni.unkId, ...tmpl.prefix, ...tmpl.suffix, ...added.map((a) => a.id), ...(uni.byteIds ?? [])]);
  let numIds = uni.vocabCount;
  for (const a of added) numIds = Math.max(numIds, a.id + 1);
  for (const id of [...tmpl.prefix, ...tmpl.suffix]) numIds = Math.max(numIds, id + 1);
  if (numIds > MAX_IDS) throw new Error(`too many token ids (${numIds})`);
  let poolSize = 0;
  for (const a of added) poolSize += a.bytes.length;
  const addedOffset = HEADER_SIZE;
  const templateOffset = addedOffset + added.length * 16;
  const stringsOffset = templateOffset + (tmpl.prefix.length + tmpl.suffix.length) * 4;
  const nodesOffset = align4(stringsOffset + poolSize);
  const labelsOffset = nodesOffset + (uni.nodeCount + 1) * 8;
  const scoresOffset = align4(labelsOffset + uni.nodeCount + 8); // 8 bytes of padding: the reader loads 8 labels at once
  const bytesOffset = scoresOffset + uni.vocabCount * 8;
  const total = bytesOffset + (uni.byteIds ? 1024 : 0);
  if (total > 0x7fffffff) throw new Error('tokenizer blob too large');
  const out = new Uint8Array(total);
  const dv = new DataView(out.buffer);
  const u32 = (off, v) => dv.setUint32(off, v >>> 0, true);
  writeAddedAndTemplate(out, u32, { added, addedOffset, tmpl, templateOffset, stringsOffset, p: 0 });
  new Uint32Array(out.buffer, nodesOffset, uni.nodes.length).set(uni.nodes); // little-endian hosts (node)
  out.set(uni.labels, labelsOffset);
  for (let i = 0; i < uni.vocabCount; i++) dv.setFloat64(scoresOffset + i * 8, uni.scores[i], true);
  if (uni.byteIds) for (let b = 0; b < 256; b++) u32(bytesOffset + b * 4, uni.byteIds[b]);

  u32(0, MAGIC); u32(4, VERSION); u32(8, total);
  u32(12, MODEL_UNIGRAM); u32(16, norm.type); u32(20, 0); u32(24, preTok.type); u32(28, tmpl.type);
  u32(32, numIds); u32(36, uni.vocabCount); u32(40, uni.unkId);
  u32(44, uni.byteIds ? UNIGRAM_BYTE_FALLBACK : 0); u32(48, uni.maxPieceBytes); u32(52, uni.nodeCount);
  u32(56, nodesOffset); u32(60, labelsOffset); u32(64, scoresOffset); u32(68, uni.byteIds ? bytesOffset : 0);
  u32(76, stringsOffset); u32(80, poolSize);
  u32(92, added.length); u32(96, addedOffset);
  u32(100, tmpl.prefix.length); u32(104, tmpl.suffix.length); u32(108, templateOffset);
  return withPipeline(out, norm, preTok);
}
