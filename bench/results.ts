/**
 * The shape of bench/results.json: written by run.ts, read by report.ts, so that both agree on
 * one definition.
 */

export interface Measured {
  key: string;
  label: string;
  /** Per measured round: the median of that round's operation times, in ms. */
  rounds: number[];
  medianMs: number;
  /** The same for this process's CPU time (user + system, all its threads) during the operation. */
  cpuMedianMs: number;
  /** Per measured round: the median CPU time of that round's operations, in ms. */
  cpuRounds?: number[];
}

/** One ratio of a comparison: numerator variant / denominator variant, wall clock and CPU. */
export interface RatioResult {
  label: string;
  num: string;
  den: string;
  /** Wall clock: ratio of the two medians. */
  value: number;
  /** Wall clock, per measured round. */
  perRound: number[];
  /** Node process CPU: ratio of the two medians. What targets are judged on. */
  cpuValue?: number;
  /** Node process CPU, per measured round. */
  cpuPerRound?: number[];
  target?: string;
  /** Target judged on cpuValue. */
  met?: boolean;
  deltaPerCallUs?: number;
  /** The same difference in CPU time. */
  cpuDeltaPerCallUs?: number;
}

export interface ComparisonResult {
  id: string;
  title: string;
  n: number;
  unit: string;
  rounds: number;
  repsPerRound: number;
  variants: Measured[];
  ratios: RatioResult[];
}

export interface DispatchResults {
  date: string;
  rows: Array<{ key: string; label: string; nsPerOp: number }>;
  ratios: Array<{ key: string; value: number; target: string; ok: boolean }>;
  machine?: unknown;
  settings?: { rounds: number };
  [k: string]: unknown;
}

export interface Machine {
  cpu: string;
  cores: number;
  memoryGiB: number;
  node: string;
  os: string;
  postgres: string;
  postgresServer: string;
  typeorm: string;
  loadavgStart: number[];
  loadavgEnd: number[];
}

export interface BenchResults {
  date: string;
  commit?: string;
  dirty?: boolean;
  durationS: number;
  machine: Machine;
  settings: Record<string, unknown>;
  comparisons: ComparisonResult[];
  dispatch: Partial<Pick<DispatchResults, 'date' | 'rows' | 'ratios' | 'machine' | 'settings'>> & { error?: string };
}
