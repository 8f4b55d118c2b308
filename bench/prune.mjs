// Size and fidelity of multilingual-e5-small-synth with a smaller word-embedding table (issue 6 §4): the full int8
// file, the q4 table, and the vocabulary pruned (`convert --vocab-from`) to a multilingual corpus, with int8 and q4
// tables. Fidelity against ../shared/reference/models/multilingual-e5-small-synth (onnxruntime fp32 of the full
// model): cosine mean / min over its 2,234 texts, Spearman over pairs.tsv, and how many of its texts met a pruned piece.
//
// Corpus: the natural-language texts of ../shared/reference/tokenizers/xlmr-unigram.jsonl (its first 44,520 lines:
// multilingual STS sentences in 11 languages and Chinese question pairs; the 2,992 seeded random Unicode strings
// after them are left out). 2,095 of the 2,234 reference texts (prefix removed) are among them, so the corpus is
// measured twice: as is, and with every text that equals a reference text removed ("no overlap").
//
//   node bench/prune.mjs [--out build/bench/prune.json] [--keep]   (about 9 minutes; measures, asserts nothing)
import fs from 'node:fs';
import path from 'node:path';
import { convert } from '../js/convert/index.js';
import { load } from '../js/index.js';
import { ROOT, SHARED, cosine, modelFolder, readF32, readJsonl, readPairs, spearman } from '../tests/js/common.mjs';
import { KIND, parseHeader, parseTable } from '../js/format.js';

const args = process.argv.slice(2);
const OUT = args.includes('--out') ? args[args.indexOf('--out') + 1] : path.join(ROOT, 'build/bench/prune.json');
const DIR = path.join(ROOT, 'build/bench/prune');
const NATURAL = 44520;  // lines of xlmr-unigram.jsonl before the random Unicode strings
const PREFIXES = { queryPrefix: 'query: ', passagePrefix: 'passage: ' };
fs.mkdirSync(DIR, { recursive: true });

const ref = `${SHARED}/reference/models/multilingual-e5-small-synth`;
const rows = readJsonl(`${ref}/texts.jsonl`), want = readF32(`${ref}/embeddings.f32`), pairs = readPairs(`${ref}/pairs.tsv`);
const strip = (t) => t.replace(/^(query|passage): /, '');
const refTexts = new Set(rows.map((r) => strip(r.text)));

const natural = readJsonl(`${SHARED}/reference/tokenizers/xlmr-unigram.jsonl`).slice(0, NATURAL).map((r) => r.text);
const corpora = {
  xlmr: natural,
  'xlmr-no-overlap': natural.filter((t) => !refTexts.has(t)),
};
const corpusFile = {};
for (const [name, texts] of Object.entries(corpora)) {
  corpusFile[name] = path.join(DIR, `${name}.jsonl`);
  fs.writeFileSync(corpusFile[name], texts.map((text) => JSON.stringify({ text })).join('\n') + '\n');
}
const overlap = rows.filter((r) => new Set(natural).has(strip(r.text))).length;
console.log(`corpus: ${natural.length} texts of xlmr-unigram.jsonl; ${overlap} of ${rows.length} reference texts (prefix removed) are in it; ` +
  `without them: ${corpora['xlmr-no-overlap'].length} texts`);

const variants = [
  { name: 'full, int8 table', embDtype: 'int8' },
  { name: 'full, q4 table', embDtype: 'q4' },
  { name: 'pruned (xlmr), int8 table', embDtype: 'int8', corpus: 'xlmr' },
  { name: 'pruned (xlmr), q4 table', embDtype: 'q4', corpus: 'xlmr' },
  { name: 'pruned (xlmr, no overlap), int8 table', embDtype: 'int8', corpus: 'xlmr-no-overlap' },
  { name: 'pruned (xlmr, no overlap), q4 table', embDtype: 'q4', corpus: 'xlmr-no-overlap' },
  { name: 'pruned (xlmr, no overlap), int8, chars from corpus', embDtype: 'int8', corpus: 'xlmr-no-overlap', vocabChars: 'corpus' },
  { name: 'pruned (xlmr, no overlap), int8, pruned pieces dropped', embDtype: 'int8', corpus: 'xlmr-no-overlap', drop: true },
  { name: 'pruned (xlmr, no overlap), q4, pruned pieces dropped', embDtype: 'q4', corpus: 'xlmr-no-overlap', drop: true },
];

