// Every kind of model source, as one stream of Uint8Array chunks: { total (bytes, or -1 if unknown), chunks }.
// Node-only modules are imported lazily and hidden from bundlers, so the same file works in a browser, a worker,
// a bundle and Node.

import { isNode } from './core.js';

function nodeImport(name) {
  return import(/* webpackIgnore: true */ /* @vite-ignore */ name);
}

async function* fromReader(reader) {
  let finished = false;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) { finished = true; return; }
      if (!(value instanceof Uint8Array)) throw new TypeError('wembed: the stream yielded a chunk that is not a Uint8Array');
      yield value;
    }
  } finally {
    // Stopped early (corrupt data, abort, a consumer error): cancel the stream, which also ends its download.
    if (!finished) await reader.cancel().catch(() => {});
    reader.releaseLock?.();
  }
}

async function* fromAsyncIterable(it) {
  for await (const c of it) {
    if (!(c instanceof Uint8Array)) throw new TypeError('wembed: the stream yielded a chunk that is not a Uint8Array');
    yield c;
  }
}

function fromResponse(res, what) {
  if (!res.ok) throw new Error(`wembed: cannot fetch ${what}: HTTP ${res.status} ${res.statusText}`.trimEnd());
  // Content-Length is the transferred size; with a Content-Encoding it is not the file size.
  const len = res.headers.get('content-length');
  const total = len && !res.headers.get('content-encoding') ? Number(len) : -1;
  if (!res.body) throw new Error(`wembed: ${what}: the response has no body`);
  return { total, chunks: fromReader(res.body.getReader()) };
}

/**
 * @param {string|URL|Uint8Array|ArrayBuffer|Response|ReadableStream|AsyncIterable<Uint8Array>} source
 * @param {AbortSignal} [signal]
 */
export async function openSource(source, signal) {
  if (source instanceof Uint8Array) return { total: source.length, chunks: [source] };
  if (source instanceof ArrayBuffer) return { total: source.byteLength, chunks: [new Uint8Array(source)] };
  if (typeof Response !== 'undefined' && source instanceof Response) return fromResponse(source, 'the Response');
  if (source && typeof source.getReader === 'function') return { total: -1, chunks: fromReader(source.getReader()) };
  if (source && typeof source[Symbol.asyncIterator] === 'function' && typeof source !== 'string') {
    return { total: -1, chunks: fromAsyncIterable(source) };
  }
  let url = source instanceof URL ? source : null;
  if (typeof source === 'string') {
    try {
      url = /^[a-z][a-z0-9+.-]*:/i.test(source) && !/^[a-z]:[\\/]/i.test(source) ? new URL(source) : null;
    } catch { url = null; }
    if (!url && !isNode) url = new URL(source, globalThis.location?.href);
  }
  if (isNode && (url ? url.protocol === 'file:' : typeof source === 'string')) {
    const { open } = await nodeImport('node:fs/promises');
    const fh = await open(url ?? source, 'r').catch((e) => {
      throw new Error(`wembed: cannot open ${url ?? source}: ${e.code === 'ENOENT' ? 'no such file' : e.message}`);
    });
    const { size } = await fh.stat();
    async function* read() {
      try {
        const buf = new Uint8Array(1 << 20);
        for (;;) {
          const { bytesRead } = await fh.read(buf, 0, buf.length, null);
          if (bytesRead === 0) return;
          yield buf.subarray(0, bytesRead);  // consumed (copied into wasm memory) before the next read
        }
      } finally {
        await fh.close();
      }
    }
    return { total: size, chunks: read() };
  }
  if (url) {
    const res = await fetch(url, { signal });
    return fromResponse(res, String(url));
  }
  throw new TypeError('wembed: load(source) takes a path, a URL, a Uint8Array, an ArrayBuffer, a Response or a ReadableStream');
}
