// The module choice in Node (js/core.js): dist/wembed-relaxed.wasm only where the engine validates relaxed SIMD AND
// computes the probe's relaxed dot right. Node 20 fails either way: without a flag it cannot validate relaxed SIMD,
// with --experimental-wasm-relaxed-simd it validates but computes i32x4.relaxed_dot_i8x16_i7x16_add_s wrongly
// (the relaxed module's kernel test fails there: thousands of wrong GEMM results), so dist/wembed.wasm must be
// chosen both times. The relaxed module itself is proven in Chromium (tests/browser/relaxed.test.js).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { load } from '../../js/index.js';
import { relaxedSimdWorks } from '../../js/core.js';
import { HAVE_SHARED, smallModel } from './common.mjs';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const RELAXED = `${ROOT}dist/wembed-relaxed.wasm`;
const NODE20 = process.versions.node.startsWith('20.');
const skip = !HAVE_SHARED ? 'no ../shared' : !existsSync(RELAXED) ? `${RELAXED} is absent (make wasm)` : false;

// In a child process (V8 flags are per process): what the probe says, and which module a default load() picks.
function child(flags, model) {
  const script = `
    import { readFileSync } from 'node:fs';
    import { load } from ${JSON.stringify(`${ROOT}js/index.js`)};
    import { relaxedSimdWorks } from ${JSON.stringify(`${ROOT}js/core.js`)};
    const validates = WebAssembly.validate(readFileSync(${JSON.stringify(RELAXED)}));
    const m = await load(${JSON.stringify(model)});
    console.log(JSON.stringify({ validates, probe: relaxedSimdWorks(), simd: m.info.simd }));
    m.dispose();`;
  return JSON.parse(execFileSync(process.execPath, [...flags, '--no-warnings', '--input-type=module', '-e', script], { encoding: 'utf8' }));
}

test('Node: the default module is dist/wembed.wasm unless relaxed SIMD validates and computes right', { skip }, async () => {
  const model = await smallModel('int8');
  const m = await load(model);
  assert.equal(m.info.simd, relaxedSimdWorks() ? 'relaxed' : 'simd128');
  if (m.info.simd === 'simd128') assert.equal(m.info.int8_gemm, 'i16i8');  // 8-bit activations held in int16
  m.dispose();
  const plain = child([], model);
  const flagged = child(['--experimental-wasm-relaxed-simd'], model);
  console.log(`# ${process.version}: ${JSON.stringify({ plain, flagged })}`);
  for (const r of [plain, flagged]) assert.equal(r.simd, r.probe ? 'relaxed' : 'simd128');
  if (NODE20) {
    assert.deepEqual(plain, { validates: false, probe: false, simd: 'simd128' }, 'Node 20 without flags');
    // validates, yet the known answer is wrong: the probe, not validation, keeps the relaxed module out
    assert.deepEqual(flagged, { validates: true, probe: false, simd: 'simd128' }, 'Node 20 with --experimental-wasm-relaxed-simd');
  }
});

test('Node: { wasm } is used as given, even a module this engine cannot run (no silent fallback)', { skip: skip || (relaxedSimdWorks() && 'this engine runs relaxed SIMD') }, async () => {
  await assert.rejects(load(await smallModel('int8'), { wasm: RELAXED }), WebAssembly.CompileError);
  const m = await load(await smallModel('int8'), { wasm: `${ROOT}dist/wembed.wasm` });
  assert.equal(m.info.simd, 'simd128');
  m.dispose();
});
