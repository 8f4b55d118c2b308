// Checks the native driver's output (tools/wembed_native.c) against a reference folder: identical ids and the
// int8 bars.   node tests/js/check-native.mjs REF_DIR OUT.f32 IDS.bin
import { readFileSync } from 'node:fs';
import { cosine, readF32, readJsonl } from './common.mjs';

const [ref, outPath, idsPath] = process.argv.slice(2);
const rows = readJsonl(`${ref}/texts.jsonl`);
const want = readF32(`${ref}/embeddings.f32`), got = readF32(outPath);
const dim = want.length / rows.length;
const idsBuf = readFileSync(idsPath);
const ids = new Int32Array(idsBuf.buffer, idsBuf.byteOffset, idsBuf.length / 4);
let at = 0, same = 0, min = 1, sum = 0;
rows.forEach((r, i) => {
  const n = ids[at++];
  const mine = ids.subarray(at, at + n);
  at += n;
  if (n === r.ids.length && r.ids.every((v, k) => v === mine[k])) same++;
  const c = cosine(got.subarray(i * dim, (i + 1) * dim), want.subarray(i * dim, (i + 1) * dim));
  min = Math.min(min, c);
  sum += c;
});
const mean = sum / rows.length;
console.log(`native (sanitized) run: ids ${same}/${rows.length} identical; cosine mean ${mean.toFixed(6)} min ${min.toFixed(6)}`);
if (same !== rows.length || mean < 0.997 || min < 0.99) { console.log('1 passed, 1 failed'); process.exit(1); }
console.log('1 passed, 0 failed');
