// Reader for Hugging Face safetensors checkpoints: one `model.safetensors`, or shards listed by
// `model.safetensors.index.json`. Only the JSON headers are read up front (and checked: sizes, offsets, dtypes);
// tensors are read on demand with positioned reads and decoded to Float32Array (F32, F16, BF16).
// Names resolve with or without the `bert.` prefix (and old `LayerNorm.gamma/beta` spellings).

import fs from 'node:fs';
import path from 'node:path';
import { f16Table } from './quantize.js';

export const MAX_HEADER_BYTES = 100 * 1024 * 1024;
/** Bytes per element of every safetensors dtype; F32, F16 and BF16 are the ones get() decodes. */
export const DTYPE_BYTES = Object.freeze({
  F64: 8, F32: 4, F16: 2, BF16: 2, F8_E4M3: 1, F8_E5M2: 1,
  I64: 8, I32: 4, I16: 2, I8: 1, U64: 8, U32: 4, U16: 2, U8: 1, BOOL: 1,
});
export const FLOAT_DTYPES = Object.freeze(['F32', 'F16', 'BF16']);

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Candidate stored names for a wanted name: as given, without / with `bert.`, LayerNorm gamma/beta. */
function candidates(name) {
  const base = name.startsWith('bert.') ? name.slice(5) : name;
  const out = [name, base, 'bert.' + base];
  const ln = base.match(/^(.*LayerNorm)\.(weight|bias)$/);
  if (ln) {
    const old = `${ln[1]}.${ln[2] === 'weight' ? 'gamma' : 'beta'}`;
    out.push(old, 'bert.' + old);
  }
  return [...new Set(out)];
}

function levenshtein(a, b) {
  let prev = new Array(b.length + 1), cur = new Array(b.length + 1);
  for (let j = 0; j <= b.length; j++) prev[j] = j;
  for (let i = 1; i <= a.length; i++) {
    cur[0] = i;
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    [prev, cur] = [cur, prev];
  }
  return prev[b.length];
}

function readExactly(fd, target, position, file) {
  let done = 0;
  while (done < target.length) {
    const n = fs.readSync(fd, target, done, Math.min(target.length - done, 1 << 30), position + done);
    if (n <= 0) throw new Error(`${file}: unexpected end of file at byte ${position + done}`);
    done += n;
  }
}

/** One .safetensors file: header parsed and checked at open; tensors read on demand. */
class SafetensorsFile {
  constructor(file) {
    if (!LITTLE_ENDIAN) throw new Error('wembed convert needs a little-endian host');
    this.file = file;
    this.fd = fs.openSync(file, 'r');
    try {
      this.size = fs.fstatSync(this.fd).size;
      this.tensors = this.#readHeader();
    } catch (e) {
      fs.closeSync(this.fd);
      throw e;
    }
  }

