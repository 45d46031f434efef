import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * The durable job a worker is running, for the writes its receiver makes: a write of the job's
 * own row(s) does not enqueue that same receiver again (a receiver that updates the row it was
 * called for would otherwise re-enqueue itself forever), and every other chain (a receiver
 * that writes other rows of its entity, or receivers that trigger each other) is cut at
 * MAX_DURABLE_DEPTH jobs deep with an error, like the in-process receiver chains.
 */
export interface RunningJob {
  readonly signal: string;
  readonly receiver: string;
  /** The job's entity name. */
  readonly entity: string;
  /** rowKey() of each entityId the job was for (one, or a batch job's items). */
  readonly rows: ReadonlySet<string>;
  /** 0 for a job enqueued by an application write, n + 1 for one enqueued by a depth-n job's receiver. */
  readonly depth: number;
}

export const MAX_DURABLE_DEPTH = 32;

/** A comparable key for an entityId as the job's JSON holds it (composite ids included). */
export function rowKey(encodedId: unknown): string {
  return JSON.stringify(encodedId ?? null);
}

const running = new AsyncLocalStorage<RunningJob>();

/** @internal The job whose receiver the current code runs in, if any. */
export function runningJob(): RunningJob | undefined {
  return running.getStore();
}

/** @internal Runs fn as the receiver of `job`. */
export function runAsJob<T>(job: RunningJob, fn: () => Promise<T>): Promise<T> {
  return running.run(job, fn);
}
