import type { EntityManager, QueryRunner } from 'typeorm';
import { reportFailure } from '../signals/config';
import { runDetached } from '../signals/context';
import { SignalsError, describeFunction } from '../signals/errors';
import { trace } from '../signals/trace';
import { dataSourceOf } from './events';
import { DEFERRED_PHASES, type DeferredPhase } from './phases';

// Work deferred to the end of a transaction, tracked per QueryRunner: one frame per open
// transaction or savepoint. A released savepoint hands its work to its parent; a rolled-back one
// drops its commit work and runs its rollback work. Keyed by the runner in a WeakMap, never on
// the (shared, singleton) subscriber, so concurrent transactions cannot see each other's work
// and a finished runner leaves nothing behind.

/** @internal Work queued for the end of a transaction; reports its own failures, never rejects. */
export type Task = () => Promise<unknown>;

/** The work of one transaction or savepoint, by deferred phase. */
type Frame = Record<DeferredPhase, Task[]> & {
  /** A statement failed in this frame: PostgreSQL will turn the COMMIT into a ROLLBACK. */
  doomed: boolean;
};

interface RunnerState {
  frames: Frame[];
  /** The savepoint frame being rolled back, between before- and afterTransactionRollback. */
  undone?: Frame;
}

const states = new WeakMap<QueryRunner, RunnerState>();

function newFrame(): Frame {
  const frame = { doomed: false } as Frame;
  for (const phase of DEFERRED_PHASES) frame[phase] = [];
  return frame;
}

function stateOf(runner: QueryRunner): RunnerState {
  let state = states.get(runner);
  if (!state) states.set(runner, (state = { frames: [] }));
  return state;
}

function topFrame(runner: QueryRunner): Frame {
  const state = stateOf(runner);
  // The transaction may have started before the subscriber was installed: open a frame lazily.
  if (state.frames.length === 0) state.frames.push(newFrame());
  return state.frames[state.frames.length - 1];
}

/**
 * @internal Queues a task for when the runner's transaction ends. Outside a transaction the write has
 * already autocommitted: commit work runs at once, rollback work can never run and is dropped.
 */
export async function defer(runner: QueryRunner | undefined, phase: DeferredPhase, task: Task): Promise<void> {
  if (!runner || !runner.isTransactionActive) {
    if (phase === 'commit') await task();
    return;
  }
  topFrame(runner)[phase].push(task);
}

/** @internal afterTransactionStart: a transaction or a savepoint opened. */
export function transactionStarted(runner: QueryRunner): void {
  stateOf(runner).frames.push(newFrame());
}

/** @internal beforeTransactionCommit: releasing a savepoint hands its work to the parent frame. */
export function transactionCommitting(runner: QueryRunner): void {
  const state = states.get(runner);
  if (!state || state.frames.length < 2) return;
  const child = state.frames.pop()!;
  const parent = state.frames[state.frames.length - 1];
  for (const phase of DEFERRED_PHASES) parent[phase].push(...child[phase]);
  parent.doomed ||= child.doomed;
}

/**
 * @internal afterTransactionCommit. Runs queued work once the outermost transaction is over;
 * a doomed transaction (COMMIT after a failed statement on PostgreSQL) was in truth rolled
 * back, so its rollback work runs instead.
 */
export function transactionCommitted(runner: QueryRunner): Promise<void> | undefined {
  if (runner.isTransactionActive) return undefined; // a savepoint release: handled before the commit
  const state = states.get(runner);
  if (!state) return undefined;
  states.delete(runner);
  const doomed = state.frames.some((f) => f.doomed);
  if (doomed && trace.enabled) trace.note('COMMIT followed a failed statement: the server rolled back; commit receivers dropped');
  return runAll(state.frames.flatMap((f) => (doomed ? f.rollback : f.commit)));
}

/**
 * @internal Whether a statement failed in the runner's innermost open transaction or savepoint
 * (PostgreSQL has aborted it, so its RELEASE or COMMIT cannot succeed), as far as the
 * subscriber saw; false when it is not installed on the runner's DataSource.
 */
export function currentFrameFailed(runner: QueryRunner): boolean {
  const frames = states.get(runner)?.frames;
  return frames !== undefined && frames.length > 0 && frames[frames.length - 1].doomed;
}

/** @internal beforeTransactionRollback: a savepoint rollback drops the savepoint's frame. */
export function transactionRollingBack(runner: QueryRunner): void {
  const state = states.get(runner);
  if (!state || state.frames.length < 2) return;
  state.undone = state.frames.pop();
}

/** @internal afterTransactionRollback: runs the rollback work of what was undone. */
export async function transactionRolledBack(runner: QueryRunner): Promise<void> {
  const state = states.get(runner);
  if (!state) return;
  if (runner.isTransactionActive) {
    const undone = state.undone;
    state.undone = undefined;
    if (!undone) return;
    if (trace.enabled && undone.commit.length) trace.note(`savepoint rolled back: ${undone.commit.length} commit task(s) dropped`);
    await runAll(undone.rollback);
    return;
  }
  states.delete(runner);
  const frames = state.undone ? [...state.frames, state.undone] : state.frames;
  if (trace.enabled) {
    const dropped = frames.reduce((n, f) => n + f.commit.length, 0);
    if (dropped) trace.note(`transaction rolled back: ${dropped} commit task(s) dropped`);
  }
  await runAll(frames.flatMap((f) => f.rollback));
}

