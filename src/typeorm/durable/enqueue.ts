import { randomUUID } from 'node:crypto';
import type { DataSource, QueryRunner } from 'typeorm';
import { SignalsError, describeFunction } from '../../signals/errors';
import { isMuted, openEntries, receiverMutes, type ScopeState } from '../../signals/scope';
import { liveReceivers, selects, type Connection } from '../../signals/runner';
import { trace } from '../../signals/trace';
import type { Sender } from '../../signals/types';
import type { Family, ModelSignal, Timing } from '../model-signal';
import { phaseOf } from '../phases';
import { bindingOf, describeDataSource, runnerDb, servesDurable } from './binding';
import { UnserializableValue, encode } from './codec';
import { MAX_DURABLE_DEPTH, rowKey, runningJob } from './context';
import type { DurableExtra } from './options';

/**
 * The producer side of phase 'durable': the rows of one write become pg-boss jobs, inserted
 * with ONE statement through the write's own QueryRunner, so they commit or roll back with the
 * write (a rolled-back savepoint drops them too: the insert ran inside it). One job per
 * (row, per-row receiver) and one per (write, batch receiver).
 */

/** The version of the job data's shape, for workers of a later release. */
export const JOB_VERSION = 1;

/** @internal What enqueueDurable needs of a dispatcher row. */
export interface DurableRow {
  readonly signal: ModelSignal<Family, Timing>;
  readonly sender: Sender;
  /** The payload fields (built lazily by the dispatcher). */
  readonly fields: () => Record<string, unknown>;
  /** The row's durable connections, per-row and batch. */
  readonly rows: readonly Connection[];
  readonly batch: readonly Connection[];
}

/** The JSON of one row in a job: what travels, never live objects. */
export type JobRow = Record<string, unknown>;

/** @internal The JSON data of a durable job. */
export interface JobData extends JobRow {
  v: number;
  /**
   * The receiver's deliveryId: the job id given at enqueue. Kept in the data because a redrive
   * from the dead-letter queue makes a job with a new id; the idempotency key must not change.
   */
  deliveryId: string;
  signal: string;
  receiver: string;
  entity: string;
  depth: number;
  batch?: true;
  items?: JobRow[];
}

/** The row fields each family puts in a job; `values` ones only with `values: true`. */
const FIELDS: Record<Family, { always: readonly string[]; values: readonly string[] }> = {
  save: { always: ['entityId', 'created', 'source', 'partial', 'updateFields', 'data'], values: ['changes', 'previous'] },
  delete: { always: ['entityId', 'source'], values: ['previous'] },
  m2m: { always: ['action', 'relation', 'entityId', 'relatedIds', 'model'], values: [] },
  load: { always: [], values: [] },
};

function entityName(dataSource: DataSource, sender: Sender): string {
  if (typeof sender === 'string') return sender;
  return dataSource.hasMetadata(sender) ? dataSource.getMetadata(sender).name : sender.name;
}

function jobRow(family: Family, fields: Record<string, unknown>, values: boolean, dataSource: DataSource, prefix: string): JobRow {
  const out: JobRow = {};
  const spec = FIELDS[family];
  const names = values ? [...spec.always, ...spec.values] : spec.always;
  for (const name of names) {
    let value = fields[name];
    if (name === 'model' && value !== undefined) value = entityName(dataSource, value as Sender);
    const encoded = encode(value, prefix + name);
    if (encoded !== undefined) out[name] = encoded;
  }
  return out;
}

interface Planned {
  connection: Connection;
  signal: ModelSignal<Family, Timing>;
  sender: Sender;
  data: JobData;
}

/**
 * Inserts the jobs of one write's durable receivers. Rejects (failing the write, which then
 * rolls back) when the DataSource has no queue, when a value cannot travel as JSON, or when
 * durable receivers re-trigger each other past MAX_DURABLE_DEPTH.
 */
