import type { DataSource, QueryRunner } from 'typeorm';
import { describeFunction } from '../signals/errors';
import { deref, type RunningReceiver } from '../signals/runner';
import { dataSourceOf } from './events';

/**
 * The other-connection check: a transaction-phase receiver that runs a query on another
 * connection of the write's DataSource while the write's transaction is open (the NestJS habit
 * of an injected `Repository<User>`, or `dataSource.getRepository(User)`, instead of the
 * payload's `manager`) works outside the write's transaction. When that query touches a row the
 * write has locked or inserted and not yet committed, it waits for the write's transaction,
 * which waits for the receiver: a self-deadlock with no error and no timeout. So the first such
 * query of a receiver gets a warning, emitted from the subscriber's beforeTransactionStart and
 * beforeQuery hooks, that is, before the query reaches the database and can block.
 *
 * Cost: the dispatcher opens a Watch per flush of rows in an open transaction (a small object
 * in the AsyncLocalStorage store it already sets for the recursion guard), and deliver() notes
 * each receiver in it. The subscriber's two hooks are getters that exist only while some Watch
 * is active anywhere in the process, so TypeORM sees no handler for the rest of the time.
 */

/** @internal The state of one flush's transaction-phase receivers, as the query hooks read it. */
export interface Watch extends RunningReceiver {
  readonly runner: QueryRunner;
  readonly dataSource: DataSource;
  /** True while the transaction-phase receivers of the flush run. */
  active: boolean;
}

/** @internal For the bench only: compare the dispatch with and without the check. */
export const otherConnectionCheck = { enabled: true };

/** Active watches in the process: while 0, the subscriber hides its query hooks. */
let active = 0;

/** @internal Whether any transaction-phase receiver runs in an open transaction right now. */
export function watching(): boolean {
  return active > 0;
}

/** @internal A Watch for the rows of `runner`'s flush, when its transaction is open. */
export function newWatch(runner: QueryRunner): Watch | undefined {
  if (!otherConnectionCheck.enabled || !runner.isTransactionActive) return undefined;
  return { runner, dataSource: dataSourceOf(runner), active: false, signal: undefined, sender: undefined, connection: undefined };
}

/** @internal The transaction phase starts: the watch (if any) is active until endWatch(). */
export function startWatch(watch: Watch | undefined): void {
  if (watch === undefined) return;
  watch.active = true;
  active++;
}

/** @internal The transaction phase is over (in a finally: it may have failed). */
export function endWatch(watch: Watch | undefined): void {
  if (watch === undefined) return;
  watch.active = false;
  active--;
}

/** Receivers warned about already: once per receiver. */
const warned = new WeakSet<Function>();

/** @internal The `code` of the warning, for `process.on('warning')` listeners. */
export const OTHER_CONNECTION_CODE = 'TYPEORM_SIGNALS_OTHER_CONNECTION';

/**
 * @internal Called by the subscriber before `runner` starts a transaction or runs a query, with
 * the Watch of the flush whose receiver (if any) is running in this async context.
 */
export function checkOtherConnection(watch: Watch | undefined, runner: QueryRunner): void {
  if (watch === undefined || !watch.active || runner === watch.runner) return;
  if (!watch.runner.isTransactionActive || dataSourceOf(runner) !== watch.dataSource) return;
  const connection = watch.connection;
  const receiver = connection && deref(connection);
  if (receiver === undefined || warned.has(receiver)) return;
  warned.add(receiver);
  const where = connection!.connectedAt();
  const message =
    `receiver ${describeFunction(receiver)} of ${watch.signal?.name ?? 'a model signal'} for sender ${describeFunction(watch.sender)}` +
    `${where ? ` (connected at ${where})` : ''} runs a query on another connection of the DataSource while the write's ` +
    'transaction is still open. That query is not part of the write: it cannot see the uncommitted rows, and if it touches ' +
    'one of them (saving or updating the same entity, a unique key of an inserted row) it waits for the write to commit ' +
    'while the write waits for the receiver, which never returns. Use the payload\'s manager (manager.getRepository(...), ' +
    "manager.query(...)) instead of the DataSource's or an injected repository, or connect the receiver with phase: 'commit' " +
    'to run it after COMMIT.';
  process.emitWarning(message, { type: 'TypeormSignalsWarning', code: OTHER_CONNECTION_CODE });
}
