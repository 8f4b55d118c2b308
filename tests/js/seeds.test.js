// The seed models' own examples, through the pipeline form (ModelScope's sentence-embedding pipeline):
// shapes, scores equal to the dot products of the returned vectors, and the same order of scores on the int8
// and f32 paths. GTE Chinese small's card example, on gte-small-zh-synth (synthetic weights: the scores carry
// no meaning, their consistency does).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { load } from '../../js/index.js';
import { HAVE_SHARED, dot, testModel } from './common.mjs';

const ZH = {
  source_sentence: ['吃完海鲜可以喝牛奶吗?'],
  sentences_to_compare: [
    '不可以，早晨喝牛奶不科学',
    '吃了海鲜后是不能再喝牛奶的，因为牛奶中含得有维生素C，如果海鲜喝牛奶一起服用会对人体造成一定的伤害',
    '吃海鲜是不能同时喝牛奶吃水果，这个至少间隔6小时以上才可以。',
    '吃海鲜是不可以吃柠檬的因为其中的维生素C会和海鲜中的矿物质形成砷',
  ],
};

const order = (xs) => xs.map((x, i) => [x, i]).sort((a, b) => b[0] - a[0]).map(([, i]) => i);

test('GTE Chinese small seed example: pipeline shapes, dot-product scores, int8 order = f32 order', { skip: !HAVE_SHARED && 'no ../shared' }, async () => {
  const results = {};
  for (const dtype of ['f32', 'int8']) {
    const model = await load(await testModel('gte-small-zh-synth', dtype));
    const out = await model.pipeline(ZH);
    assert.equal(out.text_embedding.length, 5);
    for (const v of out.text_embedding) assert.equal(v.length, 512);
    assert.equal(out.scores.length, 4);
    out.scores.forEach((s, i) => assert.ok(Math.abs(s - dot(out.text_embedding[0], out.text_embedding[i + 1])) < 1e-6));
    const only = await model.pipeline({ source_sentence: ZH.source_sentence });
    assert.deepEqual(only.scores, []);
    assert.deepEqual(only.text_embedding[0], out.text_embedding[0]);
    results[dtype] = out.scores;
    console.log(`# ${dtype}: scores ${out.scores.map((s) => s.toFixed(4)).join(' ')}`);
    model.dispose();
  }
  assert.deepEqual(order(results.int8), order(results.f32), 'int8 ranks the candidates as f32 does');
  results.int8.forEach((s, i) => assert.ok(Math.abs(s - results.f32[i]) < 0.01, `candidate ${i}: int8 ${s} vs f32 ${results.f32[i]}`));
});
