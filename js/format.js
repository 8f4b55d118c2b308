// The .wemb container (docs/format.md): constants, CRC-32, header / section table / config encoding and checks.
// Shared by the converter (writer), `wembed info` and the streaming loader, so it runs in browsers too: no Node
// imports, no Buffer. Every parse function trusts nothing and throws an Error naming the field or section, and
// what was expected vs found. Little-endian throughout (DataView, explicit).

export const MAGIC = 'WEMB';
export const VERSION = 1;
export const HEADER_SIZE = 64;
export const ENTRY_SIZE = 32;
export const CONFIG_SIZE = 128;
export const ALIGN = 64;
export const MAX_SECTIONS = 4096;
export const MAX_TOTAL_SIZE = 2 ** 31; // wasm32

/** Section kinds (docs/format.md, "Section kinds"). Linear sections: linearKind(j, part). */
export const KIND = Object.freeze({
  CONFIG: 1, METADATA: 2, TOKENIZER: 3,
  EMB_WORD: 16, EMB_WORD_SCALE: 17, EMB_POS: 18, EMB_TYPE: 19, EMB_LN_GAMMA: 20, EMB_LN_BETA: 21,
  EMB_WORD_MAP: 22, // pruned vocabulary: u32 [V], token id -> EMB_WORD row
  LINEAR: 32, // 32 + 4j + part
  ATTN_LN_GAMMA: 64, ATTN_LN_BETA: 65, OUT_LN_GAMMA: 66, OUT_LN_BETA: 67,
});
/** The four linears of a layer, j. */
export const LINEAR = Object.freeze({ QKV: 0, ATTN_OUT: 1, FFN_IN: 2, FFN_OUT: 3 });
export const LINEAR_NAMES = Object.freeze(['QKV', 'ATTN_OUT', 'FFN_IN', 'FFN_OUT']);
/** Parts of a linear. */
export const PART = Object.freeze({ WEIGHT: 0, SCALE: 1, BIAS: 2, IN_SCALE: 3 });
export const PART_NAMES = Object.freeze(['weight', 'scale', 'bias', 'in_scale']);
export const DTYPE = Object.freeze({ F32: 0, F16: 1, INT8: 2, Q4: 3 }); // Q4: the word-embedding table only
export const DTYPE_NAMES = Object.freeze(['f32', 'f16', 'int8', 'q4']);
/** q4 word embeddings: values per {f32 scale, f32 min} group along H. */
export const Q4_GROUP = 32;
export const POOLING = Object.freeze({ CLS: 1, MEAN: 2 });
export const POOLING_NAMES = Object.freeze({ 1: 'cls', 2: 'mean' });
export const METRIC = Object.freeze({ COSINE: 1, DOT: 2 });
export const METRIC_NAMES = Object.freeze({ 1: 'cosine', 2: 'dot' });
export const ACTIVATION = Object.freeze({ GELU_ERF: 1 });

export const linearKind = (j, part) => KIND.LINEAR + 4 * j + part;

const NAMES = new Map(Object.entries(KIND).filter(([k]) => k !== 'LINEAR').map(([k, v]) => [v, k]));

/** Human name of a kind, as the C reader prints it ("QKV weight", "EMB_POS", "kind 99"). */
export function sectionName(kind) {
  if (NAMES.has(kind)) return NAMES.get(kind);
  if (kind >= KIND.LINEAR && kind < KIND.LINEAR + 16) {
    const r = kind - KIND.LINEAR;
    return `${LINEAR_NAMES[r >> 2]} ${PART_NAMES[r & 3]}`;
  }
  return `kind ${kind}`;
}

/** Per-layer kinds carry the layer number as index; all others have index 0. */
export const isPerLayer = (kind) => kind >= KIND.LINEAR && kind <= KIND.OUT_LN_BETA;
export const isKnownKind = (kind) =>
  (kind >= KIND.CONFIG && kind <= KIND.TOKENIZER) ||
  (kind >= KIND.EMB_WORD && kind <= KIND.EMB_WORD_MAP) ||
  (kind >= KIND.LINEAR && kind < KIND.LINEAR + 16) ||
  (kind >= KIND.ATTN_LN_GAMMA && kind <= KIND.OUT_LN_BETA);

