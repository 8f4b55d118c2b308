// Tests of the converter (js/convert/*) and the container code (js/format.js): real model folders from
// ../shared (converted in int8, f16 and f32, parsed back, checked against the source tensors), the number
// formats (f16, int8 packing, smoothing), and bad input folders built here in a temp dir.
// Run: node --test tests/js/
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import {
  DTYPE, KIND, LINEAR, PART, POOLING, checkSections, crc32, encodeConfig, encodeHeader, encodeTable, expectedSections,
  linearKind, parseConfig, parseHeader, parseTable,
} from '../../js/format.js';
import { buildWemb } from '../../js/convert/wemb-writer.js';
import { convert } from '../../js/convert/index.js';
import { readHfFolder } from '../../js/convert/hf-folder.js';
import { f16Table, fromF16, packLinearInt8, quantizeRowsInt8, smoothInScale, toF16, unpackLinearInt8 } from '../../js/convert/quantize.js';
import { openSafetensors } from '../../js/convert/safetensors.js';
import { crcBitwise, f16ToNumber, makeTinyFolder, randArray, randn, rng, tinyTokenizerJson } from './fixtures.mjs';

const SHARED = fileURLToPath(new URL('../../../shared/', import.meta.url));
const MODELS = path.join(SHARED, 'models');
const HAVE_SHARED = fs.existsSync(path.join(MODELS, 'gte-small-synth', 'config.json'));
if (!HAVE_SHARED) {
  console.error(`\n!!!!! ${SHARED} is absent: SKIPPING every test on the real model folders !!!!!\n`);
}

let TMP;
before(() => {
  TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'wembed-convert-test-'));
});
after(() => {
  fs.rmSync(TMP, { recursive: true, force: true });
});

let tinyCount = 0;
const tinyFolder = (opts = {}) => makeTinyFolder(path.join(TMP, `tiny-${++tinyCount}`), opts);

const out = (name) => path.join(TMP, name);
const conv = (dir, opts = {}) => convert(dir, { output: out(`o-${++tinyCount}.wemb`), ...opts });

/** Parses a written .wemb fully: header, table, CRCs, config, required sections. Returns a reader. */
function readWemb(file) {
  const b = new Uint8Array(fs.readFileSync(file));
  const header = parseHeader(b);
  assert.equal(header.totalSize, b.length, 'total_size = file size');
  const sections = parseTable(b, header);
  for (const s of sections) {
    assert.equal(s.offset % 64, 0);
    assert.equal(crc32(b.subarray(s.offset, s.offset + s.size)), s.crc, `CRC of ${s.name}[${s.index}]`);
  }
  const find = (kind, index = 0) => sections.find((s) => s.kind === kind && s.index === index);
  const bytes = (kind, index = 0) => {
    const s = find(kind, index);
    assert.ok(s, `section ${kind}[${index}] present`);
    return b.slice(s.offset, s.offset + s.size);
  };
  const config = parseConfig(bytes(KIND.CONFIG));
  checkSections(sections, config, header.totalSize);
  // padding between sections is zero
  let end = header.tableBytes;
  for (let i = 64 + 32 * sections.length; i < header.tableBytes; i++) assert.equal(b[i], 0);
  for (const s of sections) {
    for (let i = end; i < s.offset; i++) assert.equal(b[i], 0, 'zero padding');
    end = s.offset + s.size;
  }
  const f32 = (kind, index = 0) => new Float32Array(bytes(kind, index).buffer);
  const meta = JSON.parse(new TextDecoder().decode(bytes(KIND.METADATA)));
  return { b, header, sections, config, bytes, f32, meta, find };
}

