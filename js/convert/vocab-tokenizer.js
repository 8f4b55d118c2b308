// vocab.txt (+ tokenizer_config.json, special_tokens_map.json) -> the tokenizer.json that transformers'
// BertTokenizerFast builds from them (its slow->fast converter BertConverter), for folders without tokenizer.json
// (ModelScope folders, old BERT checkpoints). The result goes through tokenizerSectionFromJson like any
// tokenizer.json, so everything the runtime does not implement is still refused there.
//
// What transformers does, and what is reproduced here:
// - load_vocab: the file is read as UTF-8 text in universal-newline mode (\r\n, \r and \n end a line; a BOM is kept
//   as part of the first token), one token per line, id = line index, only the line ending removed. A token seen
//   twice keeps its last index (a Python dict); the earlier id is then never produced. An empty line can never be
//   matched by WordPiece, so it is left out (a gap in the ids).
// - BertTokenizerFast.__init__ defaults: do_lower_case true, tokenize_chinese_chars true, strip_accents null
//   (follows lowercase), unk/sep/pad/cls/mask = [UNK] [SEP] [PAD] [CLS] [MASK].
// - BertConverter: BertNormalizer(clean_text true, handle_chinese_chars, strip_accents, lowercase), BertPreTokenizer,
//   WordPiece(vocab, unk_token, "##", max_input_chars_per_word 100), TemplateProcessing "[CLS]:0 $A:0 [SEP]:0" with
//   the vocab ids of cls and sep.
// - Special tokens become added tokens (special, normalized false), with their vocab id, or, when not in the vocab,
//   a new id as the tokenizers library assigns it (the vocab size, then one more each).
// - tokenizer_config.json `added_tokens_decoder` (transformers >= 4.34): its tokens are added first (by id), and
//   special_tokens_map.json is then not read (as transformers does); otherwise special_tokens_map.json overrides
//   tokenizer_config.json's special tokens.

const SPECIAL_KEYS = ['unk_token', 'sep_token', 'pad_token', 'cls_token', 'mask_token'];
const SPECIAL_DEFAULTS = { unk_token: '[UNK]', sep_token: '[SEP]', pad_token: '[PAD]', cls_token: '[CLS]', mask_token: '[MASK]' };
/** tokenizer_class values whose fast form is built by BertConverter (Fast suffix removed). */
const BERT_CONVERTER_CLASSES = [
  'BertTokenizer', 'DistilBertTokenizer', 'ElectraTokenizer', 'LayoutLMTokenizer', 'MobileBertTokenizer', 'SqueezeBertTokenizer',
  'LxmertTokenizer', 'RetriBertTokenizer', 'DPRContextEncoderTokenizer', 'DPRQuestionEncoderTokenizer', 'DPRReaderTokenizer',
  'RealmTokenizer',
];
const MAX_INPUT_CHARS_PER_WORD = 100;

const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

/** vocab.txt bytes or text -> tokens by line index (transformers load_vocab). */
export function vocabLines(vocab) {
  let text = vocab;
  if (vocab instanceof Uint8Array) {
    try {
      text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(vocab);
    } catch {
      throw new Error('vocab.txt: not valid UTF-8 (transformers reads it as UTF-8)');
    }
  }
  if (typeof text !== 'string') throw new Error('vocab.txt: expected its text or bytes');
  const lines = text.split(/\r\n|\r|\n/);
  if (lines[lines.length - 1] === '') lines.pop(); // readlines(): no line after the last line ending
  return lines;
}

/** A special-token value of tokenizer_config.json / special_tokens_map.json: a string or an AddedToken dict. */
function specialValue(v, where) {
  if (typeof v === 'string') return { content: v };
  if (isObject(v) && typeof v.content === 'string') {
    const { content, lstrip, rstrip, single_word: singleWord, normalized } = v;
    return { content, lstrip, rstrip, single_word: singleWord, normalized };
  }
  throw new Error(`${where}: expected a string or an AddedToken object {"content": ...}, got ${JSON.stringify(v)}`);
}

