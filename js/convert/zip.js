// A small read-only zip reader for untrusted files (PyTorch checkpoints are zip archives): the central directory
// (zip64 too), stored and deflated entries, CRC-32 checked on every read. Entries are read on demand with
// positioned reads; nothing is allocated from a declared size before that size is checked against the file.
// Node built-ins only.

import fs from 'node:fs';
import zlib from 'node:zlib';
import { crc32 } from '../crc32.js';

/** Largest entry read() inflates or reads (bytes). Weights above this cannot fit a .wemb (2 GiB) anyway. */
export const MAX_ENTRY_BYTES = 2 ** 32;
/** Largest central directory accepted (bytes): ~1M entries. */
export const MAX_DIRECTORY_BYTES = 64 * 1024 * 1024;
/** Deflate cannot expand more than ~1032:1; a declared size beyond this bound is a lie. */
const MAX_DEFLATE_RATIO = 1032;

const SIG_LOCAL = 0x04034b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_EOCD = 0x06054b50;
const SIG_EOCD64 = 0x06064b50;
const SIG_EOCD64_LOCATOR = 0x07064b50;
const EOCD_SIZE = 22;
const METHODS = { 0: 'stored', 8: 'deflated' };

const u64 = (dv, off) => dv.getUint32(off + 4, true) * 2 ** 32 + dv.getUint32(off, true);

export class ZipFile {
  /** Opens path and reads its central directory. Throws an Error naming the file for anything malformed. */
  constructor(file) {
    this.file = file;
    this.fd = fs.openSync(file, 'r');
    try {
      this.size = fs.fstatSync(this.fd).size;
      this.entries = this.#readDirectory();
    } catch (e) {
      this.close();
      throw e;
    }
  }