// --- format.js ---------------------------------------------------------------------------------------------------
describe('format.js', () => {
  test('crc32: check value, chaining, and a bitwise reference on odd lengths', () => {
    assert.equal(crc32(new TextEncoder().encode('123456789')), 0xcbf43926);
    assert.equal(crc32(new Uint8Array(0)), 0);
    const r = rng(3);
    const data = Uint8Array.from({ length: 1000 }, () => (r() * 256) | 0);
    for (const n of [1, 7, 8, 9, 15, 16, 17, 63, 64, 65, 999, 1000]) {
      const d = data.subarray(1, n);
      assert.equal(crc32(d), crcBitwise(d), `length ${n - 1}`);
      for (const cut of [0, 3, 8, Math.floor(d.length / 2)]) {
        if (cut <= d.length) assert.equal(crc32(d.subarray(cut), crc32(d.subarray(0, cut))), crcBitwise(d), `chained at ${cut}`);
      }
    }
    assert.equal(crc32(new Float32Array([1, 2])), crcBitwise(new Uint8Array(new Float32Array([1, 2]).buffer)));
  });

  const tinyConfig = { vocabSize: 5, hidden: 8, numLayers: 1, numHeads: 2, intermediate: 16, maxPositions: 16, typeVocabSize: 2,
    layerNormEps: 1e-12, weightDtype: DTYPE.F32, embDtype: DTYPE.F32, pooling: POOLING.MEAN, normalize: 1, maxTokens: 16, metric: 1, activation: 1, actBits: 0, quantGroup: 0 };
  const tinyFile = (cfg = tinyConfig) => buildWemb(expectedSections(cfg).map((e) => ({
    kind: e.kind, index: e.index, data: e.kind === KIND.CONFIG ? encodeConfig(cfg) : new Uint8Array(e.size ?? 5).fill(e.kind),
  })));

  test('config round trip and checks', () => {
    const c = parseConfig(encodeConfig(tinyConfig));
    assert.deepEqual({ ...c, layerNormEps: 1e-12 }, { embRows: 0, ...tinyConfig });
    assert.equal(c.layerNormEps, Math.fround(1e-12));
    const bad = (patch, re) => assert.throws(() => encodeConfig({ ...tinyConfig, ...patch }), re);
    bad({ numHeads: 3 }, /numHeads 3 does not divide hidden 8/);
    bad({ maxTokens: 17 }, /maxTokens 17 \(expected 2\.\.16\)/);
    bad({ pooling: 3 }, /pooling 3/);
    bad({ weightDtype: DTYPE.INT8, actBits: 0 }, /actBits 0 \(expected 2\.\.12\)/);
    bad({ weightDtype: DTYPE.INT8, actBits: 16 }, /actBits 16/);
    bad({ weightDtype: DTYPE.INT8, actBits: 8, quantGroup: 12 }, /quantGroup 12 \(expected 0, or a multiple of 8/);
    bad({ quantGroup: 64 }, /quantGroup 64 with weight dtype f32 \(expected 0\)/);
    // int32 exactness is per group: 12-bit activations over 32768 inputs overflow in one group, not in groups of 128
    bad({ weightDtype: DTYPE.INT8, actBits: 12, intermediate: 32768 }, /activation bits 12 overflow int32 sums over 32768 inputs/);
    assert.equal(parseConfig(encodeConfig({ ...tinyConfig, weightDtype: DTYPE.INT8, actBits: 12, intermediate: 32768, quantGroup: 128 })).quantGroup, 128);
    bad({ layerNormEps: 0 }, /layerNormEps 0/);
    bad({ embRows: 6 }, /embRows 6 \(expected 0\.\.5\)/);
    assert.throws(() => parseConfig(new Uint8Array(64)), /CONFIG is 64 bytes \(expected 128\)/);
  });

  test('header and table: round trip of a built file', () => {
    const b = tinyFile();
    const h = parseHeader(b);
    assert.equal(h.totalSize, b.length);
    assert.equal(h.sectionCount, expectedSections(tinyConfig).length);
    assert.equal(h.tableBytes % 64, 0);
    const s = parseTable(b, h);
    checkSections(s, parseConfig(b.subarray(s[0].offset, s[0].offset + 128)), b.length);
    assert.deepEqual(s.map((x) => x.kind), expectedSections(tinyConfig).map((x) => x.kind), 'forward order');
    assert.equal(s.find((x) => x.kind === linearKind(LINEAR.FFN_IN, PART.WEIGHT)).name, 'FFN_IN weight');
  });

  test('header and table: corruption is named', () => {
    const b = tinyFile();
    const corrupt = (at, fn) => { const c = b.slice(); fn(c, new DataView(c.buffer)); return c; };
    assert.throws(() => parseHeader(b.subarray(0, 10)), /header alone is 64/);
    assert.throws(() => parseHeader(corrupt(0, (c) => { c[0] = 0x58; })), /wrong magic/);
    assert.throws(() => parseHeader(corrupt(0, (c, d) => d.setUint32(4, 2, true))), /version 2/);
    assert.throws(() => parseHeader(corrupt(0, (c) => { c[40] = 1; })), /header: CRC-32 expected/);
    assert.throws(() => parseTable(corrupt(0, (c) => { c[64 + 32 + 9] ^= 1; })), /section table: CRC-32 expected/);
    // re-sign a modified table so that the semantic checks are reached
    const resign = (mutate) => {
      const h = parseHeader(b);
      const s = parseTable(b, h).map((x) => ({ ...x }));
      mutate(s);
      const table = encodeTable(s);
      const c = new Uint8Array(Math.max(b.length, 64 + table.length));
      c.set(b);
      c.set(encodeHeader({ totalSize: h.totalSize, sectionCount: s.length, tableCrc: crc32(table) }), 0);
      c.set(table, 64);
      return c;
    };
    assert.throws(() => parseTable(resign((s) => { s[2].offset += 8; })), /section TOKENIZER at offset \d+ is not a multiple of 64/);
    assert.throws(() => parseTable(resign((s) => { s[3].offset = s[2].offset; })), /overlap/);
    assert.throws(() => parseTable(resign((s) => { s[1].offset = 0; })), /inside the header/);
    assert.throws(() => parseTable(resign((s) => { s[s.length - 1].size += 1; })), /ends past the file/);
    assert.throws(() => parseTable(resign((s) => { s[5].kind = 99; })), /unknown kind 99/);
    assert.throws(() => parseTable(resign((s) => { s[0].index = 1; })), /CONFIG has index 1 \(expected 0\)/);
    const dup = resign((s) => { s[s.length - 1].kind = s[s.length - 2].kind; });
    assert.throws(() => parseTable(dup), /OUT_LN_GAMMA\[0\] appears twice/);
    const cfg = parseConfig(b.subarray(parseTable(b)[0].offset).subarray(0, 128));
    const wrongSize = parseTable(resign((s) => { s[4].size -= 4; }));
    assert.throws(() => checkSections(wrongSize, cfg), /section EMB_POS is \d+ bytes, the config implies \d+/);
    const layer1 = parseTable(resign((s) => { s[s.length - 1].index = 1; }));
    assert.throws(() => checkSections(layer1, cfg), /missing section OUT_LN_BETA\[0\]/);
  });
});

// --- quantize.js -------------------------------------------------------------------------------------------------
describe('quantize.js', () => {
  test('toF16: every binary16 value round-trips, special values exact', () => {
    const all = Uint16Array.from({ length: 65536 }, (_, i) => i);
    const back = toF16(fromF16(all));
    for (let h = 0; h < 65536; h++) {
      const isNaN16 = (h & 0x7c00) === 0x7c00 && h & 0x3ff;
      if (isNaN16) assert.ok((back[h] & 0x7c00) === 0x7c00 && back[h] & 0x3ff && (back[h] & 0x8000) === (h & 0x8000), `NaN ${h}`);
      else assert.equal(back[h], h, `pattern ${h.toString(16)}`);
      if (!isNaN16) assert.equal(Object.is(f16Table()[h], f16ToNumber(h)) || f16Table()[h] === f16ToNumber(h), true, `decode ${h}`);
    }
    const cases = [
      [0, 0x0000], [-0, 0x8000], [Infinity, 0x7c00], [-Infinity, 0xfc00], [1, 0x3c00], [-2, 0xc000],
      [65504, 0x7bff], [65519.99, 0x7bff], [65520, 0x7c00], [1e10, 0x7c00], [-1e10, 0xfc00],
      [2 ** -14, 0x0400], [2 ** -24, 0x0001], [2 ** -25, 0x0000], [2 ** -25 * 1.0001, 0x0001], [3 * 2 ** -25, 0x0002],
      [5 * 2 ** -25, 0x0002], [2 ** -26, 0x0000], [-(2 ** -24), 0x8001], [1e-45, 0x0000], [-1e-45, 0x8000],
      [(2 ** -14) - 2 ** -25, 0x0400], [(2 ** -14) - 3 * 2 ** -25, 0x03fe], [(2 ** -14) - 2 ** -24, 0x03ff],
      [1 + 2 ** -11, 0x3c00], [1 + 3 * 2 ** -11, 0x3c02], [1 + 2 ** -11 + 2 ** -20, 0x3c01], [0.1, 0x2e66], [Math.PI, 0x4248],
    ];
    const got = toF16(Float32Array.from(cases, (c) => c[0]));
    cases.forEach(([v, h], i) => assert.equal(got[i], h, `toF16(${v}) = ${got[i].toString(16)}, expected ${h.toString(16)}`));
    const nan = toF16(new Float32Array([NaN, -NaN]));
    assert.ok((nan[0] & 0x7c00) === 0x7c00 && (nan[0] & 0x3ff) !== 0);
    // random floats: the result is the nearest binary16 (ties even)
    const r = rng(11);
    const xs = Float32Array.from({ length: 20000 }, () => (r() - 0.5) * 2 ** Math.floor(r() * 44 - 28));
    const hs = toF16(xs);
    for (let i = 0; i < xs.length; i++) {
      const x = xs[i], v = f16ToNumber(hs[i]);
      const up = f16ToNumber(hs[i] + 1), down = (hs[i] & 0x7fff) ? f16ToNumber(hs[i] - 1) : v;
      assert.ok(Math.abs(x - v) <= Math.abs(x - up) && Math.abs(x - v) <= Math.abs(x - down), `nearest for ${x}`);
    }
  });

  test('packLinearInt8: layout, padding, error <= scale/2 in the in_scale domain, zero rows and groups', () => {
    const r = rng(5);
    for (const [N, K, group] of [[7, 13, 0], [4, 8, 0], [1, 1, 0], [9, 24, 0], [12, 40, 0], [7, 13, 8], [9, 40, 16], [5, 70, 32], [6, 24, 64]]) {
      const W = randArray(N * K, r, 0.05);
      const inScale = Float32Array.from({ length: K }, () => 0.25 + 2 * r());
      if (N > 2) W.fill(0, 2 * K, 3 * K); // row 2 all zero
      const { weight, scale } = packLinearInt8(W, N, K, inScale, { group });
      const Np = Math.ceil(N / 4) * 4, Kp = Math.ceil(K / 8) * 8, G = group || Kp, ng = Math.ceil(Kp / G);
      assert.equal(weight.length, Np * Kp);
      assert.equal(scale.length, Np * ng);
      const sc = (n, k) => scale[Math.floor(n / 4) * ng * 4 + Math.floor(k / G) * 4 + (n % 4)];
      const seen = new Uint8Array(Np * Kp);
      for (let n = 0; n < N; n++) {
        for (let g = 0; g < ng; g++) {
          const ks = Array.from({ length: Math.max(0, Math.min(K, (g + 1) * G) - g * G) }, (_, i) => g * G + i);
          const amax = Math.max(0, ...ks.map((k) => Math.abs(W[n * K + k] / inScale[k])));
          const s = sc(n, g * G);
          if (amax === 0) assert.equal(s, 0, 'zero group: scale 0');
          else assert.ok(Math.abs(s - amax / 127) <= 1e-6 * s);
        }
        for (let k = 0; k < K; k++) {
          const off = Math.floor(n / 4) * (Kp * 4) + Math.floor(k / 8) * 32 + (n % 4) * 8 + (k % 8);
          seen[off] = 1;
          const q = weight[off];
          assert.ok(q >= -127 && q <= 127);
          const err = Math.abs(W[n * K + k] / inScale[k] - q * sc(n, k));
          assert.ok(err <= sc(n, k) / 2 * (1 + 1e-6) + 1e-12, `W[${n}][${k}] error ${err} > scale/2 ${sc(n, k) / 2}`);
        }
      }
      for (let i = 0; i < seen.length; i++) if (!seen[i]) assert.equal(weight[i], 0, 'padding is zero');
      for (let n = N; n < Np; n++) for (let g = 0; g < ng; g++) assert.equal(sc(n, g * G), 0);
      const back = unpackLinearInt8(weight, scale, N, K, inScale, { group });
      for (let i = 0; i < N * K; i++) {
        const n = Math.floor(i / K), k = i % K;
        assert.ok(Math.abs(back[i] - W[i]) <= (sc(n, k) * inScale[k]) / 2 * 1.0001 + 1e-12);
      }
    }
    // rounding half away from zero, clamping and the row maximum hitting exactly 127
    const { weight, scale } = packLinearInt8(new Float32Array([127, -63.5, 0.5, -0.5, 1.5, -127, 0, 0]), 1, 8, null);
    assert.equal(scale[0], 1);
    assert.deepEqual(Array.from(weight.subarray(0, 8)), [127, -64, 1, -1, 2, -127, 0, 0]);
    assert.throws(() => packLinearInt8(new Float32Array(8), 1, 8, null, { group: 12 }), /group 12/);
  });

  test('smoothInScale: alpha 0 is identity, geometric mean 1, outlier channels get small scales', () => {
    const r = rng(9);
    const N = 6, K = 16;
    const W = randArray(N * K, r, 0.05);
    const gamma = Float32Array.from({ length: K }, () => 0.9 + 0.1 * randn(r));
    const beta = randArray(K, r, 0.05);
    gamma[3] = 8; beta[3] = 3; // outlier channel
    assert.deepEqual(Array.from(smoothInScale(gamma, beta, W, N, K, 0)), new Array(K).fill(1));
    const s = smoothInScale(gamma, beta, W, N, K, 0.5);
    const logMean = s.reduce((a, v) => a + Math.log(v), 0) / K;
    assert.ok(Math.abs(logMean) < 1e-6, `geometric mean ${Math.exp(logMean)}`);
    const others = Array.from(s).filter((_, k) => k !== 3);
    assert.ok(s[3] < Math.min(...others) , 'outlier channel has the smallest in_scale');
    // the formula, up to the normalization
    const wmax = (k) => Math.max(...Array.from({ length: N }, (_, n) => Math.abs(W[n * K + k])));
    const raw = (k) => 1 / ((3 * Math.abs(gamma[k]) + Math.abs(beta[k])) ** 0.5 / wmax(k) ** 0.5);
    for (let k = 1; k < K; k++) assert.ok(Math.abs(s[k] / s[0] - raw(k) / raw(0)) < 1e-4 * (raw(k) / raw(0)));
    // zero channels are guarded (finite, positive)
    const z = smoothInScale(new Float32Array(K), null, new Float32Array(N * K), N, K, 0.5);
    assert.ok(z.every((v) => Number.isFinite(v) && v > 0));
  });

  test('quantizeRowsInt8: per-row symmetric, error <= scale/2', () => {
    const r = rng(13);
    const rows = 10, cols = 12;
    const E = randArray(rows * cols, r, 0.05);
    E.fill(0, 0, cols);
    const { q, scale } = quantizeRowsInt8(E, rows, cols);
    assert.equal(scale[0], 0);
    for (let i = 0; i < rows * cols; i++) {
      const s = scale[Math.floor(i / cols)];
      assert.ok(Math.abs(q[i] * s - E[i]) <= s / 2 * (1 + 1e-6) + 1e-12);
    }
    for (let rr = 1; rr < rows; rr++) assert.equal(Math.max(...Array.from(q.subarray(rr * cols, (rr + 1) * cols), Math.abs)), 127);
  });
});

// --- real model folders ------------------------------------------------------------------------------------------
const REAL = [
  { model: 'gte-small-synth', pooling: POOLING.MEAN, H: 384, L: 12, I: 1536, V: 30522, heads: 12, srcDtype: 'F16' },
  { model: 'gte-small-zh-synth', pooling: POOLING.CLS, H: 512, L: 4, I: 2048, V: 21128, heads: 8, srcDtype: 'BF16' },
];

describe('converting the shared model folders', { skip: !HAVE_SHARED && 'shared test data absent' }, () => {
  for (const m of REAL) {
    for (const dtype of ['int8', 'f16', 'f32']) {
      test(`${m.model} → ${dtype}`, async () => {
        const dir = path.join(MODELS, m.model);
        const output = out(`${m.model}.${dtype}.wemb`);
        const s = await convert(dir, { output, dtype });
        console.log(`# ${m.model} ${dtype}: ${s.bytes} bytes in ${s.seconds.toFixed(2)} s`);
        if (dtype === 'int8' && m.model === 'gte-small-synth') assert.ok(s.seconds < 10, `int8 conversion took ${s.seconds} s`);
        assert.deepEqual(s.warnings, []);
        assert.ok(!fs.readdirSync(TMP).some((f) => f.includes('.partial-')), 'no partial file left');
        const w = readWemb(output);
        assert.equal(w.b.length, s.bytes);
        const c = w.config;
        const dt = { int8: DTYPE.INT8, f16: DTYPE.F16, f32: DTYPE.F32 }[dtype];
        assert.deepEqual(
          [c.vocabSize, c.hidden, c.numLayers, c.numHeads, c.intermediate, c.maxPositions, c.typeVocabSize],
          [m.V, m.H, m.L, m.heads, m.I, 512, 2],
        );
        assert.equal(c.layerNormEps, Math.fround(1e-12));
        assert.equal(c.weightDtype, dt);
        assert.equal(c.embDtype, dt);
        assert.equal(c.pooling, m.pooling);
        assert.equal(c.normalize, 1);
        assert.equal(c.maxTokens, 512);
        assert.equal(c.metric, 1);
        assert.equal(c.activation, 1);
        assert.equal(c.actBits, dtype === 'int8' ? 12 : 0);
        assert.equal(c.quantGroup, dtype === 'int8' ? 128 : 0);
        assert.equal(w.meta.name, m.model);
        assert.equal(w.meta.source, m.model);
        assert.equal(w.meta.converter, 'wembed 0.1.0');
        assert.equal(w.meta.dtype, dtype);
        assert.equal(w.meta.pooling, m.pooling === POOLING.CLS ? 'cls' : 'mean');
        assert.ok(w.meta.files.includes('model.safetensors') && w.meta.files.includes('tokenizer.json') && w.meta.files.includes('1_Pooling/config.json'));
        assert.deepEqual(w.sections.map((x) => [x.kind, x.index]), expectedSections(c).map((x) => [x.kind, x.index]), 'forward order');

        // against the source tensors
        const st = openSafetensors(dir);
        try {
          const src = (n) => st.get(n).data;
          assert.deepEqual(w.f32(KIND.EMB_POS), src('embeddings.position_embeddings.weight'));
          assert.deepEqual(w.f32(KIND.EMB_LN_BETA), src('embeddings.LayerNorm.bias'));
          assert.deepEqual(w.f32(KIND.OUT_LN_GAMMA, m.L - 1), src(`encoder.layer.${m.L - 1}.output.LayerNorm.weight`));
          const H = m.H;
          const word = src('embeddings.word_embeddings.weight');
          if (dtype === 'f32') {
            assert.deepEqual(w.f32(KIND.EMB_WORD), word);
            const qkv = w.f32(linearKind(LINEAR.QKV, PART.WEIGHT), 1);
            assert.deepEqual(qkv.subarray(H * H, 2 * H * H), src('encoder.layer.1.attention.self.key.weight'));
            assert.deepEqual(w.f32(linearKind(LINEAR.QKV, PART.BIAS), 1).subarray(2 * H), src('encoder.layer.1.attention.self.value.bias'));
            assert.deepEqual(w.f32(linearKind(LINEAR.FFN_OUT, PART.WEIGHT), 0), src('encoder.layer.0.output.dense.weight'));
          } else if (dtype === 'f16') {
            const bits = new Uint16Array(w.bytes(KIND.EMB_WORD).buffer);
            if (m.srcDtype === 'F16') {
              // F16 source: the f16 sections are the source bits exactly
              const info = st.info('embeddings.word_embeddings.weight');
              assert.equal(info.dtype, 'F16');
              assert.deepEqual(fromF16(bits), word);
            }
            assert.deepEqual(bits, toF16(word));
            const wi = new Uint16Array(w.bytes(linearKind(LINEAR.FFN_IN, PART.WEIGHT), 2).buffer);
            assert.deepEqual(wi, toF16(src('encoder.layer.2.intermediate.dense.weight')));
          } else {
            // EMB_WORD int8 rows
            const q = new Int8Array(w.bytes(KIND.EMB_WORD).buffer), sc = w.f32(KIND.EMB_WORD_SCALE);
            for (let i = 0; i < word.length; i++) {
              const s = sc[Math.floor(i / H)];
              if (Math.abs(q[i] * s - word[i]) > s / 2 * (1 + 1e-6) + 1e-12) assert.fail(`EMB_WORD element ${i}`);
            }
            // every linear of every layer against a direct dequantization
            for (let l = 0; l < m.L; l++) {
              const p = `encoder.layer.${l}.`;
              const lin = [
                [LINEAR.QKV, ['query', 'key', 'value'].map((x) => src(`${p}attention.self.${x}.weight`)), 3 * H, H,
                  l === 0 ? ['embeddings.LayerNorm.weight', 'embeddings.LayerNorm.bias'] : [`encoder.layer.${l - 1}.output.LayerNorm.weight`, `encoder.layer.${l - 1}.output.LayerNorm.bias`]],
                [LINEAR.ATTN_OUT, [src(`${p}attention.output.dense.weight`)], H, H, null],
                [LINEAR.FFN_IN, [src(`${p}intermediate.dense.weight`)], m.I, H, [`${p}attention.output.LayerNorm.weight`, `${p}attention.output.LayerNorm.bias`]],
                [LINEAR.FFN_OUT, [src(`${p}output.dense.weight`)], H, m.I, null],
              ];
              for (const [j, parts, N, K, ln] of lin) {
                const W = new Float32Array(N * K);
                let o = 0;
                for (const part of parts) W.set(part, o), (o += part.length);
                const packed = new Int8Array(w.bytes(linearKind(j, PART.WEIGHT), l).buffer);
                const scale = w.f32(linearKind(j, PART.SCALE), l);
                const inScale = w.f32(linearKind(j, PART.IN_SCALE), l);
                if (ln) assert.deepEqual(inScale, smoothInScale(src(ln[0]), src(ln[1]), W, N, K, 0.5), `in_scale ${l}/${j} from the right LayerNorm`);
                else assert.ok(inScale.every((v) => v === 1), 'in_scale all ones');
                const Kp = Math.ceil(K / 8) * 8, G = c.quantGroup || Kp, ng = Math.ceil(Kp / G);
                assert.equal(scale.length, Math.ceil(N / 4) * 4 * ng);
                let worst = 0;
                for (let n = 0; n < N; n++) {
                  for (let k = 0; k < K; k++) {
                    const s = scale[(n >> 2) * ng * 4 + Math.floor(k / G) * 4 + (n & 3)];
                    const q = packed[(n >> 2) * Kp * 4 + (k >> 3) * 32 + (n & 3) * 8 + (k & 7)];
                    const err = Math.abs(W[n * K + k] / inScale[k] - q * s) / (s / 2);
                    if (err > worst) worst = err;
                  }
                }
                assert.ok(worst <= 1 + 1e-5, `layer ${l} linear ${j}: error ${worst} x scale/2`);
                const bias = w.f32(linearKind(j, PART.BIAS), l);
                assert.equal(bias.length, N);
              }
            }
          }
        } finally {
          st.close();
        }
      });
    }
  }

  test('decoding F16 and BF16 matches an independent decoder', () => {
    for (const [model, name] of [['gte-small-synth', 'encoder.layer.3.attention.self.query.weight'], ['gte-small-zh-synth', 'bert.encoder.layer.3.attention.self.query.weight']]) {
      const file = path.join(MODELS, model, 'model.safetensors');
      const b = fs.readFileSync(file);
      const hl = Number(b.readBigUInt64LE(0));
      const t = JSON.parse(b.subarray(8, 8 + hl).toString())[name];
      const st = openSafetensors(path.join(MODELS, model));
      const got = st.get(name.replace(/^bert\./, '')).data; // resolved with or without prefix
      st.close();
      for (let i = 0; i < 5000; i++) {
        const h = b.readUInt16LE(8 + hl + t.data_offsets[0] + 2 * i);
        const want = t.dtype === 'F16' ? f16ToNumber(h) : new Float32Array(new Uint32Array([h << 16]).buffer)[0];
        assert.equal(got[i], Math.fround(want), `${model} ${name}[${i}]`);
      }
    }
  });

  test('options override the folder', async () => {
    const s = await convert(path.join(MODELS, 'gte-small-zh-synth'), {
      output: out('zh-opts.wemb'), dtype: 'f16', pooling: 'mean', normalize: false, maxTokens: 128, name: 'my zh',
    });
    const w = readWemb(s.output);
    assert.equal(w.config.pooling, POOLING.MEAN);
    assert.equal(w.config.normalize, 0);
    assert.equal(w.config.maxTokens, 128);
    assert.equal(w.meta.name, 'my zh');
  });
});

// --- small synthetic folders: good and bad input -----------------------------------------------------------------
describe('synthetic folders', () => {
  test('a tiny valid folder converts (baseline for the bad ones); max_tokens = min of the limits', async () => {
    const { dir } = tinyFolder();
    for (const dtype of ['int8', 'f16', 'f32']) {
      const s = await conv(dir, { dtype });
      const w = readWemb(s.output);
      assert.equal(w.config.maxTokens, 12, 'sentence_bert_config max_seq_length 12 < max_position_embeddings 16');
      assert.equal(w.config.pooling, POOLING.MEAN);
      assert.equal(w.config.normalize, 1);
    }
  });

  test('bert. prefix, BF16/F16 storage, sharded checkpoints and an unused I64 buffer', async () => {
    const base = readWemb((await conv(tinyFolder().dir, { dtype: 'f32' })).output);
    const variants = [
      tinyFolder({ prefix: 'bert.' }),
      tinyFolder({ shards: true }),
      tinyFolder({ prefix: 'bert.', shards: true }),
      tinyFolder({ tensors: (t) => [...t, { name: 'embeddings.position_ids', dtype: 'I64', shape: [1, 16], raw: new Uint8Array(128) }] }),
    ];
    for (const v of variants) {
      const w = readWemb((await conv(v.dir, { dtype: 'f32' })).output);
      for (const s of base.sections) {
        if (s.kind === KIND.METADATA) continue;
        assert.deepEqual(w.bytes(s.kind, s.index), base.bytes(s.kind, s.index), `${s.name}[${s.index}]`);
      }
    }
    const f16 = readWemb((await conv(tinyFolder({ dtype: 'F16' }).dir, { dtype: 'f32' })).output);
    const bf16 = readWemb((await conv(tinyFolder({ dtype: 'BF16' }).dir, { dtype: 'f32' })).output);
    const src = base.f32(KIND.EMB_WORD);
    assert.deepEqual(f16.f32(KIND.EMB_WORD), fromF16(toF16(src)));
    assert.deepEqual(bf16.f32(KIND.EMB_WORD), Float32Array.from(src, (x) => new Float32Array(new Uint32Array([new Uint32Array(new Float32Array([x]).buffer)[0] & 0xffff0000]).buffer)[0]));
  });

  test('no modules.json: mean pooling, normalize, and a warning', async () => {
    const { dir } = tinyFolder({ st: false });
    const s = await conv(dir, { dtype: 'f32' });
    assert.equal(s.warnings.length, 1);
    assert.match(s.warnings[0], /no modules\.json.*assuming pooling mean, normalize true/);
    assert.equal(s.config.pooling, POOLING.MEAN);
    assert.equal(s.config.normalize, 1);
    assert.equal(s.config.maxTokens, 16, 'model_max_length 1e30 is ignored');
    const s2 = await conv(dir, { dtype: 'f32', pooling: 'cls', normalize: false });
    assert.deepEqual(s2.warnings, []);
    assert.equal(s2.config.pooling, POOLING.CLS);
  });

  const rejects = async (folderOpts, re, convOpts = {}) => {
    const { dir } = typeof folderOpts === 'string' ? { dir: folderOpts } : tinyFolder(folderOpts);
    const output = out(`bad-${++tinyCount}.wemb`);
    await assert.rejects(convert(dir, { output, ...convOpts }), re);
    assert.ok(!fs.existsSync(output), 'no output written');
    assert.ok(!fs.readdirSync(TMP).some((f) => f.includes('.partial-')), 'no partial file left');
  };

  test('folder without config.json, or no folder at all', async () => {
    await rejects({ files: { 'config.json': null } }, /no config\.json in .*tiny-\d+: not a Hugging Face model folder/);
    await rejects(path.join(TMP, 'does-not-exist'), /no such model folder/);
    await rejects({ files: { 'config.json': '{"model_type": "bert",' } }, /config\.json: not valid JSON/);
  });

  test('unsupported config values name field, value and file', async () => {
    await rejects({ config: { model_type: 'roberta' } }, /config\.json: model_type "roberta" is not supported/);
    await rejects({ config: { hidden_act: 'relu' } }, /config\.json: hidden_act "relu" is not supported/);
    await rejects({ config: { hidden_act: 'gelu_new' } }, /hidden_act "gelu_new"/);
    await rejects({ config: { position_embedding_type: 'relative_key' } }, /config\.json: position_embedding_type "relative_key" is not supported/);
    await rejects({ config: { num_attention_heads: 3 } }, /num_attention_heads 3 does not divide hidden_size 8/);
    await rejects({ config: { is_decoder: true } }, /is_decoder true/);
  });

  test('sentence-transformers files: unsupported pooling and modules', async () => {
    await rejects({ pooling: { pooling_mode_mean_tokens: false, pooling_mode_max_tokens: true } }, /1_Pooling[\\/]config\.json: pooling max \(pooling_mode_max_tokens: true\) is not supported/);
    await rejects({ pooling: { pooling_mode_cls_token: true } }, /pooling cls \+ mean/);
    await rejects({ pooling: { pooling_mode_mean_tokens: false } }, /no pooling mode is set/);
    await rejects({ modules: [{ idx: 0, path: '', type: 'sentence_transformers.models.Transformer' }, { idx: 1, path: '1_Pooling', type: 'sentence_transformers.models.Pooling' }, { idx: 2, path: '2_Dense', type: 'sentence_transformers.models.Dense' }] },
      /modules\.json: module 2 type "sentence_transformers\.models\.Dense" is not supported/);
    await rejects({}, /option maxTokens 17: expected an integer in 2\.\.16/, { maxTokens: 17 });
    await rejects({}, /option pooling "max"/, { pooling: 'max' });
    await rejects({ files: { 'tokenizer.json': null } }, /no tokenizer\.json in/);
    const bpe = tinyTokenizerJson();
    bpe.model = { type: 'BPE', vocab: bpe.model.vocab, merges: [] };
    await rejects({ files: { 'tokenizer.json': JSON.stringify(bpe) } }, /tokenizer\.json: .*BPE/);
    await rejects({}, /cannot write .*no-such-dir.*x\.wemb/, { output: path.join(TMP, 'no-such-dir', 'x.wemb') });
  });

  test('a missing tensor is named, with the closest names in the checkpoint', async () => {
    await rejects({ tensors: (t) => t.filter((x) => x.name !== 'encoder.layer.1.output.dense.bias') },
      /missing tensor "encoder\.layer\.1\.output\.dense\.bias" in .*model\.safetensors.*closest names in the checkpoint: encoder\.layer\.0\.output\.dense\.bias/);
    await rejects({ prefix: 'bert.', tensors: (t) => t.filter((x) => x.name !== 'bert.embeddings.LayerNorm.weight') },
      /missing tensor "embeddings\.LayerNorm\.weight".*closest names in the checkpoint: bert\.embeddings\.LayerNorm\.bias/);
    await rejects({ files: { 'model.safetensors': null } }, /no model\.safetensors or model\.safetensors\.index\.json/);
  });

  test('a wrong shape names the tensor, found and expected shapes', async () => {
    await rejects({ tensors: (t) => t.map((x) => (x.name === 'encoder.layer.0.intermediate.dense.weight' ? { ...x, shape: [8, 16] } : x)) },
      /tensor "encoder\.layer\.0\.intermediate\.dense\.weight" has shape \[8, 16\], .*config\.json implies \[16, 8\]/);
    await rejects({ config: { vocab_size: 30 } }, /tensor "embeddings\.word_embeddings\.weight" has shape \[24, 8\], .*implies \[30, 8\]/);
    await rejects({ config: { vocab_size: 20 } }, /tokenizer\.json: token id 23 is outside the embedding table \(vocab_size 20/);
  });

  test('corrupted safetensors headers', async () => {
    const { dir } = tinyFolder();
    const file = path.join(dir, 'model.safetensors');
    const good = fs.readFileSync(file);
    const hl = Number(good.readBigUInt64LE(0));
    const withBytes = (fn) => { const b = Buffer.from(good); fn(b); fs.writeFileSync(file, b); };
    withBytes((b) => b.writeBigUInt64LE(BigInt(good.length), 0));
    await rejects(dir, /model\.safetensors: corrupt safetensors header: header length \d+ exceeds the file size/);
    withBytes((b) => b.writeBigUInt64LE(200n * 1024n * 1024n, 0));
    await rejects(dir, /header length 209715200 exceeds the 104857600-byte limit/);
    withBytes((b) => { b[8] = 'x'.charCodeAt(0); });
    await rejects(dir, /model\.safetensors: corrupt safetensors header: not valid UTF-8 JSON/);
    fs.writeFileSync(file, good.subarray(0, 4));
    await rejects(dir, /too small for a safetensors file/);
    const bad = (patch, re) => {
      const { dir: d } = tinyFolder({ patchHeader: (h) => { patch(h); return h; } });
      return rejects(d, re);
    };
    await bad((h) => { h['embeddings.LayerNorm.bias'].data_offsets[1] += 1e6; }, /tensor "embeddings\.LayerNorm\.bias": data_offsets \[\d+,\d+\] end past the data/);
    await bad((h) => { h['embeddings.LayerNorm.bias'].shape = [9]; }, /tensor "embeddings\.LayerNorm\.bias": data_offsets span 32 bytes, shape \[9\] x F32 \(4 bytes\) needs 36/);
    await bad((h) => { h['embeddings.LayerNorm.bias'].data_offsets = [40, 8]; }, /data_offsets \[40,8\] is not \[begin, end\]/);
    await bad((h) => { h['embeddings.LayerNorm.bias'].shape = 'x'; }, /shape "x" is not a list/);
  });

  test('unsupported dtypes: named when used, ignored when not', async () => {
    const f64 = (t) => t.map((x) => x.name === 'encoder.layer.0.attention.self.key.weight'
      ? { ...x, dtype: 'F64', raw: new Uint8Array(Float64Array.from(x.data).buffer) } : x);
    await rejects({ tensors: f64 }, /tensor "encoder\.layer\.0\.attention\.self\.key\.weight" has dtype F64; wembed converts F32, F16, BF16 weights only/);
    const i8 = (t) => t.map((x) => x.name === 'embeddings.LayerNorm.weight' ? { ...x, dtype: 'I8', raw: new Uint8Array(8) } : x);
    await rejects({ tensors: i8 }, /tensor "embeddings\.LayerNorm\.weight" has dtype I8/);
    const unused = (t) => [...t, { name: 'pooler.dense.weight', dtype: 'F64', shape: [8, 8], raw: new Uint8Array(512) }];
    await conv(tinyFolder({ tensors: unused }).dir, { dtype: 'int8' });
    const nan = (t) => t.map((x) => x.name === 'encoder.layer.1.output.dense.weight' ? { ...x, data: Float32Array.from(x.data, (v, i) => (i === 5 ? NaN : v)) } : x);
    await rejects({ tensors: nan }, /tensor "encoder\.layer\.1\.output\.dense\.weight" has a non-finite value \(NaN\) at element 5/);
  });

  test('readHfFolder reports the files it used', async () => {
    const { dir } = tinyFolder();
    const f = await readHfFolder(dir);
    assert.deepEqual(f.files, ['modules.json', 'config.json', '1_Pooling/config.json', 'sentence_bert_config.json', 'tokenizer.json', 'tokenizer_config.json']);
    assert.deepEqual(f.maxTokensFrom, { max_position_embeddings: 16, max_seq_length: 12 });
  });
});