const label = (s) => (isPerLayer(s.kind) ? `${sectionName(s.kind)}[${s.index}]` : sectionName(s.kind));

export const alignUp = (n, a = ALIGN) => Math.ceil(n / a) * a;

export { crc32 } from './crc32.js';
import { asBytes, crc32 } from './crc32.js';

// --- little-endian helpers ----------------------------------------------------------------------------------
const view = (b) => new DataView(b.buffer, b.byteOffset, b.byteLength);
function getU64(dv, off, what) {
  const lo = dv.getUint32(off, true), hi = dv.getUint32(off + 4, true);
  if (hi >= 0x200000) throw new Error(`${what} is ${(BigInt(hi) << 32n) | BigInt(lo)}, beyond any possible .wemb file`);
  return hi * 0x100000000 + lo;
}
function setU64(dv, off, v) {
  dv.setUint32(off, v % 0x100000000, true);
  dv.setUint32(off + 4, Math.floor(v / 0x100000000), true);
}
const hex = (x) => (x >>> 0).toString(16).padStart(8, '0');

// --- header ---------------------------------------------------------------------------------------------------
/** Size of header + section table, rounded up to 64: the offset where the first section may start. */
export const tableBytesFor = (sectionCount) => alignUp(HEADER_SIZE + ENTRY_SIZE * sectionCount);

/** CRC-32 of header bytes 0..23 followed by 28..63 (the header_crc32 field left out). */
export function headerCrc(h) {
  return crc32(h.subarray(28, 64), crc32(h.subarray(0, 24)));
}

/** The 64-byte header for a file of totalSize bytes with sectionCount sections whose table has CRC tableCrc. */
export function encodeHeader({ totalSize, sectionCount, tableCrc }) {
  const h = new Uint8Array(HEADER_SIZE);
  const dv = view(h);
  for (let i = 0; i < 4; i++) h[i] = MAGIC.charCodeAt(i);
  dv.setUint32(4, VERSION, true);
  setU64(dv, 8, totalSize);
  dv.setUint32(16, sectionCount, true);
  dv.setUint32(20, tableCrc >>> 0, true);
  dv.setUint32(24, headerCrc(h), true);
  return h;
}

/**
 * Parses and checks the 64-byte header (bytes may be longer: the file's first bytes).
 * Returns { version, totalSize, sectionCount, tableCrc, headerCrc, tableBytes } where tableBytes is the size of
 * header + table rounded up to 64 (bytes needed before parseTable can run).
 */
export function parseHeader(bytes) {
  const h = asBytes(bytes);
  if (h.length < HEADER_SIZE) throw new Error(`not a .wemb file: ${h.length} bytes, the header alone is 64`);
  for (let i = 0; i < 4; i++) {
    if (h[i] !== MAGIC.charCodeAt(i)) throw new Error('not a .wemb file: wrong magic (expected "WEMB")');
  }
  const dv = view(h);
  const version = dv.getUint32(4, true);
  if (version !== VERSION) throw new Error(`unsupported .wemb version ${version} (this build reads version ${VERSION})`);
  const stored = dv.getUint32(24, true);
  const crc = headerCrc(h.subarray(0, HEADER_SIZE));
  if (crc !== stored) throw new Error(`corrupt .wemb header: CRC-32 expected ${hex(stored)}, got ${hex(crc)}`);
  const totalSize = getU64(dv, 8, 'corrupt .wemb header: total size');
  const sectionCount = dv.getUint32(16, true);
  if (sectionCount < 1 || sectionCount > MAX_SECTIONS) {
    throw new Error(`corrupt .wemb header: ${sectionCount} sections (1..${MAX_SECTIONS} allowed)`);
  }
  if (totalSize < HEADER_SIZE + ENTRY_SIZE * sectionCount || totalSize > MAX_TOTAL_SIZE) {
    throw new Error(
      `corrupt .wemb header: total size ${totalSize} is impossible (expected ${HEADER_SIZE + ENTRY_SIZE * sectionCount}..${MAX_TOTAL_SIZE} for ${sectionCount} sections)`,
    );
  }
  return { version, totalSize, sectionCount, tableCrc: dv.getUint32(20, true), headerCrc: stored, tableBytes: tableBytesFor(sectionCount) };
}