  #fail(msg) {
    return new Error(`${this.file}: ${msg}`);
  }

  /** Reads exactly length bytes at position (checked against the file size first) into a fresh Uint8Array. */
  readAt(position, length) {
    if (!Number.isSafeInteger(position) || !Number.isSafeInteger(length) || position < 0 || length < 0 || position + length > this.size) {
      throw this.#fail(`truncated or corrupt zip: ${length} bytes at offset ${position} lie past the end of the file (${this.size} bytes)`);
    }
    const out = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const n = fs.readSync(this.fd, out, done, Math.min(length - done, 1 << 30), position + done);
      if (n <= 0) throw this.#fail(`unexpected end of file at byte ${position + done}`);
      done += n;
    }
    return out;
  }

  #readDirectory() {
    const { size } = this;
    if (size < EOCD_SIZE) throw this.#fail(`${size} bytes, too small for a zip archive (truncated?)`);
    // End of central directory: the last signature whose comment length fits the file.
    const tailLen = Math.min(size, EOCD_SIZE + 0xffff);
    const tailStart = size - tailLen;
    const tail = this.readAt(tailStart, tailLen);
    const tv = new DataView(tail.buffer);
    let eocd = -1;
    for (let i = tailLen - EOCD_SIZE; i >= 0; i--) {
      if (tv.getUint32(i, true) === SIG_EOCD && i + EOCD_SIZE + tv.getUint16(i + 20, true) <= tailLen) {
        eocd = i;
        break;
      }
    }
    if (eocd < 0) throw this.#fail('not a zip archive, or a truncated one (no end-of-central-directory record)');
    let count = tv.getUint16(eocd + 10, true);
    let cdSize = tv.getUint32(eocd + 12, true);
    let cdOffset = tv.getUint32(eocd + 16, true);
    if (tv.getUint16(eocd + 4, true) !== 0 || tv.getUint16(eocd + 6, true) !== 0) throw this.#fail('multi-disk (split) zip archives are not supported');
    const eocdPos = tailStart + eocd;
    if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
      // zip64: a locator just before the EOCD points at the zip64 end-of-central-directory record.
      if (eocdPos < 20) throw this.#fail('corrupt zip64 archive: no zip64 locator');
      const loc = new DataView(this.readAt(eocdPos - 20, 20).buffer);
      if (loc.getUint32(0, true) !== SIG_EOCD64_LOCATOR) throw this.#fail('corrupt zip64 archive: no zip64 end-of-central-directory locator');
      const recPos = u64(loc, 8);
      if (recPos + 56 > eocdPos - 20) throw this.#fail(`corrupt zip64 archive: zip64 record offset ${recPos} out of range`);
      const rec = new DataView(this.readAt(recPos, 56).buffer);
      if (rec.getUint32(0, true) !== SIG_EOCD64) throw this.#fail('corrupt zip64 archive: bad zip64 end-of-central-directory signature');
      count = u64(rec, 32);
      cdSize = u64(rec, 40);
      cdOffset = u64(rec, 48);
    }
    if (cdSize > MAX_DIRECTORY_BYTES) throw this.#fail(`central directory of ${cdSize} bytes exceeds the ${MAX_DIRECTORY_BYTES}-byte limit`);
    if (cdOffset + cdSize > size) throw this.#fail(`truncated or corrupt zip: central directory (${cdSize} bytes at ${cdOffset}) lies past the end of the file (${size} bytes)`);
    if (count * 46 > cdSize) throw this.#fail(`corrupt zip: ${count} entries cannot fit a ${cdSize}-byte central directory`);
    const cd = this.readAt(cdOffset, cdSize);
    const dv = new DataView(cd.buffer);
    const utf8 = new TextDecoder('utf-8');
    const entries = new Map();
    let p = 0;
    for (let i = 0; i < count; i++) {
      if (p + 46 > cdSize || dv.getUint32(p, true) !== SIG_CENTRAL) throw this.#fail(`corrupt zip: central directory entry ${i} is malformed`);
      const flags = dv.getUint16(p + 8, true);
      const method = dv.getUint16(p + 10, true);
      const crc = dv.getUint32(p + 16, true);
      let compressedSize = dv.getUint32(p + 20, true);
      let size_ = dv.getUint32(p + 24, true);
      const nameLen = dv.getUint16(p + 28, true), extraLen = dv.getUint16(p + 30, true), commentLen = dv.getUint16(p + 32, true);
      let localOffset = dv.getUint32(p + 42, true);
      const end = p + 46 + nameLen + extraLen + commentLen;
      if (end > cdSize) throw this.#fail(`corrupt zip: central directory entry ${i} runs past the directory`);
      const name = utf8.decode(cd.subarray(p + 46, p + 46 + nameLen));
      // zip64 extended information: the fields that are 0xFFFFFFFF, in this order.
      let q = p + 46 + nameLen;
      const extraEnd = q + extraLen;
      while (q + 4 <= extraEnd) {
        const id = dv.getUint16(q, true), len = dv.getUint16(q + 2, true);
        if (q + 4 + len > extraEnd) throw this.#fail(`corrupt zip: extra field of "${name}" runs past its entry`);
        if (id === 0x0001) {
          let r = q + 4;
          const take = () => {
            if (r + 8 > q + 4 + len) throw this.#fail(`corrupt zip: short zip64 extra field in "${name}"`);
            const v = u64(dv, r);
            r += 8;
            return v;
          };
          if (size_ === 0xffffffff) size_ = take();
          if (compressedSize === 0xffffffff) compressedSize = take();
          if (localOffset === 0xffffffff) localOffset = take();
        }
        q += 4 + len;
      }
      if (!Number.isSafeInteger(size_) || !Number.isSafeInteger(compressedSize) || !Number.isSafeInteger(localOffset)) {
        throw this.#fail(`corrupt zip: sizes of "${name}" out of range`);
      }
      if (entries.has(name)) throw this.#fail(`corrupt zip: entry "${name}" appears twice`);
      entries.set(name, { name, flags, method, crc, compressedSize, size: size_, localOffset, dataStart: null });
      p = end;
    }
    return entries;
  }

  /** Entry names, in central-directory order. */
  get names() {
    return [...this.entries.keys()];
  }

  has(name) {
    return this.entries.has(name);
  }

  entry(name) {
    return this.entries.get(name) ?? null;
  }

  /** Checks an entry (method, encryption, sizes, local header) without reading its data; returns it. */
  check(name) {
    const e = this.entries.get(name);
    if (!e) throw this.#fail(`no entry "${name}" in the archive`);
    if (e.dataStart !== null) return e;
    const where = `entry "${name}"`;
    if (e.flags & 1) throw this.#fail(`${where} is encrypted; encrypted archives are not supported`);
    if (!(e.method in METHODS)) throw this.#fail(`${where} uses compression method ${e.method}; only stored (0) and deflated (8) entries are supported`);
    if (e.method === 0 && e.compressedSize !== e.size) {
      throw this.#fail(`corrupt zip: stored ${where} declares ${e.size} bytes but ${e.compressedSize} compressed bytes`);
    }
    if (e.method === 8 && e.size > MAX_DEFLATE_RATIO * e.compressedSize + 1024) {
      throw this.#fail(`corrupt zip: deflated ${where} declares ${e.size} bytes from only ${e.compressedSize} compressed bytes (impossible for deflate)`);
    }
    if (e.size > MAX_ENTRY_BYTES) throw this.#fail(`${where} declares ${e.size} bytes, more than the ${MAX_ENTRY_BYTES}-byte limit`);
    const lh = new DataView(this.readAt(e.localOffset, 30).buffer);
    if (lh.getUint32(0, true) !== SIG_LOCAL) throw this.#fail(`corrupt zip: no local header for ${where} at offset ${e.localOffset}`);
    const dataStart = e.localOffset + 30 + lh.getUint16(26, true) + lh.getUint16(28, true);
    if (dataStart + e.compressedSize > this.size) {
      throw this.#fail(`truncated or corrupt zip: data of ${where} (${e.compressedSize} bytes at ${dataStart}) lies past the end of the file (${this.size} bytes)`);
    }
    e.dataStart = dataStart;
    return e;
  }

  /** The uncompressed bytes of an entry (a fresh Uint8Array), CRC-32 checked. */
  read(name) {
    const e = this.check(name);
    const where = `entry "${name}"`;
    const raw = this.readAt(e.dataStart, e.compressedSize);
    let out = raw;
    if (e.method === 8) {
      let inflated;
      try {
        inflated = zlib.inflateRawSync(raw, { maxOutputLength: Math.max(1, e.size) });
      } catch (err) {
        const big = err?.code === 'ERR_BUFFER_TOO_LARGE' || err instanceof RangeError;
        throw this.#fail(big ? `corrupt zip: ${where} inflates to more than its declared ${e.size} bytes` : `corrupt zip: cannot inflate ${where} (${err.message})`);
      }
      if (inflated.length !== e.size) throw this.#fail(`corrupt zip: ${where} inflates to ${inflated.length} bytes, declared ${e.size}`);
      // a fresh, 0-aligned copy when zlib handed back a view into a larger (pooled) buffer
      out = inflated.byteOffset === 0 && inflated.buffer.byteLength === inflated.length
        ? new Uint8Array(inflated.buffer, 0, inflated.length)
        : new Uint8Array(inflated);
    }
    const c = crc32(out);
    if (c !== e.crc) {
      throw this.#fail(`corrupt zip: CRC-32 mismatch in ${where} (computed ${c.toString(16).padStart(8, '0')}, stored ${e.crc.toString(16).padStart(8, '0')})`);
    }
    return out;
  }

  close() {
    if (this.fd !== null && this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = null;
  }
}

/** Opens a zip archive (see ZipFile). */
export const openZip = (file) => new ZipFile(file);
