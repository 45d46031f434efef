// Statistics and number formats the bench scripts share. (Not in results.ts: './results' from a script resolves to
// results.json before results.ts under ts-node's require hook.)

/** The median of a list of figures: the one every bench script uses. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Rounded to two / three decimals, for results files. */
export const r2 = (n: number): number => Math.round(n * 100) / 100;
export const r3 = (n: number): number => Math.round(n * 1000) / 1000;

/** 1,000-style thousands separators. */
export const fmt = (n: number): string => n.toLocaleString('en-US');

/** A positive whole number from an environment variable, else `fallback`. */
export function int(value: string | undefined, fallback: number): number {
  const n = value === undefined || value === '' ? NaN : Number(value);
  return Number.isInteger(n) && n > 0 ? n : fallback;
}
