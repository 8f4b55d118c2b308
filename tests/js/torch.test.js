// Tests of the PyTorch checkpoint reader (js/convert/zip.js, pickle.js, torch.js) and of openWeights
// (weights.js): checkpoints written here by a small test-only torch.save imitation (pickle protocol 2 + zip,
// stored and deflated, zip64) from the fixtures' tensors must convert to the same .wemb sections as the
// safetensors path; the real ../shared corom-tiny-synth checkpoint must open; malicious and broken files must
// fail with a clear Error, without executing or allocating anything big.
// Run: node --test tests/js/torch.test.js
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';

import { KIND, parseHeader, parseTable } from '../../js/format.js';
import { crc32 } from '../../js/crc32.js';
import { convert, requiredTensors } from '../../js/convert/index.js';
import { modelFromConfig } from '../../js/convert/hf-folder.js';
import { toF16 } from '../../js/convert/quantize.js';
import { openSafetensors } from '../../js/convert/safetensors.js';
import { openTorchCheckpoint } from '../../js/convert/torch.js';
import { openWeights } from '../../js/convert/weights.js';
import { unpickle, PickleGlobal } from '../../js/convert/pickle.js';
import { ZipFile } from '../../js/convert/zip.js';
import { f16ToNumber, makeTinyFolder } from './fixtures.mjs';

const SHARED = fileURLToPath(new URL('../../../shared/', import.meta.url));
const MODELS = path.join(SHARED, 'models');
const GTE = path.join(MODELS, 'gte-small-synth');
const COROM = path.join(MODELS, 'corom-tiny-synth');
const HAVE_GTE = fs.existsSync(path.join(GTE, 'model.safetensors'));
const HAVE_COROM = fs.existsSync(path.join(COROM, 'pytorch_model.bin'));
if (!HAVE_GTE || !HAVE_COROM) console.error(`\n!!!!! ${MODELS} is incomplete: SKIPPING the tests on the real model folders !!!!!\n`);

let TMP;
before(() => {
  TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'wembed-torch-test-'));
});
after(() => {
  fs.rmSync(TMP, { recursive: true, force: true });
});
let count = 0;
const tmp = (name) => path.join(TMP, `${++count}-${name}`);

// --- a test-only torch.save imitation ------------------------------------------------------------------------------

/** Pickle protocol 2 writer for the opcodes torch.save emits (with a memo for repeated globals). */
class PickleWriter {
  constructor(proto = 2) {
    this.b = [0x80, proto];
    this.memo = new Map();
    this.next = 0;
  }
  op(...x) {
    for (const v of x) this.b.push(v);
    return this;
  }
  u32(n) {
    return this.op(n & 255, (n >>> 8) & 255, (n >>> 16) & 255, (n >>> 24) & 255);
  }
  put() {
    const i = this.next++;
    return i < 256 ? this.op(0x71, i) : this.op(0x72).u32(i);
  }
  str(s) {
    const u = new TextEncoder().encode(s);
    this.op(0x58).u32(u.length);
    for (const x of u) this.b.push(x);
    return this.put();
  }
  int(n) {
    if (n >= 0 && n < 256) return this.op(0x4b, n);
    if (n >= 0 && n < 65536) return this.op(0x4d, n & 255, n >> 8);
    if (n >= -(2 ** 31) && n < 2 ** 31) return this.op(0x4a).u32(n >>> 0);
    let v = BigInt.asUintN(64, BigInt(n));
    this.op(0x8a, 8);
    for (let i = 0; i < 8; i++, v >>= 8n) this.b.push(Number(v & 255n));
    return this;
  }
  global(module, name) {
    const k = `${module}\n${name}\n`;
    if (this.memo.has(k)) {
      const i = this.memo.get(k);
      return i < 256 ? this.op(0x68, i) : this.op(0x6a).u32(i);
    }
    this.op(0x63);
    for (const c of k) this.b.push(c.charCodeAt(0));
    this.memo.set(k, this.next);
    return this.put();
  }
  tuple(items) {
    if (items.length === 0) return this.op(0x29);
    if (items.length <= 3) {
      for (const x of items) this.int(x);
      return this.op([0x85, 0x86, 0x87][items.length - 1]).put();
    }
    this.op(0x28);
    for (const x of items) this.int(x);
    return this.op(0x74).put();
  }
  orderedDict() {
    return this.global('collections', 'OrderedDict').op(0x29, 0x52).put();
  }
  bytes() {
    return Uint8Array.from(this.b);
  }
}

/** data.pkl of a state dict: tensors [{name, type ('HalfStorage'...), key, numel, offset, size, stride}]. */
function stateDictPickle(tensors, { metadata = true } = {}) {
  const w = new PickleWriter();
  w.orderedDict();
  w.op(0x28); // MARK
  for (const t of tensors) {
    w.str(t.name);
    w.global('torch._utils', '_rebuild_tensor_v2');
    w.op(0x28, 0x28); // MARK MARK
    w.str('storage').global('torch', t.type).str(t.key).str('cpu').int(t.numel);
    w.op(0x74).put().op(0x51); // TUPLE, BINPERSID
    w.int(t.offset).tuple(t.size).tuple(t.stride).op(0x89).orderedDict();
    w.op(0x74).put().op(0x52).put(); // TUPLE, REDUCE
  }
  w.op(0x75); // SETITEMS
  if (metadata) { // the state_dict's _metadata attribute, set by BUILD as torch does
    w.op(0x7d).put().str('_metadata').orderedDict().str('').op(0x7d).put().str('version').int(1).op(0x73, 0x73, 0x73, 0x62);
  }
  return w.op(0x2e).bytes();
}

