import type { DataSource, EntityManager, ObjectLiteral, QueryRunner } from 'typeorm';
import { reportFailure } from '../../signals/config';
import { SignalsError, describeFunction } from '../../signals/errors';
import { deref, type Connection } from '../../signals/runner';
import { trace } from '../../signals/trace';
import type { Sender } from '../../signals/types';
import { allModelSignals, type Family, type ModelSignal, type Timing } from '../model-signal';
import { phaseOf } from '../phases';
import { currentFrameFailed } from '../transactions';
import type { EntityId } from '../payloads';
import { runnerDb, type Binding, type DurableDb, type FetchedJob } from './binding';
import { decode } from './codec';
import { rowKey, runAsJob } from './context';
import type { JobData, JobRow } from './enqueue';

/**
 * The consumer side: one batch of jobs claimed and run in ONE transaction of the worker's
 * DataSource: claim (fetch with `{ db }`), run the receivers, complete the jobs whose receiver
 * returned (one statement) and COMMIT. A receiver's own writes commit together with its job's
 * completion (effectively once), a failed receiver's writes are undone while its failure is
 * recorded, and a worker killed mid-batch leaves the claims uncommitted, so the server rolls them
 * back and the jobs can be claimed again at once.
 *
 * The receivers of a batch first run together in ONE savepoint: a savepoint per job would cost
 * two round trips per job (SAVEPOINT, RELEASE) and bound the drain rate to what those allow.
 * When one of them throws, the batch's savepoint is rolled back (every receiver's writes undone),
 * that job is failed (reported once, with its attempt), and the other jobs run again one by one,
 * each in a savepoint of its own, which is how a failing receiver's writes roll back alone. So a
 * batch with a failure calls the receivers before the failing one twice in the same attempt:
 * their database writes are undone in between (they commit once), but an external call they make
 * happens twice, which at-least-once delivery allows (and `deliveryId`, the same both times, is
 * there to deduplicate). The failing receiver is not called again in that attempt.
 *
 * A receiver that catches a failed statement and returns has broken the transaction (PostgreSQL
 * aborts it): SignalsSubscriber notes the failed statement, so that receiver fails as soon as it
 * returns, as if it had thrown. On a DataSource without the subscriber it shows later, as the
 * next receiver's SQLSTATE 25P02 or a savepoint that cannot be released; then every job of the
 * batch runs again one by one, and the RELEASE of that receiver's own savepoint fails it.
 */

/** What one batch did. */
export interface BatchOutcome {
  /** Jobs claimed. */
  fetched: number;
  /** Jobs whose receiver returned (completed). */
  ran: number;
  /** Jobs whose receiver threw, or that no receiver here could run (failed: retried or dead-lettered). */
  failed: number;
}

/** @internal A job's receiver as connected in this process. */
export interface Resolved {
  signal: ModelSignal<Family, Timing>;
  sender: Sender;
  connection: Connection;
  receiver: Function;
}

function signalNamed(name: unknown): ModelSignal<Family, Timing> | undefined {
  return allModelSignals.find((s) => s.name === name);
}

/** @internal The receiver a job names, as connected in this process; a SignalsError when there is none. */
export function resolve(dataSource: DataSource, data: JobData): Resolved {
  if (typeof data !== 'object' || data === null || typeof data.receiver !== 'string' || typeof data.signal !== 'string') {
    throw new SignalsError('durable job: its data is not a typeorm-signals job (no signal and receiver); was it sent to this queue by other code?');
  }
  const signal = signalNamed(data.signal);
  const metadata = dataSource.entityMetadatas.find((m) => m.name === data.entity);
  const sender: Sender | undefined = metadata ? (metadata.target as Sender) : undefined;
  const connection = signal && sender !== undefined
    ? signal.lookup(sender).find((c) => phaseOf(c).phase === 'durable' && c.dispatchUid === data.receiver && phaseOf(c).batch === (data.batch === true))
    : undefined;
  const receiver = connection && deref(connection);
  if (!signal || sender === undefined || !connection || !receiver) {
    const why = !signal
      ? `there is no model signal "${String(data.signal)}"`
      : sender === undefined
        ? `entity "${String(data.entity)}" is not an entity of the worker's DataSource`
        : `no ${data.batch ? 'batch ' : ''}durable receiver "${data.receiver}" of ${signal.name} for ${describeFunction(sender)} is connected in this process`;
    throw new SignalsError(
      `durable job for receiver "${data.receiver}" (${String(data.signal)}, ${String(data.entity)}): ${why}. ` +
        'Connect the same receivers in the worker process before it starts; the job fails and is retried, never completed unrun',
    );
  }
  return { signal, sender, connection, receiver };
}

