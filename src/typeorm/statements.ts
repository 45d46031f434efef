import { InsertQueryBuilder, QueryBuilder, UpdateQueryBuilder, DeleteQueryBuilder, type DataSource, type EntityMetadata, type QueryRunner } from 'typeorm';
import { currentScope } from '../signals/scope';
import { listensInTransaction } from './dispatcher';
import { insertKinds, senderOf, type InsertKind } from './events';
import { canTellOutcome, outcomeReturning, unwatchOutcome, watchOutcome } from './insert-outcome';
import {
  postDelete,
  postRestore,
  postSave,
  postSoftDelete,
  preDelete,
  preRestore,
  preSave,
  preSoftDelete,
  type Family,
  type ModelSignal,
  type Timing,
} from './model-signal';

// Patches for TypeORM's write query builders (insert(), update(), delete(), softDelete(),
// restore(), upsert(), increment() and their query-builder forms all end in one of these
// execute() methods).
//
// A statement TypeORM runs outside a transaction autocommits before its after-events reach the
// subscriber, so a failing receiver could not undo it. When a transaction-phase receiver listens
// for the statement's signals, execute() runs with TypeORM's own `useTransaction`: the statement
// and its receivers commit or roll back together, and commit-phase receivers run after that
// COMMIT. With nothing listening in the transaction phase the statement is left alone (no
// BEGIN/COMMIT added).

interface ExpressionMap {
  callListeners: boolean;
  useTransaction: boolean;
  queryType: string;
  mainAlias?: { hasMetadata: boolean; metadata: EntityMetadata };
  valuesSet?: unknown;
  onUpdate?: unknown;
  onConflict?: unknown;
  onIgnore?: unknown;
}

type Execute = (this: any, ...args: unknown[]) => Promise<unknown>; // each patch names the members it reads
type Proto = Record<PropertyKey, unknown> & { execute: Execute };

const signalsOf: Record<string, ReadonlyArray<ModelSignal<Family, Timing>>> = {
  insert: [preSave, postSave],
  update: [preSave, postSave],
  delete: [preDelete, postDelete],
  'soft-delete': [preSoftDelete, postSoftDelete],
  restore: [preRestore, postRestore],
};

/** Whether this statement needs a transaction of its own: a transaction-phase receiver listens. */
function needsOwnTransaction(map: ExpressionMap): boolean {
  if (!map.callListeners || map.useTransaction || !map.mainAlias?.hasMetadata) return false;
  const signals = signalsOf[map.queryType];
  if (signals === undefined) return false;
  const sender = senderOf(map.mainAlias.metadata);
  for (const signal of signals) if (listensInTransaction(signal, sender)) return true;
  return false;
}

const OWN_TRANSACTION = Symbol.for('typeorm-signals.own-transaction');
const INSERT_KIND = Symbol.for('typeorm-signals.insert-kind');

function patchOwnTransaction(proto: Proto): void {
  if (proto[OWN_TRANSACTION]) return;
  const original = proto.execute;
  proto.execute = async function execute(this: { expressionMap: ExpressionMap }, ...args: unknown[]) {
    const map = this.expressionMap;
    if (!needsOwnTransaction(map)) return original.apply(this, args);
    // TypeORM starts one only when its runner is not in a transaction already.
    map.useTransaction = true;
    try {
      return await original.apply(this, args);
    } finally {
      map.useTransaction = false;
    }
  };
  proto[OWN_TRANSACTION] = true;
}

/**
 * insert(), upsert() and insert().orIgnore() reach subscribers exactly like save() does; only
 * the query builder knows which it was. Marking its value objects for the duration of
 * execute() lets postSave say which; on PostgreSQL an upsert or orIgnore() that postSave listens
 * to also learns, per row, whether it was inserted, updated or left alone (insert-outcome.ts).
 */