/** Writes a zip archive. entries [{name, data, deflate, cd: {size, csize, method, flags}}]; opts.zip64. */
function writeZip(file, entries, { zip64 = false } = {}) {
  const parts = [];
  const central = [];
  let off = 0;
  for (const e of entries) {
    const name = Buffer.from(e.name);
    const data = Buffer.from(e.data.buffer, e.data.byteOffset, e.data.byteLength);
    const comp = e.deflate ? zlib.deflateRawSync(data, { level: 1 }) : data;
    const crc = crc32(data);
    const method = e.deflate ? 8 : 0;
    const lext = zip64 ? Buffer.alloc(20) : Buffer.alloc(0);
    if (zip64) {
      lext.writeUInt16LE(1, 0), lext.writeUInt16LE(16, 2);
      lext.writeBigUInt64LE(BigInt(data.length), 4), lext.writeBigUInt64LE(BigInt(comp.length), 12);
    }
    const lh = Buffer.alloc(30);
    lh.writeUInt32LE(0x04034b50, 0), lh.writeUInt16LE(zip64 ? 45 : 20, 4), lh.writeUInt16LE(method, 8), lh.writeUInt16LE(0x21, 12);
    lh.writeUInt32LE(crc, 14), lh.writeUInt32LE(zip64 ? 0xffffffff : comp.length, 18), lh.writeUInt32LE(zip64 ? 0xffffffff : data.length, 22);
    lh.writeUInt16LE(name.length, 26), lh.writeUInt16LE(lext.length, 28);
    parts.push(lh, name, lext, comp);
    central.push({ name, crc, method, csize: comp.length, size: data.length, off, cd: e.cd ?? {} });
    off += 30 + name.length + lext.length + comp.length;
  }
  const cdStart = off;
  for (const c of central) {
    const cext = zip64 ? Buffer.alloc(28) : Buffer.alloc(0);
    if (zip64) {
      cext.writeUInt16LE(1, 0), cext.writeUInt16LE(24, 2);
      cext.writeBigUInt64LE(BigInt(c.cd.size ?? c.size), 4), cext.writeBigUInt64LE(BigInt(c.cd.csize ?? c.csize), 12), cext.writeBigUInt64LE(BigInt(c.off), 20);
    }
    const h = Buffer.alloc(46);
    h.writeUInt32LE(0x02014b50, 0), h.writeUInt16LE(0x031e, 4), h.writeUInt16LE(zip64 ? 45 : 20, 6);
    h.writeUInt16LE(c.cd.flags ?? 0, 8), h.writeUInt16LE(c.cd.method ?? c.method, 10), h.writeUInt16LE(0x21, 14), h.writeUInt32LE(c.crc, 16);
    h.writeUInt32LE(zip64 ? 0xffffffff : (c.cd.csize ?? c.csize), 20), h.writeUInt32LE(zip64 ? 0xffffffff : (c.cd.size ?? c.size), 24);
    h.writeUInt16LE(c.name.length, 28), h.writeUInt16LE(cext.length, 30), h.writeUInt32LE(zip64 ? 0xffffffff : c.off, 42);
    parts.push(h, c.name, cext);
    off += 46 + c.name.length + cext.length;
  }
  const cdSize = off - cdStart;
  if (zip64) {
    const r = Buffer.alloc(56);
    r.writeUInt32LE(0x06064b50, 0), r.writeBigUInt64LE(44n, 4), r.writeUInt16LE(45, 12), r.writeUInt16LE(45, 14);
    r.writeBigUInt64LE(BigInt(central.length), 24), r.writeBigUInt64LE(BigInt(central.length), 32);
    r.writeBigUInt64LE(BigInt(cdSize), 40), r.writeBigUInt64LE(BigInt(cdStart), 48);
    const loc = Buffer.alloc(20);
    loc.writeUInt32LE(0x07064b50, 0), loc.writeBigUInt64LE(BigInt(off), 8), loc.writeUInt32LE(1, 16);
    parts.push(r, loc);
  }
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  eocd.writeUInt16LE(zip64 ? 0xffff : central.length, 8), eocd.writeUInt16LE(zip64 ? 0xffff : central.length, 10);
  eocd.writeUInt32LE(zip64 ? 0xffffffff : cdSize, 12), eocd.writeUInt32LE(zip64 ? 0xffffffff : cdStart, 16);
  parts.push(eocd);
  fs.writeFileSync(file, Buffer.concat(parts));
}

const STORAGE = { F32: 'FloatStorage', F16: 'HalfStorage', BF16: 'BFloat16Storage' };

/** Encoded elements of values in dtype: Float32Array (F32) or Uint16Array (F16, BF16 truncated as fixtures do). */
function encode(values, dtype) {
  if (dtype === 'F32') return Float32Array.from(values);
  if (dtype === 'F16') return toF16(Float32Array.from(values));
  return Uint16Array.from(new Uint32Array(Float32Array.from(values).buffer), (u) => u >>> 16);
}

const asBytes = (a) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/**
 * Writes a torch.save-style checkpoint of tensors [{name, shape, data}] to file. opts:
 *   dtype       'F32' | 'F16' | 'BF16'
 *   layout      (name, shape) → 'contiguous' | 'transposed' (2-D: storage holds the transpose after 5 pad elements,
 *               read through stride [1, rows] and offset 5) | 'shared' (one storage for all such tensors, with gaps)
 *   deflate     (entryName) → bool
 *   prefix      archive folder (default 'archive/'); namePrefix ('bert.' ...); zip64; bigEndian (byteorder "big")
 *   positionIds add the int64 buffer embeddings.position_ids; tie: extra names sharing another tensor's view
 */
