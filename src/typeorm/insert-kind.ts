// Insert kind: insert(), upsert() and insert().orIgnore() reach subscribers exactly like save()
// does; only the query builder knows which it was. The patched InsertQueryBuilder.execute marks
// the statement's value objects in insertKinds for the duration of execute(), so that the payload
// (events.ts) can say `source` and `created`; on PostgreSQL an upsert or orIgnore() that postSave
// listens to also learns, per row, whether it was inserted, updated or left alone
// (insert-outcome.ts).

import type { DataSource, QueryRunner } from 'typeorm';
import { currentScope } from '../signals/scope';
import { senderOf } from './entity-names';
import { canTellOutcome, outcomeReturning, unwatchOutcome, watchOutcome } from './insert-outcome';
import { postSave } from './model-signal';
import type { ExpressionMap, Execute, Proto } from './statements';

/** @internal Which kind of insert statement wrote a value object. */
export type InsertKind = 'insert' | 'upsert' | 'insertOrIgnore';

/** @internal The kind of the insert statement running for each of its value objects. */
export const insertKinds = new WeakMap<object, InsertKind>();

const INSERT_KIND = Symbol.for('typeorm-signals.insert-kind');

/** @internal Patches InsertQueryBuilder.execute (once per copy of TypeORM). */
export function patchInsertKinds(proto: Proto): void {
  if (proto[INSERT_KIND]) return;
  const original = proto.execute;
  proto.execute = function execute(this: Builder, ...args: unknown[]) {
    const map = this.expressionMap;
    const values = map.callListeners ? map.valuesSet : undefined;
    // Not async: a statement without value objects gets TypeORM's own promise back.
    if (values === undefined || values === null) return original.apply(this, args);
    return executeMarked(this, original, args, values);
  };
  proto[INSERT_KIND] = true;
}

/** Runs the statement with its value objects marked with the kind of insert. */
async function executeMarked(builder: Builder, original: Execute, args: unknown[], values: unknown): Promise<unknown> {
  const map = builder.expressionMap;
  const list = (Array.isArray(values) ? values : [values]) as object[];
  const kind: InsertKind = map.onUpdate || map.onConflict ? 'upsert' : map.onIgnore ? 'insertOrIgnore' : 'insert';
  for (const value of list) insertKinds.set(value, kind);
  try {
    if (kind !== 'insert' && list.length > 0 && wantsOutcome(builder)) return await executeWatched(builder, original, args, list);
    return await original.apply(builder, args);
  } finally {
    for (const value of list) insertKinds.delete(value);
  }
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
