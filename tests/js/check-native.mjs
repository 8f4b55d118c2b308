// Checks the native driver's output (tools/wembed_native.c) against a reference folder: identical ids for the
// texts it embedded (the first ones), and unless --ids-only, the int8 bars for their embeddings.
//   node tests/js/check-native.mjs REF_DIR OUT.f32 IDS.bin [--ids-only]
import { readFileSync } from 'node:fs';
import { cosine, readF32, readJsonl } from './common.mjs';

const [ref, outPath, idsPath, mode] = process.argv.slice(2);
const idsOnly = mode === '--ids-only';
const all = readJsonl(`${ref}/texts.jsonl`);
const want = readF32(`${ref}/embeddings.f32`), got = readF32(outPath);
const dim = want.length / all.length;
const idsBuf = readFileSync(idsPath);
let count = 0;
for (let at = 0; at < idsBuf.length; at += 4 * (1 + idsBuf.readUInt32LE(at))) count++;
const rows = all.slice(0, count);
const ids = new Int32Array(idsBuf.buffer, idsBuf.byteOffset, idsBuf.length / 4);
let at = 0, same = 0, min = 1, sum = 0;
rows.forEach((r, i) => {
  const n = ids[at++];
  const mine = ids.subarray(at, at + n);
  at += n;
  if (n === r.ids.length && r.ids.every((v, k) => v === mine[k])) same++;
  if (idsOnly) return;
  const c = cosine(got.subarray(i * dim, (i + 1) * dim), want.subarray(i * dim, (i + 1) * dim));
  min = Math.min(min, c);
  sum += c;
});
const mean = sum / rows.length;
console.log(`native run: ids ${same}/${rows.length} identical` + (idsOnly ? '' : `; cosine mean ${mean.toFixed(6)} min ${min.toFixed(6)}`));
if (!idsOnly && got.length !== rows.length * dim) throw new Error(`${outPath}: ${got.length / dim} rows for ${rows.length} texts`);
if (same !== rows.length || (!idsOnly && (mean < 0.997 || min < 0.99))) { console.log('0 passed, 1 failed'); process.exit(1); }
console.log('1 passed, 0 failed');