export async function enqueueDurable(
  runner: QueryRunner | undefined,
  dataSource: DataSource,
  rows: readonly DurableRow[],
  scope: ScopeState | undefined,
): Promise<void> {
  const current = runningJob();
  const depth = current ? current.depth + 1 : 0;
  const planned: Planned[] = [];
  const batches = new Map<Connection, { signal: ModelSignal<Family, Timing>; sender: Sender; items: JobRow[] }>();
  for (const row of rows) {
    const { signal, sender } = row;
    let connections = [...row.rows, ...row.batch];
    if (scope !== undefined) {
      const matches = (a: Sender, b: Sender) => signal.senderMatches(a, b);
      // withoutSignals() muting the whole send, or single receivers (by function or dispatchUid)
      const muted = isMuted(scope, signal, sender, matches);
      const byReceiver = muted ? undefined : receiverMutes(scope, signal, sender, matches);
      const kept = muted ? [] : byReceiver ? connections.filter((c) => !byReceiver.some((selected) => selects(selected, c))) : connections;
      if (kept.length < connections.length) {
        if (trace.enabled) trace.skipped(signal.name, sender, liveReceivers(connections.filter((c) => !kept.includes(c))), 'muted; no durable job');
        for (const c of connections.filter((c) => !kept.includes(c))) {
          openEntries(scope, { signal, sender, payload: { receiver: c.dispatchUid }, phase: 'durable', batch: phaseOf(c).batch, muted: true });
        }
        connections = kept;
      }
    }
    for (const connection of connections) {
      const extra = durableOf(connection);
      let item: JobRow;
      try {
        item = jobRow(signal.family, row.fields(), extra.values, dataSource, '');
      } catch (error) {
        throw unserializable(error, signal, sender, connection);
      }
      if (
        current &&
        current.signal === signal.name &&
        current.receiver === connection.dispatchUid &&
        current.entity === entityName(dataSource, sender) &&
        current.rows.has(rowKey(item.entityId))
      ) {
        if (trace.enabled) {
          trace.note(`${signal.name} sender=${describeFunction(sender)} durable receiver "${connection.dispatchUid}" not enqueued: its own job's receiver wrote the job's row`);
        }
        continue;
      }
      if (phaseOf(connection).batch) {
        let batch = batches.get(connection);
        if (!batch) batches.set(connection, (batch = { signal, sender, items: [] }));
        batch.items.push(item);
      } else {
        planned.push({ connection, signal, sender, data: { v: JOB_VERSION, deliveryId: randomUUID(), signal: signal.name, receiver: connection.dispatchUid!, entity: entityName(dataSource, sender), depth, ...item } });
      }
    }
  }
  for (const [connection, { signal, sender, items }] of batches) {
    planned.push({
      connection,
      signal,
      sender,
      data: { v: JOB_VERSION, deliveryId: randomUUID(), signal: signal.name, receiver: connection.dispatchUid!, entity: entityName(dataSource, sender), depth, batch: true, items },
    });
  }
  if (planned.length === 0) return;
  const first = planned[0];
  const binding = bindingOf(dataSource);
  if (!binding) {
    throw new SignalsError(
      `Signal "${first.signal.name}": durable receiver "${first.connection.dispatchUid}" for sender ${describeFunction(first.sender)} ` +
        `has no queue on ${describeDataSource(dataSource)}, so the write is rolled back rather than its job lost. ` +
        (servesDurable(dataSource)
          ? 'Bind one at start-up: installSignals(dataSource, { durable: boss }) with your started PgBoss instance'
          : "Durable receivers need PostgreSQL: use phase 'commit' for it, or limit it (option dataSource) to a PostgreSQL DataSource"),
    );
  }
  if (depth > MAX_DURABLE_DEPTH) {
    throw new SignalsError(
      `Signal "${first.signal.name}": durable receivers re-triggered each other more than ${MAX_DURABLE_DEPTH} jobs deep ` +
        `(receiver "${first.connection.dispatchUid}" for sender ${describeFunction(first.sender)}, from the job of "${current!.receiver}"); ` +
        'the job fails instead of enqueueing more',
    );
  }
  const jobs = planned.map((p) => {
    const extra = durableOf(p.connection);
    return { id: p.data.deliveryId, data: p.data, retryLimit: extra.retry.limit, retryDelay: extra.retry.delay, retryBackoff: extra.retry.backoff };
  });
  if (scope !== undefined) {
    planned.forEach((p) =>
      openEntries(scope, { signal: p.signal, sender: p.sender, payload: { ...p.data }, phase: 'durable', batch: p.data.batch === true, muted: false }),
    );
  }
  await binding.ready();
  if (!runner?.isTransactionActive && trace.enabled) {
    trace.note(`durable jobs of an autocommitted write: inserted right after it, not atomically (wrap the write in a transaction)`);
  }
  // A hand-sent row with the DataSource's own manager has no runner: a short-lived one inserts.
  const own = runner ?? dataSource.createQueryRunner();
  try {
    await binding.boss.insert(binding.queue, jobs, { db: runnerDb(own) });
  } finally {
    if (!runner) await own.release();
  }
  if (trace.enabled) traceEnqueued(planned, jobs);
}

/** One trace line per (signal, sender, receiver): a save of 1,000 rows is one line, not 1,000. */
function traceEnqueued(planned: readonly Planned[], jobs: ReadonlyArray<{ id: string }>): void {
  const groups = new Map<Connection, { p: Planned; ids: string[]; rows: number }>();
  planned.forEach((p, i) => {
    let group = groups.get(p.connection);
    if (!group) groups.set(p.connection, (group = { p, ids: [], rows: 0 }));
    group.ids.push(jobs[i].id);
    group.rows += p.data.batch ? p.data.items!.length : 1;
  });
  for (const { p, ids, rows } of groups.values()) {
    const what = ids.length === 1 ? `job ${ids[0]}` : `${ids.length} jobs`;
    trace.note(`${p.signal.name} sender=${describeFunction(p.sender)} receiver="${p.connection.dispatchUid}" phase=durable enqueued ${what} (${rows} row(s))`);
  }
}

function durableOf(connection: Connection): DurableExtra {
  return phaseOf(connection).durable!;
}

function unserializable(error: unknown, signal: ModelSignal<Family, Timing>, sender: Sender, connection: Connection): unknown {
  if (!(error instanceof UnserializableValue)) return error;
  return new SignalsError(
    `Signal "${signal.name}": durable receiver "${connection.dispatchUid}" for sender ${describeFunction(sender)}: ` +
      `${error.message}; the write is rolled back. Keep such values out of SaveOptions.data` +
      (durableOf(connection).values ? ' and the entity, or connect without values: true' : ''),
    { cause: error },
  );
}
