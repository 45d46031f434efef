import { AsyncLocalStorage } from 'node:async_hooks';
import type { QueryRunner } from 'typeorm';
import { SignalsError, describeFunction } from '../signals/errors';
import { currentScope } from '../signals/scope';
import { liveReceivers, type Connection } from '../signals/signal';
import { trace } from '../signals/trace';
import type { Sender } from '../signals/types';
import { contextFor, dataSourceOf, junctionIds, junctionInfo, type JunctionInfo } from './events';
import { m2mChanged, type Family, type ModelSignal, type Timing } from './model-signal';
import type { EntityId, Phase } from './payloads';
import { defer, type Task } from './transactions';

/**
 * Collects the rows of one TypeORM broadcast and dispatches them. TypeORM calls a subscriber
 * once per row, synchronously for the whole write (all rows of a save() chunk, of an insert
 * statement), then awaits the returned promises together. So the first row of a broadcast
 * schedules one flush for the next microtask, every row joins it, and the flush runs the
 * receivers one after another: per-row receivers row by row in connection order, then batch
 * receivers once with all rows. Deferred phases are queued on the transaction.
 */
export interface Row<S = any> {
  readonly signal: ModelSignal<Family, Timing>;
  readonly sender: Sender;
  /** Builds the payload fields from `source` (the TypeORM event); see fieldsOf(). */
  readonly build: (source: S) => object;
  readonly source: S;
  /** The fields once built. */
  built?: object;
}

/** The row's payload fields, built on first use only: a row no receiver reads costs no payload. */
function fieldsOf(row: Row): object {
  return (row.built ??= row.build(row.source));
}

/** A junction-table row, turned into m2mChanged rows (grouped per owner) at flush time. */
export interface JunctionRow {
  readonly junction: true;
  readonly action: 'add' | 'remove';
  readonly metadata: import('typeorm').EntityMetadata;
  readonly key: import('typeorm').ObjectLiteral | undefined;
}

interface Pending {
  rows: Array<Row | JunctionRow>;
  done: Promise<void>;
}

const pending = new WeakMap<QueryRunner, Pending>();

/** Adds a row to the runner's current broadcast; the promise settles when its receivers ran. */
export function enqueue(runner: QueryRunner, row: Row | JunctionRow): Promise<void> {
  let batch = pending.get(runner);
  if (batch === undefined) {
    const rows: Array<Row | JunctionRow> = [];
    batch = {
      rows,
      done: Promise.resolve().then(() => {
        pending.delete(runner);
        return flush(runner, rows);
      }),
    };
    pending.set(runner, batch);
  }
  batch.rows.push(row);
  return batch.done;
}

// Receivers that write the entity they were told about can re-trigger themselves; the chain of
// nested dispatches follows the async call tree, so it also counts writes through other runners.
const chain = new AsyncLocalStorage<readonly string[]>();
export const MAX_DEPTH = 32;

async function flush(runner: QueryRunner, collected: Array<Row | JunctionRow>): Promise<void> {
  const rows = resolveJunctions(runner, collected);
  if (rows.length === 0) return;
  const links = chain.getStore() ?? [];
  const link = describeLink(rows[0]);
  if (links.length >= MAX_DEPTH) {
    throw new SignalsError(
      `Signal "${rows[0].signal.name}": receivers re-triggered themselves more than ${MAX_DEPTH} levels deep ` +
        `for sender ${describeFunction(rows[0].sender)}; the write is rolled back. Chain: ${summarize([...links, link])}`,
    );
  }
  return chain.run([...links, link], () => runRows(runner, rows));
}

async function runRows(runner: QueryRunner, rows: readonly Row[]): Promise<void> {
  const scope = currentScope();
  const plan = { runner, rows, scope };
  const inTransaction = runner.isTransactionActive;
  let wantsCommit = false;
  let wantsRollback = false;
  for (const row of rows) {
    const split = splitOf(row.signal.lookup(row.sender));
    wantsCommit ||= split.commit.any;
    wantsRollback ||= split.rollback.any;
  }
  const commit = wantsCommit ? planPhase(plan, 'commit') : undefined;
  const rollback = wantsRollback ? planPhase(plan, 'rollback') : undefined;
  // Queue first: if a transaction-phase receiver fails, the rollback receivers of these rows still run.
  if (inTransaction) {
    if (commit) await defer(runner, 'commit', commit);
    if (rollback) await defer(runner, 'rollback', rollback);
  }
  await runPhase(plan, 'transaction', false);
  if (!inTransaction && commit) await commit();
}

