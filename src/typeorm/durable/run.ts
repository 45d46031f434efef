import type { DataSource, EntityManager, ObjectLiteral, QueryRunner } from 'typeorm';
import { reportFailure } from '../../signals/config';
import { SignalsError, describeFunction } from '../../signals/errors';
import { deref, type Connection } from '../../signals/runner';
import { trace } from '../../signals/trace';
import type { Sender } from '../../signals/types';
import { allModelSignals, type Family, type ModelSignal, type Timing } from '../model-signal';
import { phaseOf } from '../phases';
import type { EntityId } from '../payloads';
import { runnerDb, type Binding, type FetchedJob } from './binding';
import { decode } from './codec';
import { rowKey, runAsJob } from './context';
import type { JobData, JobRow } from './enqueue';

/**
 * The consumer side: one batch of jobs claimed and run in ONE transaction of the worker's
 * DataSource. Claim (fetch with `{ db }`), then per job a savepoint around its receiver, then
 * complete and COMMIT: a receiver's own writes commit together with its job's completion
 * (effectively once), a failed receiver's writes roll back to its savepoint while its failure
 * is recorded, and a worker killed mid-batch leaves the claims uncommitted, so the server rolls
 * them back and the jobs can be claimed again at once.
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

interface Resolved {
  signal: ModelSignal<Family, Timing>;
  sender: Sender;
  connection: Connection;
  receiver: Function;
}

function signalNamed(name: unknown): ModelSignal<Family, Timing> | undefined {
  return allModelSignals.find((s) => s.name === name);
}

/** The receiver a job names, as connected in this process; a SignalsError when there is none. */
function resolve(dataSource: DataSource, data: JobData): Resolved {
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

function failureOutput(error: unknown, attempt: number): object {
  const e = error instanceof Error ? error : new Error(String(error));
  return { name: e.name, message: e.message, attempt };
}

/**
 * Claims up to `batchSize` jobs and runs them in one transaction on `dataSource`; see the
 * module comment. Rejects only when the database does (the claims are then rolled back).
 */
export async function runBatch(dataSource: DataSource, binding: Binding, batchSize: number): Promise<BatchOutcome> {
  const { boss, queue } = binding;
  const runner: QueryRunner = dataSource.createQueryRunner();
  const outcome: BatchOutcome = { fetched: 0, ran: 0, failed: 0 };
  try {
    await runner.connect();
    await runner.startTransaction();
    const db = runnerDb(runner);
    const jobs = await boss.fetch(queue, { batchSize, db });
    outcome.fetched = jobs.length;
    if (jobs.length > 0 && trace.enabled) trace.note(`durable: claimed ${jobs.length} job(s) from "${queue}"`);
    const completed: FetchedJob[] = [];
    for (const job of jobs) {
      const data = job.data as JobData;
      const attempt = job.retryCount + 1;
      const startedAt = trace.enabled ? performance.now() : 0;
      let resolved: Resolved | undefined;
      await runner.startTransaction(); // a savepoint: the receiver's writes, undone if it throws
      try {
        resolved = resolve(dataSource, data);
        const args = argsFor(resolved, data, job, runner.manager, dataSource);
        const fn = resolved.receiver;
        const rows = new Set((data.batch ? (data.items ?? []) : [data]).map((row) => rowKey(row.entityId)));
        await runAsJob({ signal: data.signal, receiver: data.receiver, entity: data.entity, rows, depth: typeof data.depth === 'number' ? data.depth : 0 }, async () => {
          await fn(args);
        });
        await runner.commitTransaction();
        completed.push(job);
        outcome.ran++;
        if (trace.enabled) {
          trace.note(
            `${data.signal} sender=${data.entity} receiver="${data.receiver}" phase=durable job ${job.id} attempt ${attempt} ok in ${(performance.now() - startedAt).toFixed(3)}ms`,
          );
        }
      } catch (thrown) {
        if (runner.isTransactionActive) await runner.rollbackTransaction();
        const error = thrown instanceof Error ? thrown : new SignalsError(`durable receiver "${String(data?.receiver)}" threw a non-Error value`, { cause: thrown });
        await boss.fail(queue, job, failureOutput(error, attempt), { db });
        outcome.failed++;
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
    }
    if (completed.length > 0) {
      await boss.complete(queue, completed, null, { db });
      if (trace.enabled) trace.note(`durable: completed ${completed.length} job(s) of "${queue}"`);
    }
    await runner.commitTransaction();
    return outcome;
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
