// The same API inside a module Web Worker (no DOM): load by URL, embed, post the vectors back.
import { load } from '/js/index.js';

self.onmessage = async ({ data: { model, texts } }) => {
  try {
    const m = await load(model);
    const vectors = await m.embed(texts);
    const flat = new Float32Array(vectors.length * m.dim);
    vectors.forEach((v, i) => flat.set(v, i * m.dim));
    m.dispose();
    self.postMessage({ vectors: flat }, [flat.buffer]);
  } catch (e) {
    self.postMessage({ error: `${e.name}: ${e.message}` });
  }
};