function writeTorch(file, tensors, opts = {}) {
  const { dtype = 'F32', layout = () => 'contiguous', deflate = () => false, prefix = 'archive/', namePrefix = '', zip64 = false, bigEndian = false } = opts;
  const records = [];
  const storages = new Map();
  const shared = [];
  let sharedLen = 0;
  const views = new Map();
  tensors.forEach((t, i) => {
    const enc = encode(t.data, dtype);
    const kind = layout(t.name, t.shape);
    const rec = { name: namePrefix + t.name, type: STORAGE[dtype], size: t.shape, offset: 0 };
    if (kind === 'shared') {
      rec.key = 'shared';
      rec.offset = sharedLen + 3; // 3 unused elements before each tensor
      rec.stride = contiguousStrides(t.shape);
      shared.push([rec.offset, enc]);
      sharedLen = rec.offset + enc.length;
    } else if (kind === 'transposed' && t.shape.length === 2) {
      const [r, c] = t.shape;
      const s = new enc.constructor(5 + r * c).fill(7);
      for (let a = 0; a < r; a++) for (let b = 0; b < c; b++) s[5 + b * r + a] = enc[a * c + b];
      rec.key = String(i);
      rec.offset = 5;
      rec.stride = [1, r];
      storages.set(rec.key, s);
    } else {
      rec.key = String(i);
      rec.stride = contiguousStrides(t.shape);
      storages.set(rec.key, enc);
    }
    views.set(t.name, rec);
    records.push(rec);
  });
  if (shared.length) {
    const s = new (dtype === 'F32' ? Float32Array : Uint16Array)(sharedLen + 2).fill(9);
    for (const [o, enc] of shared) s.set(enc, o);
    storages.set('shared', s);
  }
  for (const [alias, target] of opts.tie ?? []) records.push({ ...views.get(target), name: namePrefix + alias });
  if (opts.positionIds) {
    storages.set('pos', BigInt64Array.from({ length: opts.positionIds }, (_, i) => BigInt(i)));
    records.push({ name: namePrefix + 'embeddings.position_ids', type: 'LongStorage', key: 'pos', offset: 0, size: [1, opts.positionIds], stride: [opts.positionIds, 1] });
  }
  for (const r of records) r.numel = storages.get(r.key).length;
  const entries = [{ name: `${prefix}data.pkl`, data: stateDictPickle(records) }];
  entries.push({ name: `${prefix}byteorder`, data: new TextEncoder().encode(bigEndian ? 'big' : 'little') });
  for (const [key, s] of storages) {
    const data = asBytes(s).slice();
    if (bigEndian) for (let i = 0; i < data.length; i += s.BYTES_PER_ELEMENT) data.subarray(i, i + s.BYTES_PER_ELEMENT).reverse();
    entries.push({ name: `${prefix}data/${key}`, data });
  }
  entries.push({ name: `${prefix}version`, data: new TextEncoder().encode('3\n') });
  for (const e of entries) e.deflate = deflate(e.name);
  writeZip(file, entries, { zip64 });
  return records;
}

function contiguousStrides(shape) {
  const s = new Array(shape.length);
  for (let d = shape.length - 1, k = 1; d >= 0; d--) (s[d] = k), (k *= shape[d]);
  return s;
}

// --- helpers ---------------------------------------------------------------------------------------------------------

/** Section bytes of a .wemb by "kind:index", parsed with js/format.js. */
function wembSections(file) {
  const b = new Uint8Array(fs.readFileSync(file));
  const header = parseHeader(b);
  const out = new Map();
  for (const s of parseTable(b, header)) out.set(`${s.kind}:${s.index}`, b.subarray(s.offset, s.offset + s.size));
  return out;
}

/** Asserts that two .wemb files have the same sections, byte for byte, METADATA aside (it lists the files read). */
function assertSameWeights(a, b) {
  const sa = wembSections(a), sb = wembSections(b);
  assert.deepEqual([...sb.keys()], [...sa.keys()], 'same section list');
  let n = 0;
  for (const [k, x] of sa) {
    if (k === `${KIND.METADATA}:0`) continue;
    assert.ok(Buffer.from(x).equals(Buffer.from(sb.get(k))), `section ${k} identical`);
    n++;
  }
  assert.ok(n > 10);
}

/** Copies a model folder without its weights (and onnx/). */
function copyFolder(src, dst) {
  fs.cpSync(src, dst, { recursive: true, filter: (f) => !/model\.safetensors|pytorch_model\.bin|onnx/.test(path.basename(f)) });
  for (const f of fs.readdirSync(dst, { recursive: true })) {
    const p = path.join(dst, f);
    fs.chmodSync(p, fs.statSync(p).isDirectory() ? 0o755 : 0o644);
  }
  return dst;
}

/** A tiny safetensors folder and its .wemb (the reference). */
async function tinyReference(dtype, convertOpts) {
  const { dir, tensors } = makeTinyFolder(tmp(`ref-${dtype}`), { dtype });
  const wemb = tmp('ref.wemb');
  await convert(dir, { output: wemb, ...convertOpts });
  return { dir, tensors, wemb };
}

/** Same folder with a pytorch_model.bin written by writeTorch(opts); returns the converted .wemb and summary. */
async function convertTorchCopy(ref, opts, convertOpts) {
  const dir = copyFolder(ref.dir, tmp('torch'));
  writeTorch(path.join(dir, 'pytorch_model.bin'), ref.tensors, opts);
  const wemb = tmp('torch.wemb');
  const summary = await convert(dir, { output: wemb, ...convertOpts });
  return { dir, wemb, summary };
}

const expectError = (fn, re) => assert.throws(fn, (e) => e instanceof Error && re.test(e.message));

// --- conversion matrix ---------------------------------------------------------------------------------------------

