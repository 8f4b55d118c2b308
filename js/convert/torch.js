// Reader for PyTorch checkpoints (`pytorch_model.bin`) in the zip format torch.save writes since torch 1.6, and
// their shards (`pytorch_model.bin.index.json`). Untrusted input: nothing is executed. The pickle (data.pkl) is
// read by a restricted unpickler (pickle.js) whose only globals are collections.OrderedDict, the tensor/parameter
// rebuild functions and the torch.*Storage types; storages are the zip entries `<prefix>/data/<key>`, checked
// (size, CRC-32) and read on demand. Tensors may be views (storage offset, any strides, shared storages); F32,
// F16 and BF16 are gathered and decoded to Float32Array. Other dtypes (e.g. the int64 position_ids buffer) are
// listed with their dtype and only rejected if read. Returns a TensorStore (safetensors.js).

import fs from 'node:fs';
import path from 'node:path';
import { f16Table } from './quantize.js';
import { DTYPE_BYTES, FLOAT_DTYPES, TensorStore, openShardIndex } from './safetensors.js';
import { PickleGlobal, unpickle } from './pickle.js';
import { ZipFile } from './zip.js';

/** Largest data.pkl accepted (bytes). A state dict's pickle is ~100 bytes per tensor. */
export const MAX_PICKLE_BYTES = 256 * 1024 * 1024;
const MAX_DIMS = 64;

/** torch.<X>Storage → safetensors dtype name. */
export const STORAGE_DTYPES = Object.freeze({
  FloatStorage: 'F32', HalfStorage: 'F16', BFloat16Storage: 'BF16', DoubleStorage: 'F64',
  LongStorage: 'I64', IntStorage: 'I32', ShortStorage: 'I16', CharStorage: 'I8', ByteStorage: 'U8', BoolStorage: 'BOOL',
});

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
/** The first bytes of a pre-1.6 torch.save file: pickle PROTO 2, LONG1 of the magic number 0x1950a86a20f9469cfc6c. */
const LEGACY_MAGIC = [0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19];

class StorageType {
  constructor(name, dtype) {
    this.name = name;
    this.dtype = dtype;
  }
}

class StorageRef {
  constructor(key, dtype, numel, entry) {
    Object.assign(this, { key, dtype, numel, entry, refs: 0 });
  }
}

class TensorRef {
  constructor(storage, offset, size, stride) {
    Object.assign(this, { storage, offset, size, stride });
  }
}

const isSafeIndex = (v) => Number.isSafeInteger(v) && v >= 0;

function rebuildTensorV2(args) {
  if (args.length < 4) throw new Error(`expected (storage, storage_offset, size, stride, ...), got ${args.length} arguments`);
  const [storage, offset, size, stride] = args;
  if (!(storage instanceof StorageRef)) throw new Error('the first argument is not a storage');
  return new TensorRef(storage, offset, size, stride);
}

function rebuildParameter(args) {
  if (!(args[0] instanceof TensorRef)) throw new Error('the first argument is not a tensor');
  return args[0];
}

function torchGlobals() {
  const g = new Map();
  const add = (name, opts) => g.set(name, new PickleGlobal(name, opts));
  add('collections.OrderedDict', {
    call: (args) => {
      if (args.length) throw new Error('only OrderedDict() with no arguments is supported');
      return new Map();
    },
  });
  add('torch._utils._rebuild_tensor_v2', { call: rebuildTensorV2 });
  add('torch._utils._rebuild_parameter', { call: rebuildParameter });
  add('torch._utils._rebuild_parameter_with_state', { call: rebuildParameter });
  for (const [name, dtype] of Object.entries(STORAGE_DTYPES)) add(`torch.${name}`, { value: new StorageType(`torch.${name}`, dtype) });
  return g;
}

/** One pytorch_model.bin: the zip directory and the pickle read at open; storages read on demand. */
class TorchFile {
  constructor(file) {
    if (!LITTLE_ENDIAN) throw new Error('wembed convert needs a little-endian host');
    this.file = file;
    this.zip = null;
    this.cache = null; // { key, bytes } of the last storage read that more than one tensor uses
    checkNotLegacy(file);
    try {
      this.zip = new ZipFile(file);
      this.#readPickle();
    } catch (e) {
      this.close();
      throw e;
    }
  }

