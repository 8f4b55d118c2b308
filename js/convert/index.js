// `wembed convert` as a library: a Hugging Face / sentence-transformers BERT folder → one .wemb file
// (docs/format.md). Node built-ins only.
//
//   import { convert } from 'wembed/js/convert/index.js';
//   const summary = await convert('gte-small', { output: 'gte-small.wemb', dtype: 'int8' });

import fs from 'node:fs';
import path from 'node:path';
import {
  ACTIVATION, DTYPE, DTYPE_NAMES, KIND, LINEAR, LINEAR_NAMES, METRIC, PART, POOLING, encodeConfig, expectedSections,
  linearKind, parseConfig, sectionName,
} from '../format.js';
import { corpusIds } from './corpus.js';
import { readHfFolder } from './hf-folder.js';
import { packLinearInt8, quantizeRowsInt8, quantizeRowsQ4, smoothInScale, toF16 } from './quantize.js';
import { FLOAT_DTYPES } from './safetensors.js';
import { tokenizerSectionFromJson } from './tokenizer.js';
import { VOCAB_CHARS, embeddingRows, gatherRows, keptIds, vocabularyOf } from './vocab.js';
import { openWeights } from './weights.js';
import { WembWriter } from './wemb-writer.js';

export const CONVERTER = `wembed ${packageVersion()}`;