interface Plan {
  runner: QueryRunner;
  rows: readonly Row[];
  scope: ReturnType<typeof currentScope>;
}

/** A task running this phase's receivers later. */
function planPhase(plan: Plan, phase: 'commit' | 'rollback'): Task {
  if (trace.enabled) trace.note(`${plan.rows.length} row(s) of ${plan.rows[0].signal.name} queued for ${phase}`);
  // The context is taken now: the runner will be released (and maybe reused) by then.
  const context = contextFor(plan.runner, phase);
  return () => runPhase(plan, phase, true, context);
}

async function runPhase(plan: Plan, phase: Phase, robust: boolean, context = contextFor(plan.runner, phase)): Promise<void> {
  const { rows, scope } = plan;
  const batches = new Map<ModelSignal<Family, Timing>, Map<Sender, number[]>>();
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i];
    const split = splitOf(row.signal.lookup(row.sender))[phase];
    if (split.batch.length > 0) {
      let bySender = batches.get(row.signal);
      if (!bySender) batches.set(row.signal, (bySender = new Map()));
      const indexes = bySender.get(row.sender);
      if (indexes) indexes.push(i);
      else bySender.set(row.sender, [i]);
    }
    // A capture records every send, even one no receiver listens to (in the transaction phase).
    if (split.rows.length === 0 && !(scope && phase === 'transaction')) continue;
    await row.signal.dispatch(split.rows, row.sender, fieldsOf(row), phase, robust, scope, context);
  }
  for (const [signal, bySender] of batches) {
    for (const [sender, indexes] of bySender) {
      const split = splitOf(signal.lookup(sender))[phase];
      // Object.assign, not object spread: spread is several times slower on Node 20.
      const items = Object.freeze(indexes.map((i) => Object.freeze(Object.assign({}, fieldsOf(rows[i]), context))));
      await signal.dispatch(split.batch, sender, { items }, phase, robust, scope, context);
    }
  }
}

/** @internal Whether a receiver of this signal and sender runs in the transaction phase. */
export function listensInTransaction(signal: ModelSignal<Family, Timing>, sender: Sender): boolean {
  return splitOf(signal.lookup(sender)).transaction.any;
}

type Split = Record<Phase, { rows: readonly Connection[]; batch: readonly Connection[]; any: boolean }>;
const splits = new WeakMap<readonly Connection[], Split>();

/** The connections of a lookup divided by phase and batch; cached per lookup array. */
function splitOf(found: readonly Connection[]): Split {
  let split = splits.get(found);
  if (!split) {
    split = {} as Split;
    for (const phase of ['transaction', 'commit', 'rollback'] as const) {
      const inPhase = found.filter((c) => c.phase === phase);
      split[phase] = { rows: inPhase.filter((c) => !c.batch), batch: inPhase.filter((c) => c.batch), any: inPhase.length > 0 };
    }
    splits.set(found, split);
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

interface JunctionGroup {
  info: JunctionInfo;
  action: 'add' | 'remove';
  owner: EntityId;
  related: EntityId[];
  metadata: JunctionRow['metadata'];
}

function m2mFields(group: JunctionGroup): object {
  return {
    action: group.action,
    relation: group.info.relation,
    entityId: group.owner,
    relatedIds: Object.freeze(group.related),
    model: group.info.model,
    metadata: group.metadata,
  };
}

/** Groups junction rows into one m2mChanged row per (relation, action, owner). */
function resolveJunctions(runner: QueryRunner, collected: ReadonlyArray<Row | JunctionRow>): Row[] {
  if (!collected.some(isJunction)) return collected as Row[];
  const rows: Row[] = [];
  const groups = new Map<string, JunctionGroup>();
  for (const row of collected) {
    if (!isJunction(row)) {
      rows.push(row);
      continue;
    }
    const info = junctionInfo(dataSourceOf(runner), row.metadata);
    if (!info || !row.key) continue;
    const ids = junctionIds(info, row.key);
    const groupKey = `${info.relation}\u0000${row.action}\u0000${JSON.stringify(ids.owner)}`;
    let group = groups.get(groupKey);
    if (!group) {
      group = { info, action: row.action, owner: ids.owner, related: [], metadata: row.metadata };
      groups.set(groupKey, group);
      rows.push({ signal: m2mChanged, sender: info.owner, build: m2mFields, source: group });
    }
    group.related.push(ids.related);
  }
  return rows;
}

function isJunction(row: Row | JunctionRow): row is JunctionRow {
  return (row as JunctionRow).junction === true;
}
