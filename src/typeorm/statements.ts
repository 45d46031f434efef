import type { DataSource } from 'typeorm';
import { InsertQueryBuilder, QueryBuilder, UpdateQueryBuilder, DeleteQueryBuilder, type EntityMetadata } from 'typeorm';
import { executeNamed, namedKind, type CriteriaBuilder } from './criteria-rows';
import { listensInTransaction } from './dispatcher';
import { senderOf } from './entity-names';
import { patchInsertKinds } from './insert-kind';
import { traceMissingSubscriber } from './missing-subscriber';
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
import { trace } from '../signals/trace';

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

/** @internal The members of TypeORM's QueryExpressionMap the patches read. */
export interface ExpressionMap {
  callListeners: boolean;
  useTransaction: boolean;
  queryType: string;
  mainAlias?: { hasMetadata: boolean; metadata: EntityMetadata };
  valuesSet?: unknown;
  onUpdate?: unknown;
  onConflict?: unknown;
  onIgnore?: unknown;
}

/** @internal A query builder's execute(); each patch names the members it reads. */
export type Execute = (this: any, ...args: unknown[]) => Promise<unknown>;
/** @internal A query builder prototype being patched. */
export type Proto = Record<PropertyKey, unknown> & { execute: Execute };

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

/** Runs the statement with TypeORM's `useTransaction`: TypeORM starts one only when its runner is not in a transaction already. */
async function inOwnTransaction(builder: unknown, map: ExpressionMap, original: Execute, args: unknown[]): Promise<unknown> {
  map.useTransaction = true;
  try {
    return await original.apply(builder, args);
  } finally {
    map.useTransaction = false;
  }
}

function patchOwnTransaction(proto: Proto): void {
  if (proto[OWN_TRANSACTION]) return;
  const original = proto.execute;
  // Not async: a statement that needs none of this gets TypeORM's own promise back, without a
  // promise and three microtasks more per statement; a throw still comes back as a rejection.
  proto.execute = function execute(this: { expressionMap: ExpressionMap; connection: DataSource }, ...args: unknown[]) {
    try {
      const map = this.expressionMap;
      // Not only callListeners ones: save() runs its statements with listeners off and broadcasts itself.
      if (trace.enabled && map.mainAlias?.hasMetadata) {
        const signals = signalsOf[map.queryType];
        if (signals !== undefined) traceMissingSubscriber(this.connection, senderOf(map.mainAlias.metadata), signals);
      }
      // A criteria write something listens to names its rows, in a transaction it manages itself.
      const kind = map.queryType === 'insert' ? undefined : namedKind(this as unknown as CriteriaBuilder);
      if (kind !== undefined) return executeNamed(this as unknown as CriteriaBuilder, kind, original, args);
      if (!needsOwnTransaction(map)) return original.apply(this, args);
      return inOwnTransaction(this, map, original, args);
    } catch (error) {
      return Promise.reject(error);
    }
  };
  proto[OWN_TRANSACTION] = true;
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

// With DEBUG=typeorm-signals at start-up, the patches go in at load: a DataSource without the
// subscriber then still gets its "not sent" line (missing-subscriber.ts).
if (trace.enabled) patchQueryBuilders();
