// Inputs and outputs of the wembed CLI, streamed: texts are read line by line (txt or JSON lines, from a file
// or stdin) and results are written batch by batch (float32 rows, JSON lines, .npy) to a file or stdout.
// A file output is written to a temporary name beside it and renamed when complete, so a failed or
// interrupted run never leaves a partial file under the requested name.
import fs from 'node:fs';
import { open, rename, stat, unlink } from 'node:fs/promises';
import { once } from 'node:events';
import os from 'node:os';
import path from 'node:path';

/** A problem with the data or the files (exit status 1). */
export class InputError extends Error {}

const ERRNO = {
  ENOENT: 'no such file or directory', EISDIR: 'is a directory', EACCES: 'permission denied', EPERM: 'permission denied',
  ENOTDIR: 'a parent is not a directory', ENOSPC: 'no space left on device', EROFS: 'read-only file system',
  EMFILE: 'too many open files', EEXIST: 'already exists',
};

/** "what: reason" for a system error, without Node's errno prefix. */
export function sysMessage(e, what) {
  const reason = ERRNO[e?.code] ?? e?.message ?? String(e);
  return `${what}: ${reason}`;
}

// --- input ----------------------------------------------------------------------------------------------------

/** Text format from a file name: 'jsonl', 'txt' or null (decide from the first line). */
export function inputFormatOf(file) {
  if (file === '-') return null;
  if (/\.(jsonl|ndjson)$/i.test(file)) return 'jsonl';
  if (/\.txt$/i.test(file)) return 'txt';
  return null;
}

/** Splits a byte stream into lines (UTF-8; "\n" separated; a final line without "\n" counts). */
export async function* lines(stream) {
  const decoder = new TextDecoder('utf-8');
  let buf = '', scan = 0;
  for await (const chunk of stream) {
    buf += decoder.decode(chunk, { stream: true });
    let start = 0, i;
    while ((i = buf.indexOf('\n', Math.max(start, scan))) >= 0) {
      yield buf.slice(start, i);
      start = i + 1;
    }
    buf = buf.slice(start);
    scan = buf.length;
  }
  buf += decoder.decode();
  if (buf.length) yield buf;
}

/** Number of lines of a regular file (for progress totals), or null when it cannot be known cheaply. */
export async function countLines(file) {
  if (file === '-') return null;
  const st = await stat(file).catch(() => null);
  if (!st?.isFile()) return null;
  if (st.size === 0) return 0;
  const fh = await open(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    let n = 0, last = 10;
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, null);
      if (bytesRead === 0) break;
      for (let i = buf.indexOf(10, 0); i >= 0 && i < bytesRead; i = buf.indexOf(10, i + 1)) n++;
      last = buf[bytesRead - 1];
    }
    return last === 10 ? n : n + 1;
  } finally {
    await fh.close();
  }
}

/**
 * Opens a text input: a .txt (one text per line), a .jsonl ({"text": ..., "id"?: ...} per line), or "-" (stdin);
 * stdin and other names are JSON lines when their first line starts with "{". format forces 'txt' or 'jsonl'.
 * Returns { name, records() } where records() yields { text, line, id } (id: the JSON "id" field, if any).
 * Opening checks that a file exists and is readable (an InputError otherwise).
 */
