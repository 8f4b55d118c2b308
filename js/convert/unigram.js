// Unigram model of a tokenizer.json (SentencePiece pieces with log-probability scores) -> the piece trie and score
// table that src/tokenizer/unigram.c reads (docs/format.md, "Unigram model").
//
// Trie: every distinct byte prefix of a piece is a node; nodes are stored breadth-first, each node's children
// contiguous and sorted by byte, as records {u32 first_child, u32 id + 1 (0: not a piece)} (plus a sentinel record
// whose first_child is the node count) and a separate u8 label array (each node's last byte: a child search scans a
// few bytes, then reads one record). Breadth-first order with sorted children is the
// order of the prefixes sorted by (length, bytes), which is how it is built here, in one pass over the sorted
// pieces. A piece string that occurs twice gets the id of its LAST occurrence (Hugging Face's token_to_ids map).
//
// Scores are the f64 values Hugging Face's Rust code computes with: serde_json 1.0 without its float_roundtrip
// feature parses a decimal as (digits as u64 as f64) * or / 10^exp, which can differ from the correctly rounded
// value by one unit in the last place; Viterbi ties then break as they do there.

export const UNIGRAM_BYTE_FALLBACK = 1;

/**
 * The f64 serde_json (1.0, default features) parses from the shortest decimal text of d (what a tokenizer.json holds:
 * both Rust's writer and JSON.parse round-trip the shortest representation).
 */
export function serdeF64(d) {
  if (!Number.isFinite(d)) throw new Error(`Unigram score ${d} is not finite`);
  if (d === 0 || Number.isInteger(d) && Math.abs(d) < 2 ** 53) return d;
  const m = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(d.toExponential());
  if (!m) throw new Error(`cannot read back the score ${d}`);
  const digits = m[2] + (m[3] ?? '');
  let exp = Number(m[4]) - (digits.length - 1);
  let f = Number(BigInt(digits)); // u64 as f64: round to nearest, ties to even (<= 17 digits: fits a u64)
  for (;;) {
    const k = Math.abs(exp);
    if (k <= 308) {
      const pow = Number(`1e${k}`);
      f = exp >= 0 ? f * pow : f / pow;
      break;
    }
    if (f === 0) break;
    if (exp >= 0) throw new Error(`Unigram score ${d} out of range`);
    f /= 1e308;
    exp += 308;
  }
  return m[1] ? -f : f;
}

/**
 * @param {object} m tokenizer.json model (type "Unigram")
 * @param {number} maxIds ids must be below this
 * @param {number} maxPieceBytes longest piece allowed (bytes)
 * @param {Uint8Array|null} kept pruned vocabulary: ids not kept get the PRUNED flag (bit 31) on their trie node,
 * or with drop are left out of the trie (their scores stay: the unknown piece's score is the minimum over all)
 */
export function unigramOf(m, maxIds, maxPieceBytes, kept = null, drop = false) {
  const vocab = m.vocab;
  if (!Array.isArray(vocab) || vocab.length === 0) throw new Error('Unigram vocab must be a non-empty array of [piece, score]');
  if (vocab.length > maxIds) throw new Error(`Unigram vocab too large (${vocab.length} pieces)`);
  if (m.unk_id === null || m.unk_id === undefined) throw new Error('unsupported Unigram model without unk_id');
  if (!Number.isInteger(m.unk_id) || m.unk_id < 0 || m.unk_id >= vocab.length) throw new Error(`Unigram unk_id ${JSON.stringify(m.unk_id)} is not in the vocab`);
  const byteFallback = m.byte_fallback ?? false;
  if (typeof byteFallback !== 'boolean') throw new Error('Unigram byte_fallback must be a boolean');

  const scores = new Float64Array(vocab.length);
  const last = new Map(); // piece -> last id
  vocab.forEach((e, id) => {
    if (!Array.isArray(e) || e.length !== 2 || typeof e[0] !== 'string' || typeof e[1] !== 'number') {
      throw new Error(`Unigram vocab[${id}] must be [piece, score]`);
    }
    scores[id] = serdeF64(e[1]);
    last.set(e[0], id);
  });
  // Pieces as "binary" strings (one char per UTF-8 byte): the default string sort is then the byte order.
  const pieces = [];
  let maxLen = 0;
  for (const [s, id] of last) {
    const bin = Buffer.from(s, 'utf8').toString('latin1');
    if (bin.length === 0) continue; // never matched by the reference's trie
    if (drop && kept && !kept[id]) continue;
    if (bin.length > maxPieceBytes) throw new Error(`Unigram piece longer than ${maxPieceBytes} bytes (id ${id})`);
    pieces.push({ bytes: bin, id });
    if (bin.length > maxLen) maxLen = bin.length;
  }
  pieces.sort((a, b) => (a.bytes < b.bytes ? -1 : a.bytes > b.bytes ? 1 : 0));

  // One pass over the sorted pieces: piece i adds the nodes for its prefixes longer than its common prefix with
  // piece i-1, each level's nodes come out in sorted order, and a node's children are the next-level nodes added
  // before the next node of its own level.
  const lcp = new Uint32Array(pieces.length);
  const perLevel = new Uint32Array(maxLen + 2);
  perLevel[0] = 1;
  for (let i = 0; i < pieces.length; i++) {
    const b = pieces[i].bytes;
    let l = 0;
    if (i > 0) {
      const a = pieces[i - 1].bytes, n = Math.min(a.length, b.length);
      while (l < n && a.charCodeAt(l) === b.charCodeAt(l)) l++;
    }
    lcp[i] = l;
    for (let d = l + 1; d <= b.length; d++) perLevel[d]++;
  }
  const levelBase = new Uint32Array(maxLen + 3);
  for (let d = 0; d <= maxLen + 1; d++) levelBase[d + 1] = levelBase[d] + perLevel[d];
  const count = levelBase[maxLen + 1];
  const nodes = new Uint32Array(2 * (count + 1)), labels = new Uint8Array(count);
  const filled = new Uint32Array(maxLen + 2);
  nodes[0] = levelBase[1]; // root: label 0, no id
  filled[0] = 1;
  for (let i = 0; i < pieces.length; i++) {
    const { bytes: b, id } = pieces[i];
    for (let d = lcp[i] + 1; d <= b.length; d++) {
      const k = levelBase[d] + filled[d]++;
      nodes[2 * k] = levelBase[d + 1] + filled[d + 1];
      labels[k] = b.charCodeAt(d - 1);
      if (d === b.length) nodes[2 * k + 1] = kept && !kept[id] ? (id + 1) | 0x80000000 : id + 1;
    }
  }
  nodes[2 * count] = count; // sentinel
  for (let d = 0; d <= maxLen; d++) if (filled[d] !== perLevel[d]) throw new Error('Unigram trie: internal error');

  let byteIds = null;
  if (byteFallback) {
    byteIds = new Uint32Array(256);
    for (let b = 0; b < 256; b++) {
      const t = `<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`;
      if (!last.has(t)) throw new Error(`unsupported Unigram byte_fallback without the byte piece "${t}"`);
      byteIds[b] = last.get(t);
    }
  }
  return { vocabCount: vocab.length, unkId: m.unk_id, scores, nodes, labels, nodeCount: count, maxPieceBytes: maxLen, byteIds };
}