// --- section table --------------------------------------------------------------------------------------------
/** The table bytes (32 per entry) for sections [{kind, index, offset, size, crc}], in the given order. */
export function encodeTable(sections) {
  const t = new Uint8Array(ENTRY_SIZE * sections.length);
  const dv = view(t);
  sections.forEach((s, i) => {
    const o = i * ENTRY_SIZE;
    dv.setUint32(o, s.kind, true);
    dv.setUint32(o + 4, s.index, true);
    setU64(dv, o + 8, s.offset);
    setU64(dv, o + 16, s.size);
    dv.setUint32(o + 24, s.crc >>> 0, true);
  });
  return t;
}

/**
 * Parses and checks the section table. bytes: the file from offset 0, at least header.tableBytes long (more is
 * fine). Checks the table CRC, kinds, indices of non-layer kinds, alignment, bounds, overlaps and duplicates.
 * Returns sections [{kind, name, index, offset, size, crc}] sorted by offset (the order they arrive in).
 * Per-layer indices and sizes need the config: checkSections().
 */
export function parseTable(bytes, header = parseHeader(bytes)) {
  const b = asBytes(bytes);
  const n = header.sectionCount;
  const tableEnd = HEADER_SIZE + ENTRY_SIZE * n;
  if (b.length < tableEnd) throw new Error(`truncated .wemb: the section table needs ${tableEnd} bytes, ${b.length} present`);
  const table = b.subarray(HEADER_SIZE, tableEnd);
  const crc = crc32(table);
  if (crc !== header.tableCrc) throw new Error(`corrupt .wemb section table: CRC-32 expected ${hex(header.tableCrc)}, got ${hex(crc)}`);
  const dv = view(table);
  const sections = [];
  for (let i = 0; i < n; i++) {
    const o = i * ENTRY_SIZE;
    const kind = dv.getUint32(o, true);
    const index = dv.getUint32(o + 4, true);
    if (!isKnownKind(kind)) throw new Error(`corrupt .wemb: section ${i} has unknown kind ${kind}`);
    const s = { kind, name: sectionName(kind), index, offset: 0, size: 0, crc: dv.getUint32(o + 24, true) };
    s.offset = getU64(dv, o + 8, `corrupt .wemb: section ${label(s)} offset`);
    s.size = getU64(dv, o + 16, `corrupt .wemb: section ${label(s)} size`);
    if (!isPerLayer(kind) && index !== 0) throw new Error(`corrupt .wemb: section ${s.name} has index ${index} (expected 0)`);
    if (s.offset % ALIGN) throw new Error(`corrupt .wemb: section ${label(s)} at offset ${s.offset} is not a multiple of ${ALIGN}`);
    if (s.offset < tableEnd) throw new Error(`corrupt .wemb: section ${label(s)} at offset ${s.offset} lies inside the header/table (ends at ${tableEnd})`);
    if (s.offset + s.size > header.totalSize) {
      throw new Error(`corrupt .wemb: section ${label(s)} at offset ${s.offset} size ${s.size} ends past the file (${header.totalSize} bytes)`);
    }
    sections.push(s);
  }
  sections.sort((x, y) => x.offset - y.offset);
  const seen = new Set();
  for (let i = 0; i < n; i++) {
    const s = sections[i];
    if (i + 1 < n && s.offset + s.size > sections[i + 1].offset) {
      throw new Error(`corrupt .wemb: sections ${label(s)} (${s.offset}..${s.offset + s.size}) and ${label(sections[i + 1])} (from ${sections[i + 1].offset}) overlap`);
    }
    const key = s.kind * 65536 + s.index;
    if (seen.has(key)) throw new Error(`corrupt .wemb: section ${label(s)} appears twice`);
    seen.add(key);
  }
  return sections;
}