  #fail(msg) {
    return new Error(`${this.file}: ${msg}`);
  }

  #readPickle() {
    const zip = this.zip;
    const pkls = zip.names.filter((n) => /^([^/]+\/)?data\.pkl$/.test(n));
    if (pkls.length !== 1) {
      if (zip.names.some((n) => /^([^/]+\/)?(constants\.pkl|code\/)/.test(n))) {
        throw this.#fail('a TorchScript archive (torch.jit.save), not a torch.save checkpoint; save the model\'s state_dict() with torch.save, or as safetensors');
      }
      throw this.#fail(pkls.length ? `ambiguous checkpoint: ${pkls.length} data.pkl entries (${pkls.join(', ')})` : 'a zip archive without data.pkl: not a torch.save checkpoint');
    }
    const prefix = pkls[0].slice(0, -'data.pkl'.length);
    this.prefix = prefix;
    if (zip.has(`${prefix}constants.pkl`)) throw this.#fail('a TorchScript archive (torch.jit.save), not a torch.save checkpoint; save the model\'s state_dict() with torch.save, or as safetensors');

    this.byteSwap = false;
    if (zip.has(`${prefix}byteorder`)) {
      const e = zip.entry(`${prefix}byteorder`);
      if (e.size > 16) throw this.#fail(`${prefix}byteorder: ${e.size} bytes, expected "little" or "big"`);
      const order = new TextDecoder().decode(zip.read(`${prefix}byteorder`)).trim();
      if (order === 'big') this.byteSwap = true;
      else if (order !== 'little') throw this.#fail(`${prefix}byteorder is ${JSON.stringify(order)}, expected "little" or "big"`);
    }

    const pklEntry = zip.entry(pkls[0]);
    if (pklEntry.size > MAX_PICKLE_BYTES) throw this.#fail(`${pkls[0]} declares ${pklEntry.size} bytes, more than the ${MAX_PICKLE_BYTES}-byte limit`);
    const storages = new Map();
    const persistentLoad = (pid) => {
      if (!Array.isArray(pid) || pid.length !== 5 || pid[0] !== 'storage') {
        throw new Error(`persistent id ${describePid(pid)} is not ('storage', type, key, location, numel)`);
      }
      const [, type, key, , numel] = pid;
      if (!(type instanceof PickleGlobal) || !(type.value instanceof StorageType)) throw new Error(`storage type ${describePid(type)} is not a torch.*Storage class`);
      const st = type.value;
      if (typeof key !== 'string' || !/^[A-Za-z0-9_.-]{1,64}$/.test(key) || key === '.' || key === '..') throw new Error(`storage key ${JSON.stringify(key)} is not a plain name`);
      if (!isSafeIndex(numel)) throw new Error(`storage ${key}: element count ${describePid(numel)} is not a non-negative integer`);
      const name = `${prefix}data/${key}`;
      const prev = storages.get(key);
      if (prev) {
        if (prev.dtype !== st.dtype || prev.numel !== numel) throw new Error(`storage ${key} is declared twice, as ${prev.dtype} x ${prev.numel} and ${st.dtype} x ${numel}`);
        return prev;
      }
      const e = zip.entry(name);
      if (!e) throw new Error(`storage ${key}: no entry ${name} in the archive`);
      const elem = DTYPE_BYTES[st.dtype];
      if (numel * elem !== e.size) {
        throw new Error(`storage ${key} (${st.name}): ${numel} elements x ${elem} bytes = ${numel * elem} bytes, but ${name} holds ${e.size} bytes`);
      }
      zip.check(name); // method, sizes and local header, before anything is read
      const ref = new StorageRef(key, st.dtype, numel, name);
      storages.set(key, ref);
      return ref;
    };
    const root = unpickle(zip.read(pkls[0]), {
      what: `${this.file}: ${pkls[0]}`,
      globals: torchGlobals(),
      persistentLoad,
      build: (obj, state) => {
        if (obj instanceof Map) obj.pickleState = state; // an OrderedDict's _metadata
        else if (!(obj instanceof TensorRef)) throw new Error(`cannot set state on a ${obj?.constructor?.name ?? typeof obj}`);
        return obj;
      },
    });
    this.tensors = this.#collect(root);
  }

  #collect(root) {
    if (!(root instanceof Map)) throw this.#fail(`the pickle holds a ${root?.constructor?.name ?? typeof root}, not a dict of tensors (a state_dict)`);
    let dict = root;
    if (![...root.values()].some((v) => v instanceof TensorRef)) {
      const inner = ['state_dict', 'model', 'module'].map((k) => root.get(k)).find((v) => v instanceof Map && [...v.values()].some((x) => x instanceof TensorRef));
      if (!inner) throw this.#fail('no tensors in the checkpoint (expected a state_dict: a dict of names to tensors)');
      dict = inner;
    }
    const tensors = new Map();
    for (const [name, t] of dict) {
      if (!(t instanceof TensorRef)) continue;
      if (typeof name !== 'string') throw this.#fail(`a tensor is stored under a ${typeof name} key, not a name`);
      tensors.set(name, this.#checkTensor(name, t));
    }
    return tensors;
  }

  /** Checks a view against its storage (offset, sizes, strides); returns the tensor record. */
  #checkTensor(name, t) {
    const where = `tensor "${name}"`;
    const { storage, offset } = t;
    const size = Array.isArray(t.size) ? t.size : null, stride = Array.isArray(t.stride) ? t.stride : null;
    if (!size || size.length > MAX_DIMS || !size.every(isSafeIndex)) throw this.#fail(`${where}: size ${describePid(t.size)} is not a list of non-negative integers`);
    if (!stride || stride.length !== size.length || !stride.every(isSafeIndex)) {
      throw this.#fail(`${where}: stride ${describePid(t.stride)} does not match size ${describePid(t.size)} (non-negative integers, one per dimension)`);
    }
    if (!isSafeIndex(offset)) throw this.#fail(`${where}: storage offset ${describePid(offset)} is not a non-negative integer`);
    let count = 1;
    for (const d of size) {
      count *= d;
      if (count > storage.numel) break;
    }
    if (count > storage.numel) {
      throw this.#fail(`${where}: size [${size.join(', ')}] has more elements than its storage ${storage.key} (${storage.numel}); overlapping views are not supported`);
    }
    if (count > 0) {
      let last = offset;
      for (let i = 0; i < size.length; i++) last += (size[i] - 1) * stride[i];
      if (!(last < storage.numel)) {
        throw this.#fail(`${where}: storage offset ${offset}, size [${size.join(', ')}] and stride [${stride.join(', ')}] reach element ${last} of storage ${storage.key}, which has ${storage.numel}`);
      }
    }
    storage.refs++;
    return { name, dtype: storage.dtype, shape: size.slice(), count, file: this.file, storage, offset, stride: stride.slice() };
  }

  /** The storage's bytes (CRC-checked), byte-swapped to little-endian if the archive says big. */
  #storageBytes(s) {
    if (this.cache?.key === s.key) return this.cache.bytes;
    const bytes = this.zip.read(s.entry);
    if (this.byteSwap) {
      const k = DTYPE_BYTES[s.dtype];
      for (let i = 0; i < bytes.length; i += k) bytes.subarray(i, i + k).reverse();
    }
    this.cache = s.refs > 1 ? { key: s.key, bytes } : null;
    return bytes;
  }

  /** Float32Array of a float tensor (row-major, gathered through its strides). */
  readTensor(t) {
    if (!FLOAT_DTYPES.includes(t.dtype)) {
      throw this.#fail(`tensor "${t.name}" has dtype ${t.dtype}; wembed converts ${FLOAT_DTYPES.join(', ')} weights only`);
    }
    const bytes = this.#storageBytes(t.storage);
    const src = t.dtype === 'F32' ? new Float32Array(bytes.buffer, 0, t.storage.numel) : new Uint16Array(bytes.buffer, 0, t.storage.numel);
    const g = gather(src, t.offset, t.shape, t.stride, t.count);
    if (t.dtype === 'F32') return g;
    const out = new Float32Array(t.count);
    if (t.dtype === 'F16') {
      const table = f16Table();
      for (let i = 0; i < g.length; i++) out[i] = table[g[i]];
    } else {
      const u32 = new Uint32Array(out.buffer);
      for (let i = 0; i < g.length; i++) u32[i] = g[i] << 16;
    }
    return out;
  }

  close() {
    this.zip?.close();
    this.zip = null;
    this.cache = null;
  }
}

