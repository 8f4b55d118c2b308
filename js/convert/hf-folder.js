// Reads a model folder: Hugging Face / sentence-transformers (config.json, checked against what wembed runs;
// modules.json + the Pooling module's config + Normalize, sentence_bert_config.json) or ModelScope (configuration.json:
// task, pooler, normalization, sequence length); the tokenizer from tokenizer.json, or else from vocab.txt +
// tokenizer_config.json + special_tokens_map.json (vocab-tokenizer.js). Every unsupported value is an Error naming
// the field, the value and the file.

import fs from 'node:fs';
import path from 'node:path';
import { tokenizerSectionFromJson } from './tokenizer.js';
import { vocabTxtTokenizerJson } from './vocab-tokenizer.js';

const ST = 'sentence_transformers.models.';
const POOLING_MODES = {
  pooling_mode_cls_token: 'cls',
  pooling_mode_mean_tokens: 'mean',
  pooling_mode_max_tokens: 'max',
  pooling_mode_mean_sqrt_len_tokens: 'mean_sqrt_len_tokens',
  pooling_mode_weightedmean_tokens: 'weightedmean',
  pooling_mode_lasttoken: 'lasttoken',
};
const SANE_MODEL_MAX_LENGTH = 1e6; // tokenizer_config.json uses 1e30 for "no limit"

function readJson(file, { required = true, what } = {}) {
  let text;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if (e.code === 'ENOENT' && !required) return undefined;
    if (e.code === 'ENOENT') throw new Error(`no ${path.basename(file)} in ${path.dirname(file)}${what ? `: ${what}` : ''}`);
    throw new Error(`cannot read ${file}: ${e.message}`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new Error(`${file}: not valid JSON (${e.message})`);
  }
}

const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

/** HF BertConfig defaults, for fields a config.json leaves out. */
const BERT_DEFAULTS = {
  vocab_size: 30522, hidden_size: 768, num_hidden_layers: 12, num_attention_heads: 12, intermediate_size: 3072,
  max_position_embeddings: 512, type_vocab_size: 2, layer_norm_eps: 1e-12,
};

/** Checks config.json and returns the model dimensions (names as in js/format.js parseConfig). */
export function modelFromConfig(cfg, file) {
  if (!isObject(cfg)) throw new Error(`${file}: expected a JSON object`);
  const unsupported = (field, value, supported) =>
    new Error(`${file}: ${field} ${JSON.stringify(value)} is not supported (wembed converts ${supported})`);
  if (cfg.model_type !== 'bert') throw unsupported('model_type', cfg.model_type, 'model_type "bert" only');
  if (cfg.position_embedding_type !== undefined && cfg.position_embedding_type !== 'absolute') {
    throw unsupported('position_embedding_type', cfg.position_embedding_type, '"absolute" position embeddings only');
  }
  if (cfg.hidden_act !== undefined && cfg.hidden_act !== 'gelu') {
    throw unsupported('hidden_act', cfg.hidden_act, 'hidden_act "gelu" (exact erf GELU) only');
  }
  if (cfg.is_decoder === true) throw unsupported('is_decoder', true, 'encoders only');
  const v = { ...BERT_DEFAULTS };
  for (const k of Object.keys(BERT_DEFAULTS)) if (cfg[k] !== undefined && cfg[k] !== null) v[k] = cfg[k];
  const int = (field, lo, hi) => {
    const x = v[field];
    if (!Number.isInteger(x) || x < lo || x > hi) throw new Error(`${file}: ${field} ${JSON.stringify(x)} is not supported (expected an integer in ${lo}..${hi})`);
    return x;
  };
  const m = {
    vocabSize: int('vocab_size', 1, 2 ** 24),
    hidden: int('hidden_size', 1, 8192),
    numLayers: int('num_hidden_layers', 1, 256),
    numHeads: int('num_attention_heads', 1, 8192),
    intermediate: int('intermediate_size', 1, 32768),
    maxPositions: int('max_position_embeddings', 2, 8192),
    typeVocabSize: int('type_vocab_size', 1, 16),
    layerNormEps: v.layer_norm_eps,
  };
  if (m.hidden % m.numHeads) {
    throw new Error(`${file}: num_attention_heads ${m.numHeads} does not divide hidden_size ${m.hidden}`);
  }
  if (typeof m.layerNormEps !== 'number' || !(Math.fround(m.layerNormEps) > 0) || !Number.isFinite(Math.fround(m.layerNormEps))) {
    throw new Error(`${file}: layer_norm_eps ${JSON.stringify(m.layerNormEps)} is not supported (expected a positive f32)`);
  }
  return m;
}