// --- config ---------------------------------------------------------------------------------------------------
const CONFIG_FIELDS = [
  // [offset, name, type]
  [0, 'vocabSize', 'u32'], [4, 'hidden', 'u32'], [8, 'numLayers', 'u32'], [12, 'numHeads', 'u32'],
  [16, 'intermediate', 'u32'], [20, 'maxPositions', 'u32'], [24, 'typeVocabSize', 'u32'], [28, 'layerNormEps', 'f32'],
  [32, 'weightDtype', 'u32'], [36, 'embDtype', 'u32'], [40, 'pooling', 'u32'], [44, 'normalize', 'u32'],
  [48, 'maxTokens', 'u32'], [52, 'metric', 'u32'], [56, 'activation', 'u32'], [60, 'actBits', 'u32'],
  [64, 'quantGroup', 'u32'],
  [68, 'embRows', 'u32'], // pruned vocabulary: rows stored in EMB_WORD (0: not pruned, V rows)
];

/** The 128-byte CONFIG section of config (field names as parseConfig returns them). Checked first. */
export function encodeConfig(config) {
  const c = { activation: ACTIVATION.GELU_ERF, metric: METRIC.COSINE, actBits: 0, quantGroup: 0, ...config };
  c.embRows ??= 0;
  c.normalize = c.normalize ? 1 : 0;
  const out = new Uint8Array(CONFIG_SIZE);
  const dv = view(out);
  for (const [off, name, type] of CONFIG_FIELDS) {
    const v = c[name];
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`config field ${name}: expected a number, found ${v}`);
    if (type === 'f32') dv.setFloat32(off, v, true);
    else {
      if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new Error(`config field ${name}: expected a u32, found ${v}`);
      dv.setUint32(off, v, true);
    }
  }
  checkConfig(parseConfigRaw(out));
  return out;
}

function parseConfigRaw(b) {
  const dv = view(b);
  const c = {};
  for (const [off, name, type] of CONFIG_FIELDS) c[name] = type === 'f32' ? dv.getFloat32(off, true) : dv.getUint32(off, true);
  return c;
}

function checkConfig(c) {
  const bad = (what) => {
    throw new Error(`invalid .wemb config: ${what}`);
  };
  const range = (name, lo, hi) => {
    if (c[name] < lo || c[name] > hi) bad(`${name} ${c[name]} (expected ${lo}..${hi})`);
  };
  range('vocabSize', 1, 2 ** 24);
  range('hidden', 1, 8192);
  range('numLayers', 1, 256);
  range('numHeads', 1, c.hidden);
  if (c.hidden % c.numHeads) bad(`numHeads ${c.numHeads} does not divide hidden ${c.hidden}`);
  range('intermediate', 1, 32768);
  range('maxPositions', 1, 8192);
  range('typeVocabSize', 1, 16);
  if (!(Number.isFinite(c.layerNormEps) && c.layerNormEps > 0)) bad(`layerNormEps ${c.layerNormEps} (expected finite and > 0)`);
  range('weightDtype', 0, 2);
  range('embDtype', 0, 3);
  if (c.pooling !== POOLING.CLS && c.pooling !== POOLING.MEAN) bad(`pooling ${c.pooling} (expected 1 = CLS or 2 = mean)`);
  range('normalize', 0, 1);
  range('maxTokens', 2, c.maxPositions);
  if (c.metric !== METRIC.COSINE && c.metric !== METRIC.DOT) bad(`score metric ${c.metric} (expected 1 = cosine or 2 = dot)`);
  if (c.activation !== ACTIVATION.GELU_ERF) bad(`activation ${c.activation} (only 1 = erf GELU is known)`);
  range('embRows', 0, c.vocabSize);
  if (c.weightDtype === DTYPE.INT8) {
    range('actBits', 2, 12);
    if (c.quantGroup % 8 || c.quantGroup > 32768) bad(`quantGroup ${c.quantGroup} (expected 0, or a multiple of 8 up to 32768)`);
    // int32 accumulation must be exact: (inputs per group) * qmax * 127 < 2^31 (as the C reader checks).
    let kmax = Math.ceil(Math.max(c.hidden, c.intermediate) / 8) * 8;
    if (c.quantGroup && c.quantGroup < kmax) kmax = c.quantGroup;
    if (kmax * (2 ** (c.actBits - 1) - 1) * 127 >= 2 ** 31) bad(`activation bits ${c.actBits} overflow int32 sums over ${kmax} inputs`);
  } else {
    if (c.actBits !== 0) bad(`actBits ${c.actBits} with weight dtype ${DTYPE_NAMES[c.weightDtype]} (expected 0)`);
    if (c.quantGroup !== 0) bad(`quantGroup ${c.quantGroup} with weight dtype ${DTYPE_NAMES[c.weightDtype]} (expected 0)`);
  }
}

