// The transaction phases of the model signals' receivers: the one list every other file derives
// from (the Phase type, connect()'s option check, the transaction frames, the dispatcher's split
// of connections), and the context (manager, queryRunner, dataSource) a receiver of each phase gets.

import type { DataSource, EntityManager, QueryRunner } from 'typeorm';
import type { Connection } from '../signals/runner';
import type { DurableExtra } from './durable/options';
import { dataSourceOf } from './events';

/**
 * Every phase, in the order a write reaches them; 'transaction' is the default. Not exported
 * from the package root, but not internal either: the published `Phase` type is derived from it.
 */
export const PHASES = ['transaction', 'commit', 'rollback', 'durable'] as const;

/**
 * When a receiver runs:
 * - 'transaction': inside the write's transaction, before COMMIT (TypeORM's own timing); its
 *   error rolls the write back.
 * - 'commit': after the outermost transaction committed (at once for an autocommit write).
 * - 'rollback': after the transaction that held the write rolled back.
 * - 'durable': in a worker process, from a pg-boss job the write's transaction inserted
 *   (docs/durable.md); the receiver gets the job's JSON, not the live payload.
 *
 * @example
 * postSave.connect(({ instance }) => mailer.sendWelcome(instance.email), { sender: User, phase: 'commit' });
 */
export type Phase = (typeof PHASES)[number];

/**
 * The phases whose receivers get the live payload (entity objects, the write's manager): every
 * phase but 'durable', whose receivers get the job's JSON in a worker.
 *
 * @example
 * type Live = LivePhase; // 'transaction' | 'commit' | 'rollback'
 */
export type LivePhase = Exclude<Phase, 'durable'>;

/** @internal The phases whose receivers run in this process once the transaction is over, queued on it. */
export type DeferredPhase = Exclude<LivePhase, 'transaction'>;

/** @internal The deferred phases, in the order PHASES lists them. */
export const DEFERRED_PHASES = PHASES.filter((p): p is DeferredPhase => p !== 'transaction' && p !== 'durable');

/** @internal Whether a value names a phase. */
export function isPhase(value: unknown): value is Phase {
  return (PHASES as readonly unknown[]).includes(value);
}

/** @internal The phases for a message: "'transaction', 'commit' or 'rollback'". */
export function listPhases(): string {
  const quoted = PHASES.map((p) => `'${p}'`);
  return `${quoted.slice(0, -1).join(', ')} or ${quoted[quoted.length - 1]}`;
}

/**
 * Where a receiver may do database work. In the 'transaction' phase `manager` and `queryRunner`
 * are the write's own (work joins its transaction). In 'commit' and 'rollback' the transaction is
 * over: `manager` is the DataSource's (writes autocommit) and `queryRunner` is undefined.
 *
 * @example
 * postSave.connect(async ({ instance, created, manager }) => {
 *   if (created) await manager.insert(UserProfile, { userId: instance.id }); // same transaction
 * }, { sender: User });
 */
export interface WriteContext<Ph extends Phase = Phase> {
  /**
   * The write's own EntityManager in the 'transaction' phase; the DataSource's own afterwards
   * (bound to no connection, even when a transaction library has patched `dataSource.manager`).
   */
  readonly manager: EntityManager;
  /** The write's QueryRunner in the 'transaction' phase; undefined once the transaction is over. */
  readonly queryRunner: Ph extends 'transaction' ? QueryRunner : undefined;
  /** The DataSource the write went through. */
  readonly dataSource: DataSource;
}

/**
 * @internal The context of a phase, from the write's own: the write's for 'transaction', the
 * DataSource's manager and no runner once the transaction is over.
 */
export function contextFor(own: WriteContext<'transaction'> | WriteContext, phase: Phase): WriteContext {
  if (phase === 'transaction') return own;
  const { dataSource } = own;
  return { manager: ownManager(dataSource), queryRunner: undefined, dataSource };
}

const unboundManagers = new WeakMap<DataSource, EntityManager>();

/**
 * The DataSource's own manager, bound to no QueryRunner, for commit and rollback receivers.
 * typeorm-transactional replaces `dataSource.manager` with a getter that returns the open
 * transaction's EntityManager inside `@Transactional()`; a receiver given that one would write
 * through a finished transaction (QueryRunnerAlreadyReleasedError once the runner is released).
 * When the getter answers with a bound manager, an unbound one made by the DataSource stands in.
 */
function ownManager(dataSource: DataSource): EntityManager {
  const manager = dataSource.manager;
  if (!manager.queryRunner) return manager;
  let unbound = unboundManagers.get(dataSource);
  if (!unbound) unboundManagers.set(dataSource, (unbound = dataSource.createEntityManager()));
  return unbound;
}

/** @internal The context of a write made through this runner. */
export function runnerContext(runner: QueryRunner): WriteContext<'transaction'> {
  return { manager: runner.manager, queryRunner: runner, dataSource: dataSourceOf(runner) };
}

/** @internal What a model signal keeps per connection: when the receiver runs, and how. */
export interface ConnectionPhase {
  readonly phase: Phase;
  readonly batch: boolean;
  /** The DataSource whose writes the receiver is limited to; undefined: every DataSource. */
  readonly dataSource: DataSource | undefined;
  /** phase 'durable': the retry policy and whether values travel. */
  readonly durable?: DurableExtra;
}

/** @internal The phase and batch a model signal's connection was made with. */
export function phaseOf(c: Connection): ConnectionPhase {
  return c.meta as ConnectionPhase;
}