  #readHeader() {
    const { file, size } = this;
    if (size < 8) throw new Error(`${file}: ${size} bytes, too small for a safetensors file (8-byte header length first)`);
    const lenBytes = new Uint8Array(8);
    readExactly(this.fd, lenBytes, 0, file);
    const dv = new DataView(lenBytes.buffer);
    const hi = dv.getUint32(4, true), lo = dv.getUint32(0, true);
    const headerLen = hi * 2 ** 32 + lo;
    if (headerLen > MAX_HEADER_BYTES) throw new Error(`${file}: corrupt safetensors header: header length ${headerLen} exceeds the ${MAX_HEADER_BYTES}-byte limit`);
    if (8 + headerLen > size) throw new Error(`${file}: corrupt safetensors header: header length ${headerLen} exceeds the file size (${size} bytes)`);
    if (headerLen < 2) throw new Error(`${file}: corrupt safetensors header: header length ${headerLen}`);
    const raw = new Uint8Array(headerLen);
    readExactly(this.fd, raw, 8, file);
    let header;
    try {
      header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(raw));
    } catch (e) {
      throw new Error(`${file}: corrupt safetensors header: not valid UTF-8 JSON (${e.message})`);
    }
    if (!header || typeof header !== 'object' || Array.isArray(header)) {
      throw new Error(`${file}: corrupt safetensors header: expected a JSON object of tensors`);
    }
    this.dataStart = 8 + headerLen;
    const dataBytes = size - this.dataStart;
    const tensors = new Map();
    for (const [name, t] of Object.entries(header)) {
      if (name === '__metadata__') continue;
      const where = `${file}: tensor "${name}"`;
      if (!t || typeof t !== 'object') throw new Error(`${where}: expected an object with dtype, shape, data_offsets`);
      const { dtype, shape, data_offsets: off } = t;
      if (typeof dtype !== 'string') throw new Error(`${where}: missing dtype`);
      if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
        throw new Error(`${where}: shape ${JSON.stringify(shape)} is not a list of non-negative integers`);
      }
      if (!Array.isArray(off) || off.length !== 2 || !off.every((d) => Number.isSafeInteger(d) && d >= 0) || off[0] > off[1]) {
        throw new Error(`${where}: data_offsets ${JSON.stringify(off)} is not [begin, end] with 0 <= begin <= end`);
      }
      if (off[1] > dataBytes) {
        throw new Error(`${where}: data_offsets ${JSON.stringify(off)} end past the data (${dataBytes} bytes after the ${headerLen}-byte header)`);
      }
      const count = shape.reduce((a, b) => a * b, 1);
      const elem = DTYPE_BYTES[dtype];
      if (elem !== undefined && off[1] - off[0] !== count * elem) {
        throw new Error(`${where}: data_offsets span ${off[1] - off[0]} bytes, shape ${JSON.stringify(shape)} x ${dtype} (${elem} bytes) needs ${count * elem}`);
      }
      tensors.set(name, { name, dtype, shape, count, begin: off[0], end: off[1], file });
    }
    return tensors;
  }

  /** Raw bytes of a stored tensor, in a fresh (aligned) buffer. */
  readRaw(t) {
    const bytes = new Uint8Array(t.end - t.begin);
    readExactly(this.fd, bytes, this.dataStart + t.begin, this.file);
    return bytes;
  }

  close() {
    if (this.fd !== null) fs.closeSync(this.fd);
    this.fd = null;
  }
}

function decode(t, raw) {
  const n = t.count;
  switch (t.dtype) {
    case 'F32':
      return new Float32Array(raw.buffer, 0, n);
    case 'F16': {
      const table = f16Table();
      const u16 = new Uint16Array(raw.buffer, 0, n);
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = table[u16[i]];
      return out;
    }
    case 'BF16': {
      const u16 = new Uint16Array(raw.buffer, 0, n);
      const out = new Float32Array(n);
      const u32 = new Uint32Array(out.buffer);
      for (let i = 0; i < n; i++) u32[i] = u16[i] << 16;
      return out;
    }
  }
  throw new Error(
    `${t.file}: tensor "${t.name}" has dtype ${t.dtype}; wembed converts ${FLOAT_DTYPES.join(', ')} weights only`,
  );
}

/**
 * The tensors of a checkpoint, from one file or several shards.
 *   names            stored names
 *   files            the files read (absolute paths)
 *   resolve(name)    the stored name for a wanted one (with/without `bert.`), or null
 *   info(name)       { name, dtype, shape, file } without reading data, or null
 *   get(name)        { name, dtype, shape, data: Float32Array }; throws if absent or not F32/F16/BF16
 *   similar(name)    up to 5 stored names that look like `name` (for error messages)
 *   close()
 */
export class TensorStore {
  constructor(files, owner) {
    this.files = files.map((f) => f.file);
    this.sources = files;
    this.owner = owner; // Map stored name -> SafetensorsFile
    this.names = [...owner.keys()];
  }

  resolve(name) {
    for (const c of candidates(name)) if (this.owner.has(c)) return c;
    return null;
  }

  info(name) {
    const key = this.resolve(name);
    if (key === null) return null;
    const t = this.owner.get(key).tensors.get(key);
    return { name: key, dtype: t.dtype, shape: t.shape.slice(), file: t.file };
  }