describe('torch checkpoints convert like safetensors', () => {
  const is2d = (_, s) => s.length === 2;
  const cases = [
    ['F32, contiguous, stored', 'F32', {}, { dtype: 'f32' }],
    ['F16, contiguous, stored, bert. prefix, position_ids buffer', 'F16', { namePrefix: 'bert.', positionIds: 16 }, { dtype: 'f16' }],
    ['BF16, contiguous, stored', 'BF16', {}, { dtype: 'f32' }],
    ['F32, transposed 2-D weights (stride [1, rows], offset 5)', 'F32', { layout: (n, s) => (is2d(n, s) ? 'transposed' : 'contiguous') }, { dtype: 'int8' }],
    ['F16, one shared storage with offsets, tied alias', 'F16', { layout: () => 'shared', tie: [['cls.predictions.decoder.weight', 'embeddings.word_embeddings.weight']] }, { dtype: 'f16' }],
    ['BF16, every entry deflated', 'BF16', { deflate: () => true }, { dtype: 'int8' }],
    ['F32, zip64 records, big-endian byteorder, prefix pytorch_model/', 'F32', { zip64: true, bigEndian: true, prefix: 'pytorch_model/' }, { dtype: 'f32' }],
    ['F16, mixed layouts, some entries deflated', 'F16', {
      layout: (n, s) => (n.includes('attention.self') && s.length === 2 ? 'transposed' : n.includes('LayerNorm') ? 'shared' : 'contiguous'),
      deflate: (e) => /data\/(1|shared)$|data\.pkl$/.test(e),
    }, { dtype: 'int8' }],
  ];
  for (const [title, dtype, opts, convertOpts] of cases) {
    test(title, async () => {
      const ref = await tinyReference(dtype, convertOpts);
      const { wemb, summary } = await convertTorchCopy(ref, { dtype, ...opts }, convertOpts);
      assertSameWeights(ref.wemb, wemb);
      assert.ok(summary.metadata.files.includes('pytorch_model.bin'), 'METADATA lists pytorch_model.bin');
      assert.ok(!summary.metadata.files.includes('model.safetensors'));
    });
  }

  test('sharded: pytorch_model.bin.index.json over two .bin shards', async () => {
    const ref = await tinyReference('F16', { dtype: 'f16' });
    const dir = copyFolder(ref.dir, tmp('sharded'));
    const half = Math.ceil(ref.tensors.length / 2);
    const map = {};
    [ref.tensors.slice(0, half), ref.tensors.slice(half)].forEach((part, i) => {
      const f = `pytorch_model-0000${i + 1}-of-00002.bin`;
      writeTorch(path.join(dir, f), part, { dtype: 'F16', namePrefix: 'bert.', deflate: () => i === 1 });
      for (const t of part) map['bert.' + t.name] = f;
    });
    fs.writeFileSync(path.join(dir, 'pytorch_model.bin.index.json'), JSON.stringify({ metadata: { total_size: 0 }, weight_map: map }));
    const wemb = tmp('sharded.wemb');
    const summary = await convert(dir, { output: wemb, dtype: 'f16' });
    assertSameWeights(ref.wemb, wemb);
    assert.deepEqual(summary.metadata.files.filter((f) => f.endsWith('.bin')), ['pytorch_model-00001-of-00002.bin', 'pytorch_model-00002-of-00002.bin']);
    // a weight_map naming a tensor its shard lacks
    map['bert.extra.weight'] = 'pytorch_model-00001-of-00002.bin';
    fs.writeFileSync(path.join(dir, 'pytorch_model.bin.index.json'), JSON.stringify({ weight_map: map }));
    expectError(() => openWeights(dir), /weight_map puts "bert\.extra\.weight" in pytorch_model-00001-of-00002\.bin, which has no such tensor/);
    map['bert.extra.weight'] = '../x.bin';
    fs.writeFileSync(path.join(dir, 'pytorch_model.bin.index.json'), JSON.stringify({ weight_map: map }));
    expectError(() => openWeights(dir), /is not a file name/);
  });

  test('gte-small-synth: real tensors, F16 storages with transposed, shared and deflated parts, int8 and f16', { skip: !HAVE_GTE }, async () => {
    const st = openSafetensors(GTE);
    const tensors = st.names.map((n) => ({ name: n, shape: st.info(n).shape, data: st.get(n).data }));
    st.close();
    const dir = copyFolder(GTE, tmp('gte'));
    writeTorch(path.join(dir, 'pytorch_model.bin'), tensors, {
      dtype: 'F16', namePrefix: 'bert.', positionIds: 512,
      layout: (n, s) => (/attention\.(self\.(query|key)|output\.dense)\.weight/.test(n) && s.length === 2 ? 'transposed' : s.length === 1 ? 'shared' : 'contiguous'),
      deflate: (e) => /data\/(shared|\d*5)$|data\.pkl$/.test(e),
    });
    for (const dtype of ['int8', 'f16']) {
      const a = tmp(`gte-st-${dtype}.wemb`), b = tmp(`gte-pt-${dtype}.wemb`);
      await convert(GTE, { output: a, dtype });
      const summary = await convert(dir, { output: b, dtype });
      assertSameWeights(a, b);
      assert.ok(summary.metadata.files.includes('pytorch_model.bin'));
    }
  });
});

// --- the real ModelScope checkpoint ----------------------------------------------------------------------------------

