// wembed on 1 thread against N threads (load({ threads })), alone, interleaved: one text at 16, 128 and 512 tokens
// (median of 15 runs) and the 256 STS sentences of gte-small-synth's reference texts (median of 5). The N-thread
// model runs in whatever mode this context allows (Node: 'shared', one model on a shared memory, every op split).
//   node bench/threads.mjs [--threads 2] [--model build/models/gte-small-synth.int8.wemb]
import { parseArgs } from 'node:util';
import { load } from '../js/index.js';
import { SHARED, readJsonl } from '../tests/js/common.mjs';
import { stats, textMaker } from './cases.mjs';
import { machine } from './machine.mjs';

const { values: o } = parseArgs({ options: { threads: { type: 'string', default: '2' }, model: { type: 'string', default: 'build/models/gte-small-synth.int8.wemb' } } });
const n = Number(o.threads);
const refLines = readJsonl(`${SHARED}/reference/models/gte-small-synth/texts.jsonl`);
const texts = refLines.slice(0, 256).map((r) => r.text);
const one = await load(o.model), many = await load(o.model, { threads: n });
const med = (x) => stats(x).median;
async function compare(what, input, runs) {
  await one.embed(input);  // warm-up: V8 tiers up each instance's code
  await many.embed(input);
  const t1 = [], tn = [];
  for (let r = 0; r < runs; r++) {
    let t = performance.now(); await one.embed(input); t1.push(performance.now() - t);
    t = performance.now(); await many.embed(input); tn.push(performance.now() - t);
  }
  console.log(`${what}: 1 thread ${med(t1).toFixed(2)} ms, ${n} threads ${med(tn).toFixed(2)} ms: ${(med(t1) / med(tn)).toFixed(2)}x`);
}
const textOf = textMaker(refLines, (t) => one.tokenize(t));
for (const tokens of [16, 128, 512]) await compare(`one text, ${tokens} tokens`, textOf(tokens), 15);
await compare(`${texts.length} sentences`, texts, 5);
const m = machine(/threads\.mjs/);
console.log(`thread_mode ${many.info.thread_mode}; ${m.cores} cores, load average ${m.loadavg.join(' ')}${m.top_processes.length ? `; also running: ${m.top_processes.join('; ')}` : ''}`);
one.dispose();
many.dispose();