function patchInsertKinds(proto: Proto): void {
  if (proto[INSERT_KIND]) return;
  const original = proto.execute;
  proto.execute = async function execute(this: Builder, ...args: unknown[]) {
    const map = this.expressionMap;
    const values = map.callListeners ? map.valuesSet : undefined;
    if (values === undefined || values === null) return original.apply(this, args);
    const list = (Array.isArray(values) ? values : [values]) as object[];
    const kind: InsertKind = map.onUpdate || map.onConflict ? 'upsert' : map.onIgnore ? 'insertOrIgnore' : 'insert';
    for (const value of list) insertKinds.set(value, kind);
    try {
      if (kind !== 'insert' && list.length > 0 && wantsOutcome(this)) return await executeWatched(this, original, args, list);
      return await original.apply(this, args);
    } finally {
      for (const value of list) insertKinds.delete(value);
    }
  };
  proto[INSERT_KIND] = true;
}

/** The builder members the outcome watch uses (protected in TypeORM's typings). */
interface Builder {
  expressionMap: ExpressionMap;
  queryRunner?: QueryRunner;
  /** TypeORM 1.x; 0.3 has only `connection`. */
  dataSource?: DataSource;
  connection: DataSource;
  createReturningExpression(type: string): string;
  escape(name: string): string;
}

function wantsOutcome(builder: Builder): boolean {
  const map = builder.expressionMap;
  if (!map.mainAlias?.hasMetadata || !canTellOutcome(builder.dataSource ?? builder.connection)) return false;
  const sender = senderOf(map.mainAlias.metadata);
  return postSave.hasListeners(sender) || currentScope() !== undefined;
}

async function executeWatched(builder: Builder, original: Execute, args: unknown[], values: object[]): Promise<unknown> {
  // The statement's result is read on its runner (afterQuery), so the runner must be known now.
  const borrowed = builder.queryRunner === undefined;
  const runner = builder.queryRunner ?? (builder.dataSource ?? builder.connection).createQueryRunner();
  builder.queryRunner = runner;
  const capture = watchOutcome(runner, builder.expressionMap.mainAlias!.metadata, values);
  const own = builder.createReturningExpression;
  builder.createReturningExpression = function (this: Builder, type: string) {
    return outcomeReturning(capture, own.call(this, type), (name) => this.escape(name));
  };
  try {
    return await original.apply(builder as never, args);
  } finally {
    delete (builder as Partial<Builder>).createReturningExpression;
    unwatchOutcome(runner, capture);
    if (borrowed) {
      builder.queryRunner = undefined;
      await runner.release();
    }
  }
}

const SOFT_DELETE_HOOK = Symbol.for('typeorm-signals.soft-delete-hook');

/**
 * TypeORM's index does not export SoftDeleteQueryBuilder: its prototype is patched from the
 * first builder that softDelete() or restore() returns.
 */
function patchSoftDeleteBuilders(): void {
  const base = QueryBuilder.prototype as unknown as Record<PropertyKey, unknown> & Record<'softDelete' | 'restore', (...args: unknown[]) => object>;
  if (base[SOFT_DELETE_HOOK]) return;
  for (const method of ['softDelete', 'restore'] as const) {
    const original = base[method];
    base[method] = function (this: unknown, ...args: unknown[]) {
      const builder = original.apply(this, args);
      patchOwnTransaction(Object.getPrototypeOf(builder) as Proto);
      return builder;
    };
  }
  base[SOFT_DELETE_HOOK] = true;
}

/** @internal Installs the patches once per copy of TypeORM. */
export function patchQueryBuilders(): void {
  const insert = InsertQueryBuilder.prototype as unknown as Proto;
  patchOwnTransaction(insert);
  patchInsertKinds(insert);
  patchOwnTransaction(UpdateQueryBuilder.prototype as unknown as Proto);
  patchOwnTransaction(DeleteQueryBuilder.prototype as unknown as Proto);
  patchSoftDeleteBuilders();
}

