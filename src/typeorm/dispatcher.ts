// Rows to phases: the one path by which a model signal's rows reach its receivers, whether they
// come from TypeORM or are sent by hand. TypeORM calls a subscriber once per row, synchronously
// for the whole write (all rows of a save() chunk, of an insert statement), then awaits the
// returned promises together. So the first row of a broadcast schedules one flush for the next
// microtask, every row joins it, and the flush runs the receivers one after another: per-row
// receivers row by row in connection order, then batch receivers once with all rows. Deferred
// phases are queued on the transaction (transactions.ts). A hand-sent payload is one row of its
// own, run at once with the caller's manager and queryRunner.

import type { DataSource, QueryRunner } from 'typeorm';
import { ownStorage, runDetached } from '../signals/context';
import { SignalsError, describeFunction } from '../signals/errors';
import { deliverNow, liveReceivers, type Connection } from '../signals/runner';
import { currentScope } from '../signals/scope';
import { trace } from '../signals/trace';
import type { Sender, SendResults } from '../signals/types';
import { resolveJunctions, type JunctionRow } from './m2m';
import type { Family, ModelSignal, Timing } from './model-signal';
import { DEFERRED_PHASES, PHASES, contextFor, phaseOf, runnerContext, type DeferredPhase, type Phase, type WriteContext } from './phases';
import { endWatch, newWatch, startWatch, type Watch } from './other-connection';
import { defer, type Task } from './transactions';
import { enqueueDurable } from './durable/enqueue';
import type { PayloadShape } from './events';

/** @internal One row of a write, for one model signal and sender. */
export interface Row<S = any> {
  readonly signal: ModelSignal<Family, Timing>;
  readonly sender: Sender;
  /** Builds the payload fields from `source` (the TypeORM event); see fieldsOf(). */
  readonly build: (source: S) => object;
  readonly source: S;
  /** Set when `build` gives fields of a fixed shape: their fast copies. */
  readonly shape?: PayloadShape;
  /** The fields once built. */
  built?: object;
}

/** The row's payload fields, built on first use only: a row no receiver reads costs no payload. */
function fieldsOf(row: Row): object {
  return (row.built ??= row.build(row.source));
}

/** A batch item: the row's fields, then the phase's context. */
function itemOf(row: Row, context: WriteContext): object {
  const fields = fieldsOf(row);
  // Object.assign, not object spread: spread is several times slower on Node 20.
  return row.shape !== undefined ? row.shape.item(fields, context) : Object.assign({}, fields, context);
}

interface Pending {
  rows: Array<Row | JunctionRow>;
  done: Promise<void>;
}

const pending = new WeakMap<QueryRunner, Pending>();

/** @internal Adds a row to the runner's current broadcast; the promise settles when its receivers ran. */
export function enqueue(runner: QueryRunner, row: Row | JunctionRow): Promise<void> {
  let batch = pending.get(runner);
  if (batch === undefined) {
    const rows: Array<Row | JunctionRow> = [];
    batch = { rows, done: flush(runner, rows) };
    pending.set(runner, batch);
  }
  batch.rows.push(row);
  return batch.done;
}

/**
 * @internal enqueue() for a TypeORM hook: the promise only for the row that opened the flush.
 * TypeORM awaits every promise its hooks return for one broadcast together, so one is enough;
 * returning it for every row would cost a reaction per row (and 1,000 entries in Promise.all).
 */
export function enqueueFromHook(runner: QueryRunner, row: Row | JunctionRow): Promise<void> | undefined {
  const batch = pending.get(runner);
  if (batch === undefined) return enqueue(runner, row);
  batch.rows.push(row);
  return undefined;
}

// Receivers that write the entity they were told about can re-trigger themselves; the chain of
// nested dispatches follows the async call tree, so it also counts writes through other runners.
// The same store carries the flush's Watch (other-connection.ts): one AsyncLocalStorage, not two.
interface Flush {
  /** The first row of each flush in the chain, described only when the chain is too deep. */
  readonly links: readonly Row[];
  readonly watch: Watch | undefined;
}
const chain = ownStorage<Flush>();

/** @internal The Watch of the flush whose receivers run in this async context, if any. */
export function currentWatch(): Watch | undefined {
  return chain.getStore()?.watch;
}

/** @internal How deep receivers may re-trigger themselves before the write is refused. */
export const MAX_DEPTH = 32;

