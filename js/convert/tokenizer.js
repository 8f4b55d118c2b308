// tokenizer.json (Hugging Face `tokenizers`) -> the tokenizer blob that src/tokenizer/ reads (docs/format.md,
// "Tokenizer blob"). Node-only part of the converter. Everything the C side does not implement is refused here
// with an Error naming it, so a converted model never tokenizes differently from the reference.
// The vocabulary hash table is built here (FNV-1a 32, linear probing), so the runtime allocates nothing per token.

const MAGIC = 0x4b4f5457; // "WTOK" little-endian
const VERSION = 1;
const HEADER_SIZE = 128;

export const MODEL_WORDPIECE = 1; // 2 = Unigram, 3 = BPE: reserved
export const NORMALIZER_NONE = 0;
export const NORMALIZER_BERT = 1; // 2 = Precompiled, ...: reserved
export const PRETOKENIZER_NONE = 0;
export const PRETOKENIZER_BERT = 1; // 2 = Metaspace, ...: reserved
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
  if (n === null || n === undefined) return { type: NORMALIZER_NONE, flags: 0 };
  if (typeof n !== 'object' || typeof n.type !== 'string') throw new Error('normalizer must be null or an object with a "type"');
  if (n.type !== 'BertNormalizer') throw new Error(`unsupported normalizer type "${n.type}"`);
  checkKeys(n, ['type', 'clean_text', 'handle_chinese_chars', 'strip_accents', 'lowercase'], 'BertNormalizer');
  const clean = bool(n.clean_text, 'BertNormalizer clean_text', true);
  const chinese = bool(n.handle_chinese_chars, 'BertNormalizer handle_chinese_chars', true);
  const lower = bool(n.lowercase, 'BertNormalizer lowercase', true);
  const strip = n.strip_accents === null || n.strip_accents === undefined ? lower : bool(n.strip_accents, 'BertNormalizer strip_accents');
  return {
    type: NORMALIZER_BERT,
    flags: (clean ? NORM_CLEAN_TEXT : 0) | (chinese ? NORM_HANDLE_CHINESE : 0) | (strip ? NORM_STRIP_ACCENTS : 0) | (lower ? NORM_LOWERCASE : 0),
  };
}

function preTokenizerOf(p) {
  if (p === null || p === undefined) return PRETOKENIZER_NONE;
  if (typeof p !== 'object' || typeof p.type !== 'string') throw new Error('pre_tokenizer must be null or an object with a "type"');
  if (p.type !== 'BertPreTokenizer') throw new Error(`unsupported pre_tokenizer type "${p.type}"`);
  checkKeys(p, ['type'], 'BertPreTokenizer');
  return PRETOKENIZER_BERT;
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

/**
 * Builds the tokenizer blob from a parsed tokenizer.json. Throws an Error naming anything unsupported.
 * @param {object} json
 * @returns {Uint8Array}
 */
export function tokenizerSectionFromJson(json) {
  if (json === null || typeof json !== 'object') throw new Error('tokenizer.json must be an object');
  // truncation / padding are encode-time settings (the caller passes max_tokens); the decoder is not used.
  checkKeys(json, ['version', 'truncation', 'padding', 'added_tokens', 'normalizer', 'pre_tokenizer', 'post_processor', 'decoder', 'model'], 'tokenizer.json');
  const norm = normalizerOf(json.normalizer);
  const preTok = preTokenizerOf(json.pre_tokenizer);
  const wp = wordPieceOf(json.model);
  const tmpl = templateOf(json.post_processor);
  const added = addedTokensOf(json.added_tokens, preTok);

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
  for (const e of entries) byId[e.id] = e.bytes;
  let poolSize = 0;
  for (const b of byId) if (b) poolSize += b.length;
  for (const a of added) poolSize += a.bytes.length;
  let hashBits = 1;
  while ((1 << hashBits) < entries.length * 2) hashBits++;
  const nSlots = 1 << hashBits;
  const align4 = (x) => (x + 3) & ~3;

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
    u32(tokensOffset + id * 8 + 4, b.length);
    p += b.length;
    if (b.length > maxTokenBytes) maxTokenBytes = b.length;
  }
  added.forEach((a, i) => {
    out.set(a.bytes, stringsOffset + p);
    const o = addedOffset + i * 16;
    u32(o, a.id); u32(o + 4, p); u32(o + 8, a.bytes.length); u32(o + 12, a.flags);
    p += a.bytes.length;
  });
  [...tmpl.prefix, ...tmpl.suffix].forEach((id, i) => u32(templateOffset + i * 4, id));

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
  u32(12, MODEL_WORDPIECE); u32(16, norm.type); u32(20, norm.flags); u32(24, preTok); u32(28, tmpl.type);
  u32(32, numIds); u32(36, vocabCount); u32(40, wp.unkId); u32(44, wp.maxChars); u32(48, maxTokenBytes);
  u32(52, wp.prefixBytes.length); out.set(wp.prefixBytes, 56);
  u32(72, hashBits); u32(76, stringsOffset); u32(80, poolSize); u32(84, tokensOffset); u32(88, slotsOffset);
  u32(92, added.length); u32(96, addedOffset);
  u32(100, tmpl.prefix.length); u32(104, tmpl.suffix.length); u32(108, templateOffset);
  return out;
}