/**
 * Parses and checks the CONFIG section (128 bytes). Returns { vocabSize, hidden, numLayers, numHeads,
 * intermediate, maxPositions, typeVocabSize, layerNormEps, weightDtype, embDtype, pooling, normalize (0/1),
 * maxTokens, metric, activation, actBits, quantGroup, embRows }.
 */
export function parseConfig(bytes) {
  const b = asBytes(bytes);
  if (b.length !== CONFIG_SIZE) throw new Error(`invalid .wemb: CONFIG is ${b.length} bytes (expected ${CONFIG_SIZE})`);
  const c = parseConfigRaw(b);
  checkConfig(c);
  return c;
}

// --- the sections a config implies ----------------------------------------------------------------------------
const DTYPE_BYTES = [4, 2, 1];

/** [[N, K]] of the four linears (QKV, ATTN_OUT, FFN_IN, FFN_OUT). */
export function linearDims(c) {
  const H = c.hidden, I = c.intermediate;
  return [[3 * H, H], [H, H], [I, H], [H, I]];
}

/** Scale groups per output channel of an int8 linear with K inputs (group 0: one group, per channel). */
export function quantGroups(K, group) {
  return group ? Math.ceil(Math.ceil(K / 8) * 8 / group) : 1;
}

/** Byte size of a linear's weight section: Np*Kp for int8 (packed), N*K*elem otherwise. */
export function linearWeightBytes(N, K, dtype) {
  return dtype === DTYPE.INT8 ? Math.ceil(N / 4) * 4 * Math.ceil(K / 8) * 8 : N * K * DTYPE_BYTES[dtype];
}

/**
 * Every section the config requires, in file (forward-pass) order: [{kind, index, size, name}]. The sizes of
 * METADATA and TOKENIZER are free (size: null); every other size is what the reader will insist on.
 */
