// Runs a standalone WASI command module in headless Chromium (Debian's, via playwright-core, as the browser proof)
// from tests/browser/server.mjs: the relaxed-SIMD kernel test and benchmark, which Node 20 cannot run right.
//   node tests/browser/run-wasi-chromium.mjs build/test_kernels-relaxed.wasm [args...]
// prints the module's output as it comes and exits with its status. runWasiInChromium is the same for tests.
import { relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ROOT, startServer } from './server.mjs';

export const CHROMIUM = process.env.WEMBED_CHROMIUM ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-dev-shm-usage',
  '--disable-background-timer-throttling', '--disable-renderer-backgrounding', '--disable-backgrounding-occluded-windows',
  // nothing but 127.0.0.1 resolves: no request can leave the machine even if something tried
  '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1'];

/**
 * Runs the module at path (under the repository) with args in a fresh page; resolves to { status, stdout,
 * userAgent }. onLine(line) gets each output line as it is written.
 */
export async function runWasiInChromium(path, args = [], { onLine = () => {}, timeoutMs = 300_000 } = {}) {
  const url = `/${relative(ROOT, resolve(path))}`;
  if (url.startsWith('/..')) throw new Error(`${path} is not under ${ROOT} (the server serves the repository)`);
  const { chromium } = await import('playwright-core');
  let server, browser, timer;
  try {
    server = await startServer();
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 30_000 });
    const page = await browser.newPage();
    const errors = [];
    page.on('console', (m) => { if (m.text().startsWith('[wasi] ')) onLine(m.text().slice(7)); });
    page.on('pageerror', (e) => errors.push(String(e?.stack ?? e)));
    await page.goto(`${server.url}/tests/browser/wasi.html`, { waitUntil: 'load', timeout: 30_000 });
    const run = page.evaluate(async ([u, a]) => {
      const { runWasi } = await import('/tests/browser/wasi.js');
      return { ...(await runWasi(u, a)), userAgent: navigator.userAgent };
    }, [url, args]);
    const expired = new Promise((_, fail) => { timer = setTimeout(() => fail(new Error(`${url} ran longer than ${timeoutMs} ms`)), timeoutMs); });
    const result = await Promise.race([run, expired]);
    if (errors.length) throw new Error(`page errors: ${errors.join('\n')}`);
    return result;
  } finally {
    clearTimeout(timer);
    await browser?.close().catch(() => {});
    await server?.close();
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [path, ...args] = process.argv.slice(2);
  if (!path) {
    console.error('usage: node tests/browser/run-wasi-chromium.mjs module.wasm [args...]');
    process.exit(2);
  }
  const r = await runWasiInChromium(path, args, { onLine: (l) => console.log(l) });
  console.log(`(${r.userAgent.match(/Chrom\S+/)?.[0]}: exit status ${r.status})`);
  process.exitCode = r.status;
}
