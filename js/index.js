// wembed: sentence embeddings in wasm, the same API in Node, browsers, workers and extensions.
//
//   const model = await load('model.wemb', { onProgress });        // path, URL, bytes, Response or stream
//   const vectors = await model.embed(['a text', 'another']);      // Float32Array(model.dim) per text
//   const scores = await model.score('query', ['doc 1', 'doc 2']); // cosine or dot, the model's default
//   model.dispose();
import { Core, compileWasm, sharedMemoryWorks } from './core.js';
import { Pool, Team } from './pool.js';
import { crc32 } from './crc32.js';
import { openSource } from './sources.js';

const HEADER = 64;
const CHUNK_TEXTS = 32;       // texts per call into the module: the granularity of progress and cancellation
const YIELD_EVERY_MS = 30;    // hand the event loop back this often during a long batch

function abortError(signal) {
  if (signal.reason instanceof Error) return signal.reason;
  const e = new Error('wembed: aborted');
  e.name = 'AbortError';
  return e;
}

function checkSignal(signal) {
  if (signal != null && typeof signal.aborted !== 'boolean') throw new TypeError('wembed: signal must be an AbortSignal');
  if (signal?.aborted) throw abortError(signal);
}

const yieldToEventLoop = () => new Promise((resolve) => setTimeout(resolve, 0));

function totalSizeOf(header) {
  const magic = String.fromCharCode(...header.subarray(0, 4));
  if (magic !== 'WEMB') throw new Error(`wembed: not a .wemb file (wrong magic ${JSON.stringify(magic)}, expected "WEMB")`);
  const dv = new DataView(header.buffer, header.byteOffset, HEADER);
  // The size decides how much memory to reserve: trust it only once the header's own CRC agrees.
  const crc = crc32(header.subarray(28, HEADER), crc32(header.subarray(0, 24)));
  if (crc !== dv.getUint32(24, true)) {
    throw new Error(`wembed: corrupt .wemb header: CRC-32 expected ${dv.getUint32(24, true).toString(16).padStart(8, '0')}, got ${crc.toString(16).padStart(8, '0')}`);
  }
  const total = dv.getBigUint64(8, true);
  if (total < BigInt(HEADER) || total > 2n ** 31n) throw new Error(`wembed: corrupt .wemb header: total size ${total} is impossible`);
  return Number(total);
}

/**
 * Loads a .wemb model. Its bytes are copied straight into the model's wasm memory as they arrive (no second
 * copy in the JS heap); each section is checked (bounds, CRC-32) as soon as it is complete, so the model is
 * ready right after the last byte.
 * @param {string|URL|Uint8Array|ArrayBuffer|Response|ReadableStream<Uint8Array>|AsyncIterable<Uint8Array>} source
 * @param {{ onProgress?: (p: { loaded: number, total: number }) => void, signal?: AbortSignal,
 *           wasm?: string|URL|Uint8Array|ArrayBuffer|WebAssembly.Module, threads?: number }} [options]
 *   threads: embed on this many threads (default 1): the calling one plus threads - 1 workers (js/pool.js). Where
 *   SharedArrayBuffer works (Node; cross-origin isolated pages) they share the model and split every op, so
 *   single texts get faster too (info.thread_mode 'shared'); elsewhere each worker holds a copy of the model and
 *   only batches are split ('copies').
 * @returns {Promise<Model>}
 */
