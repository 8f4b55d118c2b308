// Compiled with `tsc --noEmit` by `make test-types`: the declarations describe the API as users write it.
import { load, type Model, type ModelInfo, type ModelStats, type PipelineOutput } from 'wembed';

async function main(): Promise<void> {
  const controller = new AbortController();
  const model: Model = await load('model.wemb', {
    onProgress: ({ loaded, total }) => console.log(`${loaded}/${total}`),
    signal: controller.signal,
  });
  const info: ModelInfo = model.info;
  const rows: Float32Array[] = await model.embed(['a', 'b'], { pooling: 'mean', normalize: true, maxTokens: 128 });
  const one: Float32Array = await model.embed('just one');
  const scores: number[] = await model.score('query', ['doc'], { metric: info.metric });
  const ids: number[] = model.tokenize('hello');
  const out: PipelineOutput = await model.pipeline({ source_sentence: ['q'], sentences_to_compare: ['a', 'b'] });
  const fromBytes = await load(new Uint8Array(0));
  const fromResponse = await load(await fetch('https://example.com/model.wemb'));
  const threaded = await load('model.wemb', { threads: 2 });
  const threads: number = threaded.info.threads, mode: 'shared' | 'copies' | 'single' = threaded.info.thread_mode, group: number = info.quant_group;
  const simd: 'relaxed' | 'simd128' = info.simd;
  console.log(rows.length, one.length, scores, ids, out.scores, model.dim, fromBytes.dim, fromResponse.dim, threads, mode, group, simd);
  const kept: number = info.vocab_kept, corpus: string | null = info.vocab_corpus;
  const { texts, prunedTexts }: ModelStats = model.stats;
  if (corpus !== null && prunedTexts !== null) console.log(`${prunedTexts} of ${texts} texts met pieces outside the ${kept} kept of ${info.vocab}`);
  // @ts-expect-error prunedTexts may be null (a model converted with --vocab-drop-pruned cannot tell)
  const n: number = model.stats.prunedTexts;
  // @ts-expect-error stats is read-only
  model.stats = { texts: 0, prunedTexts: 0 };
  // @ts-expect-error embed takes strings
  await model.embed([1, 2]);
  // @ts-expect-error pooling is 'cls' | 'mean'
  await model.embed(['x'], { pooling: 'max' });
  model.dispose();
}
void main;
