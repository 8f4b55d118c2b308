// Writes the texts of a JSONL file ({"text": ...} per line) as the packed batch wm_embed takes, for the
// native driver: u32 n, u32 offsets[n+1], UTF-8 bytes.   node tests/js/texts-bin.mjs IN.jsonl OUT.bin
// With --ids, writes the lines' reference "ids" instead, for tools/embed_ids.c: per line u32 count, i32 ids.
// With --first N, only the first N lines.
import { readFileSync, writeFileSync } from 'node:fs';

const [input, output, ...flags] = process.argv.slice(2);
const first = flags.includes('--first') ? Number(flags[flags.indexOf('--first') + 1]) : Infinity;
const lines = readFileSync(input, 'utf8').split('\n').filter(Boolean).slice(0, first);
if (flags.includes('--ids')) {
  const lists = lines.map((l) => JSON.parse(l).ids);
  writeFileSync(output, Buffer.concat(lists.map((ids) => Buffer.from(new Int32Array([ids.length, ...ids]).buffer))));
  process.exit(0);
}
const texts = lines.map((l) => Buffer.from(JSON.parse(l).text, 'utf8'));
const head = new Uint32Array(texts.length + 2);
head[0] = texts.length;
let at = 0;
texts.forEach((t, i) => { head[1 + i] = at; at += t.length; });
head[texts.length + 1] = at;
writeFileSync(output, Buffer.concat([Buffer.from(head.buffer), ...texts]));
