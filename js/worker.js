// One thread of a model (js/pool.js): a Web Worker or a Node worker_thread. Either a Pool's thread, holding its own
// instance of the wasm module with its own copy of the model:
//   in  { type: 'init', module: WebAssembly.Module, bytes: Uint8Array }  out { type: 'ready' } | { type: 'error' }
//   in  { type: 'embed', id, texts, opts }                                 out { type: 'done', id, vectors, pruned } | { type: 'error', id }
// vectors is one Float32Array of texts.length * dim values, transferred back; pruned: how many of the texts a pruned
// vocabulary tokenized differently from the full model (model.stats).
// Or a Team's helper: its own instance of the shared-memory module on the model's memory, on the stack wm_threads
// gave it, inside wm_helper (taking parts of the calling thread's ops) until the model is closed:
//   in  { type: 'helper', module, memory, model, thread, stack }           out { type: 'ready' } | { type: 'error' }
import { Core, imports } from './core.js';

let core = null;

function handle(msg, post) {
  try {
    if (msg.type === 'init') {
      core = Core.fromModule(msg.module);
      const base = core.open(msg.bytes.length);
      core.u8.set(msg.bytes, base);
      if (!core.feed(msg.bytes.length)) throw new Error('wembed worker: the model did not load');
      post({ type: 'ready' });
    } else if (msg.type === 'helper') {
      const x = new WebAssembly.Instance(msg.module, imports(msg.memory)).exports;  // no _initialize: the memory is
      x.stackRestore(msg.stack);                                                   // set up, and the stack its own
      post({ type: 'ready' });
      x.wm_helper(msg.model, msg.thread);  // returns when the model is closed
    } else if (msg.type === 'embed') {
      const before = core.prunedTexts();
      const flat = core.embedFlat(msg.texts, msg.opts);
      post({ type: 'done', id: msg.id, vectors: flat, pruned: (core.prunedTexts() - before) >>> 0 }, [flat.buffer]);
    }
  } catch (e) {
    post({ type: 'error', id: msg.id, message: e?.message ?? String(e) });
  }
}

if (typeof process !== 'undefined' && process.versions?.node && typeof WorkerGlobalScope === 'undefined') {
  const { parentPort } = await import(/* webpackIgnore: true */ /* @vite-ignore */ 'node:worker_threads');
  parentPort.on('message', (msg) => handle(msg, (m, transfer) => parentPort.postMessage(m, transfer)));
} else {
  self.onmessage = (e) => handle(e.data, (m, transfer) => self.postMessage(m, transfer));
}
