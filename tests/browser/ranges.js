// Text selections of the browser proof, shared by the page (tests/browser/page.js) and its Node test.
/** "0-2,7" → [0, 1, 2, 7]; "all" → [0, n). */
export function parseRanges(spec, n) {
  if (spec === 'all') return Array.from({ length: n }, (_, i) => i);
  const out = [];
  for (const part of spec.split(',').filter(Boolean)) {
    const [a, b = a] = part.split('-').map(Number);
    for (let i = a; i <= Math.min(b, n - 1); i++) out.push(i);
  }
  return out;
}