async function flush(runner: QueryRunner, collected: Array<Row | JunctionRow>): Promise<void> {
  // The rest of the broadcast's rows join `collected` until the next microtask.
  await undefined;
  pending.delete(runner);
  const rows = resolveJunctions(runner, collected);
  if (rows.length === 0) return;
  const links = chain.getStore()?.links ?? [];
  if (links.length >= MAX_DEPTH) {
    throw new SignalsError(
      `Signal "${rows[0].signal.name}": receivers re-triggered themselves more than ${MAX_DEPTH} levels deep ` +
        `for sender ${describeFunction(rows[0].sender)}; the write is rolled back. Chain: ${summarize([...links, rows[0]].map(describeLink))}`,
    );
  }
  const watch = newWatch(runner);
  const own = runnerContext(runner);
  await chain.run({ links: [...links, rows[0]], watch }, () =>
    runRows({ rows, runner, own, scope: currentScope(), robust: false, watch, split: splitter(own.dataSource) }),
  );
}

/**
 * @internal A model signal sent by hand, as a write of one row: transaction-phase receivers run
 * now with the payload's manager and queryRunner, commit- and rollback-phase ones are queued on
 * that runner's transaction (commit ones run after the transaction-phase ones when there is
 * none), and batch receivers get the row as their one item. Resolves to the results of the
 * receivers that ran in the transaction phase.
 */
export async function sendRow(
  signal: ModelSignal<Family, Timing>,
  sender: Sender,
  payload: WriteContext,
  robust: boolean,
): Promise<SendResults<Function>> {
  const { manager, dataSource } = payload;
  const queryRunner = payload.queryRunner ?? manager.queryRunner;
  const results: SendResults<Function> = [];
  const row: Row<object> = { signal, sender, build: (fields) => fields, source: payload };
  await runRows({ rows: [row], runner: queryRunner, own: { manager, queryRunner, dataSource }, scope: currentScope(), robust, results, split: splitter(dataSource) });
  return results;
}

interface Plan {
  readonly rows: readonly Row[];
  /** The runner whose transaction deferred phases wait for; none: the write has committed. */
  readonly runner: QueryRunner | undefined;
  /** The write's own manager, queryRunner and dataSource (the transaction phase's context). */
  readonly own: WriteContext;
  readonly scope: ReturnType<typeof currentScope>;
  /** Whether transaction-phase failures are reported instead of rejecting (sendRobust by hand). */
  readonly robust: boolean;
  /** Where the transaction phase's [receiver, result] pairs go, for a hand-sent row. */
  readonly results?: SendResults<Function>;
  /** Notes the running transaction-phase receiver while the write's transaction is open. */
  readonly watch?: Watch;
  /** A row's connections by phase, for the write's DataSource (see splitter). */
  readonly split: (row: Row) => Split;
}

async function runRows(plan: Plan): Promise<void> {
  const { runner, rows } = plan;
  const inTransaction = runner?.isTransactionActive === true;
  const deferred: Array<[DeferredPhase, Task]> = [];
  for (const phase of DEFERRED_PHASES) {
    if (rows.some((row) => plan.split(row)[phase].any)) deferred.push([phase, planPhase(plan, phase)]);
  }
  // Queue first: if a transaction-phase receiver fails, the rollback receivers of these rows still run.
  if (inTransaction) for (const [phase, task] of deferred) await defer(runner, phase, task);
  startWatch(plan.watch);
  try {
    await runPhase(plan, 'transaction', plan.robust, plan.own);
  } finally {
    endWatch(plan.watch);
  }
  // After the transaction-phase receivers (they may still change the rows), before COMMIT.
  if (rows.some((row) => plan.split(row).durable.any)) {
    await enqueueDurable(runner, plan.own.dataSource, durableRows(plan), plan.scope);
  }
  // Without a transaction the write has committed: commit work runs now, rollback work never.
  if (!inTransaction) for (const [phase, task] of deferred) await defer(undefined, phase, task);
}

function durableRows(plan: Plan) {
  return plan.rows.map((row) => {
    const { rows: perRow, batch } = plan.split(row).durable;
    return { signal: row.signal, sender: row.sender, fields: () => fieldsOf(row) as Record<string, unknown>, rows: perRow, batch };
  });
}

/** A task running this phase's receivers later, robustly: the transaction is over by then. */
function planPhase(plan: Plan, phase: DeferredPhase): Task {
  if (trace.enabled) trace.note(`${plan.rows.length} row(s) of ${plan.rows[0].signal.name} queued for ${phase}`);
  // Outside the finished transaction's async context (signals/context.ts says why). The context
  // (DataSource's manager) is read when the phase runs: a transaction library may have swapped
  // dataSource.manager for the transaction's while it was open (phases.ts ownManager).
  return () => runDetached(() => runPhase(plan, phase, true, contextFor(plan.own, phase)));
}