  get(name) {
    const key = this.resolve(name);
    if (key === null) throw new Error(this.missingMessage(name));
    const src = this.owner.get(key);
    const t = src.tensors.get(key);
    if (!FLOAT_DTYPES.includes(t.dtype)) decode(t, null); // throws, naming dtype and tensor
    return { name: key, dtype: t.dtype, shape: t.shape.slice(), data: decode(t, src.readRaw(t)) };
  }

  similar(name, k = 5) {
    const base = name.startsWith('bert.') ? name.slice(5) : name;
    return this.names
      .map((n) => [n, levenshtein(base, n.startsWith('bert.') ? n.slice(5) : n)])
      .sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : 1))
      .slice(0, k)
      .map(([n]) => n);
  }

  missingMessage(name) {
    const where = this.files.length === 1 ? this.files[0] : `${this.files.length} shards in ${path.dirname(this.files[0])}`;
    const close = this.similar(name);
    return (
      `missing tensor "${name}" in ${where} (looked for ${candidates(name).map((c) => `"${c}"`).join(', ')})` +
      (close.length ? `; closest names in the checkpoint: ${close.join(', ')}` : '; the checkpoint has no tensors')
    );
  }

  close() {
    for (const f of this.sources) f.close();
  }
}

/**
 * Opens a checkpoint: a folder (its model.safetensors, else model.safetensors.index.json), a .safetensors file,
 * or an index .json file. Throws an Error naming the file for anything malformed.
 */
export function openSafetensors(p) {
  let file = p;
  if (fs.statSync(p).isDirectory()) {
    const single = path.join(p, 'model.safetensors');
    const index = path.join(p, 'model.safetensors.index.json');
    if (fs.existsSync(single)) file = single;
    else if (fs.existsSync(index)) file = index;
    else {
      const others = fs.readdirSync(p).filter((f) => /\.(bin|pt|pth|ckpt|h5|msgpack|onnx)$/.test(f));
      throw new Error(
        `no model.safetensors or model.safetensors.index.json in ${p}` +
          (others.length ? ` (found ${others.join(', ')}: wembed converts safetensors checkpoints only)` : ''),
      );
    }
  }
  if (file.endsWith('.json')) return openSharded(file);
  const f = new SafetensorsFile(file);
  return new TensorStore([f], new Map([...f.tensors.keys()].map((n) => [n, f])));
}

/**
 * Opens a sharded checkpoint from its index.json ({"weight_map": {tensor: shard file}}), for any file format:
 * openShard(path) opens one shard (an object with .tensors and .close()), makeStore(files, owner) builds the store.
 * Shard names must be plain file names beside the index; every tensor must be in the shard the map names.
 */
export function openShardIndex(indexFile, openShard, makeStore) {
  let index;
  try {
    index = JSON.parse(fs.readFileSync(indexFile, 'utf8'));
  } catch (e) {
    throw new Error(`${indexFile}: not valid JSON (${e.message})`);
  }
  const map = index?.weight_map;
  if (!map || typeof map !== 'object' || Array.isArray(map)) throw new Error(`${indexFile}: no "weight_map" object`);
  const dir = path.dirname(indexFile);
  const shards = new Map();
  const owner = new Map();
  try {
    for (const [name, shard] of Object.entries(map)) {
      if (typeof shard !== 'string' || shard !== path.basename(shard) || shard === '..' || shard === '.') {
        throw new Error(`${indexFile}: weight_map["${name}"] = ${JSON.stringify(shard)} is not a file name in ${dir}`);
      }
      if (!shards.has(shard)) {
        const f = path.join(dir, shard);
        if (!fs.existsSync(f)) throw new Error(`${indexFile}: shard ${shard} (for "${name}") does not exist`);
        shards.set(shard, openShard(f));
      }
      const src = shards.get(shard);
      if (!src.tensors.has(name)) throw new Error(`${indexFile}: weight_map puts "${name}" in ${shard}, which has no such tensor`);
      owner.set(name, src);
    }
  } catch (e) {
    for (const s of shards.values()) s.close();
    throw e;
  }
  if (!owner.size) throw new Error(`${indexFile}: the weight_map is empty`);
  return makeStore([...shards.values()], owner);
}

function openSharded(indexFile) {
  return openShardIndex(indexFile, (f) => new SafetensorsFile(f), (files, owner) => new TensorStore(files, owner));
}
