import type { ConnectOptions } from '../../signals/signal';

/**
 * How a durable receiver's failed job is retried, mapped onto pg-boss's job options
 * (`retryLimit`, `retryDelay`, `retryBackoff`). After the last retry the job goes to the
 * dead-letter queue.
 *
 * @example
 * postSave.connect(sendWelcomeMail, {
 *   sender: User,
 *   phase: 'durable',
 *   dispatchUid: 'welcome-mail',
 *   retry: { limit: 5, delay: 10, backoff: true }, // 6 attempts: 10 s, ~20 s, ~40 s ... apart
 * });
 */
export interface RetryPolicy {
  /** Retries after the first attempt (pg-boss `retryLimit`): 0 = one attempt only. Default 3. */
  limit?: number;
  /** Seconds before a retry (pg-boss `retryDelay`, whole seconds). Default 5. */
  delay?: number;
  /** Double the delay on each retry, with jitter (pg-boss `retryBackoff`). Default true. */
  backoff?: boolean;
}

/** The retry policy a durable connection ends up with. */
export interface ResolvedRetry {
  readonly limit: number;
  readonly delay: number;
  readonly backoff: boolean;
}

export const DEFAULT_RETRY: ResolvedRetry = Object.freeze({ limit: 3, delay: 5, backoff: true });

/**
 * The options of `connect()` with `phase: 'durable'`: the receiver runs in a worker process
 * (`startSignalsWorker`) from a pg-boss job that the write's own transaction inserted.
 *
 * @example
 * postSave.connect(sendWelcomeMail, { sender: User, phase: 'durable', dispatchUid: 'welcome-mail' });
 */
export interface DurableConnectOptions extends ConnectOptions {
  /** 'durable': run from a job committed with the write, in a worker, with retries. */
  phase: 'durable';
  /**
   * Required: the receiver's name in the job, the same in every process (a function's identity
   * does not cross processes). Renaming it orphans the jobs already queued under the old name.
   */
  dispatchUid: string;
  /** One job per write with all its rows as `items`, instead of one job per row. */
  batch?: boolean;
  /** How a failed job is retried before it is dead-lettered. */
  retry?: RetryPolicy;
  /**
   * Put `changes` and `previous` (the row's values) into the job. Off by default: the job table
   * then holds personal data, and a receiver can `load()` the row as it is now instead.
   */
  values?: boolean;
}

/** What a durable connection keeps beyond the common options (Connection.extra). */
export interface DurableExtra {
  readonly retry: ResolvedRetry;
  readonly values: boolean;
}

function isWholeNumber(value: unknown, min: number): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= min;
}

/** Validates `retry` and `values` of a durable connect(); TypeErrors name the signal and option. */
export function checkDurableOptions(signal: string, options: Record<string, unknown>): DurableExtra {
  const where = `Signal "${signal}": connect() with phase 'durable'`;
  if (typeof options.dispatchUid !== 'string' || options.dispatchUid === '') {
    throw new TypeError(
      `${where} needs a "dispatchUid": the job names its receiver by it, and a function's identity does not cross ` +
        "processes (e.g. dispatchUid: 'welcome-mail')",
    );
  }
  if (options.values !== undefined && typeof options.values !== 'boolean') {
    throw new TypeError(`${where}: option "values" must be a boolean, got ${typeof options.values}`);
  }
  let retry = DEFAULT_RETRY;
  if (options.retry !== undefined) {
    const r = options.retry as Record<string, unknown>;
    if (typeof r !== 'object' || r === null || Array.isArray(r)) {
      throw new TypeError(`${where}: option "retry" must be an object { limit?, delay?, backoff? }, got ${r === null ? 'null' : typeof r}`);
    }
    for (const key of Object.keys(r)) {
      if (key !== 'limit' && key !== 'delay' && key !== 'backoff') {
        throw new TypeError(`${where}: unknown key "${key}" in option "retry" (known: limit, delay, backoff)`);
      }
    }
    if (r.limit !== undefined && !isWholeNumber(r.limit, 0)) {
      throw new TypeError(`${where}: retry.limit must be a whole number >= 0 (retries after the first attempt), got ${String(r.limit)}`);
    }
    if (r.delay !== undefined && !isWholeNumber(r.delay, 0)) {
      throw new TypeError(`${where}: retry.delay must be a whole number of seconds >= 0, got ${String(r.delay)}`);
    }
    if (r.backoff !== undefined && typeof r.backoff !== 'boolean') {
      throw new TypeError(`${where}: retry.backoff must be a boolean, got ${typeof r.backoff}`);
    }
    retry = Object.freeze({
      limit: (r.limit as number | undefined) ?? DEFAULT_RETRY.limit,
      delay: (r.delay as number | undefined) ?? DEFAULT_RETRY.delay,
      backoff: (r.backoff as boolean | undefined) ?? DEFAULT_RETRY.backoff,
    });
  }
  return Object.freeze({ retry, values: options.values === true });
}
