// make bench's GEMM micro-benchmark: the int8 GEMM kernel's GOPS against the machine's measured peak for its
// instruction mix, from tests/c/test_kernels.c --bench-quick run as a WASI module in Node (the SIMD128 build,
// $(BUILD)/bench_kernels.wasm): first the peak (i32x4.dot_i16x8_s + i32x4.add, 8 independent chains, operands from
// L1), then the int16 x int8 GEMM at G = 128 on gte-small's shapes. Prints them and merges them into
// bench/results.json as "gemm". Nothing is asserted.
//   node bench/gemm.mjs [--wasm build/bench_kernels.wasm] [--out bench/results.json]
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { mergeResults } from './machine.mjs';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const { values: o } = parseArgs({ options: { wasm: { type: 'string', default: `${ROOT}build/bench_kernels.wasm` },
  out: { type: 'string', default: `${ROOT}bench/results.json` } } });
// --no-liftoff: V8's optimized code from the first call (mk/kernels.mk says why)
const r = spawnSync(process.execPath, ['--no-liftoff', '--no-warnings', `${ROOT}tests/c/run_wasi.mjs`, o.wasm, '--bench-quick'],
  { encoding: 'utf8' });
if (r.status !== 0) throw new Error(`gemm: ${o.wasm} --bench-quick failed (${r.status}): ${r.stdout}${r.stderr}`);
const peak = Number(/peak: .*?: ([\d.]+) GOPS/.exec(r.stdout)?.[1]);
const rows = [...r.stdout.matchAll(/(gemm_\w+)\s+M=(\d+)\s+N=(\d+)\s+K=(\d+)\s+G=(\d+)\s+([\d.]+) GOPS/g)]
  .map(([, kernel, M, N, K, G, gops]) => ({ kernel, M: +M, N: +N, K: +K, G: +G, gops: +gops, of_peak: +gops / peak }));
if (!(peak > 0) || !rows.length) throw new Error(`gemm: no peak or no kernel figures in the output:\n${r.stdout}`);
console.log(`GEMM micro-benchmark (Node ${process.version}, SIMD128): peak of dot_i16x8 + add ${peak.toFixed(1)} GOPS`);
console.log('| kernel | M×N×K | G | GOPS | of peak |\n|---|---|---|---|---|');
for (const x of rows) console.log(`| ${x.kernel} | ${x.M}×${x.N}×${x.K} | ${x.G} | ${x.gops.toFixed(1)} | ${(100 * x.of_peak).toFixed(0)}% |`);
mergeResults(o.out, 'gemm', { command: 'node bench/gemm.mjs', peak_gops: peak, rows });
console.log(`merged into ${o.out} ("gemm")`);