function loader(manager: EntityManager, dataSource: DataSource, sender: Sender, entityId: unknown): () => Promise<ObjectLiteral | null> {
  return async () => {
    if (entityId === undefined || entityId === null) return null;
    const metadata = dataSource.getMetadata(sender);
    const where = metadata.primaryColumns.length === 1 ? metadata.primaryColumns[0].createValueMap(entityId) : (entityId as ObjectLiteral);
    return (await manager.findOne(metadata.target, { where, withDeleted: true })) ?? null;
  };
}

function rowArgs(row: JobRow, manager: EntityManager, dataSource: DataSource, sender: Sender): Record<string, unknown> {
  const decoded = decode(row) as Record<string, unknown>;
  if (typeof decoded.model === 'string' && dataSource.entityMetadatas.some((m) => m.name === decoded.model)) {
    decoded.model = dataSource.getMetadata(decoded.model).target;
  }
  decoded.load = loader(manager, dataSource, sender, decoded.entityId as EntityId | undefined);
  return decoded;
}

/** The arguments a durable receiver is called with. */
function argsFor(resolved: Resolved, data: JobData, job: FetchedJob, manager: EntityManager, dataSource: DataSource): object {
  const { v: _v, deliveryId: _id, signal: _s, receiver: _r, entity: _e, depth: _d, batch, items, ...row } = data;
  const context = { deliveryId: deliveryIdOf(job), attempt: job.retryCount + 1, manager, dataSource, signal: resolved.signal, sender: resolved.sender };
  if (batch) {
    const list = (items ?? []).map((item) => Object.freeze(rowArgs(item, manager, dataSource, resolved.sender)));
    return Object.freeze({ items: Object.freeze(list), ...context });
  }
  return Object.freeze({ ...rowArgs(row, manager, dataSource, resolved.sender), ...context });
}

/** The job's deliveryId: the id given at enqueue (in its data), which a redrive does not keep as the job id. */
function deliveryIdOf(job: FetchedJob): string {
  const id = (job.data as Partial<JobData> | null)?.deliveryId;
  return typeof id === 'string' ? id : job.id;
}

function failureOutput(error: Error, attempt: number): object {
  return { name: error.name, message: error.message, attempt };
}

/** One claimed job of a batch, with the receiver it names (resolved before any receiver runs). */
interface Entry {
  job: FetchedJob;
  data: JobData;
  attempt: number;
  resolved: Resolved;
}

interface Batch {
  dataSource: DataSource;
  binding: Binding;
  runner: QueryRunner;
  db: DurableDb;
  completed: FetchedJob[];
  failed: number;
}

/** The receiver of one job, in the runner's current transaction or savepoint. */
async function call(batch: Batch, entry: Entry): Promise<void> {
  const { job, data, resolved } = entry;
  const startedAt = trace.enabled ? performance.now() : 0;
  const args = argsFor(resolved, data, job, batch.runner.manager, batch.dataSource);
  const fn = resolved.receiver;
  const rows = new Set((data.batch ? (data.items ?? []) : [data]).map((row) => rowKey(row.entityId)));
  await runAsJob({ signal: data.signal, receiver: data.receiver, entity: data.entity, rows, depth: typeof data.depth === 'number' ? data.depth : 0 }, async () => {
    await fn(args);
  });
  if (currentFrameFailed(batch.runner)) {
    throw new SignalsError(
      `durable receiver ${describeFunction(fn)} ("${data.receiver}") of ${data.signal} for ${data.entity} returned after one of its statements failed ` +
        '(a caught database error?): PostgreSQL aborted the transaction, so its writes cannot commit; the job fails and is retried',
    );
  }
  if (trace.enabled) {
    trace.note(`${data.signal} sender=${data.entity} receiver="${data.receiver}" phase=durable job ${job.id} attempt ${entry.attempt} ok in ${(performance.now() - startedAt).toFixed(3)}ms`);
  }
}

/** Fails the job in pg-boss (retried or dead-lettered) and reports it, once per attempt. */
async function fail(batch: Batch, job: FetchedJob, thrown: unknown, resolved: Resolved | undefined): Promise<void> {
  const data = job.data as JobData;
  const attempt = job.retryCount + 1;
  const error = thrown instanceof Error ? thrown : new SignalsError(`durable receiver "${String(data?.receiver)}" threw a non-Error value`, { cause: thrown });
  await batch.binding.boss.fail(batch.binding.queue, job, failureOutput(error, attempt), { db: batch.db });
  batch.failed++;
  if (trace.enabled) {
    trace.note(`${String(data?.signal)} sender=${String(data?.entity)} receiver="${String(data?.receiver)}" phase=durable job ${job.id} attempt ${attempt} failed: ${error.name}`);
  }
  reportFailure({
    signal: String(data?.signal ?? '(unknown)'),
    receiver: resolved ? `${describeFunction(resolved.receiver)} ("${data.receiver}")` : `"${String(data?.receiver)}"`,
    sender: String(data?.entity ?? '(unknown)'),
    context: `durable job ${job.id}, attempt ${attempt}`,
    error,
    attempt,
    deliveryId: deliveryIdOf(job),
  });
}

