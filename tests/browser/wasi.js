// Runs a standalone WASI command module (emcc -sSTANDALONE_WASM, or the clang-19 relaxed builds) in a page: the
// few preview1 calls such a module imports (arguments, clocks, stdout/stderr, exit), nothing else. Used for the
// relaxed-SIMD kernel test and benchmark, which must run in Chromium (Node 20 computes relaxed dots wrongly).
// Each line written is also logged to the console as "[wasi] line", so a driver can stream it.
const ERRNO_BADF = 8;

class Exit {
  constructor(code) { this.code = code; }
}

/** Fetches and runs the module at url with args; resolves to { status, stdout } (stdout: fds 1 and 2 together). */
export async function runWasi(url, args = []) {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`cannot fetch ${url}: HTTP ${res.status}`);
  const bytes = await res.arrayBuffer();
  const enc = new TextEncoder(), dec = new TextDecoder();
  const argv = [url.split('/').pop(), ...args].map((a) => enc.encode(`${a}\0`));
  let memory = null, stdout = '', line = '';
  const dv = () => new DataView(memory.buffer);  // memory may grow: a fresh view per call
  const wasi = {
    args_sizes_get(pCount, pSize) {
      dv().setUint32(pCount, argv.length, true);
      dv().setUint32(pSize, argv.reduce((n, a) => n + a.length, 0), true);
      return 0;
    },
    args_get(pArgv, pBuf) {
      argv.forEach((a, i) => {
        dv().setUint32(pArgv + 4 * i, pBuf, true);
        new Uint8Array(memory.buffer).set(a, pBuf);
        pBuf += a.length;
      });
      return 0;
    },
    clock_time_get(id, _precision, pTime) {  // 0: realtime; the others: monotonic (cross-origin isolated: 5 us)
      const ns = id === 0 ? BigInt(Date.now()) * 1000000n : BigInt(Math.round(performance.now() * 1e6));
      dv().setBigUint64(pTime, ns, true);
      return 0;
    },
    fd_write(fd, iovs, n, pWritten) {
      if (fd !== 1 && fd !== 2) return ERRNO_BADF;
      let written = 0;
      for (let i = 0; i < n; i++) {
        const p = dv().getUint32(iovs + 8 * i, true), len = dv().getUint32(iovs + 8 * i + 4, true);
        const text = dec.decode(new Uint8Array(memory.buffer, p, len), { stream: true });
        stdout += text;
        line += text;
        written += len;
      }
      for (let nl = line.indexOf('\n'); nl >= 0; nl = line.indexOf('\n')) {
        console.log(`[wasi] ${line.slice(0, nl)}`);
        line = line.slice(nl + 1);
      }
      dv().setUint32(pWritten, written, true);
      return 0;
    },
    proc_exit(code) { throw new Exit(code); },
  };
  const { instance } = await WebAssembly.instantiate(bytes, {
    wasi_snapshot_preview1: wasi,
    env: { emscripten_notify_memory_growth() {} },  // emscripten's one non-WASI import (memory growth)
  });
  memory = instance.exports.memory;
  let status = 0;
  try {
    instance.exports._start();
  } catch (e) {
    if (!(e instanceof Exit)) throw e;
    status = e.code;
  }
  if (line) console.log(`[wasi] ${line}`);
  return { status, stdout };
}
