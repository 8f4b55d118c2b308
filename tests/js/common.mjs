// Shared by the JS tests: where ../shared is, reference readers, statistics, converted test models.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const SHARED = process.env.WEMBED_SHARED ?? fileURLToPath(new URL('../../../shared/', import.meta.url));
export const HAVE_SHARED = existsSync(`${SHARED}/reference`);
if (!HAVE_SHARED) process.stderr.write(`\n*** SKIPPING reference tests: ${SHARED} is absent ***\n\n`);

export function readJsonl(path) {
  return readFileSync(path, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
}

export function readF32(path) {
  const b = readFileSync(path);
  return new Float32Array(b.buffer, b.byteOffset, b.length / 4);
}

export function readPairs(path) {
  return readFileSync(path, 'utf8').split('\n').slice(1).filter(Boolean).map((l) => {
    const [a, b, s] = l.split('\t');
    return [Number(a), Number(b), Number(s)];
  });
}

export function dot(a, b) {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}
export const norm = (a) => Math.sqrt(dot(a, a));
export const cosine = (a, b) => dot(a, b) / (norm(a) * norm(b) || 1);

function ranks(xs) {
  const idx = xs.map((x, i) => [x, i]).sort((p, q) => p[0] - q[0]);
  const r = new Array(xs.length);
  for (let i = 0; i < idx.length;) {
    let j = i;
    while (j + 1 < idx.length && idx[j + 1][0] === idx[i][0]) j++;
    for (let k = i; k <= j; k++) r[idx[k][1]] = (i + j) / 2;
    i = j + 1;
  }
  return r;
}

export function spearman(xs, ys) {
  const rx = ranks(xs), ry = ranks(ys), n = xs.length;
  const mx = rx.reduce((s, v) => s + v, 0) / n, my = ry.reduce((s, v) => s + v, 0) / n;
  let sxy = 0, sxx = 0, syy = 0;
  for (let i = 0; i < n; i++) {
    sxy += (rx[i] - mx) * (ry[i] - my); sxx += (rx[i] - mx) ** 2; syy += (ry[i] - my) ** 2;
  }
  return sxy / Math.sqrt(sxx * syy);
}

/** Converts ../shared/models/<name> to build/models/<name>.<dtype>.wemb unless an up-to-date one exists. */
export async function testModel(name, dtype) {
  const out = `${ROOT}build/models/${name}.${dtype}.wemb`;
  const srcs = [...readdirSync(`${ROOT}js/convert`).map((f) => `${ROOT}js/convert/${f}`), `${ROOT}js/format.js`,
    ...readdirSync(`${SHARED}/models/${name}`).map((f) => `${SHARED}/models/${name}/${f}`)].map((p) => statSync(p).mtimeMs);
  if (existsSync(out) && statSync(out).mtimeMs > Math.max(...srcs)) return out;
  mkdirSync(`${ROOT}build/models`, { recursive: true });
  const { convert } = await import('../../js/convert/index.js');
  await convert(`${SHARED}/models/${name}`, { output: out, dtype });
  return out;
}

/**
 * A small model with a real tokenizer (gte-small-synth's tokenizer.json, so a real 30522-entry vocabulary) and
 * seeded random weights in tiny shapes (hidden 64, 2 layers): fast enough for bulk robustness runs and the
 * sanitizer run, while exercising every code path of a real model. Converted once into build/models.
 */
export async function smallModel(dtype = 'int8') {
  const out = `${ROOT}build/models/small-bert.${dtype}.wemb`;
  if (existsSync(out)) return out;
  const { makeTinyFolder } = await import('./fixtures.mjs');
  const tokenizerJson = JSON.parse(readFileSync(`${SHARED}/models/gte-small-synth/tokenizer.json`, 'utf8'));
  const V = Object.keys(tokenizerJson.model.vocab).length;
  const dir = `${ROOT}build/fixtures/small-bert-${process.pid}`;  // per process: test files run in parallel
  makeTinyFolder(dir, { tokenizerJson, dims: { V, H: 64, heads: 4, I: 128, L: 2, P: 512, T: 2 }, maxSeqLength: 512 });
  mkdirSync(`${ROOT}build/models`, { recursive: true });
  const { convert } = await import('../../js/convert/index.js');
  await convert(dir, { output: out, dtype });  // written to a temporary name, then renamed: atomic
  rmSync(dir, { recursive: true, force: true });
  return out;
}
