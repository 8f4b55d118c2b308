// The token ids a corpus produces, by the very tokenizer a model ships: the converter's tokenizer blob runs in the
// wasm module (wm_tokenizer_* exports of dist/wembed.wasm), so what `convert --vocab-from` keeps is exactly what the
// model will tokenize. Node-only (through js/cli/io.js for the corpus file).
import { compileWasm } from '../core.js';
import { openTexts } from '../cli/io.js';

const encoder = new TextEncoder();

/** A tokenizer blob loaded into its own wasm instance: encode(text) -> Int32Array of ids (no truncation). */
export class WasmTokenizer {
  static async create(blob, wasm) {
    const instance = await WebAssembly.instantiate(await compileWasm(wasm), { env: { emscripten_notify_memory_growth() {} } });
    return new WasmTokenizer(instance.exports, blob);
  }

  constructor(x, blob) {
    this.x = x;
    x._initialize?.();
    const p = this.#malloc(blob.length);
    new Uint8Array(x.memory.buffer).set(blob, p);
    const err = this.#malloc(256);
    this.tok = x.wm_tokenizer_new(p, blob.length, err, 256);
    if (!this.tok) {
      const u8 = new Uint8Array(x.memory.buffer, err, 256);
      throw new Error(new TextDecoder().decode(u8.subarray(0, u8.indexOf(0))));
    }
    x.free(err);  // the blob stays: the tokenizer points into it
    this.textCap = 0;
    this.idsCap = 0;
  }

  #malloc(n) {
    const p = this.x.malloc(Math.max(1, n));
    if (!p) throw new Error(`wembed: out of wasm memory allocating ${n} bytes`);
    return p;
  }

  /** Ids of text with the template's special tokens, the whole text (a cap that grows until nothing is cut). */
  encode(text) {
    const x = this.x;
    if (this.textCap < text.length * 3) {
      if (this.text) x.free(this.text);
      this.textCap = Math.max(1024, text.length * 3);
      this.text = this.#malloc(this.textCap);
    }
    const len = encoder.encodeInto(text, new Uint8Array(x.memory.buffer, this.text, this.textCap)).written;
    for (let cap = Math.max(this.idsCap, len + 64); ; cap *= 2) {
      if (cap > this.idsCap) {
        if (this.ids) x.free(this.ids);
        this.idsCap = cap;
        this.ids = this.#malloc(4 * cap);
      }
      const n = x.wm_tokenizer_encode(this.tok, this.text, len, this.ids, cap);
      if (n === -2) throw new Error(`out of memory tokenizing a ${len}-byte text`);
      if (n < 0) throw new Error('the tokenizer refused the token budget');
      if (n < cap) return new Int32Array(x.memory.buffer, this.ids, n).slice();
    }
  }

  /** 1 if the last encode met a pruned piece the full vocabulary would have used (pruned blobs only). */
  prunedHit() { return this.x.wm_tokenizer_pruned_hit(this.tok); }

  close() {
    if (this.tok) this.x.wm_tokenizer_free(this.tok);
    this.tok = 0;
    this.x = null;
  }
}

/**
 * Tokenizes every text of a corpus file (UTF-8, one text per line, or JSON lines with a "text" field; read as
 * `wembed embed --in` reads) with the tokenizer blob, as is and behind each prefix (e5's "query: " / "passage: ":
 * the pieces a prefixed text produces are kept too). Returns { seen: Uint8Array(numIds) of the ids met, texts,
 * tokens (ids produced, specials included, over every variant) }.
 */
export async function corpusIds(file, blob, { numIds, prefixes = [], wasm } = {}) {
  const tok = await WasmTokenizer.create(blob, wasm);
  const seen = new Uint8Array(numIds);
  let texts = 0, tokens = 0;
  const variants = ['', ...new Set(prefixes.filter((p) => typeof p === 'string' && p))];
  try {
    const input = await openTexts(file);
    for await (const { text } of input.records()) {
      texts++;
      for (const p of variants) {
        const ids = tok.encode(p + text);
        tokens += ids.length;
        for (const id of ids) {
          if (id < 0 || id >= numIds) throw new Error(`the tokenizer produced id ${id} outside its ${numIds} ids`);
          seen[id] = 1;
        }
      }
    }
  } finally {
    tok.close();
  }
  return { seen, texts, tokens };
}