export async function load(source, options = {}) {
  if (options === null || typeof options !== 'object') throw new TypeError('wembed: load options must be an object');
  const { onProgress, signal, wasm, threads = 1 } = options;
  if (onProgress !== undefined && typeof onProgress !== 'function') throw new TypeError('wembed: onProgress must be a function');
  if (!Number.isInteger(threads) || threads < 1 || threads > 64) throw new TypeError('wembed: threads must be an integer from 1 to 64');
  checkSignal(signal);
  const module = compileWasm(wasm, { shared: threads > 1 && sharedMemoryWorks() });
  const [core, src] = await Promise.all([module.then(Core.create), openSource(source, signal)]);
  let head = new Uint8Array(0), total = -1, base = 0, loaded = 0, ready = false, pool = null;
  try {
    for await (let chunk of src.chunks) {
      checkSignal(signal);
      if (total < 0) {  // gather the 64-byte header to learn the size before reserving memory
        const h = new Uint8Array(head.length + chunk.length);
        h.set(head);
        h.set(chunk, head.length);
        if (h.length < HEADER) { head = h; continue; }
        total = totalSizeOf(h);
        if (src.total >= 0 && src.total !== total) {
          throw new Error(`wembed: truncated or padded .wemb: the header says ${total} bytes, the source has ${src.total}`);
        }
        base = core.open(total);
        chunk = h;
        head = null;
      }
      if (loaded + chunk.length > total) throw new Error(`wembed: the stream has more bytes than the header's total size (${total})`);
      core.u8.set(chunk, base + loaded);
      loaded += chunk.length;
      ready = core.feed(loaded);
      onProgress?.({ loaded, total });
    }
    if (total < 0) throw new Error(`wembed: not a .wemb file (${head.length} bytes; the header alone is ${HEADER})`);
    if (!ready) throw new Error(`wembed: truncated .wemb: got ${loaded} of ${total} bytes`);
    if (threads > 1) {
      pool = core.shared ? await Team.create(threads - 1, await module, core)
        : await Pool.create(threads - 1, await module, core.fileBytes());
      checkSignal(signal);
    }
  } catch (e) {
    core.close();  // before pool.close(): wm_close is what stops a Team's helpers
    pool?.close();
    throw e;
  }
  return new Model(core, core.metadata(base), pool);
}

function strings(texts, what) {
  if (!Array.isArray(texts)) throw new TypeError(`wembed: ${what} must be an array of strings`);
  texts.forEach((t, i) => {
    if (typeof t !== 'string') throw new TypeError(`wembed: ${what}[${i}] is ${t === null ? 'null' : typeof t}, not a string`);
  });
  return texts;
}

const POOLING = { cls: 1, mean: 2 };

export class Model {
  #core;
  #pool;
  #queue = Promise.resolve();
  #prefixes;
  #texts = 0;
  #prunedTexts = 0;
  #countsPruned = true;