describe('corom-tiny-synth pytorch_model.bin (torch 1.13)', { skip: !HAVE_COROM }, () => {
  test('opens; every tensor has the shape config.json implies, F16, bert. keys; position_ids is I64 and not read', () => {
    const cfgFile = path.join(COROM, 'config.json');
    const m = modelFromConfig(JSON.parse(fs.readFileSync(cfgFile, 'utf8')), cfgFile);
    const store = openWeights(COROM);
    try {
      assert.deepEqual(store.files, [path.join(COROM, 'pytorch_model.bin')]);
      const req = requiredTensors(m);
      assert.equal(store.names.length, req.length + 1);
      assert.ok(store.names.every((n) => n.startsWith('bert.')));
      for (const [name, shape] of req) {
        const info = store.info(name);
        assert.ok(info, name);
        assert.equal(info.name, 'bert.' + name);
        assert.equal(info.dtype, 'F16', name);
        assert.deepEqual(info.shape, shape, name);
        const t = store.get(name);
        assert.equal(t.data.length, shape.reduce((a, b) => a * b, 1));
        assert.ok(t.data.every(Number.isFinite), name);
      }
      assert.deepEqual(store.info('embeddings.position_ids'), { name: 'bert.embeddings.position_ids', dtype: 'I64', shape: [1, 512], file: store.files[0] });
      expectError(() => store.get('embeddings.position_ids'), /"bert\.embeddings\.position_ids" has dtype I64; wembed converts F32, F16, BF16 weights only/);
      assert.equal(store.resolve('pooler.dense.weight'), null);
      expectError(() => store.get('pooler.dense.weight'), /missing tensor "pooler\.dense\.weight"/);
    } finally {
      store.close();
    }
  });

  test('word embeddings equal the stored f16 bits, decoded independently', () => {
    // independent path: locate the stored entry's local header by hand (the pickle maps the word embeddings to key 5)
    const b = fs.readFileSync(path.join(COROM, 'pytorch_model.bin'));
    const name = Buffer.from('pytorch_model/data/5');
    let at = -1;
    for (let i = b.indexOf(name); i >= 0; i = b.indexOf(name, i + 1)) {
      if (b.readUInt32LE(i - 30) === 0x04034b50 && b.readUInt16LE(i - 4) === name.length) {
        at = i - 30;
        break;
      }
    }
    assert.ok(at >= 0);
    assert.equal(b.readUInt16LE(at + 8), 0, 'stored');
    const start = at + 30 + name.length + b.readUInt16LE(at + 28);
    const store = openTorchCheckpoint(path.join(COROM, 'pytorch_model.bin'));
    try {
      const w = store.get('embeddings.word_embeddings.weight');
      assert.deepEqual(w.shape, [30522, 312]);
      for (let i = 0; i < w.data.length; i += 997) assert.equal(w.data[i], f16ToNumber(b.readUInt16LE(start + 2 * i)), `element ${i}`);
    } finally {
      store.close();
    }
  });
});

// --- openWeights ---------------------------------------------------------------------------------------------------

describe('openWeights', () => {
  test('prefers model.safetensors, then its index, then pytorch_model.bin, then its index; lists them when none', () => {
    const { dir, tensors } = makeTinyFolder(tmp('pref'), { dtype: 'F32' });
    writeTorch(path.join(dir, 'pytorch_model.bin'), tensors, { dtype: 'F16' });
    let s = openWeights(dir);
    assert.equal(path.basename(s.files[0]), 'model.safetensors');
    assert.equal(s.info('embeddings.LayerNorm.weight').dtype, 'F32');
    s.close();
    fs.rmSync(path.join(dir, 'model.safetensors'));
    s = openWeights(dir);
    assert.equal(path.basename(s.files[0]), 'pytorch_model.bin');
    assert.equal(s.info('embeddings.LayerNorm.weight').dtype, 'F16');
    s.close();
    fs.writeFileSync(path.join(dir, 'model.safetensors.index.json'), '{"metadata": {}}');
    expectError(() => openWeights(dir), /model\.safetensors\.index\.json: no "weight_map" object/); // the index wins, and is checked
    fs.rmSync(path.join(dir, 'model.safetensors.index.json'));
    fs.renameSync(path.join(dir, 'pytorch_model.bin'), path.join(dir, 'weights.pt'));
    expectError(() => openWeights(dir), /no model weights in .*: no model\.safetensors or model\.safetensors\.index\.json, no pytorch_model\.bin or pytorch_model\.bin\.index\.json \(found weights\.pt, which wembed does not read\)/);
    // a file given directly
    s = openWeights(path.join(dir, 'weights.pt'));
    assert.equal(s.names.length, tensors.length);
    s.close();
  });
});

// --- the unpickler -------------------------------------------------------------------------------------------------

