import { normalizeSelection, selects, type SignalSelection } from '../signals/mute';
import { runInScope, type DispatchEntry, type ReceiverOutcome, type ScopeSink } from '../signals/scope';
import type { Signal } from '../signals/signal';
import type { Sender } from '../signals/types';
import type { Phase } from '../typeorm/phases';

/**
 * One send seen by captureSignals(). Model signals give one record per row in the 'transaction'
 * phase (also when no receiver listens, or only batch receivers), one more per row for each
 * deferred phase that has per-row receivers, and one record with `batch: true` per batch
 * receiver call. The matchers of `typeorm-signals/jest` count the rows: records with
 * `phase: 'transaction'` and `batch: false`.
 *
 * @example
 * const { records } = await captureSignals(() => users.save({ email: 'ada@example.com' }));
 * const saves = records.filter((r) => r.signal === postSave && !r.batch);
 * expect(saves[0].payload.created).toBe(true);
 */
export interface SignalRecord {
  /** The Signal that was sent. */
  readonly signal: Signal<any>;
  /** The sender it was sent for (the entity class for model signals). */
  readonly sender: Sender;
  /** What the receivers got, without `signal` and `sender`; for a batch call: `{ items, manager, ... }`. */
  readonly payload: Readonly<Record<string, any>>;
  /**
   * 'transaction' for plain sends and in-transaction model receivers; 'commit' or 'rollback' when
   * deferred; 'durable' for a job enqueued for a durable receiver (payload: the job's JSON data,
   * `deliveryId` included; no receiver runs in the writing process, so `receivers` stays empty),
   * and one muted record per durable receiver a withoutSignals() scope kept from being enqueued
   * (payload: `{ receiver }`, its dispatchUid).
   */
  readonly phase: Phase;
  /** One call of the batch receivers with all rows of a write (`payload.items`). */
  readonly batch: boolean;
  /**
   * A withoutSignals() scope muted it: no receiver ran. When a `receivers` list mutes only some
   * of its receivers, the send is not muted and the muted ones are absent from `receivers`.
   */
  readonly muted: boolean;
  /** Each receiver that ran, in order, with what it returned or threw. Filled as they run. */
  readonly receivers: readonly ReceiverOutcome[];
}

export type { ReceiverOutcome };

/**
 * What captureSignals() resolves to.
 *
 * @example
 * const { result: user, records } = await captureSignals(() => users.save({ email: 'ada@example.com' }));
 */
export interface Captured<T> {
  /** What `fn` returned (awaited). */
  result: T;
  /** Every send made inside `fn` that passed the filter, in the order they were made. */
  records: SignalRecord[];
}

/**
 * Runs `fn` for real (receivers run against the real database, nothing is faked) and records
 * every send made inside it, including sends no receiver listens to and muted ones
 * (`muted: true`). Recording follows `fn`'s awaits and only `fn`'s: concurrent captures, and
 * work running concurrently outside `fn`, do not see each other's sends. Captures nest (an outer
 * one sees the inner one's sends too). `filter` keeps only some signals and/or senders, or only
 * the sends that have one of the given `receivers` (functions or dispatchUids) connected.
 *
 * Resolves to `{ result, records }`; rejects with `fn`'s error when it throws (catch inside `fn`
 * to inspect the records of a failing write). Commit-phase sends of a write made inside `fn` are
 * recorded when the COMMIT (or flushOnCommit()) happens before `fn` returns; recording stops when
 * `fn` settles.
 *
 * @example
 * const { result: user, records } = await captureSignals(() => users.save({ email }));
 * expect(records).toHaveSent(postSave, { sender: User, created: true });
 */
export async function captureSignals<T>(fn: () => T | Promise<T>, filter?: SignalSelection): Promise<Captured<T>> {
  if (typeof fn !== 'function') {
    throw new TypeError(`captureSignals(): the first argument must be a function, got ${fn === null ? 'null' : typeof fn}`);
  }
  const selection = normalizeSelection(filter, 'captureSignals()');
  const records: SignalRecord[] = [];
  let open = true;
  const sink: ScopeSink = {
    wants: (signal, sender) => open && selects(selection, signal, sender),
    record: (entry: DispatchEntry) => void records.push(toRecord(entry)),
  };
  try {
    const result = await runInScope({ sinks: [sink] }, fn);
    return { result, records };
  } finally {
    open = false;
  }
}

function toRecord(entry: DispatchEntry): SignalRecord {
  // The entry itself, so that receiver outcomes pushed onto it later show up; plain sends have
  // no phase of their own and run when sent, as in ReceiverInfo.
  if (entry.phase === undefined) entry.phase = 'transaction';
  return entry as unknown as SignalRecord;
}
