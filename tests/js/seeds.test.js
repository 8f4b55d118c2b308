// The seed models' own examples, through the pipeline form (ModelScope's sentence-embedding pipeline):
// shapes, scores equal to the dot products of the returned vectors, and the same order of scores on the int8
// and f32 paths. The cards' examples run on the synthetic fixtures: the scores carry no meaning, their
// consistency does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { load } from '../../js/index.js';
import { HAVE_SHARED, dot, norm, testModel } from './common.mjs';

const ZH = {
  source_sentence: ['吃完海鲜可以喝牛奶吗?'],
  sentences_to_compare: [
    '不可以，早晨喝牛奶不科学',
    '吃了海鲜后是不能再喝牛奶的，因为牛奶中含得有维生素C，如果海鲜喝牛奶一起服用会对人体造成一定的伤害',
    '吃海鲜是不能同时喝牛奶吃水果，这个至少间隔6小时以上才可以。',
    '吃海鲜是不可以吃柠檬的因为其中的维生素C会和海鲜中的矿物质形成砷',
  ],
};

// CoROM english tiny's card example (ModelScope damo/nlp_corom_sentence-embedding_english-tiny), on corom-tiny-synth.
const EN = {
  source_sentence: ['how long it take to get a master degree'],
  sentences_to_compare: [
    'On average, students take about 18 to 24 months to complete a master degree.',
    'On the other hand, some students prefer to go at a slower pace and choose to take',
    'several years to complete their studies.',
    'It can take anywhere from two semesters',
  ],
};

const order = (xs) => xs.map((x, i) => [x, i]).sort((a, b) => b[0] - a[0]).map(([, i]) => i);

function seedTest(title, name, example, dim) {
  test(`${title} seed example: pipeline shapes, dot-product scores, int8 order = f32 order`, { skip: !HAVE_SHARED && 'no ../shared' }, async () => {
    const results = {};
    let scale = 1;  // |q| |d| of the f32 vectors: the scores' natural unit (these models may not normalize)
    for (const dtype of ['f32', 'int8']) {
      const model = await load(await testModel(name, dtype));
      const out = await model.pipeline(example);
      const n = example.sentences_to_compare.length;
      assert.equal(out.text_embedding.length, n + 1);
      for (const v of out.text_embedding) assert.ok(v instanceof Float32Array && v.length === dim);
      assert.equal(out.scores.length, n);
      const [q, ...docs] = out.text_embedding;
      if (dtype === 'f32') scale = Math.max(...docs.map((d) => norm(q) * norm(d)));
      out.scores.forEach((s, i) => assert.ok(Math.abs(s - dot(q, docs[i])) <= 1e-6 * scale, `score ${i}: ${s} vs dot ${dot(q, docs[i])}`));
      // the vectors are the model's own: what embed() gives for the same texts
      assert.deepEqual(await model.embed([example.source_sentence[0], ...example.sentences_to_compare]), out.text_embedding);
      const only = await model.pipeline({ source_sentence: example.source_sentence });
      assert.deepEqual(only.scores, []);
      assert.deepEqual(only.text_embedding[0], q);
      results[dtype] = out.scores;
      console.log(`# ${name} ${dtype}: scores ${out.scores.map((s) => s.toFixed(4)).join(' ')}; |q| ${norm(q).toFixed(4)}`);
      model.dispose();
    }
    assert.deepEqual(order(results.int8), order(results.f32), 'int8 ranks the candidates as f32 does');
    results.int8.forEach((s, i) => assert.ok(Math.abs(s - results.f32[i]) <= 0.01 * scale, `candidate ${i}: int8 ${s} vs f32 ${results.f32[i]}`));
  });
}

seedTest('GTE Chinese small', 'gte-small-zh-synth', ZH, 512);
seedTest('CoROM english tiny', 'corom-tiny-synth', EN, 312);
