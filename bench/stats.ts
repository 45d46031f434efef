// Statistics the bench scripts share. (Not in results.ts: './results' from a script resolves to
// results.json before results.ts under ts-node's require hook.)

/** The median of a list of figures: the one every bench script uses. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