/**
 * Builds the tokenizer.json object of BertTokenizerFast for a vocab.txt.
 * @param {string|Uint8Array} vocab   contents of vocab.txt
 * @param {object} [tokenizerConfig]   parsed tokenizer_config.json (or undefined)
 * @param {object} [specialTokensMap]  parsed special_tokens_map.json (or undefined)
 * @param {{warnings?: string[]}} [opts]  warnings: receives notes on what transformers would do differently or oddly
 * @returns {object} tokenizer.json
 */
export function vocabTxtTokenizerJson(vocab, tokenizerConfig, specialTokensMap, opts = {}) {
  const warnings = opts.warnings ?? [];
  const tc = tokenizerConfig ?? {};
  const stm = specialTokensMap ?? {};
  if (!isObject(tc)) throw new Error('tokenizer_config.json: expected a JSON object');
  if (!isObject(stm)) throw new Error('special_tokens_map.json: expected a JSON object');

  if (tc.tokenizer_class !== undefined && tc.tokenizer_class !== null) {
    const cls = String(tc.tokenizer_class).replace(/Fast$/, '');
    if (!BERT_CONVERTER_CLASSES.includes(cls)) {
      throw new Error(
        `tokenizer_config.json: tokenizer_class ${JSON.stringify(tc.tokenizer_class)} is not supported without tokenizer.json ` +
          '(wembed builds a BERT WordPiece tokenizer from vocab.txt: BertTokenizer and its aliases)',
      );
    }
  }
  const boolOpt = (key, dflt) => {
    const v = tc[key];
    if (v === undefined || v === null) return dflt;
    if (typeof v !== 'boolean') throw new Error(`tokenizer_config.json: ${key} ${JSON.stringify(v)} (expected true or false)`);
    return v;
  };
  const lowercase = boolOpt('do_lower_case', true);
  const handleChinese = boolOpt('tokenize_chinese_chars', true);
  const stripAccents = boolOpt('strip_accents', null);
  if (tc.do_basic_tokenize === false) {
    warnings.push('tokenizer_config.json: do_basic_tokenize false is ignored (as by BertTokenizerFast, which always splits words on whitespace and punctuation)');
  }
  if (Array.isArray(tc.never_split) && tc.never_split.length) {
    warnings.push('tokenizer_config.json: never_split is ignored (as by BertTokenizerFast)');
  }

  // the vocabulary
  const lines = vocabLines(vocab);
  if (lines.length === 0) throw new Error('vocab.txt is empty');
  const vocabMap = new Map();
  let duplicates = 0;
  lines.forEach((tok, i) => {
    if (vocabMap.has(tok)) duplicates++;
    vocabMap.set(tok, i);
  });
  if (vocabMap.has('')) {
    vocabMap.delete('');
    warnings.push(`vocab.txt: empty line(s) at line ${lines.indexOf('') + 1} (no token can match them; their ids are unused)`);
  }
  if (duplicates) {
    warnings.push(`vocab.txt: ${duplicates} token(s) appear more than once; each takes the id of its last line, as in transformers (the earlier ids are unused)`);
  }
  if (vocabMap.size === 0) throw new Error('vocab.txt has no tokens');

  // special tokens: defaults < tokenizer_config.json < special_tokens_map.json (legacy), or tokenizer_config alone
  // when it has added_tokens_decoder
  const decoder = tc.added_tokens_decoder;
  if (decoder !== undefined && decoder !== null && !isObject(decoder)) throw new Error('tokenizer_config.json: added_tokens_decoder must be an object {id: AddedToken}');
  const special = {};
  for (const k of SPECIAL_KEYS) special[k] = { content: SPECIAL_DEFAULTS[k] };
  for (const k of SPECIAL_KEYS) if (tc[k] !== undefined && tc[k] !== null) special[k] = specialValue(tc[k], `tokenizer_config.json ${k}`);
  let extra = Array.isArray(tc.additional_special_tokens) ? [...tc.additional_special_tokens] : [];
  if (!decoder) {
    for (const k of SPECIAL_KEYS) if (stm[k] !== undefined && stm[k] !== null) special[k] = specialValue(stm[k], `special_tokens_map.json ${k}`);
    if (Array.isArray(stm.additional_special_tokens)) {
      for (const t of stm.additional_special_tokens) if (!extra.some((e) => JSON.stringify(e) === JSON.stringify(t))) extra.push(t);
    }
  }
  extra = extra.map((t, i) => specialValue(t, `additional_special_tokens[${i}]`));

  const unk = special.unk_token.content, cls = special.cls_token.content, sep = special.sep_token.content;
  for (const [k, tok] of [['unk_token', unk], ['cls_token', cls], ['sep_token', sep]]) {
    if (!vocabMap.has(tok)) {
      throw new Error(`${k} ${JSON.stringify(tok)} is not in vocab.txt (wembed needs the unknown, [CLS] and [SEP] tokens of a BERT vocabulary)`);
    }
  }

  // added tokens, with the ids the tokenizers library gives them
  const added = []; // in insertion order
  const addedIds = new Map(); // content -> id
  const addToken = (t, isSpecial, declaredId) => {
    if (addedIds.has(t.content)) return;
    if (t.content === '') throw new Error('an added token is the empty string');
    let id = vocabMap.get(t.content);
    if (id === undefined) {
      const max = added.length ? Math.max(...added.map((a) => a.id)) : -1;
      id = max < 0 ? vocabMap.size : max >= vocabMap.size ? max + 1 : vocabMap.size;
      warnings.push(`${isSpecial ? 'special' : 'added'} token ${JSON.stringify(t.content)} is not in vocab.txt: it gets the new id ${id}, as transformers gives it`);
    }
    if (declaredId !== undefined && declaredId !== id) {
      warnings.push(`tokenizer_config.json: added_tokens_decoder lists ${JSON.stringify(t.content)} as id ${declaredId}, but transformers gives it id ${id}`);
    }
    addedIds.set(t.content, id);
    added.push({
      id, content: t.content, single_word: t.single_word ?? false, lstrip: t.lstrip ?? false, rstrip: t.rstrip ?? false,
      normalized: t.normalized ?? !isSpecial, special: isSpecial,
    });
  };
  if (decoder) {
    const entries = Object.entries(decoder).map(([k, v]) => {
      const id = Number(k);
      if (!Number.isInteger(id) || id < 0) throw new Error(`tokenizer_config.json: added_tokens_decoder key ${JSON.stringify(k)} is not a token id`);
      if (!isObject(v) || typeof v.content !== 'string') throw new Error(`tokenizer_config.json: added_tokens_decoder[${k}] must be an AddedToken object`);
      return [id, v];
    });
    entries.sort((a, b) => a[0] - b[0]);
    // transformers marks a token special when it is one of the special tokens, whatever the entry says
    const specialContents = new Set([...SPECIAL_KEYS.map((k) => special[k].content), ...extra.map((t) => t.content)]);
    for (const [id, v] of entries) addToken(v, v.special === true || specialContents.has(v.content), id);
  }
  for (const k of SPECIAL_KEYS) addToken({ normalized: false, ...special[k] }, true);
  for (const t of extra) addToken({ normalized: false, ...t }, true);
  added.sort((a, b) => a.id - b.id);

  const clsId = addedIds.get(cls) ?? vocabMap.get(cls);
  const sepId = addedIds.get(sep) ?? vocabMap.get(sep);
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: handleChinese, strip_accents: stripAccents, lowercase },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: cls, type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: sep, type_id: 0 } }],
      pair: [
        { SpecialToken: { id: cls, type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: sep, type_id: 0 } },
        { Sequence: { id: 'B', type_id: 1 } }, { SpecialToken: { id: sep, type_id: 1 } },
      ],
      special_tokens: Object.fromEntries([[cls, { id: cls, ids: [clsId], tokens: [cls] }], [sep, { id: sep, ids: [sepId], tokens: [sep] }]]),
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: {
      type: 'WordPiece', unk_token: unk, continuing_subword_prefix: '##', max_input_chars_per_word: MAX_INPUT_CHARS_PER_WORD,
      vocab: Object.fromEntries(vocabMap), // own properties even for "__proto__"
    },
  };
}
