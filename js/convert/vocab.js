// Vocabulary pruning (`wembed convert --vocab-from corpus`, docs/format.md "Pruned vocabularies"): which token ids a
// pruned model keeps, and where their embedding rows go. Token ids stay the model's own; only the pieces the
// tokenizer may use and the rows stored in EMB_WORD shrink.
import { vocabularyOf } from './tokenizer.js';

export const VOCAB_CHARS = ['all', 'corpus'];

/**
 * The kept ids (Uint8Array over the tokenizer's ids, 1 = kept): those the corpus produced (seen), those every pruned
 * vocabulary keeps (unk, template and added tokens, byte-fallback pieces) and, with chars 'all' (the default), every
 * one-character piece, as SentencePiece's SetVocabulary does: a word made of unseen pieces then falls back to its
 * characters instead of to unk ('corpus': only the characters the corpus produced).
 * @param {ReturnType<typeof vocabularyOf>} vocab
 * @param {Uint8Array} seen
 */
export function keptIds(vocab, seen, { chars = 'all' } = {}) {
  if (!VOCAB_CHARS.includes(chars)) throw new Error(`vocabulary chars ${JSON.stringify(chars)} (expected all or corpus)`);
  const kept = new Uint8Array(vocab.numIds);
  for (let id = 0; id < vocab.numIds; id++) kept[id] = seen[id] ? 1 : 0;
  for (const id of vocab.required) kept[id] = 1;
  if (chars === 'all') for (const id of vocab.singleChars) kept[id] = 1;
  return kept;
}

/**
 * The pruned embedding table's layout for a table of V rows: rows = the kept ids in order (row r of EMB_WORD holds
 * id rows[r]), map = Uint32Array(V): id -> row; every id that is not kept (the tokenizer never produces it) goes to
 * unk's row, so the map is total.
 */
export function embeddingRows(kept, V, unkId) {
  const map = new Uint32Array(V);
  const rows = [];
  for (let id = 0; id < V; id++) if (kept[id]) map[id] = rows.push(id) - 1;
  if (!kept[unkId]) throw new Error(`pruned vocabulary: the unk id ${unkId} must be kept`);
  for (let id = 0; id < V; id++) if (!kept[id]) map[id] = map[unkId];
  return { rows: Uint32Array.from(rows), map };
}

/** Gathers the kept rows of a [V, H] table into a [rows.length, H] one. */
export function gatherRows(table, H, rows) {
  const out = new Float32Array(rows.length * H);
  rows.forEach((id, r) => out.set(table.subarray(id * H, (id + 1) * H), r * H));
  return out;
}

export { vocabularyOf };
