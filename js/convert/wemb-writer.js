// Writes .wemb files (docs/format.md): header, section table, then the sections in the order they are added,
// each at a multiple of 64 with zero padding between them, each with its CRC-32. Streaming: only the section
// being added is in memory; the header and table are written last, and the file appears under its name only
// when complete (written as <output>.partial-<pid>, then renamed).

import fs from 'node:fs';
import {
  ALIGN, HEADER_SIZE, MAX_SECTIONS, MAX_TOTAL_SIZE, alignUp, crc32, encodeHeader, encodeTable, isKnownKind,
  isPerLayer, parseHeader, parseTable, sectionName, tableBytesFor,
} from '../format.js';

const bytesOf = (data) =>
  data instanceof Uint8Array ? data : ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : new Uint8Array(data);

/** Keeps the section bookkeeping shared by the file writer and the in-memory builder. */
class Layout {
  constructor(sectionCount) {
    if (!Number.isInteger(sectionCount) || sectionCount < 1 || sectionCount > MAX_SECTIONS) {
      throw new Error(`wemb writer: section count ${sectionCount} (expected 1..${MAX_SECTIONS})`);
    }
    this.sectionCount = sectionCount;
    this.tableBytes = tableBytesFor(sectionCount);
    this.end = this.tableBytes; // end of the last section written
    this.sections = [];
    this.keys = new Set();
  }

  /** Registers a section of `bytes`; returns { offset, pad } (pad: zero bytes to write before it). */
  place(kind, index, bytes) {
    const name = isPerLayer(kind) ? `${sectionName(kind)}[${index}]` : sectionName(kind);
    if (!isKnownKind(kind)) throw new Error(`wemb writer: unknown section kind ${kind}`);
    if (!Number.isInteger(index) || index < 0 || (!isPerLayer(kind) && index !== 0)) throw new Error(`wemb writer: section ${name}: bad index ${index}`);
    const key = kind * 65536 + index;
    if (this.keys.has(key)) throw new Error(`wemb writer: section ${name} added twice`);
    if (this.sections.length >= this.sectionCount) throw new Error(`wemb writer: more than the ${this.sectionCount} sections announced (adding ${name})`);
    this.keys.add(key);
    const offset = alignUp(this.end, ALIGN);
    if (offset + bytes.length > MAX_TOTAL_SIZE) throw new Error(`wemb writer: section ${name} would end at byte ${offset + bytes.length}, past the 2 GiB limit of version 1`);
    const pad = offset - this.end;
    this.sections.push({ kind, index, name: sectionName(kind), offset, size: bytes.length, crc: crc32(bytes) });
    this.end = offset + bytes.length;
    return { offset, pad };
  }

  /** Header + table bytes ([0, tableBytes)), once every section is in. */
  headerAndTable() {
    if (this.sections.length !== this.sectionCount) {
      throw new Error(`wemb writer: ${this.sections.length} sections written, ${this.sectionCount} announced`);
    }
    const table = encodeTable(this.sections);
    const out = new Uint8Array(this.tableBytes);
    out.set(encodeHeader({ totalSize: this.end, sectionCount: this.sectionCount, tableCrc: crc32(table) }), 0);
    out.set(table, HEADER_SIZE);
    parseTable(out, parseHeader(out)); // self-check: what we wrote parses
    return out;
  }
}

/**
 * Streaming writer. const w = WembWriter.create(path, n); w.add(kind, index, data) n times, in file order;
 * w.finish() → { bytes, sections }. On any error call w.abort() (removes the partial file).
 * data: Uint8Array, any typed array (its bytes, little-endian host) or ArrayBuffer.
 */
export class WembWriter {
  static create(output, sectionCount) {
    return new WembWriter(output, sectionCount);
  }

  constructor(output, sectionCount) {
    this.layout = new Layout(sectionCount);
    this.output = output;
    this.tmp = `${output}.partial-${process.pid}`;
    try {
      this.fd = fs.openSync(this.tmp, 'w');
    } catch (e) {
      throw new Error(`cannot write ${output}: ${e.message}`, { cause: e });
    }
    this.pos = 0;
    this.#write(new Uint8Array(this.layout.tableBytes)); // placeholder, rewritten by finish()
  }

  #write(bytes) {
    let done = 0;
    while (done < bytes.length) done += fs.writeSync(this.fd, bytes, done, bytes.length - done, this.pos + done);
    this.pos += bytes.length;
  }

  add(kind, index, data) {
    if (this.fd === null) throw new Error('wemb writer: already finished or aborted');
    const bytes = bytesOf(data);
    const { pad } = this.layout.place(kind, index, bytes);
    if (pad) this.#write(new Uint8Array(pad));
    this.#write(bytes);
  }

  get sections() {
    return this.layout.sections;
  }

  finish() {
    const head = this.layout.headerAndTable();
    fs.writeSync(this.fd, head, 0, head.length, 0);
    fs.closeSync(this.fd);
    this.fd = null;
    fs.renameSync(this.tmp, this.output);
    return { output: this.output, bytes: this.layout.end, sections: this.layout.sections };
  }

  abort() {
    if (this.fd !== null) {
      try {
        fs.closeSync(this.fd);
      } catch {}
      this.fd = null;
    }
    try {
      fs.unlinkSync(this.tmp);
    } catch {}
  }
}

/** In-memory variant: sections [{kind, index, data}] in file order → the whole file as one Uint8Array. */
export function buildWemb(sections) {
  const layout = new Layout(sections.length);
  const placed = sections.map((s) => {
    const bytes = bytesOf(s.data);
    return { bytes, ...layout.place(s.kind, s.index, bytes) };
  });
  const out = new Uint8Array(layout.end);
  out.set(layout.headerAndTable(), 0);
  for (const p of placed) out.set(p.bytes, p.offset);
  return out;
}