/** Each job in a savepoint of its own: a receiver that throws (or breaks the transaction) fails alone. */
async function runOneByOne(batch: Batch, entries: Entry[]): Promise<void> {
  const { runner } = batch;
  for (const entry of entries) {
    await runner.startTransaction(); // a savepoint: this receiver's writes, undone if it throws
    try {
      await call(batch, entry);
      await runner.commitTransaction(); // RELEASE; fails if the receiver swallowed a failed statement
      batch.completed.push(entry.job);
    } catch (thrown) {
      if (runner.isTransactionActive) await runner.rollbackTransaction();
      await fail(batch, entry.job, thrown, entry.resolved);
    }
  }
}

/** Whether a receiver's error is PostgreSQL refusing a statement because the transaction had already failed. */
function abortedBefore(thrown: unknown): boolean {
  const error = thrown as { code?: unknown; driverError?: { code?: unknown } } | null;
  return typeof error === 'object' && error !== null && (error.code === '25P02' || error.driverError?.code === '25P02');
}

/** All receivers in one savepoint; on a failure, the fallback described in the module comment. */
async function runTogether(batch: Batch, entries: Entry[]): Promise<void> {
  const { runner } = batch;
  await runner.startTransaction(); // one savepoint for the whole batch
  for (let i = 0; i < entries.length; i++) {
    try {
      await call(batch, entries[i]);
    } catch (thrown) {
      await runner.rollbackTransaction(); // to the batch's savepoint: every receiver's writes undone
      const aborted = abortedBefore(thrown);
      if (trace.enabled) {
        trace.note(`durable: job ${entries[i].job.id} failed in a batch of ${entries.length}; running ${aborted ? 'every job' : 'the other jobs'} again, each in a savepoint`);
      }
      if (aborted) return runOneByOne(batch, entries);
      await fail(batch, entries[i].job, thrown, entries[i].resolved);
      return runOneByOne(batch, entries.slice(0, i).concat(entries.slice(i + 1)));
    }
  }
  try {
    await runner.commitTransaction(); // RELEASE; fails if a receiver swallowed a failed statement
  } catch {
    await runner.rollbackTransaction();
    if (trace.enabled) trace.note(`durable: a receiver of a batch of ${entries.length} left its transaction aborted; running every job again, each in a savepoint`);
    return runOneByOne(batch, entries);
  }
  for (const entry of entries) batch.completed.push(entry.job);
}

/**
 * Claims up to `batchSize` jobs and runs them in one transaction on `dataSource`; see the
 * module comment. `onClaimed` hears how many jobs the claim got, before they run. Rejects only
 * when the database does (the claims are then rolled back).
 */
export async function runBatch(dataSource: DataSource, binding: Binding, batchSize: number, onClaimed?: (count: number) => void): Promise<BatchOutcome> {
  const { boss, queue } = binding;
  const runner: QueryRunner = dataSource.createQueryRunner();
  try {
    await runner.connect();
    await runner.startTransaction();
    const db = runnerDb(runner);
    const jobs = await boss.fetch(queue, { batchSize, db });
    if (jobs.length > 0 && trace.enabled) trace.note(`durable: claimed ${jobs.length} job(s) from "${queue}"`);
    onClaimed?.(jobs.length);
    const batch: Batch = { dataSource, binding, runner, db, completed: [], failed: 0 };
    const entries: Entry[] = [];
    const resolvedBy = new Map<string, Resolved>();
    for (const job of jobs) {
      const data = job.data as JobData;
      try {
        const key = typeof data === 'object' && data !== null ? `${String(data.signal)}\0${String(data.entity)}\0${String(data.receiver)}\0${data.batch === true}` : '';
        let resolved = resolvedBy.get(key);
        if (!resolved) resolvedBy.set(key, (resolved = resolve(dataSource, data)));
        entries.push({ job, data, attempt: job.retryCount + 1, resolved });
      } catch (error) {
        await fail(batch, job, error, undefined); // no receiver to run: nothing to undo
      }
    }
    if (entries.length === 1) await runOneByOne(batch, entries);
    else if (entries.length > 1) await runTogether(batch, entries);
    if (batch.completed.length > 0) {
      await boss.complete(queue, batch.completed, null, { db });
      if (trace.enabled) trace.note(`durable: completed ${batch.completed.length} job(s) of "${queue}"`);
    }
    await runner.commitTransaction();
    return { fetched: jobs.length, ran: batch.completed.length, failed: batch.failed };
  } catch (error) {
    // Savepoints first, then the transaction; a broken connection stops trying (release drops it).
    for (let i = 0; i < 64 && runner.isTransactionActive; i++) {
      if (!(await runner.rollbackTransaction().then(() => true, () => false))) break;
    }
    throw error;
  } finally {
    await runner.release();
  }
}