/** A fresh typed array (src's type) of the view (offset, shape, stride) of src, in row-major order. */
function gather(src, offset, shape, stride, count) {
  const nd = shape.length;
  let contiguous = true;
  for (let d = nd - 1, expect = 1; d >= 0; d--) {
    if (shape[d] !== 1 && stride[d] !== expect) contiguous = false;
    expect *= shape[d];
  }
  if (contiguous) return src.slice(offset, offset + count);
  const out = new src.constructor(count);
  const last = nd - 1;
  const n = shape[last], s = stride[last];
  const idx = new Array(nd).fill(0);
  let base = offset;
  for (let o = 0; o < count;) {
    for (let j = 0, p = base; j < n; j++, p += s) out[o++] = src[p];
    for (let d = last - 1; d >= 0; d--) {
      idx[d]++;
      base += stride[d];
      if (idx[d] < shape[d]) break;
      base -= stride[d] * shape[d];
      idx[d] = 0;
    }
  }
  return out;
}

function describePid(v) {
  if (typeof v === 'bigint') return String(v);
  try {
    const s = JSON.stringify(v, (_, x) => (typeof x === 'bigint' ? x.toString() : x instanceof PickleGlobal ? x.name : x));
    return s === undefined ? String(v) : s.length > 120 ? s.slice(0, 117) + '...' : s;
  } catch {
    return String(v);
  }
}

