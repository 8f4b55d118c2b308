// Runs a standalone WASI module (emcc -sSTANDALONE_WASM) under Node's built-in WASI and exits with its status.
//   node tests/c/run_wasi.mjs build/test_kernels.wasm [args...]
// Used instead of emcc's JS glue, which misbehaves on Node 20 with Debian's emscripten.
import { readFile } from 'node:fs/promises';
import { WASI } from 'node:wasi';

const [file, ...args] = process.argv.slice(2);
if (!file) {
  console.error('usage: node run_wasi.mjs module.wasm [args...]');
  process.exit(2);
}
const wasi = new WASI({ version: 'preview1', args: [file, ...args], env: {}, returnOnExit: true });
const module = await WebAssembly.compile(await readFile(file));
// emcc's one non-WASI import (with -sALLOW_MEMORY_GROWTH): node:wasi re-reads the memory on every call anyway
const env = { emscripten_notify_memory_growth() {} };
const instance = await WebAssembly.instantiate(module, { ...wasi.getImportObject(), env });
process.exitCode = wasi.start(instance);
