// CRC-32 (IEEE / zlib, reflected 0xEDB88320), slicing by 8: ~1 GB/s in V8. Shared by the loader (header check)
// and js/format.js (writer, info); a module of its own so that pages do not ship the writer.
let CRC_T = null;
function crcTables() {
  const t = new Int32Array(8 * 256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[i] = c;
  }
  for (let i = 0; i < 256; i++) {
    for (let s = 1; s < 8; s++) t[s * 256 + i] = t[t[(s - 1) * 256 + i] & 0xff] ^ (t[(s - 1) * 256 + i] >>> 8);
  }
  return t;
}

export const asBytes = (b) =>
  b instanceof Uint8Array ? b : ArrayBuffer.isView(b) ? new Uint8Array(b.buffer, b.byteOffset, b.byteLength) : new Uint8Array(b);

/**
 * CRC-32 of bytes (Uint8Array, any typed array, or ArrayBuffer), continuing from crc (the value a previous call
 * returned; 0 to start). Returns an unsigned 32-bit number. crc32(b) === zlib.crc32(b).
 */
export function crc32(bytes, crc = 0) {
  const T = CRC_T || (CRC_T = crcTables());
  const p = asBytes(bytes);
  const n = p.length;
  let c = ~crc | 0;
  let i = 0;
  for (const end = n - 7; i < end; i += 8) {
    const a = (p[i] | (p[i + 1] << 8) | (p[i + 2] << 16) | (p[i + 3] << 24)) ^ c;
    c =
      T[1792 + (a & 0xff)] ^ T[1536 + ((a >>> 8) & 0xff)] ^ T[1280 + ((a >>> 16) & 0xff)] ^ T[1024 + (a >>> 24)] ^
      T[768 + p[i + 4]] ^ T[512 + p[i + 5]] ^ T[256 + p[i + 6]] ^ T[p[i + 7]];
  }
  for (; i < n; i++) c = T[(c ^ p[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