export function expectedSections(c, { metadata = true } = {}) {
  const H = c.hidden;
  const f32 = (n) => n * 4;
  const out = [];
  const add = (kind, index, size) => out.push({ kind, index, size, name: sectionName(kind) });
  add(KIND.CONFIG, 0, CONFIG_SIZE);
  if (metadata) add(KIND.METADATA, 0, null);
  add(KIND.TOKENIZER, 0, null);
  const rows = c.embRows || c.vocabSize; // a pruned vocabulary stores its kept rows, and maps every id to one
  if (c.embRows) add(KIND.EMB_WORD_MAP, 0, 4 * c.vocabSize);
  if (c.embDtype === DTYPE.Q4) {
    add(KIND.EMB_WORD, 0, rows * Math.ceil(H / 2));
    add(KIND.EMB_WORD_SCALE, 0, f32(rows * Math.ceil(H / Q4_GROUP) * 2));
  } else {
    add(KIND.EMB_WORD, 0, rows * H * DTYPE_BYTES[c.embDtype]);
    if (c.embDtype === DTYPE.INT8) add(KIND.EMB_WORD_SCALE, 0, f32(rows));
  }
  add(KIND.EMB_POS, 0, f32(c.maxPositions * H));
  add(KIND.EMB_TYPE, 0, f32(c.typeVocabSize * H));
  add(KIND.EMB_LN_GAMMA, 0, f32(H));
  add(KIND.EMB_LN_BETA, 0, f32(H));
  const dims = linearDims(c);
  const q = c.weightDtype === DTYPE.INT8;
  const linear = (j, l) => {
    const [N, K] = dims[j];
    add(linearKind(j, PART.WEIGHT), l, linearWeightBytes(N, K, c.weightDtype));
    if (q) add(linearKind(j, PART.SCALE), l, f32(Math.ceil(N / 4) * 4 * quantGroups(K, c.quantGroup)));
    add(linearKind(j, PART.BIAS), l, f32(N));
    if (q) add(linearKind(j, PART.IN_SCALE), l, f32(K));
  };
  for (let l = 0; l < c.numLayers; l++) {
    linear(LINEAR.QKV, l);
    linear(LINEAR.ATTN_OUT, l);
    add(KIND.ATTN_LN_GAMMA, l, f32(H));
    add(KIND.ATTN_LN_BETA, l, f32(H));
    linear(LINEAR.FFN_IN, l);
    linear(LINEAR.FFN_OUT, l);
    add(KIND.OUT_LN_GAMMA, l, f32(H));
    add(KIND.OUT_LN_BETA, l, f32(H));
  }
  return out;
}

/**
 * Checks parsed sections against a parsed config: every required (kind, index) present once with the implied
 * size, nothing extra, per-layer indices < numLayers, and that the implied bytes fit in totalSize.
 */
export function checkSections(sections, c, totalSize = Infinity) {
  const byKey = new Map(sections.map((s) => [s.kind * 65536 + s.index, s]));
  const expected = expectedSections(c, { metadata: sections.some((s) => s.kind === KIND.METADATA) });
  let implied = 0;
  for (const e of expected) implied += e.size ?? 0;
  if (implied > totalSize) throw new Error(`invalid .wemb: the config implies ${implied} bytes of sections, the file has ${totalSize}`);
  for (const e of expected) {
    const s = byKey.get(e.kind * 65536 + e.index);
    if (!s) throw new Error(`invalid .wemb: missing section ${label(e)}`);
    if (e.size !== null && s.size !== e.size) {
      throw new Error(`invalid .wemb: section ${label(e)} is ${s.size} bytes, the config implies ${e.size}`);
    }
  }
  if (sections.length !== expected.length) {
    const want = new Set(expected.map((e) => e.kind * 65536 + e.index));
    const extra = sections.find((s) => !want.has(s.kind * 65536 + s.index));
    if (extra) {
      const why = isPerLayer(extra.kind) && extra.index >= c.numLayers ? ` (the config has ${c.numLayers} layers)` : ' for this config';
      throw new Error(`invalid .wemb: unexpected section ${label(extra)}${why}`);
    }
    throw new Error(`invalid .wemb: ${sections.length} sections, the config implies ${expected.length}`);
  }
}

/**
 * Places sections [{kind, index, size}] in the given order: offsets aligned to 64 after the header and table.
 * Returns { sections (copies with offset), tableBytes, totalSize }.
 */
export function layoutSections(list) {
  const tableBytes = tableBytesFor(list.length);
  let offset = tableBytes;
  const sections = list.map((s) => {
    const placed = { ...s, offset };
    offset = alignUp(offset + s.size);
    return placed;
  });
  const last = sections[sections.length - 1];
  const totalSize = last ? last.offset + last.size : tableBytes;
  return { sections, tableBytes, totalSize };
}