async function runPhase(plan: Plan, phase: Phase, robust: boolean, context: WriteContext): Promise<void> {
  const { rows, scope } = plan;
  const results = phase === 'transaction' ? plan.results : undefined;
  // Only a hand-sent sendRobust() is robust in the transaction phase: it has no phase label, so
  // its failures are reported as 'sendRobust', as a plain Signal's are (a capture still records
  // it in the 'transaction' phase).
  const label = robust && phase === 'transaction' ? undefined : phase;
  const running = phase === 'transaction' ? plan.watch : undefined;
  const batches = new Map<ModelSignal<Family, Timing>, Map<Sender, number[]>>();
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i];
    const split = plan.split(row)[phase];
    if (split.batch.length > 0) {
      let bySender = batches.get(row.signal);
      if (!bySender) batches.set(row.signal, (bySender = new Map()));
      const indexes = bySender.get(row.sender);
      if (indexes) indexes.push(i);
      else bySender.set(row.sender, [i]);
    }
    // A capture records every send, even one no receiver listens to (in the transaction phase).
    if (split.rows.length === 0 && !(scope && phase === 'transaction')) continue;
    // No await while receivers return no promise: a flush of 1,000 rows is not 1,000 microtasks.
    const pending = deliverNow({ signal: row.signal, connections: split.rows, sender: row.sender, payload: fieldsOf(row), context, phase: label, robust, scope, running, copy: row.shape?.args }, results);
    if (pending !== undefined) await pending;
  }
  for (const [signal, bySender] of batches) {
    for (const [sender, indexes] of bySender) {
      const split = plan.split(rows[indexes[0]])[phase];
      const items = Object.freeze(indexes.map((i) => Object.freeze(itemOf(rows[i], context))));
      const pending = deliverNow({ signal, connections: split.batch, sender, payload: { items }, context, phase: label, robust, batch: true, scope, running }, results);
      if (pending !== undefined) await pending;
    }
  }
}

/** @internal Whether a receiver of this signal and sender runs in the transaction (a durable one enqueues there). */
export function listensInTransaction(signal: ModelSignal<Family, Timing>, sender: Sender): boolean {
  const split = splitOf(signal.lookup(sender));
  return split.transaction.any || split.durable.any;
}

type Split = Record<Phase, { rows: readonly Connection[]; batch: readonly Connection[]; any: boolean }> & {
  /** Set when a connection of the lookup is limited to a DataSource: each DataSource's share. */
  byDataSource?: WeakMap<DataSource, Split>;
};
const splits = new WeakMap<readonly Connection[], Split>();

/**
 * splitOf() for the rows of one write: they come in runs of one signal and sender, so the last
 * lookup's split is kept (a connect or disconnect gives the signal a new lookup array, so a
 * receiver connected while the rows run is seen as before).
 */
function splitter(dataSource: DataSource): (row: Row) => Split {
  let found: readonly Connection[] | undefined;
  let split: Split | undefined;
  return (row) => {
    const now = row.signal.lookup(row.sender);
    if (now !== found || split === undefined) {
      found = now;
      split = splitOf(now, dataSource);
    }
    return split;
  };
}

/**
 * The connections of a lookup divided by phase and batch; cached per lookup array, which a
 * signal keeps until its next connect/disconnect (Signal.lookup). Given the write's DataSource,
 * the connections limited to another DataSource are left out (cached per DataSource).
 */
function splitOf(found: readonly Connection[], dataSource?: DataSource): Split {
  let split = splits.get(found);
  if (!split) {
    split = makeSplit(found);
    if (found.some((c) => phaseOf(c).dataSource !== undefined)) split.byDataSource = new WeakMap();
    splits.set(found, split);
  }
  if (dataSource === undefined || split.byDataSource === undefined) return split;
  let own = split.byDataSource.get(dataSource);
  if (!own) split.byDataSource.set(dataSource, (own = makeSplit(found.filter((c) => phaseOf(c).dataSource === undefined || phaseOf(c).dataSource === dataSource))));
  return own;
}

function makeSplit(found: readonly Connection[]): Split {
  const split = {} as Split;
  for (const phase of PHASES) {
    const inPhase = found.filter((c) => phaseOf(c).phase === phase);
    split[phase] = { rows: inPhase.filter((c) => !phaseOf(c).batch), batch: inPhase.filter((c) => phaseOf(c).batch), any: inPhase.length > 0 };
  }
  return split;
}

function describeLink(row: Row): string {
  const names = liveReceivers(row.signal.lookup(row.sender)).map(describeFunction);
  return `${row.signal.name}(${describeFunction(row.sender)}) -> [${names.join(', ')}]`;
}

function summarize(links: readonly string[]): string {
  if (links.length <= 6) return links.join(' => ');
  return [...links.slice(0, 3), `... ${links.length - 6} more ...`, ...links.slice(-3)].join(' => ');
}