/** Pooling mode of a sentence-transformers Pooling config: 'cls' | 'mean'; other modes are an Error. */
export function poolingFromConfig(pc, file) {
  if (!isObject(pc)) throw new Error(`${file}: expected a JSON object`);
  let modes;
  if (typeof pc.pooling_mode === 'string') modes = [pc.pooling_mode === 'cls_token' ? 'cls' : pc.pooling_mode === 'mean_tokens' ? 'mean' : pc.pooling_mode];
  else modes = Object.entries(POOLING_MODES).filter(([k]) => pc[k] === true).map(([, m]) => m);
  if (modes.length === 0) throw new Error(`${file}: no pooling mode is set (expected pooling_mode_cls_token or pooling_mode_mean_tokens true)`);
  if (modes.length > 1 || (modes[0] !== 'cls' && modes[0] !== 'mean')) {
    const fields = Object.entries(POOLING_MODES).filter(([k]) => pc[k] === true).map(([k]) => `${k}: true`);
    throw new Error(
      `${file}: pooling ${modes.join(' + ')}${fields.length ? ` (${fields.join(', ')})` : ''} is not supported ` +
        '(wembed pools with exactly one of pooling_mode_cls_token or pooling_mode_mean_tokens)',
    );
  }
  return modes[0];
}

/** Largest token id the tokenizer can produce (vocab and added tokens), or -1 if unknown. */
function maxTokenId(tok) {
  let max = -1;
  const vocab = tok?.model?.vocab;
  if (Array.isArray(vocab)) max = vocab.length - 1; // Unigram: [[piece, score], ...]
  else if (isObject(vocab)) for (const id of Object.values(vocab)) if (Number.isInteger(id) && id > max) max = id;
  for (const t of tok?.added_tokens ?? []) if (Number.isInteger(t?.id) && t.id > max) max = t.id;
  return max;
}

const MODELSCOPE_TASK = 'sentence-embedding';
/** ModelScope BertForSentenceEmbedding poolers (emb_pooler_type) -> wembed pooling. */
const MODELSCOPE_POOLERS = { cls: 'cls', avg: 'mean' };
const MODELSCOPE_SEQUENCE_LENGTH = 128; // SentenceEmbeddingTransformersPreprocessor default

/**
 * The embedding semantics of a ModelScope configuration.json (task sentence-embedding): BertForSentenceEmbedding's
 * model.emb_pooler_type (default cls) and model.normalize (default false), the preprocessor's max_length or
 * sequence_length (default 128). Returns { pooling, normalize, maxTokens, maxTokensField }; anything else is an Error.
 */
export function modelScopeFromConfiguration(c, file) {
  if (!isObject(c)) throw new Error(`${file}: expected a JSON object`);
  if (c.task !== MODELSCOPE_TASK) {
    throw new Error(
      `${file}: task ${c.task === undefined ? '(none)' : JSON.stringify(c.task)} is not supported ` +
        `(wembed converts ModelScope "${MODELSCOPE_TASK}" models)`,
    );
  }
  const model = c.model ?? {};
  if (!isObject(model)) throw new Error(`${file}: model must be an object`);
  if (model.type !== undefined && model.type !== 'bert') {
    throw new Error(`${file}: model.type ${JSON.stringify(model.type)} is not supported (wembed converts ModelScope "bert" sentence-embedding models)`);
  }
  const pooler = model.emb_pooler_type ?? 'cls';
  if (!Object.hasOwn(MODELSCOPE_POOLERS, pooler)) {
    throw new Error(
      `${file}: model.emb_pooler_type ${JSON.stringify(pooler)} is not supported (wembed pools with "cls" or "avg")`,
    );
  }
  const normalize = model.normalize ?? false;
  if (typeof normalize !== 'boolean') throw new Error(`${file}: model.normalize ${JSON.stringify(normalize)} (expected true or false)`);
  const pre = c.preprocessor ?? {};
  if (!isObject(pre)) throw new Error(`${file}: preprocessor must be an object`);
  for (const k of ['boq', 'eoq', 'bod', 'eod']) {
    if (pre[k] !== undefined && pre[k] !== null) {
      throw new Error(`${file}: preprocessor.${k} ${JSON.stringify(pre[k])} is not supported (wembed adds no query/document prompt or end token)`);
    }
  }
  const maxTokensField = pre.max_length !== undefined && pre.max_length !== null ? 'max_length' : pre.sequence_length !== undefined && pre.sequence_length !== null ? 'sequence_length' : null;
  const maxTokens = maxTokensField ? pre[maxTokensField] : MODELSCOPE_SEQUENCE_LENGTH;
  if (!Number.isInteger(maxTokens) || maxTokens < 1) {
    throw new Error(`${file}: preprocessor.${maxTokensField} ${JSON.stringify(maxTokens)} (expected a positive integer)`);
  }
  return { pooling: MODELSCOPE_POOLERS[pooler], normalize, maxTokens, maxTokensField: `preprocessor.${maxTokensField ?? 'sequence_length'}` };
}

