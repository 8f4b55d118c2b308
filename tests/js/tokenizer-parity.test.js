// Token-id parity of the shipped path (wasm module, model file, Model.tokenize) with Hugging Face tokenizers
// (Rust) on the 47,512-text reference sets. The native twin runs in `make test-tokenizer`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { load } from '../../js/index.js';
import { HAVE_SHARED, SHARED, readJsonl, testModel } from './common.mjs';

for (const [set, model] of [['bert-uncased', 'gte-small-synth'], ['bert-zh', 'gte-small-zh-synth'], ['xlmr-unigram', 'multilingual-e5-small-synth']]) {
  test(`${set}: identical ids through the wasm model`, { skip: !HAVE_SHARED && 'no ../shared' }, async () => {
    const rows = readJsonl(`${SHARED}/reference/tokenizers/${set}.jsonl`);
    const m = await load(await testModel(model, 'int8'));
    let same = 0;
    const bad = [];
    for (const r of rows) {
      const ids = m.tokenize(r.text);
      if (ids.length === r.ids.length && ids.every((v, i) => v === r.ids[i])) same++;
      else if (bad.length < 3) bad.push({ text: r.text.slice(0, 60), got: ids.slice(0, 12), want: r.ids.slice(0, 12) });
    }
    m.dispose();
    console.log(`# ${set} (wasm): ${same}/${rows.length} identical`);
    assert.deepEqual(bad, []);
    assert.equal(same, rows.length);
  });
}