describe('pickle.js', () => {
  test('values, containers and memo', () => {
    const w = new PickleWriter(2);
    // [None, True, -3, 2**40, -(2**40), 1.5, 'é', {'a': (1, 2)}, b'xy'] built with APPENDS
    w.op(0x5d).put().op(0x28, 0x4e, 0x88).int(-3).int(2 ** 40).int(-(2 ** 40));
    w.op(0x47, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0).str('é');
    w.op(0x7d).str('a').tuple([1, 2]).op(0x73);
    w.op(0x43, 2, 0x78, 0x79, 0x65);
    w.op(0x68, 0, 0x61); // BINGET 0 (the list itself), APPEND
    const v = unpickle(w.op(0x2e).bytes());
    assert.equal(v.length, 10);
    assert.deepEqual(v.slice(0, 7), [null, true, -3, 2 ** 40, -(2 ** 40), 1.5, 'é']);
    assert.deepEqual([...v[7]], [['a', [1, 2]]]);
    assert.deepEqual([...v[8]], [0x78, 0x79]);
    assert.equal(v[9], v);
    // LONG1 beyond 2^53 is a BigInt
    assert.equal(unpickle(Uint8Array.from([0x80, 2, 0x8a, 8, 0, 0, 0, 0, 0, 0, 0, 0x80, 0x2e])), -(2n ** 63n));
  });

  test('globals outside the allow-list are refused by name, before anything runs', () => {
    const allowed = new Map([['collections.OrderedDict', new PickleGlobal('collections.OrderedDict', { call: () => new Map() })]]);
    const g = (mod, name) => {
      const w = new PickleWriter(2);
      w.global(mod, name).str('echo pwned').op(0x85, 0x52, 0x2e);
      return w.bytes();
    };
    for (const [mod, name] of [['os', 'system'], ['posix', 'system'], ['builtins', 'eval'], ['__builtin__', 'getattr'], ['torch', 'load'], ['subprocess', 'Popen']]) {
      expectError(() => unpickle(g(mod, name), { globals: allowed }), new RegExp(`refusing to load global ${mod}\\.${name}: not in the allow-list`));
    }
    // STACK_GLOBAL (protocol 4)
    const sg = Uint8Array.from([0x80, 4, 0x8c, 8, ...Buffer.from('builtins'), 0x8c, 4, ...Buffer.from('exec'), 0x93, 0x2e]);
    expectError(() => unpickle(sg, { globals: allowed }), /refusing to load global builtins\.exec/);
    // object-building opcodes are not supported at all
    for (const op of [0x69 /* INST */, 0x6f /* OBJ */, 0x81 /* NEWOBJ */, 0x92 /* NEWOBJ_EX */, 0x82 /* EXT1 */, 0x50 /* PERSID */, 0x49 /* INT */]) {
      expectError(() => unpickle(Uint8Array.from([0x80, 2, 0x28, op, 0x2e])), /unsupported pickle opcode/);
    }
    // REDUCE of something that is not an allow-listed callable
    expectError(() => unpickle(Uint8Array.from([0x80, 2, 0x4e, 0x29, 0x52, 0x2e])), /REDUCE: None is not callable/);
  });

  test('malformed pickles fail cleanly', () => {
    const bad = [
      [[0x80, 2, 0x4e], /no STOP/],
      [[0x80, 2, 0x58, 0xff, 0xff, 0xff, 0x7f, 0x2e], /truncated pickle: 2147483647 bytes needed/],
      [[0x80, 2, 0x8b, 0x00, 0x00, 0x00, 0x10, 0x2e], /truncated pickle|too large/],
      [[0x80, 2, 0x8a, 100, ...new Array(100).fill(1), 0x2e], /integer of 100 bytes is too large/],
      [[0x80, 2, 0x30, 0x2e], /stack underflow/],
      [[0x80, 2, 0x28, 0x4e, 0x2e], /marks on the stack at STOP/],
      [[0x80, 2, 0x68, 7, 0x2e], /memo key 7 is undefined/],
      [[0x80, 2, 0x29, 0x4e, 0x4e, 0x73, 0x2e], /SETITEM on a tuple/],
      [[0x80, 2, 0x29, 0x4e, 0x61, 0x2e], /APPEND to a tuple/],
      [[0x80, 2, 0x63, 0x6f, 0x73, 0x2e], /malformed GLOBAL/],
      [[0x80, 9, 0x2e], /protocol 9/],
      [[0x80, 2, 0x4e, 0x51, 0x2e], /persistent ids are not supported/],
    ];
    for (const [bytes, re] of bad) expectError(() => unpickle(Uint8Array.from(bytes)), re);
  });
});

// --- malicious and broken checkpoints --------------------------------------------------------------------------------

