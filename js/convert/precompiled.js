// SentencePiece `precompiled_charsmap` (the Precompiled normalizer of a tokenizer.json) -> the key/value table the C
// normalizer reads (src/tokenizer/precompiled.c, docs/format.md "Precompiled step").
//
// The charsmap is a Darts double-array trie over UTF-8 keys followed by a pool of NUL-terminated replacement strings
// (format: u32 trie_bytes, trie_bytes / 4 u32 units, pool). Hugging Face tokenizers (the spm_precompiled crate) looks
// up only one extended grapheme cluster of fewer than 6 bytes, or else one character, at a time, and takes the
// SHORTEST key that is a prefix of it (results[0] of common_prefix_search): a key longer than 5 bytes, or one that has
// a shorter key as a prefix, can never be used. Only the usable keys are kept (for the real XLM-R map: 7,5xx of
// 224,711), so the C side needs no double-array walker.

const MAX_KEY_BYTES = 5;

/**
 * Decodes a precompiled_charsmap (base64 string) into the usable {key, value} pairs (Uint8Array UTF-8 each), sorted
 * by key bytes. Throws an Error for a map that Hugging Face tokenizers would refuse or crash on.
 * @param {string} b64
 * @returns {{key: Uint8Array, value: Uint8Array}[]}
 */
export function decodeCharsmap(b64) {
  if (typeof b64 !== 'string' || b64.length === 0) throw new Error('Precompiled precompiled_charsmap must be a non-empty base64 string');
  const buf = Buffer.from(b64, 'base64');
  if (buf.length < 4) throw new Error('Precompiled precompiled_charsmap is too short');
  const trieBytes = buf.readUInt32LE(0);
  const units = Math.floor(trieBytes / 4);
  if (4 + units * 4 > buf.length) throw new Error('Precompiled precompiled_charsmap: trie larger than the map');
  if (units === 0) throw new Error('Precompiled precompiled_charsmap: empty trie');
  const arr = new Uint32Array(units);
  for (let i = 0; i < units; i++) arr[i] = buf.readUInt32LE(4 + 4 * i);
  const pool = buf.subarray(4 + units * 4);
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(pool);
  } catch {
    throw new Error('Precompiled precompiled_charsmap: the normalized strings are not valid UTF-8');
  }

  // Darts unit accessors (spm_precompiled / sentencepiece darts.h).
  const hasLeaf = (u) => ((u >>> 8) & 1) === 1;
  const value = (u) => u & 0x7fffffff;
  const label = (u) => (u & 0x800000ff) >>> 0;
  const offset = (u) => (u >>> 10) << ((u & (1 << 9)) >>> 6);

  // Every key of at most MAX_KEY_BYTES bytes, with the pool index of its value, exactly as common_prefix_search
  // would find it (indices outside the array are a panic in the reference: such keys can never match).
  const found = [];
  const walk = (pos, prefix) => {
    for (let c = 1; c < 256; c++) {
      const np = (pos ^ c) >>> 0;
      if (np >= units || label(arr[np]) !== c) continue;
      const next = (np ^ offset(arr[np])) >>> 0;
      const key = [...prefix, c];
      if (hasLeaf(arr[np])) {
        if (next >= units) throw new Error('Precompiled precompiled_charsmap: leaf outside the trie');
        found.push({ key: Uint8Array.from(key), index: value(arr[next]) });
      }
      if (key.length < MAX_KEY_BYTES && next < units) walk(next, key);
    }
  };
  walk(offset(arr[0]) >>> 0, []);

  const keyStr = (k) => Buffer.from(k).toString('latin1');
  const all = new Set(found.map((f) => keyStr(f.key)));
  const fatal = new TextDecoder('utf-8', { fatal: true });
  const out = [];
  for (const f of found) {
    let shadowed = false;
    for (let l = 1; l < f.key.length && !shadowed; l++) shadowed = all.has(keyStr(f.key.subarray(0, l)));
    if (shadowed) continue; // a shorter key always wins
    try {
      fatal.decode(f.key);
    } catch {
      throw new Error(`Precompiled precompiled_charsmap: key ${Buffer.from(f.key).toString('hex')} is not UTF-8 (unsupported)`);
    }
    if (f.index > pool.length || (f.index < pool.length && (pool[f.index] & 0xc0) === 0x80)) {
      throw new Error(`Precompiled precompiled_charsmap: value index ${f.index} is not at a character of the string pool`);
    }
    let end = f.index;
    while (end < pool.length && pool[end] !== 0) end++;
    out.push({ key: f.key, value: Uint8Array.from(pool.subarray(f.index, end)) });
  }
  out.sort((a, b) => Buffer.compare(Buffer.from(a.key), Buffer.from(b.key)));
  return out;
}
