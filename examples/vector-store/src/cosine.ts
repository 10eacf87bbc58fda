/** Brute-force k-nearest-neighbour search by cosine similarity (fine for an example; a real store would index). */

export interface Scored<T> {
  readonly item: T;
  readonly score: number;
}

/** Cosine similarity in [-1, 1]; 0 when either vector is all zeros. @throws RangeError on a dimension mismatch. */
export function cosine(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) throw new RangeError(`dimension mismatch: ${a.length} vs ${b.length}`);
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}

/** The `k` items most similar to `query`, best first (ties keep input order). */
export function topK<T>(query: Float32Array, items: readonly T[], vectorOf: (item: T) => Float32Array, k: number): Scored<T>[] {
  return items
    .map((item, i) => ({ item, score: cosine(query, vectorOf(item)), i }))
    .sort((x, y) => y.score - x.score || x.i - y.i)
    .slice(0, Math.max(0, k))
    .map(({ item, score }) => ({ item, score }));
}
