// Bad input never crashes: corrupt / truncated / foreign files are Errors naming what is wrong; odd texts
// (empty, whitespace, NUL, lone surrogates, 1 MB, 10,000 of them) give defined results.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { load } from '../../js/index.js';
import { HAVE_SHARED, smallModel } from './common.mjs';

const skip = !HAVE_SHARED && 'no ../shared';
let bytes = null;
async function modelBytes() {
  bytes ??= new Uint8Array(readFileSync(await smallModel('int8')));
  return bytes;
}
const le32 = (b, at) => new DataView(b.buffer, b.byteOffset).getUint32(at, true);

test('missing file', async () => {
  await assert.rejects(load('/nonexistent/model.wemb'), /cannot open \/nonexistent\/model\.wemb: no such file/);
});

test('wrong magic, empty and tiny inputs', async () => {
  await assert.rejects(load(new TextEncoder().encode('PK\x03\x04'.padEnd(200, 'x'))), /not a \.wemb file \(wrong magic "PK\\u0003\\u0004", expected "WEMB"\)/);
  await assert.rejects(load(new Uint8Array(0)), /not a \.wemb file/);
  await assert.rejects(load(new Uint8Array(10)), /not a \.wemb file/);
});

test('truncated file: every cut point is an error naming the truncation', { skip }, async () => {
  const b = await modelBytes();
  for (const cut of [64, 100, 4096, b.length >> 1, b.length - 1]) {
    await assert.rejects(load(b.subarray(0, cut)), /truncated/, `cut at ${cut}`);
  }
});

test('corrupted bytes: header, table and each kind of section are caught by their CRC', { skip }, async () => {
  const b = await modelBytes();
  const n = le32(b, 16);
  const flip = async (at, re) => {
    const c = b.slice();
    c[at] ^= 0x40;
    await assert.rejects(load(c), re, `flip at ${at}`);
  };
  await flip(9, /corrupt \.wemb header: CRC-32/);
  await flip(64 + 8, /corrupt \.wemb section table: CRC-32/);
  for (let i = 0; i < n; i += Math.max(1, n >> 4)) {
    const e = 64 + 32 * i;
    const off = le32(b, e + 8), size = le32(b, e + 16);
    if (size) await flip(off + (size >> 1), /corrupt \.wemb: section .* CRC-32 expected [0-9a-f]{8}, got [0-9a-f]{8}/);
  }
});

test('bytes beyond the declared size are refused', { skip }, async () => {
  const b = await modelBytes();
  const longer = new Uint8Array(b.length + 10);
  longer.set(b);
  await assert.rejects(load(longer), /truncated or padded \.wemb: the header says \d+ bytes, the source has \d+/);
  const stream = new ReadableStream({ start(c) { c.enqueue(longer.subarray(0, 1000)); c.enqueue(longer.subarray(1000)); c.close(); } });
  await assert.rejects(load(stream), /more bytes than the header's total size/);
});

test('odd texts give defined results; calls after dispose throw', { skip }, async () => {
  const model = await load(await modelBytes());
  const texts = ['', '   ', '\t\n\r', '\u0000', 'a\u0000b', '\ud800 lone surrogate \udfff', '😀🎉', 'x'.repeat(1 << 20), '中文 '.repeat(300000)];
  const out = await model.embed(texts);
  assert.equal(out.length, texts.length);
  for (const v of out) {
    assert.equal(v.length, model.dim);
    assert.ok(v.every(Number.isFinite));
  }
  assert.deepEqual(out[1], out[0], 'whitespace only embeds like the empty string');
  const maxTokens = model.info.max_tokens;
  assert.equal(model.tokenize('中文 '.repeat(300000)).length, maxTokens, '1 MB text is truncated to the token limit');
  assert.deepEqual(model.tokenize(''), model.tokenize('   '));
  await assert.rejects(model.embed(['a'], { maxTokens: 1 }), /maxTokens 1 is out of range/);
  await assert.rejects(model.embed(['a'], { pooling: 'max' }), /pooling must be 'cls' or 'mean'/);
  await assert.rejects(model.embed(42), /array of strings/);
  // the model is still usable after argument errors
  assert.equal((await model.embed(['still fine'])).length, 1);
  model.dispose();
  await assert.rejects(model.embed(['a']), /disposed/);
});

test('a batch of 10,000 texts of mixed lengths equals the same texts one by one, bit for bit', { skip }, async () => {
  const model = await load(await modelBytes());
  const texts = Array.from({ length: 10000 }, (_, i) => `text number ${i} ${'word '.repeat(i % 37)}${i % 1000 === 7 ? 'long '.repeat(2000) : ''}`);
  const all = await model.embed(texts);
  assert.equal(all.length, 10000);
  for (const i of [0, 1, 7, 777, 5000, 9007, 9999]) {
    const [one] = await model.embed([texts[i]]);
    assert.deepEqual(all[i], one, `text ${i}: batched and single differ`);
  }
  model.dispose();
});
