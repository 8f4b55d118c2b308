// wembed: sentence embeddings in wasm. The user-facing API: load(source) → Model with embed / score / tokenize.
import { Core } from './core.js';

const isNode = typeof process !== 'undefined' && !!process.versions?.node;
const HEADER = 64;

/** Yields the bytes of a source as Uint8Array chunks. */
async function* chunksOf(source) {
  if (source instanceof Uint8Array) { yield source; return; }
  if (source instanceof ArrayBuffer) { yield new Uint8Array(source); return; }
  if (typeof Response !== 'undefined' && source instanceof Response) source = source.body;
  if (source && typeof source.getReader === 'function') {
    const reader = source.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        yield value;
      }
    } finally { reader.releaseLock(); }
  }
  if (source && typeof source[Symbol.asyncIterator] === 'function') { yield* source; return; }
  const url = source instanceof URL ? source : null;
  if (isNode && (typeof source === 'string' && !/^https?:/.test(source) || url?.protocol === 'file:')) {
    const { createReadStream } = await import('node:fs');
    for await (const c of createReadStream(source, { highWaterMark: 1 << 20 })) yield new Uint8Array(c.buffer, c.byteOffset, c.length);
    return;
  }
  if (typeof source === 'string' || url) {
    const res = await fetch(source);
    if (!res.ok) throw new Error(`wembed: cannot fetch ${source}: HTTP ${res.status}`);
    yield* chunksOf(res.body);
    return;
  }
  throw new TypeError('wembed.load: source must be a path, URL, Uint8Array, ArrayBuffer, Response or ReadableStream');
}

function totalSizeOf(header) {
  const dv = new DataView(header.buffer, header.byteOffset, HEADER);
  if (String.fromCharCode(...header.subarray(0, 4)) !== 'WEMB') throw new Error('wembed: not a .wemb file (wrong magic)');
  const total = dv.getBigUint64(8, true);
  if (total < BigInt(HEADER) || total > 2n ** 31n) throw new Error(`wembed: corrupt .wemb header (total size ${total})`);
  return Number(total);
}

/**
 * Loads a .wemb model, streaming its bytes straight into wasm memory; sections are verified as they complete.
 * @param {string|URL|Uint8Array|ArrayBuffer|Response|ReadableStream} source
 * @param {{onProgress?: (p: {loaded: number, total: number}) => void}} [options]
 */
export async function load(source, { onProgress } = {}) {
  const core = await Core.create();
  let head = new Uint8Array(0), total = -1, base = 0, loaded = 0, ready = false;
  try {
    for await (let chunk of chunksOf(source)) {
      if (total < 0) {
        const h = new Uint8Array(head.length + chunk.length);
        h.set(head); h.set(chunk, head.length);
        if (h.length < HEADER) { head = h; continue; }
        total = totalSizeOf(h);
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
    if (total < 0) throw new Error(`wembed: not a .wemb file (${head.length} bytes, the header alone is ${HEADER})`);
    if (!ready) throw new Error(`wembed: truncated .wemb: got ${loaded} of ${total} bytes`);
  } catch (e) {
    core.close();
    throw e;
  }
  return new Model(core);
}

export class Model {
  #core;
  constructor(core) {
    this.#core = core;
    this.info = core.info();
    this.dim = this.info.dim;
  }

  #live() {
    if (!this.#core) throw new Error('wembed: model is disposed');
    return this.#core;
  }

  /**
   * Embeds texts. Returns one Float32Array(dim) per text, in order.
   * @param {string[]} texts
   * @param {{pooling?: 'cls'|'mean', normalize?: boolean, maxTokens?: number}} [options]
   */
  embed(texts, { pooling, normalize, maxTokens } = {}) {
    if (!Array.isArray(texts) || texts.some((t) => typeof t !== 'string')) throw new TypeError('wembed: embed(texts) takes an array of strings');
    const p = pooling === undefined ? 0 : pooling === 'cls' ? 1 : pooling === 'mean' ? 2 : NaN;
    if (Number.isNaN(p)) throw new TypeError(`wembed: pooling must be 'cls' or 'mean', got ${JSON.stringify(pooling)}`);
    if (maxTokens !== undefined && !Number.isInteger(maxTokens)) throw new TypeError('wembed: maxTokens must be an integer');
    return this.#live().embed(texts, { pooling: p, normalize: normalize === undefined ? -1 : normalize ? 1 : 0, maxTokens: maxTokens ?? 0 });
  }

  /** Token ids of text, special tokens included, truncated to the model's limit (or maxTokens). */
  tokenize(text, { maxTokens } = {}) {
    if (typeof text !== 'string') throw new TypeError('wembed: tokenize(text) takes a string');
    return this.#live().tokenize(text, maxTokens ?? 0);
  }

  /** Scores candidates against query: cosine or dot (default: the model's metric). */
  score(query, candidates, { metric = this.info.metric } = {}) {
    const [q, ...c] = this.embed([query, ...candidates]);
    const dot = (a, b) => { let s = 0; for (let i = 0; i < a.length; i++) s += a[i] * b[i]; return s; };
    if (metric === 'dot') return c.map((v) => dot(q, v));
    if (metric !== 'cosine') throw new TypeError(`wembed: metric must be 'cosine' or 'dot', got ${JSON.stringify(metric)}`);
    const nq = Math.sqrt(dot(q, q));
    return c.map((v) => dot(q, v) / (nq * Math.sqrt(dot(v, v)) || 1));
  }

  dispose() {
    this.#core?.close();
    this.#core = null;
  }
}
