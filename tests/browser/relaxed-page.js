// Page side of tests/browser/relaxed.test.js: loads each model three ways through the public API (the default
// module choice, then dist/wembed-relaxed.wasm and dist/wembed.wasm named explicitly with { wasm }) and compares
// the vectors bit for bit. Returns what the test asserts; the vectors stay in the page.
import { load } from '/js/index.js';
import { relaxedSimdWorks } from '/js/core.js';

function firstDiff(a, b) {
  if (a.length !== b.length) return { text: -1, reason: `${a.length} vs ${b.length} vectors` };
  for (let i = 0; i < a.length; i++) {
    const x = new Uint32Array(a[i].buffer, a[i].byteOffset, a[i].length), y = new Uint32Array(b[i].buffer, b[i].byteOffset, b[i].length);
    if (x.length !== y.length || x.some((v, k) => v !== y[k])) return { text: i };
  }
  return null;
}

async function embedWith(model, texts, options) {
  const m = await load(model, options);
  const t = performance.now();
  const vectors = await m.embed(texts);
  const ms = performance.now() - t;
  const { simd, threads, thread_mode: mode, int8_gemm: gemm } = m.info;
  m.dispose();
  return { vectors, ms, simd, threads, mode, gemm };
}

/** cases: [{ model: URL, texts: string[], threads?: number }] */
export async function compareModules(cases) {
  const out = { relaxedSimdWorks: relaxedSimdWorks(), userAgent: navigator.userAgent, cases: [] };
  for (const { model, texts } of cases) {
    const dflt = await embedWith(model, texts, {});
    const relaxed = await embedWith(model, texts, { wasm: '/dist/wembed-relaxed.wasm' });
    const simd128 = await embedWith(model, texts, { wasm: '/dist/wembed.wasm' });
    // a batch on 2 threads: this page is cross-origin isolated, so one model on a shared memory
    // (dist/wembed-relaxed-mt.wasm), every op split; and with a non-shared module given, a copy per thread
    const threaded = await embedWith(model, texts.slice(0, 64), { threads: 2 });
    const copies = await embedWith(model, texts.slice(0, 64), { threads: 2, wasm: '/dist/wembed-relaxed.wasm' });
    out.cases.push({
      model, texts: texts.length,
      simd: { default: dflt.simd, relaxed: relaxed.simd, simd128: simd128.simd, threaded: threaded.simd, copies: copies.simd },
      threads: [threaded.threads, threaded.mode, copies.threads, copies.mode],
      gemm: { default: dflt.gemm, relaxed: relaxed.gemm, simd128: simd128.gemm, threaded: threaded.gemm, copies: copies.gemm },
      ms: { default: dflt.ms, relaxed: relaxed.ms, simd128: simd128.ms },
      diff: {
        relaxed_vs_simd128: firstDiff(relaxed.vectors, simd128.vectors),
        default_vs_simd128: firstDiff(dflt.vectors, simd128.vectors),
        threaded_vs_simd128: firstDiff(threaded.vectors, simd128.vectors.slice(0, 64)),
        copies_vs_simd128: firstDiff(copies.vectors, simd128.vectors.slice(0, 64)),
      },
    });
  }
  return out;
}
