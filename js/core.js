// The wasm boundary: instantiates dist/wembed.wasm (one instance = one linear memory = one model), moves
// bytes and results across, and turns C errors into Errors. Knows nothing of user conventions.

const WASM_URL = new URL('../dist/wembed.wasm', import.meta.url);
const isNode = typeof process !== 'undefined' && !!process.versions?.node && typeof window === 'undefined';

let defaultModule = null;

async function compileFrom(source) {
  if (source instanceof WebAssembly.Module) return source;
  if (source instanceof Uint8Array || source instanceof ArrayBuffer) return WebAssembly.compile(source);
  const isPath = isNode && typeof source === 'string' && !/^[a-z][a-z0-9+.-]+:/i.test(source);
  const url = isPath ? null : source ? new URL(source, globalThis.location?.href) : WASM_URL;
  if (isPath || (isNode && url.protocol === 'file:')) {
    const { readFile } = await import(/* webpackIgnore: true */ /* @vite-ignore */ 'node:fs/promises');
    return WebAssembly.compile(await readFile(url ?? source));
  }
  const res = await fetch(url);
  if (!res.ok) throw new Error(`wembed: cannot fetch the wasm module ${url}: HTTP ${res.status}`);
  // compileStreaming needs the application/wasm MIME type; fall back for servers that do not send it.
  if (WebAssembly.compileStreaming && res.headers.get('content-type')?.startsWith('application/wasm')) {
    return WebAssembly.compileStreaming(res);
  }
  return WebAssembly.compile(await res.arrayBuffer());
}

/**
 * Compiles the wasm module: by default dist/wembed.wasm next to this package, once per process (instances are
 * per model). source may be a URL, the bytes, or a compiled WebAssembly.Module (bundlers, extensions).
 */
export function compileWasm(source) {
  if (source) return compileFrom(source);
  if (!defaultModule) {
    defaultModule = compileFrom(null);
    defaultModule.catch(() => { defaultModule = null; });
  }
  return defaultModule;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** One instance of the C library with its own memory: the C API of src/wembed.h, with JS types. */
export class Core {
  static async create(wasmSource) {
    const instance = await WebAssembly.instantiate(await compileWasm(wasmSource), {
      // Standalone emscripten modules with memory growth import only this notification; views are refreshed
      // on every access instead.
      env: { emscripten_notify_memory_growth() {} },
    });
    return new Core(instance.exports);
  }

  constructor(exports) {
    this.x = exports;
    exports._initialize?.();
    this.model = 0;
  }

  get u8() { return new Uint8Array(this.x.memory.buffer); }

  cString(ptr) {
    const u8 = this.u8;
    let end = ptr;
    while (u8[end]) end++;
    return decoder.decode(u8.subarray(ptr, end));
  }

  error(prefix) {
    const msg = this.cString(this.x.wm_last_error(this.model));
    return new Error(prefix ? `${prefix}: ${msg}` : msg);
  }

  malloc(n) {
    const p = this.x.malloc(Math.max(1, n));
    if (!p) throw new Error(`wembed: out of wasm memory allocating ${n} bytes`);
    return p;
  }

  /** Reserves the model's final layout; returns the address where file byte 0 goes. */
  open(totalSize) {
    this.model = this.x.wm_open(BigInt(totalSize));
    if (!this.model) throw this.error('wembed: cannot open model');
    this.total = totalSize;
    return (this.base = this.x.wm_buffer(this.model));
  }

  /** The loaded .wemb file's bytes, where they live in wasm memory (a view: copy before the memory changes). */
  fileBytes() { return this.u8.subarray(this.base, this.base + this.total); }

  /** Bytes [0, present) are in place; returns true when the model is ready. Throws on corrupt data. */
  feed(present) {
    const st = this.x.wm_feed(this.model, BigInt(present));
    if (st < 0) throw this.error('wembed');
    return st === 1;
  }

  info() { return (this.cachedInfo ??= JSON.parse(this.cString(this.x.wm_info(this.model)))); }

  /** The METADATA section's JSON (name, source, converter, ...), read where it landed; {} if absent or invalid. */
  metadata(base) {
    const dv = new DataView(this.x.memory.buffer);
    const n = dv.getUint32(base + 16, true);
    for (let i = 0; i < n; i++) {
      const e = base + 64 + 32 * i;
      if (dv.getUint32(e, true) !== 2) continue;
      const off = dv.getUint32(e + 8, true), size = dv.getUint32(e + 16, true);
      try {
        const meta = JSON.parse(decoder.decode(this.u8.subarray(base + off, base + off + size)));
        return meta && typeof meta === 'object' && !Array.isArray(meta) ? meta : {};
      } catch {
        return {};  // informative only: a malformed METADATA section does not stop the model
      }
    }
    return {};
  }
  dim() { return this.x.wm_dim(this.model); }

  /** Texts so far whose tokenization a pruned vocabulary changed (wm_pruned_texts; 0 when not pruned). */
  prunedTexts() { return this.x.wm_pruned_texts(this.model) >>> 0; }

  /** Writes UTF-8 of texts back to back into wasm memory: [bytesPtr, offsetsPtr]. Caller frees both. */
  packTexts(texts) {
    let cap = 0;
    for (const t of texts) cap += t.length * 3;
    const bytes = this.malloc(cap);
    const offsets = this.malloc(4 * (texts.length + 1));
    let at = 0;
    const offs = new Uint32Array(texts.length + 1);
    for (let i = 0; i < texts.length; i++) {
      offs[i] = at;
      at += encoder.encodeInto(texts[i], this.u8.subarray(bytes + at, bytes + cap)).written;
    }
    offs[texts.length] = at;
    this.u8.set(new Uint8Array(offs.buffer), offsets);
    return [bytes, offsets];
  }

  tokenize(text, maxTokens = 0) {
    const [bytes, offsets] = this.packTexts([text]);
    const cap = Math.max(maxTokens || this.info().max_positions, 2);
    const ids = this.malloc(4 * cap);
    try {
      const len = new Uint32Array(this.x.memory.buffer, offsets + 4, 1)[0];
      const n = this.x.wm_tokenize(this.model, bytes, len, ids, maxTokens);
      if (n < 0) throw this.error('wembed');
      return Array.from(new Int32Array(this.x.memory.buffer, ids, n));
    } finally {
      this.x.free(bytes); this.x.free(offsets); this.x.free(ids);
    }
  }

  /** Embeds texts in one call into the module; returns one Float32Array(dim) per text. */
  embed(texts, { pooling = 0, normalize = -1, maxTokens = 0 } = {}) {
    const dim = this.dim();
    const [bytes, offsets] = this.packTexts(texts);
    const opt = this.malloc(12);
    const out = this.malloc(4 * dim * texts.length);
    try {
      new Int32Array(this.x.memory.buffer, opt, 3).set([pooling, normalize, maxTokens]);
      if (this.x.wm_embed(this.model, bytes, offsets, texts.length, opt, out) !== 0) throw this.error('wembed');
      const all = new Float32Array(this.x.memory.buffer, out, dim * texts.length).slice();
      const rows = [];
      for (let i = 0; i < texts.length; i++) rows.push(all.subarray(i * dim, (i + 1) * dim));
      return rows;
    } finally {
      this.x.free(bytes); this.x.free(offsets); this.x.free(opt); this.x.free(out);
    }
  }

  /** Frees the model inside the module and drops the instance, so its memory can be reclaimed. */
  close() {
    if (this.model) this.x.wm_close(this.model);
    this.model = 0;
    this.x = null;
  }
}