/**
 * Reads and checks a model folder: Hugging Face / sentence-transformers, or ModelScope (configuration.json).
 * opts: { pooling: 'cls'|'mean', normalize: bool, maxTokens, name, metric: 'cosine'|'dot' }.
 * Options override what the folder says. Returns
 *   { dir, modelDir, name, source, layout, hfConfig, model, pooling, normalize, maxTokens, maxTokensFrom, metric,
 *     tokenizer: Uint8Array, tokenizerJson, tokenizerFrom, files, warnings }
 * (layout: 'modelscope' | 'sentence-transformers' | 'transformers'; tokenizerFrom: 'tokenizer.json' | 'vocab.txt';
 * files: paths relative to dir that were read; tensors are read separately from modelDir.)
 */
export async function readHfFolder(dir, opts = {}) {
  let st;
  try {
    st = fs.statSync(dir);
  } catch {
    throw new Error(`no such model folder: ${dir}`);
  }
  if (!st.isDirectory()) throw new Error(`${dir} is not a folder (expected a Hugging Face model folder)`);
  const files = [];
  const warnings = [];
  const use = (f) => (files.includes(f) ? f : (files.push(f), f));
  const rel = (f) => path.relative(dir, f) || path.basename(f);

  // sentence-transformers modules (they say where the Transformer lives, which pooling, whether to normalize)
  const modulesFile = path.join(dir, 'modules.json');
  const modules = readJson(modulesFile, { required: false });
  let modelDir = dir;
  let poolingFile = null;
  let hasNormalize = false;
  if (modules !== undefined) {
    use('modules.json');
    if (!Array.isArray(modules)) throw new Error(`${modulesFile}: expected a JSON array of modules`);
    modules.forEach((m, i) => {
      const type = m?.type;
      const p = typeof m?.path === 'string' ? m.path : '';
      if (p.split(/[\\/]/).includes('..') || path.isAbsolute(p)) throw new Error(`${modulesFile}: module ${i} path ${JSON.stringify(p)} leaves the folder`);
      if (type === ST + 'Transformer') {
        if (p && fs.existsSync(path.join(dir, p, 'config.json'))) modelDir = path.join(dir, p);
      } else if (type === ST + 'Pooling') poolingFile = path.join(dir, p, 'config.json');
      else if (type === ST + 'Normalize') hasNormalize = true;
      else {
        throw new Error(
          `${modulesFile}: module ${i} type ${JSON.stringify(type)} is not supported (wembed runs ${ST}Transformer, Pooling and Normalize only)`,
        );
      }
    });
  }

  // config.json
  const configFile = path.join(modelDir, 'config.json');
  const hfConfig = readJson(configFile, { what: 'not a Hugging Face model folder (config.json describes the model)' });
  use(rel(configFile));
  const model = modelFromConfig(hfConfig, configFile);

  // ModelScope configuration.json: its pooling, normalization and sequence length take precedence over the
  // sentence-transformers files. In a sentence-transformers folder (modules.json) a configuration.json for another
  // task (ModelScope mirrors of HF models carry one) is ignored.
  const msFile = path.join(dir, 'configuration.json');
  const msConfig = readJson(msFile, { required: false });
  let ms = null;
  if (msConfig !== undefined) {
    if (modules !== undefined && isObject(msConfig) && msConfig.task !== MODELSCOPE_TASK) {
      warnings.push(`configuration.json: task ${JSON.stringify(msConfig.task)} is not ${MODELSCOPE_TASK}; ignored (the sentence-transformers files set pooling and normalization)`);
    } else {
      ms = modelScopeFromConfiguration(msConfig, msFile);
      use('configuration.json');
      if (modules !== undefined) warnings.push('configuration.json (ModelScope) sets pooling, normalization and the token limit; the sentence-transformers files are not used for them');
    }
  }
  const layout = ms ? 'modelscope' : modules !== undefined ? 'sentence-transformers' : 'transformers';

  // pooling and normalization
  let pooling = opts.pooling;
  if (pooling !== undefined && pooling !== 'cls' && pooling !== 'mean') throw new Error(`option pooling ${JSON.stringify(pooling)}: expected "cls" or "mean"`);
  if (pooling === undefined && ms) pooling = ms.pooling;
  if (pooling === undefined) {
    if (poolingFile) {
      const pc = readJson(poolingFile, { what: 'modules.json lists a Pooling module there' });
      pooling = poolingFromConfig(pc, poolingFile);
      use(rel(poolingFile));
      if (Number.isInteger(pc.word_embedding_dimension) && pc.word_embedding_dimension !== model.hidden) {
        throw new Error(`${poolingFile}: word_embedding_dimension ${pc.word_embedding_dimension} does not match hidden_size ${model.hidden} in ${configFile}`);
      }
      if (pc.include_prompt === false) warnings.push(`${rel(poolingFile)}: include_prompt false is ignored (wembed pools over every token, prompt included)`);
    } else if (modules !== undefined) {
      throw new Error(`${modulesFile}: no ${ST}Pooling module (pass the pooling option to choose cls or mean)`);
    } else {
      pooling = 'mean';
    }
  }
  let normalize = opts.normalize;
  if (normalize !== undefined && typeof normalize !== 'boolean') throw new Error(`option normalize ${JSON.stringify(normalize)}: expected true or false`);
  if (normalize === undefined && ms) normalize = ms.normalize;
  if (normalize === undefined) normalize = modules !== undefined ? hasNormalize : true;
  if (layout === 'transformers') {
    const chosen = [opts.pooling === undefined && 'pooling mean', opts.normalize === undefined && 'normalize true'].filter(Boolean);
    if (chosen.length) warnings.push(`no modules.json in ${dir} (not a sentence-transformers folder): assuming ${chosen.join(', ')}`);
  }
  // ModelScope's sentence-embedding pipeline scores with dot products of the (possibly unnormalized) embeddings
  const metric = opts.metric ?? (ms ? 'dot' : 'cosine');
  if (metric !== 'cosine' && metric !== 'dot') throw new Error(`option metric ${JSON.stringify(metric)}: expected "cosine" or "dot"`);

  // token limit
  const maxTokensFrom = { max_position_embeddings: model.maxPositions };
  const sbFile = path.join(modelDir, 'sentence_bert_config.json');
  const sb = readJson(sbFile, { required: false });
  if (sb !== undefined) {
    use(rel(sbFile));
    if (Number.isInteger(sb.max_seq_length) && sb.max_seq_length > 0) maxTokensFrom.max_seq_length = sb.max_seq_length;
    if (sb.do_lower_case === true) warnings.push(`${rel(sbFile)}: do_lower_case true (sentence-transformers lower-cases input before the tokenizer); wembed follows the tokenizer only`);
  }

  // query / passage prefixes: options, else config_sentence_transformers.json "prompts" (sentence-transformers
  // >= 3 writes them there, e.g. {"query": "query: ", "passage": "passage: "})
  const prompts = {};
  const stcFile = path.join(modelDir, 'config_sentence_transformers.json');
  const stc = readJson(stcFile, { required: false });
  if (stc !== undefined && isObject(stc.prompts)) {
    use(rel(stcFile));
    for (const kind of ['query', 'passage']) {
      if (typeof stc.prompts[kind] === 'string') prompts[kind] = stc.prompts[kind];
    }
    const other = Object.keys(stc.prompts).filter((k) => k !== 'query' && k !== 'passage');
    if (other.length) warnings.push(`${rel(stcFile)}: prompts ${other.map((k) => JSON.stringify(k)).join(', ')} are not used (wembed knows query and passage)`);
  }
  for (const [kind, opt] of [['query', 'queryPrefix'], ['passage', 'passagePrefix']]) {
    if (opts[opt] === undefined) continue;
    if (typeof opts[opt] !== 'string') throw new Error(`option ${opt}: expected a string, got ${JSON.stringify(opts[opt])}`);
    prompts[kind] = opts[opt];
  }

  // tokenizer: tokenizer.json, else vocab.txt (+ tokenizer_config.json, special_tokens_map.json) as
  // BertTokenizerFast builds it
  const tokFile = path.join(modelDir, 'tokenizer.json');
  const vocabFile = path.join(modelDir, 'vocab.txt');
  const tcFile = path.join(modelDir, 'tokenizer_config.json');
  const stmFile = path.join(modelDir, 'special_tokens_map.json');
  const tc = readJson(tcFile, { required: false });
  let tokenizerJson, tokenizerFrom, tokSource;
  if (fs.existsSync(tokFile)) {
    tokenizerJson = readJson(tokFile);
    use(rel(tokFile));
    tokenizerFrom = 'tokenizer.json';
    tokSource = tokFile;
  } else if (fs.existsSync(vocabFile)) {
    let vocabBytes;
    try {
      vocabBytes = new Uint8Array(fs.readFileSync(vocabFile));
    } catch (e) {
      throw new Error(`cannot read ${vocabFile}: ${e.message}`);
    }
    use(rel(vocabFile));
    if (tc !== undefined) use(rel(tcFile));
    const stm = readJson(stmFile, { required: false });
    if (stm !== undefined) use(rel(stmFile));
    const addedFile = path.join(modelDir, 'added_tokens.json');
    const addedTokens = readJson(addedFile, { required: false });
    if (addedTokens !== undefined && !(isObject(addedTokens) && Object.keys(addedTokens).length === 0)) {
      throw new Error(`${addedFile}: added tokens are not supported without tokenizer.json (wembed builds the tokenizer from vocab.txt alone)`);
    }
    const tokWarnings = [];
    try {
      tokenizerJson = vocabTxtTokenizerJson(vocabBytes, tc, stm, { warnings: tokWarnings });
    } catch (e) {
      throw new Error(`${modelDir}: ${e.message}`, { cause: e });
    }
    warnings.push(...tokWarnings);
    tokenizerFrom = 'vocab.txt';
    tokSource = `${vocabFile} (the tokenizer built from it)`;
  } else {
    throw new Error(
      `no tokenizer.json in ${modelDir}, and no vocab.txt to build a BERT WordPiece tokenizer from ` +
        '(wembed looked for tokenizer.json, then vocab.txt with the optional tokenizer_config.json and special_tokens_map.json)',
    );
  }
  const trunc = tokenizerJson?.truncation?.max_length;
  if (Number.isInteger(trunc) && trunc > 0) maxTokensFrom.truncation_max_length = trunc;
  if (tc !== undefined) {
    use(rel(tcFile));
    const mml = tc?.model_max_length;
    if (typeof mml === 'number' && mml > 0 && mml < SANE_MODEL_MAX_LENGTH) maxTokensFrom.model_max_length = Math.floor(mml);
  }
  if (ms) maxTokensFrom[ms.maxTokensField] = ms.maxTokens;
  let maxTokens = opts.maxTokens;
  let limitFrom = 'option maxTokens';
  if (maxTokens === undefined && ms) {
    maxTokens = ms.maxTokens; // the ModelScope preprocessor passes it as max_length: it wins over model_max_length
    limitFrom = `${msFile}: ${ms.maxTokensField}`;
  } else if (maxTokens === undefined) {
    maxTokens = Math.min(...Object.values(maxTokensFrom));
    limitFrom = `token limit from ${JSON.stringify(maxTokensFrom)}`;
  }
  if (!Number.isInteger(maxTokens) || maxTokens < 2 || maxTokens > model.maxPositions) {
    throw new Error(`${limitFrom} ${maxTokens}: expected an integer in 2..${model.maxPositions} (max_position_embeddings in ${configFile})`);
  }

  // tokenizer section
  const maxId = maxTokenId(tokenizerJson);
  if (maxId >= model.vocabSize) {
    throw new Error(`${tokSource}: token id ${maxId} is outside the embedding table (vocab_size ${model.vocabSize} in ${configFile})`);
  }
  let tokenizer;
  try {
    tokenizer = tokenizerSectionFromJson(tokenizerJson);
  } catch (e) {
    throw new Error(`${tokSource}: ${e.message}`, { cause: e });
  }
  if (!(tokenizer instanceof Uint8Array) || tokenizer.length === 0) throw new Error(`${tokSource}: the tokenizer converter returned no section bytes`);

  const source = path.basename(path.resolve(dir));
  return {
    dir, modelDir, name: opts.name ?? source, source, layout, hfConfig, model, pooling, normalize, maxTokens, maxTokensFrom,
    metric, prompts, tokenizer, tokenizerJson, tokenizerFrom, files, warnings,
  };
}
