// The wasm boundary: instantiates the wasm module (one memory = one model; with threads on a shared memory, one
// instance per thread on it), moves bytes and results across, and turns C errors into Errors. Knows nothing of user conventions.
//
// Four builds of the same C (Makefile), which embed bit-identically:
//   dist/wembed.wasm            SIMD128
//   dist/wembed-relaxed.wasm    the int8 GEMM in relaxed SIMD: faster where the engine runs relaxed SIMD right,
//                               which is checked, not assumed: Node 20 validates relaxed SIMD under a flag but
//                               computes i32x4.relaxed_dot_i8x16_i7x16_add_s wrongly (twice the dot, no addend)
//   dist/wembed-mt.wasm, dist/wembed-relaxed-mt.wasm
//                               the same two on an imported shared memory, for threads (js/pool.js, Team)

const WASM_URL = new URL('../dist/wembed.wasm', import.meta.url);
const WASM_RELAXED_URL = new URL('../dist/wembed-relaxed.wasm', import.meta.url);
const WASM_MT_URL = new URL('../dist/wembed-mt.wasm', import.meta.url);
const WASM_RELAXED_MT_URL = new URL('../dist/wembed-relaxed-mt.wasm', import.meta.url);
export const isNode = typeof process !== 'undefined' && !!process.versions?.node && typeof window === 'undefined';

const defaultModules = { false: null, true: null };  // by shared
let relaxedOk = null;

// The probe: (func (result i32) (i32x4.all_true (i32x4.eq (i32x4.relaxed_dot_i8x16_i7x16_add_s A B C) WANT))),
// hand-assembled. A has negative bytes and B only bytes in [0, 127] (where the result is defined exactly); C is
// non-zero; WANT is computed here.
const PROBE_A = [-128, 127, -1, 5, 100, -100, 3, -7, 0, 1, -2, 3, 127, 127, -128, -128];
const PROBE_B = [127, 1, 63, 0, 2, 3, 127, 64, 5, 6, 7, 8, 1, 127, 0, 99];
const PROBE_C = [1000, -1000, 123456, -7];

function probeModule() {
  const want = PROBE_C.map((c, i) => PROBE_A.slice(4 * i, 4 * i + 4).reduce((s, a, j) => s + a * PROBE_B[4 * i + j], c));
  const i32x4 = (v) => { const dv = new DataView(new ArrayBuffer(16)); v.forEach((x, i) => dv.setInt32(4 * i, x, true)); return [...new Uint8Array(dv.buffer)]; };
  const konst = (bytes) => [0xfd, 0x0c, ...bytes.map((b) => b & 0xff)];  // v128.const
  const body = [0x00, ...konst(PROBE_A), ...konst(PROBE_B), ...konst(i32x4(PROBE_C)), 0xfd, 0x93, 0x02,  // relaxed dot
    ...konst(i32x4(want)), 0xfd, 0x37, 0xfd, 0xa3, 0x01, 0x0b];  // i32x4.eq, i32x4.all_true, end
  return new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7f,   // type 0: () -> i32
    0x03, 0x02, 0x01, 0x00,                     // function 0: type 0
    0x07, 0x05, 0x01, 0x01, 0x66, 0x00, 0x00,   // export "f": function 0
    0x0a, body.length + 2, 0x01, body.length, ...body]);
}

/** Whether this engine runs relaxed SIMD and computes its int8 dot product right (checked once). */
export function relaxedSimdWorks() {
  if (relaxedOk === null) {
    try {
      const bytes = probeModule();
      relaxedOk = WebAssembly.validate(bytes) && new WebAssembly.Instance(new WebAssembly.Module(bytes)).exports.f() === 1;
    } catch {
      relaxedOk = false;
    }
  }
  return relaxedOk;
}

async function compileFrom(source) {
  if (source instanceof WebAssembly.Module) return source;
  if (source instanceof Uint8Array || source instanceof ArrayBuffer) return WebAssembly.compile(source);
  const isPath = isNode && typeof source === 'string' && !/^[a-z][a-z0-9+.-]+:/i.test(source);
  const url = isPath ? null : new URL(source, globalThis.location?.href);
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
 * Whether this context can share a wasm memory between threads: SharedArrayBuffer exists and, in a browser, the
 * page is cross-origin isolated (COOP + COEP headers: README, "Threads" in docs/architecture.md).
 */
export function sharedMemoryWorks() {
  if (typeof SharedArrayBuffer !== 'function') return false;
  if (!isNode && globalThis.crossOriginIsolated !== true) return false;
  try {
    return new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true }).buffer instanceof SharedArrayBuffer;
  } catch {
    return false;
  }
}

/**
 * Compiles the wasm module: by default the one next to this package that suits the engine (relaxed where
 * relaxedSimdWorks(), SIMD128 otherwise, also if the relaxed one cannot be fetched or compiled; on a shared memory
 * when `shared`), once per process (instances are per model). source may be a URL, the bytes, or a compiled
 * WebAssembly.Module (bundlers, extensions); it is used as given.
 */
export function compileWasm(source, { shared = false } = {}) {
  if (source) return compileFrom(source);
  if (!defaultModules[shared]) {
    const [relaxed, plain] = shared ? [WASM_RELAXED_MT_URL, WASM_MT_URL] : [WASM_RELAXED_URL, WASM_URL];
    const p = relaxedSimdWorks() ? compileFrom(relaxed).catch(() => compileFrom(plain)) : compileFrom(plain);
    defaultModules[shared] = p;
    p.catch(() => { defaultModules[shared] = null; });
  }
  return defaultModules[shared];
}