function checkNotLegacy(file) {
  const head = new Uint8Array(LEGACY_MAGIC.length);
  const fd = fs.openSync(file, 'r');
  let n;
  try {
    n = fs.readSync(fd, head, 0, head.length, 0);
  } finally {
    fs.closeSync(fd);
  }
  const legacy = n === head.length && LEGACY_MAGIC.every((b, i) => head[i] === b);
  const tar = (() => {
    if (legacy) return false;
    const fd2 = fs.openSync(file, 'r');
    try {
      const b = new Uint8Array(5);
      return fs.readSync(fd2, b, 0, 5, 257) === 5 && new TextDecoder().decode(b) === 'ustar';
    } finally {
      fs.closeSync(fd2);
    }
  })();
  if (legacy || tar) {
    throw new Error(
      `${file}: legacy torch.save format${tar ? ' (tar)' : ''} is not supported; re-save with torch >= 1.6 ` +
        '(torch.save(state_dict, path), which writes the zip format by default) or as model.safetensors',
    );
  }
  if (n >= 1 && head[0] === 0x80) {
    throw new Error(`${file}: a bare pickle, not a torch.save zip checkpoint; re-save with torch >= 1.6 (torch.save) or as model.safetensors`);
  }
}

class TorchTensorStore extends TensorStore {
  get(name) {
    const key = this.resolve(name);
    if (key === null) throw new Error(this.missingMessage(name));
    const t = this.owner.get(key).tensors.get(key);
    return { name: key, dtype: t.dtype, shape: t.shape.slice(), data: this.owner.get(key).readTensor(t) };
  }
}

/**
 * Opens a PyTorch checkpoint: a folder (its pytorch_model.bin, else pytorch_model.bin.index.json), a zip
 * checkpoint file, or a shard index .json. Returns a TensorStore (see safetensors.js); throws an Error naming
 * the file for anything malformed or unsafe.
 */
export function openTorchCheckpoint(p) {
  let file = p;
  if (fs.statSync(p).isDirectory()) {
    const single = path.join(p, 'pytorch_model.bin');
    const index = path.join(p, 'pytorch_model.bin.index.json');
    if (fs.existsSync(single)) file = single;
    else if (fs.existsSync(index)) file = index;
    else throw new Error(`no pytorch_model.bin or pytorch_model.bin.index.json in ${p}`);
  }
  if (file.endsWith('.json')) return openSharded(file);
  const f = new TorchFile(file);
  return new TorchTensorStore([f], new Map([...f.tensors.keys()].map((n) => [n, f])));
}

function openSharded(indexFile) {
  return openShardIndex(indexFile, (f) => new TorchFile(f), (files, owner) => new TorchTensorStore(files, owner));
}
