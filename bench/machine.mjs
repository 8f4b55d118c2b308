// What the machine was doing during a benchmark, for its notes: CPU, cores, SIMD flags, node, load average and the
// other busy processes (lifetime %CPU > 20) — the 2 cores are often shared, which makes medians noisy. And
// mergeResults, which the scripts run after compare.mjs use to add their key to bench/results.json.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';

/** ignore: a RegExp matching the benchmark's own processes (left out of top_processes). */
export function machine(ignore) {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const top = (spawnSync('ps', ['-eo', 'pid,pcpu,etime,args', '--sort=-pcpu'], { encoding: 'utf8' }).stdout ?? '').split('\n').slice(1)
    .map((l) => l.trim().split(/\s+/))
    .filter((c) => c.length > 3 && +c[1] > 20 && +c[0] !== process.pid && !ignore.test(c.slice(3).join(' ')))
    .map((c) => `${c.slice(3).join(' ').slice(0, 60)} (${c[1]}% CPU, up ${c[2]})`);
  return {
    cpu: /model name\s*:\s*(.*)/.exec(cpuinfo)?.[1] ?? cpus()[0]?.model,
    cores: cpus().length,
    flags_simd: ['avx2', 'avx512f', 'avx512_vnni', 'avx_vnni'].filter((f) => new RegExp(`\\b${f}\\b`).test(cpuinfo)),
    node: process.version, v8: process.versions.v8,
    loadavg: loadavg().map((x) => +x.toFixed(2)),
    top_processes: top,
  };
}

/** Sets results[key] = value in the JSON file (bench/results.json), which starts afresh if absent or unreadable. */
export function mergeResults(file, key, value) {
  let results = {};
  try { results = JSON.parse(readFileSync(file, 'utf8')); } catch { /* absent or unreadable: start afresh */ }
  results[key] = value;
  writeFileSync(file, `${JSON.stringify(results, null, 1)}\n`);
}