export async function openTexts(file, { format = null, stdin = process.stdin } = {}) {
  const name = file === '-' ? 'stdin' : file;
  let stream;
  if (file === '-') {
    stream = stdin;
  } else {
    let fh;
    try {
      fh = await open(file, 'r');
      if ((await fh.stat()).isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
    } catch (e) {
      await fh?.close();
      throw new InputError(sysMessage(e, `cannot read ${file}`));
    }
    stream = fh.createReadStream({ highWaterMark: 1 << 20 });
  }
  const fixed = format ?? inputFormatOf(file);
  const result = { name, format: fixed };
  result.records = async function* records() {
    let n = 0, fmt = fixed;
    try {
      for await (let l of lines(stream)) {
        n++;
        if (n === 1 && l.charCodeAt(0) === 0xfeff) l = l.slice(1);  // UTF-8 byte-order mark
        if (fmt === null) result.format = fmt = l.startsWith('{') ? 'jsonl' : 'txt';
        if (fmt === 'txt') {
          yield { text: l.endsWith('\r') ? l.slice(0, -1) : l, line: n };
          continue;
        }
        if (!l.trim()) continue;  // blank lines between JSON records
        yield { ...jsonRecord(l, `${name}:${n}`, fixed === null), line: n };
      }
    } catch (e) {
      if (e instanceof InputError) throw e;
      throw new InputError(sysMessage(e, `cannot read ${name}`));
    }
  };
  return result;
}

function jsonRecord(l, where, detected) {
  const hint = detected ? ' (read as JSON lines because the first line starts with "{"; --in-format txt reads plain lines)' : '';
  let o;
  try {
    o = JSON.parse(l);
  } catch (e) {
    throw new InputError(`${where}: invalid JSON: ${e.message}${hint}`);
  }
  if (o === null || typeof o !== 'object' || Array.isArray(o)) {
    throw new InputError(`${where}: expected an object with a "text" string, got ${o === null ? 'null' : Array.isArray(o) ? 'an array' : typeof o}${hint}`);
  }
  if (!('text' in o)) throw new InputError(`${where}: no "text" field${hint}`);
  if (typeof o.text !== 'string') throw new InputError(`${where}: "text" is ${o.text === null ? 'null' : typeof o.text}, not a string`);
  return { text: o.text, id: o.id ?? undefined };
}

/** Groups an async iterable into arrays of up to size items. */
export async function* batches(iterable, size) {
  let batch = [];
  for await (const x of iterable) {
    batch.push(x);
    if (batch.length >= size) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length) yield batch;
}

// --- output ---------------------------------------------------------------------------------------------------

const pendingTemps = new Set();
process.on('exit', () => {
  for (const t of pendingTemps) try { fs.unlinkSync(t); } catch { /* gone already */ }
});

/**
 * Opens an output: "-" = stdout, otherwise a file written under a temporary name and renamed by commit().
 * Returns { name, seekable, write(data), writeAt(data, position), commit(), abort() }.
 */
export async function openSink(file, { stdout = process.stdout } = {}) {
  if (file === '-') {
    return {
      name: 'stdout', seekable: false,
      async write(data) {
        if (!stdout.write(data)) await once(stdout, 'drain');
      },
      async commit() {},
      async abort() {},
    };
  }
  const st = await stat(file).catch(() => null);
  if (st?.isDirectory()) throw new InputError(`cannot write ${file}: is a directory`);
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  let fh;
  try {
    fh = await open(tmp, 'w');
  } catch (e) {
    throw new InputError(sysMessage(e, `cannot write ${file}`));
  }
  pendingTemps.add(tmp);
  const fail = (e) => { throw new InputError(sysMessage(e, `cannot write ${file}`)); };
  return {
    name: file, seekable: true,
    async write(data) { await fh.write(data).catch(fail); },
    async writeAt(data, position) { await fh.write(data, 0, data.length, position).catch(fail); },
    async commit() {
      await fh.close().catch(fail);
      await rename(tmp, file).catch(fail);
      pendingTemps.delete(tmp);
    },
    async abort() {
      await fh.close().catch(() => {});
      await unlink(tmp).catch(() => {});
      pendingTemps.delete(tmp);
    },
  };
}

/** Output format from a file name: 'f32', 'jsonl', 'npy' or null. */
export function outputFormatOf(file) {
  const m = /\.(f32|jsonl|ndjson|npy)$/i.exec(file);
  if (!m) return null;
  const ext = m[1].toLowerCase();
  return ext === 'ndjson' ? 'jsonl' : ext;
}

const LITTLE = os.endianness() === 'LE';

/** Little-endian float32 bytes of rows (Float32Array each), concatenated. */
export function f32Bytes(rows, dim) {
  const all = new Float32Array(rows.length * dim);
  rows.forEach((r, i) => all.set(r, i * dim));
  const b = Buffer.from(all.buffer, all.byteOffset, all.byteLength);
  if (!LITTLE) b.swap32();
  return b;
}

/** The shortest decimal that reads back as the same float32 (JSON stays exact and compact). */
export function f32Number(v) {
  for (let p = 6; p <= 9; p++) {
    const n = Number(v.toPrecision(p));
    if (Math.fround(n) === v) return n;
  }
  return v;
}

export function embeddingLine(v) {
  return `{"embedding":${JSON.stringify(Array.from(v, f32Number))}}\n`;
}

// NumPy .npy v1.0: "\x93NUMPY" 1 0, uint16 LE header length, a Python dict literal padded with spaces and ending
// in "\n" so that the data starts at a multiple of 64. Room is reserved for a 20-digit row count: the header is
// written first with the count unknown, then rewritten in place (same length) when the count is known.
const NPY_PRE = 10;
const npyDict = (rows, dim) => `{'descr': '<f4', 'fortran_order': False, 'shape': (${rows}, ${dim}), }`;

export function npyHeaderSize(dim) {
  return Math.ceil((NPY_PRE + npyDict('9'.repeat(20), dim).length + 1) / 64) * 64;
}

export function npyHeader(rows, dim, size = npyHeaderSize(dim)) {
  const dict = npyDict(rows, dim);
  const pad = size - NPY_PRE - dict.length - 1;
  if (pad < 0) throw new Error(`npy header for shape (${rows}, ${dim}) exceeds ${size} bytes`);
  const b = Buffer.alloc(size, 0x20);
  b.write('\x93NUMPY', 0, 'latin1');
  b[6] = 1; b[7] = 0;
  b.writeUInt16LE(size - NPY_PRE, 8);
  b.write(dict, NPY_PRE, 'latin1');
  b[size - 1] = 0x0a;
  return b;
}

/**
 * Writes embedding rows in one format to a sink: { rows(vectors), finish() → count }.
 * npy needs a seekable sink (the header's row count is written last).
 */
export async function embeddingWriter(sink, format, dim) {
  let count = 0;
  if (format === 'npy') {
    if (!sink.seekable) throw new Error('npy output needs a file (its header holds the row count)');
    await sink.write(npyHeader(0, dim));
  }
  return {
    async rows(vectors) {
      count += vectors.length;
      await sink.write(format === 'jsonl' ? vectors.map(embeddingLine).join('') : f32Bytes(vectors, dim));
    },
    async finish() {
      if (format === 'npy') await sink.writeAt(npyHeader(count, dim), 0);
      return count;
    },
  };
}
