import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * The durable job a worker is running, for the writes its receiver makes: they must not
 * enqueue that same receiver again (a receiver that saves its own entity would otherwise
 * re-enqueue itself forever), and chains between different durable receivers are cut at
 * MAX_DURABLE_DEPTH, like the in-process receiver chains.
 */
export interface RunningJob {
  readonly signal: string;
  readonly receiver: string;
  /** 0 for a job enqueued by an application write, n + 1 for one enqueued by a depth-n job's receiver. */
  readonly depth: number;
}

export const MAX_DURABLE_DEPTH = 32;

const running = new AsyncLocalStorage<RunningJob>();

/** @internal The job whose receiver the current code runs in, if any. */
export function runningJob(): RunningJob | undefined {
  return running.getStore();
}

/** @internal Runs fn as the receiver of `job`. */
export function runAsJob<T>(job: RunningJob, fn: () => Promise<T>): Promise<T> {
  return running.run(job, fn);
}
