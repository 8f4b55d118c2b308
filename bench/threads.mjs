// Batch throughput on 1 and N threads (load({ threads })), wembed alone, interleaved: the 256 STS sentences of
// gte-small-synth's reference texts. Prints the medians of 5 runs each and their ratio.
//   node bench/threads.mjs [--threads 2] [--model build/models/gte-small-synth.int8.wemb]
import { parseArgs } from 'node:util';
import { load } from '../js/index.js';
import { SHARED, readJsonl } from '../tests/js/common.mjs';
import { machine } from './machine.mjs';

const { values: o } = parseArgs({ options: { threads: { type: 'string', default: '2' }, model: { type: 'string', default: 'build/models/gte-small-synth.int8.wemb' } } });
const n = Number(o.threads);
const texts = readJsonl(`${SHARED}/reference/models/gte-small-synth/texts.jsonl`).slice(0, 256).map((r) => r.text);
const one = await load(o.model), many = await load(o.model, { threads: n });
await one.embed(texts);  // warm-up: V8 tiers up each instance's code
await many.embed(texts);
const t1 = [], tn = [];
for (let r = 0; r < 5; r++) {
  let t = performance.now(); await one.embed(texts); t1.push(performance.now() - t);
  t = performance.now(); await many.embed(texts); tn.push(performance.now() - t);
}
const med = (x) => [...x].sort((a, b) => a - b)[2];
const m = machine(/threads\.mjs/);
console.log(`${texts.length} sentences: 1 thread ${med(t1).toFixed(0)} ms (${(texts.length * 1000 / med(t1)).toFixed(1)}/s), ` +
  `${n} threads ${med(tn).toFixed(0)} ms (${(texts.length * 1000 / med(tn)).toFixed(1)}/s): ${(med(t1) / med(tn)).toFixed(2)}x ` +
  `(${m.cores} cores, load average ${m.loadavg.join(' ')}${m.top_processes.length ? `; also running: ${m.top_processes.join('; ')}` : ''})`);
one.dispose();
many.dispose();