  /**
   * @param {Core} core a loaded core (use load()); @param {object} metadata the file's METADATA
   * @param {Pool|Team} [pool] worker threads holding copies of the same model, or helpers on its memory
   */
  constructor(core, metadata = {}, pool = null) {
    this.#core = core;
    this.#pool = pool;
    const { embedding_rows: rows, ...c } = core.info();
    const pruned = metadata.vocabulary && typeof metadata.vocabulary === 'object' ? metadata.vocabulary : {};
    this.#countsPruned = pruned.pruned_pieces !== 'dropped';  // convert --vocab-drop-pruned: nothing left to tell
    /** Model facts: name, dim, layers, heads, hidden, intermediate, vocab, vocab_kept, vocab_corpus, max_positions,
     * max_tokens, pooling, normalize, metric, dtype, embedding_dtype, size (bytes of the .wemb), source, converter. */
    const prompts = metadata.prompts && typeof metadata.prompts === 'object' ? metadata.prompts : {};
    /** Text the model expects before queries and passages (e5: "query: " / "passage: "); '' if none. */
    this.#prefixes = Object.freeze({
      query: typeof prompts.query === 'string' ? prompts.query : '',
      passage: typeof prompts.passage === 'string' ? prompts.passage : '',
    });
    this.info = Object.freeze({
      name: typeof metadata.name === 'string' ? metadata.name : '',
      ...c,
      // vocab (from the C info): token ids; vocab_kept: ids with their own embedding row (fewer when convert
      // --vocab-from pruned the vocabulary), vocab_corpus: that corpus file's name (null if not pruned)
      vocab_kept: rows ?? c.vocab,
      vocab_corpus: typeof pruned.corpus === 'string' ? pruned.corpus : null,
      prefixes: this.#prefixes,
      threads: 1 + (pool ? pool.threads.length : 0),
      // 'shared': one copy of the model, every op split across threads; 'copies': a copy per thread, batches split
      // across texts (no SharedArrayBuffer here); 'single': one thread
      thread_mode: pool instanceof Team ? 'shared' : pool ? 'copies' : 'single',
      ...(typeof metadata.source === 'string' && { source: metadata.source }),
      ...(typeof metadata.converter === 'string' && { converter: metadata.converter }),
    });
    /** Embedding dimension. */
    this.dim = c.dim;
  }

  /**
   * Texts this model has tokenized (embed, score, pipeline, tokenize), and how many of them a pruned vocabulary
   * tokenized differently from the full model: some word needed a piece the corpus never produced (always 0 when
   * info.vocab_corpus is null; null when the model was converted with --vocab-drop-pruned and cannot tell).
   * @returns {{ texts: number, prunedTexts: number | null }}
   */
  get stats() {
    return { texts: this.#texts, prunedTexts: this.#countsPruned ? this.#prunedTexts : null };
  }

  // Runs one call into the module and counts its texts (n) and the pruned-vocabulary hits among them.
  #counted(core, n, fn) {
    const before = core.prunedTexts();
    const out = fn();
    this.#texts += n;
    this.#prunedTexts += (core.prunedTexts() - before) >>> 0;
    return out;
  }

  #live() {
    if (!this.#core) throw new Error('wembed: model is disposed');
    return this.#core;
  }

  // Runs fn after every call queued before it; calls never interleave inside the module.
  #enqueue(fn) {
    const run = this.#queue.then(fn);
    this.#queue = run.catch(() => {});
    return run;
  }

  #embedOptions({ pooling, normalize, maxTokens } = {}) {
    if (pooling !== undefined && !(pooling in POOLING)) throw new TypeError(`wembed: pooling must be 'cls' or 'mean', got ${JSON.stringify(pooling)}`);
    if (normalize !== undefined && typeof normalize !== 'boolean') throw new TypeError('wembed: normalize must be a boolean');
    if (maxTokens !== undefined && !Number.isInteger(maxTokens)) throw new TypeError('wembed: maxTokens must be an integer');
    return { pooling: pooling ? POOLING[pooling] : 0, normalize: normalize === undefined ? -1 : +normalize, maxTokens: maxTokens ?? 0 };
  }

  #prefix(kind) {
    if (kind === undefined) return '';
    if (kind !== 'query' && kind !== 'passage') throw new TypeError(`wembed: kind must be 'query' or 'passage', got ${JSON.stringify(kind)}`);
    return this.#prefixes[kind];
  }

  /**
   * Embeds texts: one Float32Array(dim) per text, in order (a single string gives a single Float32Array).
   * Texts longer than the token limit are truncated. Pooling and normalization default to the model's.
   * kind 'query' | 'passage' puts the model's prefix before each text (model.info.prefixes; e5's "query: ").
   * @param {string|string[]} texts
   * @param {{ kind?: 'query'|'passage', pooling?: 'cls'|'mean', normalize?: boolean, maxTokens?: number,
   *           signal?: AbortSignal, onProgress?: (p: { done: number, total: number }) => void }} [options]
   */
  async embed(texts, options = {}) {
    const single = typeof texts === 'string';
    const prefix = this.#prefix(options.kind);
    let list = single ? [texts] : strings(texts, 'texts');
    if (prefix) list = list.map((t) => prefix + t);
    const opts = this.#embedOptions(options);
    const { signal, onProgress } = options;
    checkSignal(signal);
    const core = this.#live();
    const pool = this.#pool;
    if (pool instanceof Pool && list.length > 1) {
      // at least four chunks per thread, so that the last chunks do not leave the others idle for long
      const threads = pool.threads.length + 1;
      const size = Math.max(1, Math.min(CHUNK_TEXTS, Math.ceil(list.length / (4 * threads))));
      const chunks = [];
      for (let i = 0; i < list.length; i += size) chunks.push(list.slice(i, i + size));
      const rows = await this.#enqueue(async () => {
        const parts = new Array(chunks.length);
        let done = 0;
        const local = (texts) => this.#counted(core, texts.length, () => core.embed(texts, opts));
        await pool.run(chunks, opts, this.dim, local, (i, r, pruned) => {
          if (pruned !== undefined) {  // a worker's chunk (the calling thread's are counted by #counted)
            this.#texts += r.length;
            this.#prunedTexts += pruned;
          }
          parts[i] = r;
          done += r.length;
          onProgress?.({ done, total: list.length });
        }, () => checkSignal(signal));
        return parts.flat();
      });
      return single ? rows[0] : rows;
    }
    const rows = await this.#enqueue(async () => {
      const out = [];
      let last = Date.now();
      for (let i = 0; i < list.length; i += CHUNK_TEXTS) {
        checkSignal(signal);
        const chunk = list.slice(i, i + CHUNK_TEXTS);
        out.push(...this.#counted(core, chunk.length, () => core.embed(chunk, opts)));
        onProgress?.({ done: out.length, total: list.length });
        if (i + CHUNK_TEXTS < list.length && (signal || Date.now() - last > YIELD_EVERY_MS)) {
          await yieldToEventLoop();
          last = Date.now();
        }
      }
      return out;
    });
    return single ? rows[0] : rows;
  }

  /**
   * Scores candidates against a query: cosine similarity or dot product (default: the model's metric). The
   * query gets the model's query prefix and the candidates its passage prefix (model.info.prefixes).
   * @param {string} query
   * @param {string[]} candidates
   * @param {{ metric?: 'cosine'|'dot', signal?: AbortSignal }} [options]
   * @returns {Promise<number[]>}
   */
  async score(query, candidates, { metric = this.info.metric, signal } = {}) {
    if (typeof query !== 'string') throw new TypeError('wembed: score(query, candidates): query must be a string');
    strings(candidates, 'candidates');
    if (metric !== 'cosine' && metric !== 'dot') throw new TypeError(`wembed: metric must be 'cosine' or 'dot', got ${JSON.stringify(metric)}`);
    const { query: qp, passage: pp } = this.#prefixes;
    const [q, ...c] = await this.embed([qp + query, ...candidates.map((t) => pp + t)], { signal });
    return c.map((v) => (metric === 'dot' ? dot(q, v) : cosine(q, v)));
  }

  /**
   * The ModelScope sentence-embedding pipeline form: text_embedding = the vectors of source_sentence followed
   * by sentences_to_compare, as the model defines them; scores = dot products of the first source sentence's
   * vector with each compared sentence's vector ([] without sentences_to_compare). Every sentence gets the
   * model's query prefix, if it has one (the e5 model card's rule for symmetric tasks).
   * @param {{ source_sentence: string[], sentences_to_compare?: string[] }} input
   */
  async pipeline(input) {
    if (!input || typeof input !== 'object') throw new TypeError('wembed: pipeline(input) takes { source_sentence, sentences_to_compare }');
    const src = strings(input.source_sentence, 'source_sentence');
    const cmp = input.sentences_to_compare === undefined ? [] : strings(input.sentences_to_compare, 'sentences_to_compare');
    if (src.length === 0) throw new TypeError('wembed: pipeline: source_sentence is empty');
    const text_embedding = await this.embed([...src, ...cmp], { kind: this.#prefixes.query ? 'query' : undefined });
    const scores = cmp.length ? text_embedding.slice(src.length).map((v) => dot(text_embedding[0], v)) : [];
    return { text_embedding, scores };
  }

  /**
   * Token ids of text with the special tokens, truncated to the model's limit (or maxTokens).
   * @param {string} text
   * @param {{ maxTokens?: number }} [options]
   * @returns {number[]}
   */
  tokenize(text, { maxTokens } = {}) {
    if (typeof text !== 'string') throw new TypeError('wembed: tokenize(text) takes a string');
    if (maxTokens !== undefined && !Number.isInteger(maxTokens)) throw new TypeError('wembed: maxTokens must be an integer');
    const core = this.#live();
    return this.#counted(core, 1, () => core.tokenize(text, maxTokens ?? 0));
  }

  /** Frees the model's memory. Calls queued before still complete; later calls throw. */
  dispose() {
    const core = this.#core, pool = this.#pool;
    if (!core) return;
    this.#core = null;
    this.#pool = null;
    this.#queue.then(() => {
      core.close();
      pool?.close();
    });
  }
}

function dot(a, b) {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

function cosine(a, b) {
  const n = Math.sqrt(dot(a, a) * dot(b, b));
  return n ? dot(a, b) / n : 0;
}