const folder = modelFolder('multilingual-e5-small-synth');
const sources = JSON.parse(fs.readFileSync(`${ref}/meta.json`, 'utf8')).sources;
/** Texts that hit a pruned piece, by reference source: STS (8 languages), scifact passages, edge cases. */
function bySource(hit) {
  const out = {};
  for (const s of sources) {
    const key = s.name.startsWith('stsb') ? 'sts' : s.name.startsWith('scifact') ? 'scifact' : 'edge';
    out[key] ??= [0, 0];
    for (let i = s.first_index; i < s.first_index + s.count; i++) out[key][0] += hit[i], out[key][1]++;
  }
  return Object.fromEntries(Object.entries(out).map(([k, [h, n]]) => [k, `${h}/${n}`]));
}
const results = [];
const fullVectors = {};
for (const v of variants) {
  const file = path.join(DIR, `${v.name.replace(/[^a-z0-9]+/gi, '-')}.wemb`);
  const s = await convert(folder, {
    output: file, dtype: 'int8', embDtype: v.embDtype, ...PREFIXES,
    ...(v.corpus && { vocabFrom: corpusFile[v.corpus], vocabChars: v.vocabChars ?? 'all', vocabDropPruned: !!v.drop }),
  });
  const bytes = fs.readFileSync(file);
  const size = (k) => parseTable(bytes, parseHeader(bytes)).filter((x) => k.includes(x.kind)).reduce((a, x) => a + x.size, 0);
  const m = await load(file);
  const got = [];
  for (let i = 0; i < rows.length; i += 64) got.push(...await m.embed(rows.slice(i, i + 64).map((r) => r.text)));
  const cos = got.map((g, i) => cosine(g, want.subarray(i * m.dim, (i + 1) * m.dim)));
  let sameIds = 0;
  const hit = rows.map((r) => {
    const before = m.stats.prunedTexts;
    const ids = m.tokenize(r.text);
    const same = ids.length === r.ids.length && ids.every((x, k) => x === r.ids[k]);
    if (same) sameIds++;
    return before === null ? !same : m.stats.prunedTexts > before;  // dropped pieces: the ids tell
  });
  // a text that needs no pruned piece gets exactly the vector of the full model with the same table
  const fullRun = fullVectors[v.embDtype];
  if (!v.corpus) fullVectors[v.embDtype] = got;
  const identical = fullRun ? got.filter((g, i) => !hit[i] && g.every((x, k) => Object.is(x, fullRun[i][k]))).length : null;
  const mean = (xs) => xs.reduce((a, x) => a + x, 0) / (xs.length || 1);
  const r = {
    variant: v.name, corpus: v.corpus ?? null, bytes: s.bytes, table_bytes: size([KIND.EMB_WORD, KIND.EMB_WORD_SCALE, KIND.EMB_WORD_MAP]),
    tokenizer_bytes: size([KIND.TOKENIZER]), kept: m.info.vocab.kept, size: m.info.vocab.size,
    cosine_mean: mean(cos), cosine_min: Math.min(...cos),
    spearman: spearman(pairs.map(([a, b]) => cosine(got[a], got[b])), pairs.map((p) => p[2])),
    ref_texts: rows.length, ref_texts_hit: hit.filter(Boolean).length, ref_ids_identical: sameIds,
    cosine_mean_hit: mean(cos.filter((_, i) => hit[i])), cosine_min_hit: Math.min(1, ...cos.filter((_, i) => hit[i])),
    other_texts_identical_to_full: identical, by_source: bySource(hit),
    vocabulary: s.vocabulary,
  };
  m.dispose();
  if (!args.includes('--keep')) fs.rmSync(file);
  results.push(r);
  console.log(`${r.variant}: ${(r.bytes / 1e6).toFixed(1)} MB, kept ${r.kept}/${r.size}; cosine mean ${r.cosine_mean.toFixed(5)} min ${r.cosine_min.toFixed(5)}, ` +
    `Spearman ${r.spearman.toFixed(5)}; ${r.ref_texts_hit} of ${r.ref_texts} reference texts hit a pruned piece ${JSON.stringify(r.by_source)}` +
    (identical === null ? '' : `; the other ${rows.length - r.ref_texts_hit}: ${identical} bit-identical to the full model's vectors`));
}

const f = (x, d = 5) => x.toFixed(d);
console.log('\n| variant | file MB | table MB | tokenizer MB | ids kept | cosine mean | cosine min | Spearman | ref. texts hitting pruned pieces (their mean / min cosine) |');
console.log('|---|---|---|---|---|---|---|---|---|');
for (const r of results) {
  const hits = r.corpus ? `${r.ref_texts_hit} of ${r.ref_texts}` + (r.ref_texts_hit ? ` (${f(r.cosine_mean_hit)} / ${f(r.cosine_min_hit)})` : '') : '—';
  console.log(`| ${r.variant} | ${f(r.bytes / 1e6, 1)} | ${f(r.table_bytes / 1e6, 1)} | ${f(r.tokenizer_bytes / 1e6, 1)} | ${r.kept} of ${r.size} | ` +
    `${f(r.cosine_mean)} | ${f(r.cosine_min)} | ${f(r.spearman)} | ${hits} |`);
}
fs.mkdirSync(path.dirname(OUT), { recursive: true });
fs.writeFileSync(OUT, JSON.stringify({ corpus: { file: 'reference/tokenizers/xlmr-unigram.jsonl', lines: NATURAL, overlap, no_overlap_texts: corpora['xlmr-no-overlap'].length }, results }, null, 2) + '\n');
console.log(`\nwrote ${OUT}`);
