// A tiny read-only static HTTP server for the browser proof (Node built-ins only).
//   /...                       files under the repository root
//   /shared/...                files under ../shared (the read-only fixtures), when present
//   /__corrupt__/<path>?flip=N the file at /<path> with byte N inverted (to prove that loads verify CRCs)
// Listens on 127.0.0.1 with an ephemeral port; GET and HEAD only; no directory listings; paths cannot leave the
// served roots (symlinks included). Sends Content-Type (application/wasm, text/javascript, ...), Content-Length,
// no-store caching, and COOP/COEP/CORP so that the page is cross-origin isolated like a production deployment.
//
//   node tests/browser/server.mjs [port]   serves by hand: open http://127.0.0.1:<port>/tests/browser/page.html
import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import { extname, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const SHARED = process.env.WEMBED_SHARED ?? fileURLToPath(new URL('../../../shared/', import.meta.url));

export const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.jsonl': 'application/jsonl; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/markdown; charset=utf-8',
  '.tsv': 'text/tab-separated-values; charset=utf-8',
  '.wasm': 'application/wasm',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
};
const mimeOf = (path) => MIME[extname(path).toLowerCase()] ?? 'application/octet-stream';

const BASE_HEADERS = {
  'Cache-Control': 'no-store',
  'X-Content-Type-Options': 'nosniff',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

/** Resolves a URL path under root; null when it would leave root (.., symlinks) or is not a regular file. */
async function fileUnder(root, urlPath) {
  let rel;
  try { rel = decodeURIComponent(urlPath); } catch { return null; }
  if (rel.includes('\0')) return null;
  const realRoot = await realpath(root).catch(() => null);
  if (!realRoot) return null;
  const path = resolve(realRoot, `.${rel.startsWith('/') ? rel : `/${rel}`}`);
  if (!path.startsWith(realRoot + sep)) return null;
  const real = await realpath(path).catch(() => null);
  if (!real || !real.startsWith(realRoot + sep)) return null;
  const st = await stat(real).catch(() => null);
  return st?.isFile() ? { path: real, size: st.size } : null;
}

/**
 * Starts the server. Returns { url, port, requests, close() }; requests logs { method, path, status, type,
 * complete (the whole body was handed to the socket), closed (the connection ended) }.
 * @param {{root?: string, shared?: string|null, port?: number, chunk?: number}} [options]
 *   chunk: read size of the file streams (the granularity of the browser's download progress)
 */
export async function startServer({ root = ROOT, shared = SHARED, port = 0, chunk = 64 << 10 } = {}) {
  const requests = [];
  const server = createServer(async (req, res) => {
    const url = new URL(req.url, 'http://127.0.0.1');
    const entry = { method: req.method, path: url.pathname, status: 0, type: '' };
    requests.push(entry);
    const send = (status, body, headers = {}) => {
      entry.status = status;
      const b = Buffer.from(body);
      res.writeHead(status, { ...BASE_HEADERS, 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': b.length, ...headers });
      res.end(req.method === 'HEAD' ? undefined : b);
    };
    try {
      if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'method not allowed\n', { Allow: 'GET, HEAD' });
      if (url.pathname === '/') return send(302, '', { Location: '/tests/browser/page.html' });

      let path = url.pathname, flip = null;
      if (path.startsWith('/__corrupt__/')) {
        path = path.slice('/__corrupt__'.length);
        flip = Number(url.searchParams.get('flip'));
        if (!Number.isSafeInteger(flip) || flip < 0) return send(400, 'flip=<byte offset> required\n');
      }
      const file = path.startsWith('/shared/')
        ? (shared ? await fileUnder(shared, path.slice('/shared'.length)) : null)
        : await fileUnder(root, path);
      if (!file) return send(404, `not found: ${url.pathname}\n`);

      const type = mimeOf(file.path);
      entry.type = type;
      if (flip !== null && flip >= file.size) return send(400, `flip=${flip} is past the end (${file.size} bytes)\n`);
      entry.status = 200;
      res.writeHead(200, { ...BASE_HEADERS, 'Content-Type': type, 'Content-Length': file.size });
      if (req.method === 'HEAD') return res.end();
      const stream = createReadStream(file.path, { highWaterMark: chunk });
      let at = 0;
      stream.on('data', (c) => {
        if (flip !== null && flip >= at && flip < at + c.length) c[flip - at] ^= 0xff;
        at += c.length;
        if (!res.write(c)) stream.pause();
      });
      res.on('drain', () => stream.resume());
      stream.on('end', () => res.end());
      stream.on('error', (e) => res.destroy(e));
      res.on('finish', () => { entry.complete = true; });
      res.on('close', () => { entry.closed = true; stream.destroy(); });
    } catch (e) {
      if (!res.headersSent) send(500, `${e.message}\n`);
      else res.destroy(e);
    }
  });
  const sockets = new Set();
  server.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  await new Promise((ok, fail) => { server.once('error', fail); server.listen(port, '127.0.0.1', ok); });
  const actual = server.address().port;
  return {
    url: `http://127.0.0.1:${actual}`,
    port: actual,
    requests,
    close: () => new Promise((ok) => {
      for (const s of sockets) s.destroy();  // keep-alive connections would hold close() open
      server.close(() => ok());
    }),
  };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const s = await startServer({ port: Number(process.argv[2] ?? 0) });
  console.log(`wembed test server: ${s.url}/tests/browser/page.html (repo ${ROOT}, shared ${SHARED}); Ctrl-C stops it`);
}
