// Load figures: time from the last byte to a ready model, peak JS memory during a streamed load against the
// file size, and the bytes a web page ships (wasm + JS, raw and gzip).
//   node --expose-gc bench/load.mjs [model.wemb] [--out bench/results.json]   (default: build/models/gte-small-synth.int8.wemb)
import { open, readFile, stat } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import { load } from '../js/index.js';
import { mergeResults } from './machine.mjs';

const args = process.argv.slice(2), outAt = args.indexOf('--out');
const OUT = outAt >= 0 ? args.splice(outAt, 2)[1] : null;  // --out results.json: merge the figures in as "load"
const file = args[0] ?? new URL('../build/models/gte-small-synth.int8.wemb', import.meta.url).pathname;
const { size } = await stat(file);
const mem = () => { const m = process.memoryUsage(); return m.heapUsed + m.arrayBuffers; };

async function once() {
  globalThis.gc?.();
  const base = mem();
  let peak = 0, lastByteAt = 0;
  const fh = await open(file);
  async function* chunks() {  // a network-like stream of 256 KB chunks
    const buf = new Uint8Array(256 << 10);
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, null);
      if (!bytesRead) break;
      peak = Math.max(peak, mem() - base);
      lastByteAt = performance.now();
      yield buf.subarray(0, bytesRead);
    }
  }
  const model = await load(chunks(), { onProgress: () => { peak = Math.max(peak, mem() - base); } });
  const ready = performance.now() - lastByteAt;
  await fh.close();
  model.dispose();
  return { ready, peak };
}

const runs = [];
for (let i = 0; i < 7; i++) runs.push(await once());
const med = (xs) => xs.slice().sort((a, b) => a - b)[xs.length >> 1];
console.log(`model ${file}: ${(size / 1e6).toFixed(1)} MB`);
console.log(`last byte → ready: median ${med(runs.map((r) => r.ready)).toFixed(1)} ms (min ${Math.min(...runs.map((r) => r.ready)).toFixed(1)}) over ${runs.length} loads`);
console.log(`peak JS heap + ArrayBuffers above baseline during the load: ${(med(runs.map((r) => r.peak)) / 1e6).toFixed(2)} MB ` +
  `(${(100 * med(runs.map((r) => r.peak)) / size).toFixed(1)}% of the file)${globalThis.gc ? '' : ' (run with --expose-gc for a clean baseline)'}`);
const shipped = ['dist/wembed.wasm', 'js/index.js', 'js/core.js', 'js/sources.js', 'js/crc32.js'];
let raw = 0, gz = 0;
for (const f of shipped) {
  const b = await readFile(new URL(`../${f}`, import.meta.url));
  raw += b.length; gz += gzipSync(b, { level: 9 }).length;
  console.log(`  ${f.padEnd(18)} ${String(b.length).padStart(8)} B  ${String(gzipSync(b, { level: 9 }).length).padStart(7)} B gzip`);
}
console.log(`shipped to a page (wasm + JS): ${raw} B raw, ${gz} B gzip`);
if (OUT) {
  mergeResults(OUT, 'load', { command: 'node --expose-gc bench/load.mjs', model: file, bytes: size, loads: runs.length,
    last_byte_to_ready_ms: { median: med(runs.map((r) => r.ready)), min: Math.min(...runs.map((r) => r.ready)) },
    peak_bytes_above_baseline: med(runs.map((r) => r.peak)), shipped: { raw, gzip: gz } });
  console.log(`merged into ${OUT} ("load")`);
}