// The drivers after whose failed statements the server has already abandoned the transaction,
// so a later COMMIT cannot commit: PostgreSQL aborts on any error (MySQL/MariaDB roll back on a
// deadlock only, errno 1213, see queryFailed).
const postgresFamily = new Set(['postgres', 'cockroachdb', 'aurora-postgres']);

/** @internal afterQuery with success false: note a failure that dooms the open transaction. */
export function queryFailed(runner: QueryRunner, error: unknown): void {
  if (!runner.isTransactionActive) return;
  const type = dataSourceOf(runner).options.type;
  const errno = (error as { errno?: number; driverError?: { errno?: number } } | undefined)?.driverError?.errno ?? (error as { errno?: number })?.errno;
  if (postgresFamily.has(type as string) || ((type === 'mysql' || type === 'mariadb') && errno === 1213)) {
    topFrame(runner).doomed = true;
  }
}

/**
 * Runs tasks one after another; each task reports its own failures and never rejects. No
 * tasks, no promise: TypeORM then awaits nothing for a transaction that queued no work.
 */
function runAll(tasks: Task[]): Promise<void> | undefined {
  return tasks.length === 0 ? undefined : runTasks(tasks);
}

async function runTasks(tasks: Task[]): Promise<void> {
  for (const task of tasks) await task();
}

/** @internal Whether the runner has open frames: for leak tests. */
export function hasPendingWork(runner: QueryRunner): boolean {
  return states.has(runner);
}

/**
 * @internal The QueryRunner behind a manager (or the runner itself); undefined for a manager
 * bound to no runner, such as the DataSource's, whose writes autocommit.
 */
export function runnerOf(target: EntityManager | QueryRunner, method: string): QueryRunner | undefined {
  if (target === null || typeof target !== 'object') {
    throw new TypeError(`${method}(): the first argument must be an EntityManager or a QueryRunner, got ${target === null ? 'null' : typeof target}`);
  }
  if ('isTransactionActive' in target && 'manager' in target) return target;
  if ('queryRunner' in target || 'connection' in target || 'dataSource' in target) return (target as EntityManager).queryRunner;
  throw new TypeError(`${method}(): the first argument must be an EntityManager or a QueryRunner`);
}

/** The callback as a task: run outside the transaction's async context, as receivers are (context.ts). */
function wrapCallback(fn: () => unknown, phase: string): Task {
  return () =>
    runDetached(async () => {
      try {
        await fn();
      } catch (thrown) {
        const error = thrown instanceof Error ? thrown : new SignalsError(`${phase} callback ${describeFunction(fn)} threw a non-Error value`, { cause: thrown });
        reportFailure({ signal: phase, receiver: describeFunction(fn), sender: '(none)', context: phase, error });
      }
    });
}

/**
 * Django's transaction.on_commit: runs fn after the outermost transaction of this manager (or
 * runner) commits, or at once when it is not in a transaction. Inside a savepoint that is
 * rolled back, fn is dropped. A failing fn is reported, never thrown: the data is committed.
 *
 * @example
 * await dataSource.transaction(async (manager) => {
 *   await manager.save(order);
 *   onCommit(manager, () => mailer.send(order.id));
 * });
 */
export function onCommit(managerOrQueryRunner: EntityManager | QueryRunner, fn: () => unknown): Promise<void> {
  if (typeof fn !== 'function') throw new TypeError(`onCommit(): the callback must be a function, got ${typeof fn}`);
  return defer(runnerOf(managerOrQueryRunner, 'onCommit'), 'commit', wrapCallback(fn, 'onCommit'));
}

/**
 * Runs fn after the transaction of this manager (or runner) rolls back, or after the savepoint
 * it was registered in is rolled back. Outside a transaction nothing can roll back: fn never runs.
 *
 * @example
 * await dataSource.transaction(async (manager) => {
 *   const upload = await storage.put(file);
 *   await onRollback(manager, () => storage.delete(upload.key)); // undo what the database cannot
 *   await manager.save(Attachment, { key: upload.key });
 * });
 */
export function onRollback(managerOrQueryRunner: EntityManager | QueryRunner, fn: () => unknown): Promise<void> {
  if (typeof fn !== 'function') throw new TypeError(`onRollback(): the callback must be a function, got ${typeof fn}`);
  return defer(runnerOf(managerOrQueryRunner, 'onRollback'), 'rollback', wrapCallback(fn, 'onRollback'));
}

/**
 * @internal For flushOnCommit() (typeorm-signals/testing): removes and returns the commit work
 * queued on the runner so far, in every open transaction and savepoint frame, oldest first.
 * Rollback work stays queued.
 */
export function takeCommitWork(runner: QueryRunner): Task[] {
  const state = states.get(runner);
  if (!state) return [];
  return state.frames.flatMap((frame) => frame.commit.splice(0));
}
