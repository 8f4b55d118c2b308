// Where onnxruntime-web's time goes, from its own profiler: per operator type, and the rate of its integer GEMMs —
// the peer's side of the question "how far can an int8 SIMD128 GEMM go on this machine".
//
//   node bench/ort-profile.mjs [--tokens 128] [--runs 8] [--threads 1]
//
// One session on gte-small-synth's model_quantized.onnx (as compare.mjs), enableProfiling on, batch 1 of `tokens`
// ids; the first 3 runs are warm-up, the rest averaged. From ORT's chrome-trace events this prints, per op type, ms per run
// and share, then the GOPS (2 * multiply-adds / s) of the int8 linear layers (DynamicQuantizeMatMul +
// MatMulIntegerToFloat, activation quantization included) — to set against `make bench-kernels`'s peak.
// Nothing is asserted.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const SHARED = process.env.WEMBED_SHARED ?? `${ROOT}../shared/`;
const { values: o } = parseArgs({ options: { tokens: { type: 'string', default: '128' }, runs: { type: 'string', default: '8' },
  threads: { type: 'string', default: '1' }, child: { type: 'boolean', default: false } } });
const L = Number(o.tokens), RUNS = Number(o.runs), WARMUP = 3;

// ORT's wasm build writes its chrome-trace events to standard output, one per line, when the session ends (it has
// no file system to write the profile to): a child process runs it, the parent reads what it printed.
let lines, ms;
if (o.child) {
  const ort = await import('onnxruntime-web');
  ort.env.wasm.numThreads = Number(o.threads);
  ort.env.wasm.simd = true;
  ort.env.wasm.wasmPaths = `${ROOT}node_modules/onnxruntime-web/dist/`;
  const s = await ort.InferenceSession.create(`${SHARED}models/gte-small-synth/onnx/model_quantized.onnx`,
    { executionProviders: ['wasm'], enableProfiling: true });
  const feeds = () => ({
    input_ids: new ort.Tensor('int64', new BigInt64Array(L).fill(1000n), [1, L]),
    attention_mask: new ort.Tensor('int64', new BigInt64Array(L).fill(1n), [1, L]),
    token_type_ids: new ort.Tensor('int64', new BigInt64Array(L), [1, L]),
  });
  const times = [];
  for (let i = 0; i < WARMUP + RUNS; i++) {
    const t = performance.now();
    await s.run(feeds());
    times.push(performance.now() - t);
  }
  s.endProfiling();
  await s.release();
  console.log(`ORT_PROFILE_RUNS ${JSON.stringify({ times, version: ort.env.versions.web })}`);
  process.exit(0);
} else {
  const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child', ...process.argv.slice(2)],
    { encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`ort-profile: the child failed (${r.status}): ${r.stderr}`);
  lines = r.stdout.split('\n');
  const mark = lines.find((l) => l.startsWith('ORT_PROFILE_RUNS '));
  if (!mark) throw new Error('ort-profile: the child printed no timings');
  ms = JSON.parse(mark.slice('ORT_PROFILE_RUNS '.length));
}

const events = lines.filter((l) => l.startsWith('{"cat" : "Node"')).map((l) => JSON.parse(l.replace(/,\s*$/, '')))
  .filter((e) => e.name.endsWith('_kernel_time'));
if (!events.length) throw new Error('ort-profile: onnxruntime-web printed no profiling events (has its output format changed?)');
const perRun = events.length / (WARMUP + RUNS);
if (!Number.isInteger(perRun)) throw new Error(`ort-profile: ${events.length} events for ${WARMUP + RUNS} runs`);
const timed = events.slice(perRun * WARMUP);
const byOp = new Map();
let total = 0, gemmUs = 0, gemmMacs = 0;
for (const e of timed) {
  const op = e.args.op_name;
  byOp.set(op, (byOp.get(op) ?? 0) + e.dur);
  total += e.dur;
  if (op === 'DynamicQuantizeMatMul' || op === 'MatMulIntegerToFloat') {
    const [a, b] = e.args.input_type_shape.map((t) => Object.values(t)[0]);  // A [1, L, K], B [K, N]
    gemmUs += e.dur;
    gemmMacs += a.slice(0, -1).reduce((x, y) => x * y, 1) * b[0] * b[1];
  }
}
const med = ms.times.slice(WARMUP).sort((a, b) => a - b)[RUNS >> 1];
console.log(`onnxruntime-web ${ms.version}, ${o.threads} thread(s), batch 1, ${L} tokens: ` +
  `run ${med.toFixed(1)} ms (median of ${RUNS}), ops ${(total / RUNS / 1000).toFixed(1)} ms per run`);
console.log('| op type | ms per run | share |\n|---|---|---|');
for (const [op, us] of [...byOp].sort((a, b) => b[1] - a[1]).filter(([, us]) => us / total >= 0.005))
  console.log(`| ${op} | ${(us / RUNS / 1000).toFixed(2)} | ${(100 * us / total).toFixed(1)}% |`);
console.log(`int8 linears (DynamicQuantizeMatMul + MatMulIntegerToFloat): ${(gemmUs / RUNS / 1000).toFixed(1)} ms per run, ` +
  `${(gemmMacs / RUNS / 1e9).toFixed(3)} G multiply-adds: ${(2 * gemmMacs / gemmUs / 1e3).toFixed(1)} GOPS`);
