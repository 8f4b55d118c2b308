// Threads for a model: `load(src, { threads: n })` runs n - 1 workers (js/worker.js) next to the calling thread,
// in one of two ways (model.info.thread_mode):
//   'shared'  Team: where SharedArrayBuffer works (Node; cross-origin isolated pages), the model is loaded once,
//             into the shared memory of a shared-memory build, and every worker runs its own instance of that
//             module on the same memory as a helper of the C encoder: every op of a forward pass is split across
//             the threads (src/encoder/team.h), so one text gets faster too.
//   'copies'  Pool: elsewhere, each worker has its own instance of the module and its own copy of the model, so
//             nothing is shared and nothing needs cross-origin isolation; the price is n copies of the model in
//             memory, and only batches are split. A batch is cut into chunks of texts that the calling thread and
//             the workers take in turn, first come first served; the results keep the input order. One text is
//             always embedded on the calling thread.
import { isNode, splitRows } from './core.js';

const WORKER_URL = new URL('./worker.js', import.meta.url);

class Thread {
  constructor(worker) {
    this.worker = worker;
    this.pending = new Map();  // id -> { resolve, reject }
    this.nextId = 1;
    this.failed = null;
    const onMessage = (msg) => {
      const p = this.pending.get(msg.id ?? 0);
      if (!p) return;
      this.pending.delete(msg.id ?? 0);
      if (isNode && !this.pending.size) worker.unref();
      if (msg.type === 'error') p.reject(new Error(msg.message));
      else p.resolve(msg);
    };
    const onError = (e) => {
      this.failed = new Error(`wembed: worker failed: ${e?.message ?? e}`);
      for (const p of this.pending.values()) p.reject(this.failed);
      this.pending.clear();
      if (isNode) worker.unref();
    };
    if (isNode) {
      worker.on('message', onMessage);
      worker.on('error', onError);
      worker.unref();  // an idle pool does not keep a Node process alive (ref'd while a request is pending)
    } else {
      worker.onmessage = (e) => onMessage(e.data);
      worker.onerror = (e) => { e.preventDefault?.(); onError(e); };
    }
  }

  request(msg, transfer = [], id = 0) {
    if (this.failed) return Promise.reject(this.failed);
    return new Promise((resolve, reject) => {
      if (isNode && !this.pending.size) this.worker.ref();
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...msg, id }, transfer);
    });
  }

  embed(texts, opts) {
    return this.request({ type: 'embed', texts, opts }, [], this.nextId++);
  }
}

async function spawn() {
  if (isNode) {
    const { Worker } = await import(/* webpackIgnore: true */ /* @vite-ignore */ 'node:worker_threads');
    return new Worker(WORKER_URL);
  }
  return new Worker(WORKER_URL, { type: 'module' });
}

export class Pool {
  /**
   * Starts `count` workers, each with a copy of the model file `bytes` (a Uint8Array view; copied, not
   * transferred) compiled from `module`. Rejects (after stopping them) if any fails to start.
   */
  static async create(count, module, bytes) {
    const threads = [];
    try {
      for (let i = 0; i < count; i++) threads.push(new Thread(await spawn()));
      await Promise.all(threads.map((t) => t.request({ type: 'init', module, bytes: bytes.slice() })));
    } catch (e) {
      for (const t of threads) t.worker.terminate();
      throw new Error(`wembed: cannot start ${count} worker thread${count > 1 ? 's' : ''}: ${e.message}`);
    }
    return new Pool(threads);
  }

  constructor(threads) {
    this.threads = threads;
  }

  /**
   * Embeds chunks (arrays of texts) on the workers and, through embedLocal(texts) -> Float32Array[], on the
   * calling thread. onChunk(index, rows, pruned) is called as each chunk finishes (pruned: for a worker's chunk, how
   * many of its texts a pruned vocabulary changed; undefined for the calling thread's); `stop()` is asked before each new
   * chunk is started (true: start no more, let running ones finish, then reject with its error).
   */
  async run(chunks, opts, dim, embedLocal, onChunk, stop) {
    let next = 0, error = null;
    const take = () => {
      if (error) return -1;
      try {
        stop();
      } catch (e) {
        error = e;
        return -1;
      }
      return next < chunks.length ? next++ : -1;
    };
    const worker = async (t) => {
      for (let i = take(); i >= 0; i = take()) {
        try {
          const { vectors, pruned } = await t.embed(chunks[i], opts);
          onChunk(i, splitRows(vectors, chunks[i].length, dim), pruned);
        } catch (e) {
          error ??= e;
        }
      }
    };
    // The calling thread works too, between turns of the event loop so that workers' results are picked up.
    const local = async () => {
      for (let i = take(); i >= 0; i = take()) {
        try {
          onChunk(i, embedLocal(chunks[i]));
        } catch (e) {
          error ??= e;
        }
        await new Promise((r) => setTimeout(r, 0));
      }
    };
    // Two requests in flight per worker: its next chunk is already queued when it finishes one, instead of
    // waiting for the calling thread to finish its own chunk and read the result (it cannot while it computes).
    await Promise.all([...this.threads.flatMap((t) => [worker(t), worker(t)]), local()]);
    if (error) throw error;
  }

  close() {
    for (const t of this.threads) t.worker.terminate();
    this.threads = [];
  }
}

export class Team {
  /**
   * Starts `count` helpers of `core`'s model (ready, on a shared memory; `module`: its compiled shared-memory
   * build). Resolves once every helper runs; rejects (after stopping them) if any fails to start.
   */
  static async create(count, module, core) {
    const tops = core.threads(count + 1);
    const threads = [];
    try {
      for (let i = 0; i < count; i++) threads.push(new Thread(await spawn()));
      await Promise.all(threads.map((t, i) => t.request({ type: 'helper', module, memory: core.memory, model: core.model, thread: i + 1, stack: tops[i] })));
    } catch (e) {
      core.close();  // stops the helpers that started
      for (const t of threads) t.worker.terminate();
      throw new Error(`wembed: cannot start ${count} helper thread${count > 1 ? 's' : ''}: ${e.message}`);
    }
    return new Team(threads);
  }

  constructor(threads) {
    this.threads = threads;
  }

  /** After the model is closed (wm_close stops the helpers). */
  close() {
    for (const t of this.threads) t.worker.terminate();
    this.threads = [];
  }
}