// A new shared memory for a shared-memory build (one that imports its memory instead of defining it: 4 MiB to start,
// as wasm-ld's --initial-memory, up to 4 GiB like the others); null for the other builds.
const memoryFor = (module) => (WebAssembly.Module.imports(module).some((i) => i.kind === 'memory')
  ? new WebAssembly.Memory({ initial: 64, maximum: 65536, shared: true }) : null);

const encoder = new TextEncoder();
const decoder = new TextDecoder();

// Standalone emscripten modules with memory growth import only this notification (views are refreshed on every
// access instead); the shared-memory builds import their memory too (env.memory).
export const imports = (memory) => ({ env: { emscripten_notify_memory_growth() {}, ...(memory && { memory }) } });

/** A flat Float32Array of n rows of dim values as n views, one per row. */
export function splitRows(flat, n, dim) {
  const rows = [];
  for (let i = 0; i < n; i++) rows.push(flat.subarray(i * dim, (i + 1) * dim));
  return rows;
}

/** One instance of the C library with its memory: the C API of src/wembed.h, with JS types. */
export class Core {
  /** From a compiled module (compileWasm); a shared-memory build gets a new shared memory (core.shared). */
  static async create(module) {
    const memory = memoryFor(module);
    const instance = await WebAssembly.instantiate(module, imports(memory));
    return new Core(instance.exports, memory);
  }

  /** Synchronously, from an already compiled module (a pool's worker, js/worker.js). */
  static fromModule(module) {
    const memory = memoryFor(module);
    return new Core(new WebAssembly.Instance(module, imports(memory)).exports, memory);
  }

  constructor(exports, memory = null) {
    this.x = exports;
    this.memory = memory ?? exports.memory;
    this.shared = !!memory;
    exports._initialize?.();
    this.model = 0;
  }

  get u8() { return new Uint8Array(this.memory.buffer); }

  cString(ptr) {
    const u8 = this.u8;
    let end = ptr;
    while (u8[end]) end++;
    return decoder.decode(u8.slice(ptr, end));  // a copy: TextDecoder refuses views of shared memory
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

  /**
   * The loaded .wemb file's bytes, where they live in wasm memory (a view: copy before the memory changes). Only
   * until the first embed: the SIMD128 build then reorders the int8 weights in place (src/encoder/bert.c).
   */
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
    const dv = new DataView(this.memory.buffer);
    const n = dv.getUint32(base + 16, true);
    for (let i = 0; i < n; i++) {
      const e = base + 64 + 32 * i;
      if (dv.getUint32(e, true) !== 2) continue;
      const off = dv.getUint32(e + 8, true), size = dv.getUint32(e + 16, true);
      try {
        const meta = JSON.parse(decoder.decode(this.u8.slice(base + off, base + off + size)));
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
    // browsers' encodeInto refuses a view of shared memory: there, encode next door and copy once
    const dst = this.shared ? new Uint8Array(cap) : this.u8.subarray(bytes, bytes + cap);
    for (let i = 0; i < texts.length; i++) {
      offs[i] = at;
      at += encoder.encodeInto(texts[i], dst.subarray(at)).written;
    }
    offs[texts.length] = at;
    if (this.shared) this.u8.set(dst.subarray(0, at), bytes);
    this.u8.set(new Uint8Array(offs.buffer), offsets);
    return [bytes, offsets];
  }

  tokenize(text, maxTokens = 0) {
    const [bytes, offsets] = this.packTexts([text]);
    const cap = Math.max(maxTokens || this.info().max_positions, 2);
    const ids = this.malloc(4 * cap);
    try {
      const len = new Uint32Array(this.memory.buffer, offsets + 4, 1)[0];
      const n = this.x.wm_tokenize(this.model, bytes, len, ids, maxTokens);
      if (n < 0) throw this.error('wembed');
      return Array.from(new Int32Array(this.memory.buffer, ids, n));
    } finally {
      this.x.free(bytes); this.x.free(offsets); this.x.free(ids);
    }
  }

  /** Embeds texts in one call into the module; returns one Float32Array(dim) per text. */
  embed(texts, options) {
    return splitRows(this.embedFlat(texts, options), texts.length, this.dim());
  }

  /** The same vectors as one Float32Array of texts.length * dim values (its own buffer: transferable). */
  embedFlat(texts, { pooling = 0, normalize = -1, maxTokens = 0 } = {}) {
    const dim = this.dim();
    const [bytes, offsets] = this.packTexts(texts);
    const opt = this.malloc(12);
    const out = this.malloc(4 * dim * texts.length);
    try {
      new Int32Array(this.memory.buffer, opt, 3).set([pooling, normalize, maxTokens]);
      if (this.x.wm_embed(this.model, bytes, offsets, texts.length, opt, out) !== 0) throw this.error('wembed');
      return new Float32Array(this.memory.buffer, out, dim * texts.length).slice();
    } finally {
      this.x.free(bytes); this.x.free(offsets); this.x.free(opt); this.x.free(out);
    }
  }

  /**
   * Prepares threads - 1 helpers for this (ready, shared-memory) model: wm_threads. Returns each helper's stack
   * top; a helper's instance sets it, then runs wm_helper until the model is closed (js/pool.js, Team).
   */
  threads(threads) {
    const p = this.x.wm_threads(this.model, threads);
    if (!p) throw this.error('wembed: cannot run on threads');
    return Array.from(new Uint32Array(this.memory.buffer, p, threads - 1));
  }

  /** Frees the model inside the module and drops the instance, so its memory can be reclaimed. */
  close() {
    if (this.model) this.x.wm_close(this.model);
    this.model = 0;
    this.x = null;
  }
}
