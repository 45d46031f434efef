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
}

export interface ComparisonResult {
  id: string;
  title: string;
  n: number;
  unit: string;
  rounds: number;
  repsPerRound: number;
  variants: Measured[];
  ratios: Array<{ label: string; num: string; den: string; value: number; perRound: number[]; target?: string; met?: boolean; deltaPerCallUs?: number }>;
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