describe('malicious and broken checkpoints fail with a clear Error', () => {
  let good, goodRecords;
  const tensors = () => makeTinyFolder(tmp('src'), { dtype: 'F16' }).tensors;
  before(() => {
    good = tmp('good.bin');
    goodRecords = writeTorch(good, tensors(), { dtype: 'F16', positionIds: 16 });
  });
  const variant = (mutate) => {
    const f = tmp('bad.bin');
    const b = Buffer.from(fs.readFileSync(good));
    fs.writeFileSync(f, mutate(b) ?? b);
    return f;
  };
  /** A checkpoint whose data.pkl is the given bytes (plus the good storages). */
  const withPickle = (pkl, extra = []) => {
    const f = tmp('pkl.bin');
    const z = new ZipFile(good);
    const entries = z.names.map((n) => ({ name: n, data: n.endsWith('data.pkl') ? pkl : z.read(n) }));
    z.close();
    writeZip(f, [...entries, ...extra]);
    return f;
  };
  const records = (patch) => stateDictPickle(goodRecords.map((r, i) => patch({ ...r }, i) ?? r));
  const open = (f) => openTorchCheckpoint(f);
  /** Opens f and reads every float tensor. */
  const readAll = (f) => {
    const s = open(f);
    try {
      for (const n of s.names) if (s.info(n).dtype !== 'I64') s.get(n);
    } finally {
      s.close();
    }
  };

  test('the unmodified checkpoint reads', () => {
    readAll(good);
    readAll(withPickle(records(() => null)));
  });

  test('truncated zips', () => {
    const size = fs.statSync(good).size;
    for (const keep of [0, 10, 100, Math.floor(size / 2), size - 30, size - 1]) {
      expectError(() => open(variant((b) => b.subarray(0, keep))), /too small for a zip|not a zip archive, or a truncated one|truncated or corrupt zip/);
    }
    // central directory offset pointing past the end
    expectError(() => open(variant((b) => void b.writeUInt32LE(b.length, b.length - 6))), /central directory .* lies past the end of the file/);
    // an entry's local header offset pointing into the middle of nowhere / past the end
    expectError(() => open(variant((b) => {
      const cd = b.readUInt32LE(b.length - 6);
      b.writeUInt32LE(b.length - 10, cd + 42); // first entry: data.pkl
    })), /truncated or corrupt zip|no local header/);
  });

  test('CRC mismatches: in data.pkl at open, in a storage when it is read', () => {
    const z = new ZipFile(good);
    const pkl = z.check('archive/data.pkl').dataStart;
    const st = z.check('archive/data/3').dataStart;
    z.close();
    expectError(() => open(variant((b) => void (b[pkl + 40] ^= 1))), /CRC-32 mismatch in entry "archive\/data\.pkl"/);
    const f = variant((b) => void (b[st + 1] ^= 0x10));
    const s = open(f); // storages are read lazily
    expectError(() => s.get(goodRecords[3].name), /CRC-32 mismatch in entry "archive\/data\/3"/);
    s.close();
    // deflated storage corrupted: an inflate error or a CRC mismatch, never garbage
    const d = tmp('deflated.bin');
    writeTorch(d, tensors(), { dtype: 'F16', deflate: () => true });
    const z2 = new ZipFile(d);
    const e = z2.check('archive/data/0');
    z2.close();
    const bytes = fs.readFileSync(d);
    bytes[e.dataStart + 3] ^= 0xff;
    fs.writeFileSync(d, bytes);
    const s2 = open(d);
    expectError(() => s2.get(goodRecords[0].name), /cannot inflate entry "archive\/data\/0"|CRC-32 mismatch|inflates to/);
    s2.close();
  });

  test('pickles calling os.system / builtins.eval / posix.system', () => {
    const evil = (mod, name) => {
      const w = new PickleWriter(2);
      w.global(mod, name).str('touch /tmp/wembed-pwned').op(0x85, 0x52, 0x2e);
      return w.bytes();
    };
    for (const [mod, name] of [['os', 'system'], ['posix', 'system'], ['builtins', 'eval'], ['nt', 'system'], ['torch', 'Tensor']]) {
      expectError(() => open(withPickle(evil(mod, name))), new RegExp(`data\\.pkl: refusing to load global ${mod}\\.${name}: not in the allow-list`));
    }
    assert.ok(!fs.existsSync('/tmp/wembed-pwned'));
    // an evil global hidden among good tensors, after them
    const good2 = records(() => null);
    const tail = evil('os', 'system');
    const mixed = Uint8Array.from([...good2.subarray(0, good2.length - 1), 0x30, ...tail.subarray(2)]);
    expectError(() => open(withPickle(mixed)), /refusing to load global os\.system/);
    // allowed globals used the wrong way
    const w = new PickleWriter(2);
    w.global('torch', 'FloatStorage').op(0x29, 0x52, 0x2e);
    expectError(() => open(withPickle(w.bytes())), /REDUCE: torch\.FloatStorage is not callable/);
    const w2 = new PickleWriter(2);
    w2.global('collections', 'OrderedDict').str('x').op(0x85, 0x52, 0x2e);
    expectError(() => open(withPickle(w2.bytes())), /collections\.OrderedDict: only OrderedDict\(\) with no arguments/);
  });

  test('huge declared sizes are refused before any allocation', () => {
    const before = process.memoryUsage().arrayBuffers;
    // storage element count far beyond its entry
    expectError(() => open(withPickle(records((r, i) => (i === 2 ? { ...r, numel: 2 ** 50 } : r)))), /storage 2 \(torch\.HalfStorage\): 1125899906842624 elements x 2 bytes = \d+ bytes, but archive\/data\/2 holds \d+ bytes/);
    // a view with more elements than its storage
    expectError(() => open(withPickle(records((r, i) => (i === 0 ? { ...r, size: [2 ** 26, 2 ** 26], stride: [2 ** 26, 1] } : r)))), /size \[67108864, 67108864\] has more elements than its storage 0/);
    // zip entries declaring sizes they cannot hold (the pickle agreeing with them)
    const pkl0 = (numel) => records((r, i) => (i === 0 ? { ...r, numel } : r));
    const data0 = new Uint8Array(goodRecords[0].numel * 2);
    expectError(() => open(writeBad([{ name: 'archive/data.pkl', data: pkl0(0x7ffffff8) }, { name: 'archive/data/0', data: data0, deflate: true, cd: { size: 0xfffffff0 } }])),
      /deflated entry "archive\/data\/0" declares 4294967280 bytes from only \d+ compressed bytes \(impossible for deflate\)/);
    expectError(() => open(writeBad([{ name: 'archive/data.pkl', data: pkl0(0x1000000) }, { name: 'archive/data/0', data: data0, cd: { size: 0x2000000, csize: 0x2000000 } }])),
      /data of entry "archive\/data\/0" \(33554432 bytes at \d+\) lies past the end of the file/);
    expectError(() => open(writeBad([{ name: 'archive/data.pkl', data: pkl0(2 ** 39) }, { name: 'archive/data/0', data: data0, cd: { size: 2 ** 40, csize: 2 ** 40 } }], { zip64: true })),
      /entry "archive\/data\/0" declares 1099511627776 bytes, more than the 4294967296-byte limit/);
    expectError(() => open(writeBad([{ name: 'archive/data.pkl', data: records(() => null), cd: { size: 2 ** 20, csize: 2 ** 20 } }])), /data of entry "archive\/data\.pkl" .* lies past the end of the file/);
    expectError(() => open(writeBad([{ name: 'archive/data.pkl', data: records(() => null), cd: { size: 2 ** 30, csize: 2 ** 30 } }])), /archive\/data\.pkl declares 1073741824 bytes, more than the 268435456-byte limit/);
    // a storage entry that inflates to more than it declares: refused when read
    const z = new ZipFile(good);
    const entries = z.names.map((n) => ({ name: n, data: z.read(n) }));
    z.close();
    const i1 = entries.findIndex((e) => e.name.endsWith('data/1'));
    const orig = entries[i1].data.length;
    entries[i1] = { name: entries[i1].name, data: new Uint8Array(orig * 4), deflate: true, cd: { size: orig } };
    const grownFile = tmp('grown.bin');
    writeZip(grownFile, entries);
    const s = open(grownFile);
    expectError(() => s.get(goodRecords[1].name), /entry "archive\/data\/1" inflates to more than its declared \d+ bytes/);
    s.close();
    // a huge string length and a huge LONG4 in the pickle
    expectError(() => open(withPickle(Uint8Array.from([0x80, 2, 0x58, 0xf0, 0xff, 0xff, 0xff, 0x2e]))), /truncated pickle/);
    expectError(() => open(withPickle(Uint8Array.from([0x80, 2, 0x8b, 0xf0, 0xff, 0xff, 0x7f, 0x2e]))), /truncated pickle/);
    // central directory claiming 65534 entries in a few bytes
    expectError(() => open(variant((b) => void b.writeUInt16LE(65534, b.length - 12))), /65534 entries cannot fit/);
    const grew = process.memoryUsage().arrayBuffers - before;
    assert.ok(grew < 64 * 2 ** 20, `array buffers grew by ${grew} bytes`);
  });

  /** A checkpoint of the good storages (with data.pkl replaced by entries given, first). */
  function writeBad(first, opts = {}) {
    const f = tmp('bad.bin');
    const z = new ZipFile(good);
    const names = new Set(first.map((e) => e.name));
    const rest = z.names.filter((n) => !names.has(n)).map((n) => ({ name: n, data: z.read(n) }));
    z.close();
    writeZip(f, [...first, ...rest], opts);
    return f;
  }

  test('storage offsets and strides out of range', () => {
    const n0 = goodRecords[0].numel;
    expectError(() => open(withPickle(records((r, i) => (i === 0 ? { ...r, offset: n0 } : r)))), new RegExp(`storage offset ${n0}, size .* reach element \\d+ of storage 0, which has ${n0}`));
    expectError(() => open(withPickle(records((r, i) => (i === 0 ? { ...r, offset: 1 } : r)))), /reach element/);
    expectError(() => open(withPickle(records((r, i) => (i === 0 ? { ...r, stride: [r.stride[0] + 1, 1] } : r)))), /reach element/);
    expectError(() => open(withPickle(records((r, i) => (i === 0 ? { ...r, offset: -1 } : r)))), /storage offset -1 is not a non-negative integer/);
    expectError(() => open(withPickle(records((r, i) => (i === 0 ? { ...r, stride: [1] } : r)))), /stride \[1\] does not match size/);
    expectError(() => open(withPickle(records((r, i) => (i === 0 ? { ...r, offset: 2 ** 60 } : r)))), /storage offset 1152921504606846976 is not a non-negative integer/);
  });

  test('storages that are missing, mistyped or doubly declared', () => {
    expectError(() => open(withPickle(records((r, i) => (i === 1 ? { ...r, key: '999' } : r)))), /storage 999: no entry archive\/data\/999 in the archive/);
    expectError(() => open(withPickle(records((r, i) => (i === 1 ? { ...r, key: '../../etc/passwd' } : r)))), /storage key "..\/..\/etc\/passwd" is not a plain name/);
    expectError(() => open(withPickle(records((r, i) => (i === 1 ? { ...r, key: '0' } : r)))), /storage 0 is declared twice|storage 0 \(torch\.HalfStorage\)/);
    expectError(() => open(withPickle(records((r, i) => (i === 1 ? { ...r, type: 'FloatStorage' } : r)))), /storage 1 \(torch\.FloatStorage\): \d+ elements x 4 bytes/);
    expectError(() => open(withPickle(records((r, i) => (i === 1 ? { ...r, type: 'QInt8Storage' } : r)))), /refusing to load global torch\.QInt8Storage/);
  });

  test('legacy, TorchScript, bare pickle and other non-checkpoints', () => {
    const legacy = tmp('legacy.bin');
    fs.writeFileSync(legacy, Buffer.from([0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e, 0x80, 0x02, 0x4d, 0xe9, 0x03, 0x2e]));
    expectError(() => open(legacy), /legacy torch\.save format is not supported; re-save with torch >= 1\.6/);
    const tar = tmp('tar.bin');
    const tb = Buffer.alloc(1024);
    tb.write('sys_info', 0), tb.write('ustar', 257);
    fs.writeFileSync(tar, tb);
    expectError(() => open(tar), /legacy torch\.save format \(tar\) is not supported/);
    const bare = tmp('bare.bin');
    fs.writeFileSync(bare, records(() => null));
    expectError(() => open(bare), /a bare pickle, not a torch\.save zip checkpoint/);
    const junk = tmp('junk.bin');
    fs.writeFileSync(junk, Buffer.alloc(4096, 0x41));
    expectError(() => open(junk), /not a zip archive, or a truncated one/);
    const ts = tmp('ts.pt');
    writeZip(ts, [{ name: 'model/data.pkl', data: records(() => null) }, { name: 'model/constants.pkl', data: new Uint8Array([0x80, 2, 0x29, 0x2e]) }, { name: 'model/code/__torch__.py', data: new Uint8Array(1) }]);
    expectError(() => open(ts), /TorchScript archive/);
    const nopkl = tmp('nopkl.bin');
    writeZip(nopkl, [{ name: 'x/y.txt', data: new Uint8Array(3) }]);
    expectError(() => open(nopkl), /a zip archive without data\.pkl/);
    const list = tmp('list.bin');
    writeZip(list, [{ name: 'archive/data.pkl', data: Uint8Array.from([0x80, 2, 0x5d, 0x2e]) }]);
    expectError(() => open(list), /the pickle holds a Array, not a dict of tensors/);
    const empty = tmp('empty.bin');
    writeZip(empty, [{ name: 'archive/data.pkl', data: Uint8Array.from([0x80, 2, 0x7d, 0x2e]) }]);
    expectError(() => open(empty), /no tensors in the checkpoint/);
    const order = tmp('order.bin');
    writeZip(order, [{ name: 'archive/data.pkl', data: Uint8Array.from([0x80, 2, 0x7d, 0x2e]) }, { name: 'archive/byteorder', data: new TextEncoder().encode('middle') }]);
    expectError(() => open(order), /byteorder is "middle"/);
  });

  test('encrypted, unsupported compression, duplicate entries', () => {
    const pkl = records(() => null);
    expectError(() => open(writeBad([{ name: 'archive/data.pkl', data: pkl, cd: { flags: 1 } }])), /entry "archive\/data\.pkl" is encrypted/);
    expectError(() => open(writeBad([{ name: 'archive/data.pkl', data: pkl, cd: { method: 12 } }])), /compression method 12; only stored \(0\) and deflated \(8\)/);
    expectError(() => open(writeBad([{ name: 'archive/data.pkl', data: pkl }, { name: 'archive/data/0', data: new Uint8Array(4) }, { name: 'archive/data/0', data: new Uint8Array(4) }])), /entry "archive\/data\/0" appears twice/);
  });
});