function packageVersion() {
  try {
    return JSON.parse(fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version || '0.1.0';
  } catch {
    return '0.1.0';
  }
}

const DTYPES = { f32: DTYPE.F32, f16: DTYPE.F16, int8: DTYPE.INT8 };
const EMB_DTYPES = { ...DTYPES, q4: DTYPE.Q4 }; // q4: the word-embedding table only
export const DEFAULT_GROUP = 128;
// 12: the closest to the float model. 8 (convert --act-bits 8) takes one relaxed-SIMD dot per 16 multiply-adds
// where the engine's dot takes unsigned bytes (x86 with AVX-VNNI: about twice 12-bit's speed in Chromium), but
// flips a near tie the parity tests pin (docs/architecture.md, "Activation bits").
export const DEFAULT_ACT_BITS = 12;

/** Every tensor the encoder needs, with the shape config.json implies: [[name, shape]] (names without prefix). */
export function requiredTensors(m) {
  const { hidden: H, intermediate: I } = m;
  const list = [
    ['embeddings.word_embeddings.weight', [m.vocabSize, H]],
    ['embeddings.position_embeddings.weight', [m.maxPositions, H]],
    ['embeddings.token_type_embeddings.weight', [m.typeVocabSize, H]],
    ['embeddings.LayerNorm.weight', [H]],
    ['embeddings.LayerNorm.bias', [H]],
  ];
  for (let l = 0; l < m.numLayers; l++) {
    const p = `encoder.layer.${l}.`;
    for (const x of ['query', 'key', 'value']) list.push([`${p}attention.self.${x}.weight`, [H, H]], [`${p}attention.self.${x}.bias`, [H]]);
    list.push(
      [`${p}attention.output.dense.weight`, [H, H]], [`${p}attention.output.dense.bias`, [H]],
      [`${p}attention.output.LayerNorm.weight`, [H]], [`${p}attention.output.LayerNorm.bias`, [H]],
      [`${p}intermediate.dense.weight`, [I, H]], [`${p}intermediate.dense.bias`, [I]],
      [`${p}output.dense.weight`, [H, I]], [`${p}output.dense.bias`, [H]],
      [`${p}output.LayerNorm.weight`, [H]], [`${p}output.LayerNorm.bias`, [H]],
    );
  }
  return list;
}

const shapeStr = (s) => `[${s.join(', ')}]`;

/** Checks presence, dtype and shape of every required tensor from the headers alone (no data read). */
function checkTensors(store, model, configFile) {
  for (const [name, shape] of requiredTensors(model)) {
    const info = store.info(name);
    if (!info) throw new Error(store.missingMessage(name));
    if (!FLOAT_DTYPES.includes(info.dtype)) {
      throw new Error(`${info.file}: tensor "${info.name}" has dtype ${info.dtype}; wembed converts ${FLOAT_DTYPES.join(', ')} weights only`);
    }
    if (info.shape.length !== shape.length || info.shape.some((d, i) => d !== shape[i])) {
      throw new Error(`${info.file}: tensor "${info.name}" has shape ${shapeStr(info.shape)}, ${configFile} implies ${shapeStr(shape)}`);
    }
  }
}

/**
 * Converts the model folder `dir` into a .wemb file.
 * Options:
 *   output       path of the .wemb to write (required)
 *   dtype        'int8' (default) | 'f16' | 'f32': linear weights and, unless embDtype says otherwise, EMB_WORD
 *   embDtype     'int8' | 'q4' | 'f16' | 'f32' for the word-embedding table (default: dtype)
 *   pooling      'cls' | 'mean'; normalize (bool); maxTokens; name; metric 'cosine' | 'dot': override the folder
 *   queryPrefix, passagePrefix  text put before queries / passages (default: config_sentence_transformers.json prompts)
 *   smoothAlpha  SmoothQuant migration strength for QKV / FFN_IN input scales (default 0.5; 0 = none)
 *   group        int8: inputs per scale group along K, for weights and activations (config field 64; a multiple
 *                of 8; default DEFAULT_GROUP; 0 = one scale per output channel and per token)
 *   actBits      run-time activation bits for int8 weights, 2..12 (config field 60; default DEFAULT_ACT_BITS, 12)
 *   vocabFrom    a corpus file (UTF-8 text, one text per line, or JSON lines with "text"): prune the vocabulary to the
 *                pieces the model's tokenizer produces on it (with and without the query / passage prefixes), plus
 *                unk, specials, added tokens, byte-fallback pieces and (vocabChars 'all', the default) every
 *                one-character piece; EMB_WORD then stores only their rows (docs/format.md, "Pruned vocabularies")
 *   vocabChars   'all' | 'corpus': one-character pieces kept whatever the corpus, or only those it produces
 *   vocabDropPruned  leave the pruned pieces out of the tokenizer blob too (XLM-R: ~6 MB less), at the price of
 *                model.stats.prunedTexts (null then: the model cannot tell which texts needed a pruned piece)
 *   wasm         the wasm module the corpus is tokenized with (default dist/wembed.wasm; see js/core.js)
 *   onLog(msg)   progress messages
 * Returns { output, bytes, dtype, config, metadata, warnings, seconds, sections, vocabulary (pruned: what
 * METADATA.vocabulary records, else null) }.
 */
export async function convert(dir, opts = {}) {
  const t0 = performance.now();
  const { output, dtype = 'int8', smoothAlpha = 0.5, onLog = () => {} } = opts;
  if (!output || typeof output !== 'string') throw new Error('convert: the output option (path of the .wemb to write) is required');
  if (!(dtype in DTYPES)) throw new Error(`convert: dtype ${JSON.stringify(dtype)} (expected int8, f16 or f32)`);
  const embDtype = opts.embDtype ?? dtype;
  if (!(embDtype in EMB_DTYPES)) throw new Error(`convert: embDtype ${JSON.stringify(embDtype)} (expected int8, q4, f16 or f32)`);
  const actBits = dtype === 'int8' ? (opts.actBits ?? DEFAULT_ACT_BITS) : 0;
  const group = dtype === 'int8' ? (opts.group ?? DEFAULT_GROUP) : 0;
  if (!Number.isInteger(group) || group < 0 || group % 8 || group > 32768) throw new Error(`convert: group ${group} (expected 0, or a multiple of 8 up to 32768)`);
  if (typeof smoothAlpha !== 'number' || !(smoothAlpha >= 0 && smoothAlpha <= 1)) throw new Error(`convert: smoothAlpha ${smoothAlpha} (expected 0..1)`);
  const { vocabFrom, vocabChars = 'all', vocabDropPruned = false } = opts;
  if (vocabFrom !== undefined && (typeof vocabFrom !== 'string' || !vocabFrom)) throw new Error('convert: vocabFrom must be the path of a corpus file');
  if (!VOCAB_CHARS.includes(vocabChars)) throw new Error(`convert: vocabChars ${JSON.stringify(vocabChars)} (expected all or corpus)`);
  if (typeof vocabDropPruned !== 'boolean') throw new Error('convert: vocabDropPruned must be a boolean');

  const folder = await readHfFolder(dir, {
    pooling: opts.pooling, normalize: opts.normalize, maxTokens: opts.maxTokens, name: opts.name, metric: opts.metric,
    queryPrefix: opts.queryPrefix, passagePrefix: opts.passagePrefix,
  });
  const warnings = [...folder.warnings];
  const m = folder.model;
  const configFile = path.join(folder.modelDir, 'config.json');
  onLog(`${folder.source}: bert, ${m.numLayers} layers, hidden ${m.hidden}, vocab ${m.vocabSize}; pooling ${folder.pooling}, normalize ${folder.normalize}, max_tokens ${folder.maxTokens}`);

  const store = openWeights(folder.modelDir);
  let writer = null;
  try {
    checkTensors(store, m, configFile);
    const extraLayer = store.resolve(`encoder.layer.${m.numLayers}.attention.self.query.weight`);
    if (extraLayer) warnings.push(`the checkpoint has more layers than num_hidden_layers ${m.numLayers} in ${configFile} (found "${extraLayer}"); converting ${m.numLayers}`);

    const pruned = vocabFrom === undefined ? null : await pruneVocabulary(folder, vocabFrom, { chars: vocabChars, drop: vocabDropPruned }, embDtype, opts.wasm, onLog);
    const config = {
      ...m,
      weightDtype: DTYPES[dtype], embDtype: EMB_DTYPES[embDtype],
      pooling: folder.pooling === 'cls' ? POOLING.CLS : POOLING.MEAN, normalize: folder.normalize ? 1 : 0,
      maxTokens: folder.maxTokens, metric: folder.metric === 'dot' ? METRIC.DOT : METRIC.COSINE,
      activation: ACTIVATION.GELU_ERF, actBits, quantGroup: group,
    };
    if (pruned) config.embRows = pruned.rows.length;
    const configBytes = encodeConfig(config); // checks every field

    const relFiles = [...folder.files, ...store.files.map((f) => path.relative(folder.dir, f))];
    const metadata = {
      name: folder.name,
      source: folder.source,
      converter: CONVERTER,
      dtype,
      embedding_dtype: embDtype,
      quantization: describeQuantization(dtype, embDtype, smoothAlpha, actBits, group),
      pooling: folder.pooling,
      normalize: folder.normalize,
      maxTokens: folder.maxTokens,
      metric: folder.metric,
      prompts: folder.prompts,  // read by the JS API: embed({ kind }), score, pipeline
      ...(pruned && { vocabulary: pruned.summary }),  // read by the JS API: info.vocab_corpus, stats
      files: relFiles,
    };
    const metaBytes = new TextEncoder().encode(JSON.stringify(metadata));

    const expected = expectedSections(config);
    writer = WembWriter.create(output, expected.length);
    let next = 0;
    const add = (kind, index, data) => {
      const e = expected[next++];
      const size = data.byteLength;
      if (!e || e.kind !== kind || e.index !== index || (e.size !== null && e.size !== size)) {
        throw new Error(`convert: internal error: section ${sectionName(kind)}[${index}] (${size} bytes) out of order, expected ${e ? `${e.name}[${e.index}] (${e.size} bytes)` : 'none'}`);
      }
      writer.add(kind, index, data);
    };
    const get = (name) => {
      const t = store.get(name);
      const d = t.data;
      for (let i = 0; i < d.length; i++) {
        if (!Number.isFinite(d[i])) throw new Error(`${store.info(name).file}: tensor "${t.name}" has a non-finite value (${d[i]}) at element ${i}`);
      }
      return d;
    };

    add(KIND.CONFIG, 0, configBytes);
    add(KIND.METADATA, 0, metaBytes);
    add(KIND.TOKENIZER, 0, pruned ? pruned.tokenizer : folder.tokenizer);

    // embeddings
    onLog(`embeddings (${embDtype})`);
    let word = get('embeddings.word_embeddings.weight');
    let rows = m.vocabSize;
    if (pruned) {
      add(KIND.EMB_WORD_MAP, 0, pruned.map);
      word = gatherRows(word, m.hidden, pruned.rows);
      rows = pruned.rows.length;
    }
    if (embDtype === 'int8') {
      const { q, scale } = quantizeRowsInt8(word, rows, m.hidden);
      add(KIND.EMB_WORD, 0, q);
      add(KIND.EMB_WORD_SCALE, 0, scale);
    } else if (embDtype === 'q4') {
      const { q, scale } = quantizeRowsQ4(word, rows, m.hidden);
      add(KIND.EMB_WORD, 0, q);
      add(KIND.EMB_WORD_SCALE, 0, scale);
    } else add(KIND.EMB_WORD, 0, embDtype === 'f16' ? toF16(word) : word);
    add(KIND.EMB_POS, 0, get('embeddings.position_embeddings.weight'));
    add(KIND.EMB_TYPE, 0, get('embeddings.token_type_embeddings.weight'));
    let lnGamma = get('embeddings.LayerNorm.weight');
    let lnBeta = get('embeddings.LayerNorm.bias');
    add(KIND.EMB_LN_GAMMA, 0, lnGamma);
    add(KIND.EMB_LN_BETA, 0, lnBeta);

    // layers
    const H = m.hidden, I = m.intermediate;
    const linear = (j, l, W, bias, N, K, ln) => {
      if (dtype === 'int8') {
        const inScale = ln ? smoothInScale(ln.gamma, ln.beta, W, N, K, smoothAlpha) : new Float32Array(K).fill(1);
        let packed;
        try {
          packed = packLinearInt8(W, N, K, inScale, { group });
        } catch (e) {
          throw new Error(`layer ${l} ${LINEAR_NAMES[j]}: ${e.message}`);
        }
        add(linearKind(j, PART.WEIGHT), l, packed.weight);
        add(linearKind(j, PART.SCALE), l, packed.scale);
        add(linearKind(j, PART.BIAS), l, bias);
        add(linearKind(j, PART.IN_SCALE), l, inScale);
      } else {
        add(linearKind(j, PART.WEIGHT), l, dtype === 'f16' ? toF16(W) : W);
        add(linearKind(j, PART.BIAS), l, bias);
      }
    };
    for (let l = 0; l < m.numLayers; l++) {
      onLog(`layer ${l + 1}/${m.numLayers}`);
      const p = `encoder.layer.${l}.`;
      const Wqkv = new Float32Array(3 * H * H), bqkv = new Float32Array(3 * H);
      ['query', 'key', 'value'].forEach((x, i) => {
        Wqkv.set(get(`${p}attention.self.${x}.weight`), i * H * H);
        bqkv.set(get(`${p}attention.self.${x}.bias`), i * H);
      });
      linear(LINEAR.QKV, l, Wqkv, bqkv, 3 * H, H, { gamma: lnGamma, beta: lnBeta });
      linear(LINEAR.ATTN_OUT, l, get(`${p}attention.output.dense.weight`), get(`${p}attention.output.dense.bias`), H, H, null);
      const attnGamma = get(`${p}attention.output.LayerNorm.weight`), attnBeta = get(`${p}attention.output.LayerNorm.bias`);
      add(KIND.ATTN_LN_GAMMA, l, attnGamma);
      add(KIND.ATTN_LN_BETA, l, attnBeta);
      linear(LINEAR.FFN_IN, l, get(`${p}intermediate.dense.weight`), get(`${p}intermediate.dense.bias`), I, H, { gamma: attnGamma, beta: attnBeta });
      linear(LINEAR.FFN_OUT, l, get(`${p}output.dense.weight`), get(`${p}output.dense.bias`), H, I, null);
      lnGamma = get(`${p}output.LayerNorm.weight`);
      lnBeta = get(`${p}output.LayerNorm.bias`);
      add(KIND.OUT_LN_GAMMA, l, lnGamma);
      add(KIND.OUT_LN_BETA, l, lnBeta);
    }

    const done = writer.finish();
    writer = null;
    const seconds = (performance.now() - t0) / 1000;
    onLog(`wrote ${output}: ${done.bytes} bytes in ${seconds.toFixed(2)} s`);
    return {
      output, bytes: done.bytes, dtype, config: describeConfig(parseConfig(configBytes)), metadata, warnings, seconds,
      sections: done.sections, vocabulary: pruned?.summary ?? null,
    };
  } catch (e) {
    writer?.abort();
    throw e;
  } finally {
    store.close();
  }
}

/**
 * convert --vocab-from: tokenizes the corpus with the model's full tokenizer (the shipped C code, in wasm), keeps what
 * it produces (js/convert/vocab.js) and returns the pruned tokenizer blob, the embedding rows and map, and the summary
 * METADATA.vocabulary records.
 */
async function pruneVocabulary(folder, file, { chars, drop }, embDtype, wasm, onLog) {
  const m = folder.model;
  const vocab = vocabularyOf(folder.tokenizerJson);
  const prefixes = [folder.prompts.query, folder.prompts.passage];
  let corpus;
  try {
    corpus = await corpusIds(file, folder.tokenizer, { numIds: vocab.numIds, prefixes, wasm });
  } catch (e) {
    throw new Error(`vocabulary corpus ${file}: ${e.message}`, { cause: e });
  }
  if (corpus.texts === 0) throw new Error(`vocabulary corpus ${file}: no texts`);
  const kept = keptIds(vocab, corpus.seen, { chars });
  const tokenizer = tokenizerSectionFromJson(folder.tokenizerJson, { kept, dropPruned: drop });
  const { rows, map } = embeddingRows(kept, m.vocabSize, vocab.unkId);
  const H = m.hidden;
  const rowBytes = embDtype === 'q4' ? Math.ceil(H / 2) + 8 * Math.ceil(H / 32) : embDtype === 'int8' ? H + 4 : H * (embDtype === 'f16' ? 2 : 4);
  let seenPieces = 0;
  for (let id = 0; id < vocab.numIds; id++) seenPieces += corpus.seen[id];
  const summary = {
    corpus: path.basename(file),
    corpus_texts: corpus.texts,
    prefixes: prefixes.filter((p) => typeof p === 'string' && p),
    pieces: vocab.pieces,
    corpus_pieces: seenPieces,
    one_character_pieces: chars === 'all' ? 'all kept' : 'as the corpus',
    // flagged: still in the tokenizer, which counts the texts that needed one (model.stats); dropped: left out
    pruned_pieces: drop ? 'dropped' : 'flagged',
    kept: rows.length,
    rows: m.vocabSize,
    bytes_saved: (m.vocabSize - rows.length) * rowBytes - 4 * m.vocabSize + folder.tokenizer.length - tokenizer.length,
  };
  onLog(`vocabulary: ${rows.length} of ${m.vocabSize} ids kept (${seenPieces} produced by ${corpus.texts} texts of ${summary.corpus}), ${(summary.bytes_saved / 1e6).toFixed(1)} MB saved`);
  return { tokenizer, rows, map, summary };
}

function describeQuantization(dtype, embDtype, alpha, actBits, group) {
  const emb = { f32: 'f32', f16: 'f16 (round to nearest even)', int8: 'int8, symmetric per row (round half away from zero) + f32 row scales',
    q4: 'q4, unsigned 4-bit per group of 32 along H with f32 scale and min (value = q * scale + min)' }[embDtype];
  if (dtype !== 'int8') return { linears: dtype === 'f16' ? 'f16 (round to nearest even)' : 'f32 (none)', word_embeddings: emb };
  return {
    linears: `int8, symmetric per output channel${group ? ` and group of ${group} inputs` : ''} after dividing input channel k by in_scale[k] (round half away from zero, |q| <= 127), 4x8 packed panels; all-zero groups have scale 0`,
    activations: `int${actBits} per token${group ? ` and group of ${group} inputs` : ''}, symmetric, at run time`,
    in_scale: {
      method: 'data-free SmoothQuant from the LayerNorm feeding the linear: mag = 3|gamma| + |beta|, s = mag^alpha / max_n|W|^(1-alpha), in_scale = 1/s scaled to geometric mean 1',
      alpha,
      applied_to: alpha > 0 ? ['QKV', 'FFN_IN'] : [],
    },
    word_embeddings: emb,
  };
}

/** Parsed config with readable enum names added. */
function describeConfig(c) {
  return {
    ...c,
    weightDtypeName: DTYPE_NAMES[c.weightDtype], embDtypeName: DTYPE_NAMES[c.embDtype],
    poolingName: c.pooling === POOLING.CLS ? 'cls' : 'mean', metricName: c.metric === METRIC.DOT ? 'dot' : 'cosine',
  };
}
