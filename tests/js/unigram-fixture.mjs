// Small SentencePiece-style tokenizer.json fixtures for tests/c/test_tokenizer.c (through tests/js/tokenizer-blob.mjs):
// an XLM-R-shaped pipeline (Precompiled + Replace " {2,}", Metaspace, Unigram, <s> $A </s>) over a tiny vocabulary,
// with a real SentencePiece charsmap built here by a small Darts double-array encoder (the format the spm_precompiled
// crate reads), so the tests need nothing from ../shared. Ids below are what test_tokenizer.c expects; the expected
// outputs there were checked against Hugging Face tokenizers (Rust).

/**
 * Encodes {key: value} string pairs as a SentencePiece precompiled_charsmap (base64): u32 trie size, Darts units
 * (label | has_leaf << 8 | offset << 10; a leaf's value unit is 1 << 31 | pool index), then the NUL-terminated values.
 */
export function buildCharsmap(pairs) {
  const enc = new TextEncoder();
  const root = { kids: new Map(), value: -1 };
  const pool = [];
  for (const [k, v] of Object.entries(pairs)) {
    let n = root;
    for (const b of enc.encode(k)) {
      if (!n.kids.has(b)) n.kids.set(b, { kids: new Map(), value: -1 });
      n = n.kids.get(b);
    }
    n.value = pool.length;
    pool.push(...enc.encode(v), 0);
  }
  const units = [];
  const used = new Set();
  const take = (i) => { used.add(i); while (units.length <= i) units.push(0); };
  // node at position pos: its children live at base ^ label, its value at base ^ 0
  const place = (node, pos, label) => {
    const labels = [...node.kids.keys()];
    const need = node.value >= 0 ? [0, ...labels] : labels;
    let base = 1;
    while (need.some((c) => used.has(base ^ c)) || used.has(base)) base++;
    need.forEach((c) => take(base ^ c));
    used.add(base);
    const offset = (pos ^ base) >>> 0;
    if (offset >= 1 << 21) throw new Error('charsmap fixture too large');
    units[pos] = ((offset << 10) | (node.value >= 0 ? 1 << 8 : 0) | label) >>> 0;
    if (node.value >= 0) units[base] = (0x80000000 | node.value) >>> 0;
    for (const [c, kid] of node.kids) place(kid, base ^ c, c);
  };
  take(0);
  place(root, 0, 0);
  // as Darts does: every base ^ byte stays inside the array (the reader indexes before it checks the label)
  let maxBase = 0;
  units.forEach((u, pos) => { if (!(u & 0x80000000)) maxBase = Math.max(maxBase, pos ^ (u >>> 10)); });
  take(maxBase | 0xff);
  const out = Buffer.alloc(4 + units.length * 4 + pool.length);
  out.writeUInt32LE(units.length * 4, 0);
  units.forEach((u, i) => out.writeUInt32LE(u >>> 0, 4 + 4 * i));
  Buffer.from(pool).copy(out, 4 + units.length * 4);
  return out.toString('base64');
}

const special = (id, content) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });

export const UNIGRAM_PIECES = [
  ['<s>', 0], ['<pad>', 0], ['</s>', 0], ['<unk>', 0], // 0..3
  ['▁', -2], ['▁hello', -5], ['▁world', -5.5], ['hell', -6], ['o', -4], // 4..8
  ['▁a', -3], ['b', -2], ['ab', -3], ['é', -4], ['fi', -5], // 9..13
  ['▁x', -4], ['x', -3], ['e', -3], ['l', -3], ['h', -3], ['▁h', -7], ['<', -9], ['>', -9], ['▁<', -9], // 14..22
  ['中', -6], ['文', -6], ['中文', -8], ['a', -3], ['▁fi', -6], ['TM', -6], ['1', -4], // 23..29
];

/** The XLM-R-shaped fixture (byteFallback: adds the 256 <0xXX> pieces and sets byte_fallback). */
export function unigramFixtureJson({ byteFallback = false } = {}) {
  const vocab = UNIGRAM_PIECES.map(([p, s]) => [p, s]);
  if (byteFallback) for (let b = 0; b < 256; b++) vocab.push([`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`, -20]);
  vocab.push(['<mask>', 0]);
  const mask = vocab.length - 1;
  const charsmap = buildCharsmap({
    '\t': ' ', '\n': ' ', '\r': ' ', '\u0015': '', '\u00a0': ' ', '\u3000': ' ', 'ﬁ': 'fi', 'e\u0301': 'é', '™': 'TM',
    '①': '1', '＜': '<', '＞': '>', 'Ａ': 'a', '\u2581': ' ',
  });
  return {
    version: '1.0', truncation: null, padding: null,
    added_tokens: [special(0, '<s>'), special(1, '<pad>'), special(2, '</s>'), special(3, '<unk>'), special(mask, '<mask>')],
    normalizer: { type: 'Sequence', normalizers: [
      { type: 'Precompiled', precompiled_charsmap: charsmap },
      { type: 'Replace', pattern: { Regex: ' {2,}' }, content: ' ' },
    ] },
    pre_tokenizer: { type: 'Metaspace', replacement: '▁', add_prefix_space: true },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '</s>', type_id: 0 } }],
      pair: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '</s>', type_id: 0 } },
        { SpecialToken: { id: '</s>', type_id: 0 } }, { Sequence: { id: 'B', type_id: 0 } }, { SpecialToken: { id: '</s>', type_id: 0 } }],
      special_tokens: { '<s>': { id: '<s>', ids: [0], tokens: ['<s>'] }, '</s>': { id: '</s>', ids: [2], tokens: ['</s>'] } },
    },
    decoder: { type: 'Metaspace', replacement: '▁', add_prefix_space: true },
    model: { type: 'Unigram', unk_id: 3, vocab, ...(byteFallback ? { byte_fallback: true } : {}) },
  };
}
