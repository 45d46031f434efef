import { SelectQueryBuilder, type DataSource, type EntityMetadata, type ObjectLiteral, type QueryRunner } from 'typeorm';
import { currentScope } from '../signals/scope';
import type { Sender } from '../signals/types';
import { enqueue, listensInTransaction, type Row } from './dispatcher';
import { senderOf } from './entity-names';
import { comparable, sameValue } from './insert-outcome';
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
import type { EntityId, WriteSource } from './payloads';
import { returningWith, unwatchReturning, watchReturning, type Watch } from './returning';
import { hasSignalsSubscriber } from './subscriber-brand';

/**
 * Criteria writes name their rows. TypeORM sends one event per update()/delete()/softDelete()/
 * restore()/increment() statement (and their query-builder forms), with no row in it. When a
 * receiver (or a capture) listens for the statement's signals and entity, the statement instead
 * runs like this, inside a transaction (its own when none is open):
 *
 * 1. `SELECT ... FOR UPDATE` with the statement's own criteria reads and locks the rows as they
 *    are (SQLite, which has no FOR UPDATE, lets one writer at a time in: the plain SELECT sees
 *    what the statement will see);
 * 2. the statement is restricted to those rows' keys, so it writes exactly the rows read: at READ
 *    COMMITTED a row another transaction commits in between is not written, as if the statement
 *    had run at the SELECT's moment;
 * 3. the pre signal goes out per row (the rows as they are), then the statement runs;
 * 4. the rows after it are read back: through RETURNING on PostgreSQL and PGlite (returning.ts),
 *    with a SELECT by key elsewhere; then the post signal goes out per row.
 *
 * A delete on PostgreSQL with no pre receiver needs no SELECT: `DELETE ... RETURNING` gives the
 * rows as they were, exactly the ones deleted. TypeORM's own one-per-statement events still reach
 * other subscribers; ours skips them (isNamedStatementEvent). With nothing listening none of
 * this happens: the statement is TypeORM's, unchanged.
 */

type Kind = 'update' | 'delete' | 'soft-delete' | 'restore';
type AnySignal = ModelSignal<Family, Timing>;

const kinds: Record<Kind, { pre: AnySignal; post: AnySignal; source: WriteSource }> = {
  update: { pre: preSave, post: postSave, source: 'update' },
  delete: { pre: preDelete, post: postDelete, source: 'delete' },
  'soft-delete': { pre: preSoftDelete, post: postSoftDelete, source: 'softDelete' },
  restore: { pre: preRestore, post: postRestore, source: 'restore' },
};

/** The builder members used here (protected in TypeORM's typings). */
export interface CriteriaBuilder {
  expressionMap: {
    callListeners: boolean;
    queryType: string;
    mainAlias?: { hasMetadata: boolean; metadata: EntityMetadata; name: string };
    valuesSet?: unknown;
    wheres: unknown[];
  };
  queryRunner?: QueryRunner;
  /** TypeORM 1.x; 0.3 has only `connection`. */
  dataSource?: DataSource;
  connection: DataSource;
  createReturningExpression(type: string): string;
  escape(name: string): string;
  getQuery(): string;
  andWhere(where: string, parameters?: ObjectLiteral): unknown;
  andWhereInIds(ids: unknown): unknown;
}

type Execute = (this: never, ...args: unknown[]) => Promise<unknown>;

function wants(signal: AnySignal, sender: Sender): boolean {
  if (signal.hasListeners(sender)) return true;
  const scope = currentScope();
  return scope !== undefined && scope.sinks.some((sink) => sink.wants(signal, sender));
}

/** @internal The kind of criteria write whose rows must be named (something listens), else undefined. */
export function namedKind(builder: CriteriaBuilder): Kind | undefined {
  const map = builder.expressionMap;
  if (!map.callListeners || !map.mainAlias?.hasMetadata) return undefined;
  const kind = map.queryType as Kind;
  const signals = kinds[kind];
  if (signals === undefined) return undefined;
  const { metadata } = map.mainAlias;
  if (metadata.primaryColumns.length === 0 || metadata.isJunction) return undefined;
  const sender = senderOf(metadata);
  if (!wants(signals.pre, sender) && !wants(signals.post, sender)) return undefined;
  // Only for DataSources the signals subscriber is installed on: the others send no signal at all.
  const dataSource = builder.dataSource ?? builder.connection;
  return hasSignalsSubscriber(dataSource) ? kind : undefined;
}

interface InFlight {
  readonly metadata: EntityMetadata;
  readonly kind: Kind;
  readonly set: unknown;
}
const inFlight = new WeakMap<QueryRunner, InFlight[]>();
let inFlightCount = 0;

/**
 * @internal Whether a TypeORM update/remove/soft-remove/recover event is the one-per-statement
 * event of a statement whose rows are being named (its rows go out on their own).
 */
export function isNamedStatementEvent(runner: QueryRunner, metadata: EntityMetadata, entity: unknown): boolean {
  if (inFlightCount === 0) return false;
  const list = inFlight.get(runner);
  return list !== undefined && list.some((s) => s.metadata === metadata && (s.kind === 'update' ? entity === s.set : entity === undefined));
}

const isSqlite = (dataSource: DataSource) => ['sqlite', 'better-sqlite3', 'sqljs', 'capacitor', 'cordova', 'expo', 'react-native', 'nativescript'].includes(dataSource.driver.options.type);

/** @internal Runs a criteria write whose rows are named; see the module comment. */
export async function executeNamed(builder: CriteriaBuilder, kind: Kind, original: Execute, args: unknown[]): Promise<unknown> {
  const map = builder.expressionMap;
  const metadata = map.mainAlias!.metadata;
  const sender = senderOf(metadata);
  const dataSource = builder.dataSource ?? builder.connection;
  const { pre, post } = kinds[kind];
  const wantsPre = wants(pre, sender);
  const wantsPost = wants(post, sender);
  const returning = dataSource.driver.options.type === 'postgres';
  const lockFirst = !(returning && kind === 'delete' && !wantsPre);
  const borrowed = builder.queryRunner === undefined;
  const runner = builder.queryRunner ?? dataSource.createQueryRunner();
  builder.queryRunner = runner;
  const ownTransaction = !runner.isTransactionActive && (lockFirst || listensInTransaction(pre, sender) || listensInTransaction(post, sender));
  const wheres = map.wheres.slice();
  const set = map.valuesSet;
  const shared = sharedOf(runner, set);
  let watch: Watch | undefined;
  try {
    if (ownTransaction) await runner.startTransaction();
    const before = lockFirst ? await lockRows(builder, kind, runner, dataSource) : undefined;
    if (before) restrictTo(builder, metadata, before, dataSource);
    if (before && wantsPre && before.length > 0) await send(runner, before.map((row) => ({ signal: pre, sender, build: preFields, source: { kind, runner, metadata, set, shared, row } })));
    if (returning && wantsPost) watch = returnAllColumns(builder, runner, metadata);
    const flight: InFlight = { metadata, kind, set };
    const list = inFlight.get(runner) ?? [];
    list.push(flight);
    inFlight.set(runner, list);
    inFlightCount++;
    let result: unknown;
    try {
      result = await original.apply(builder as never, args);
    } finally {
      inFlightCount--;
      list.splice(list.indexOf(flight), 1);
      delete (builder as Partial<CriteriaBuilder>).createReturningExpression;
    }
    if (wantsPost) {
      const written = await writtenRows(kind, runner, metadata, dataSource, before, watch);
      if (written.length > 0) await send(runner, written.map(([row, previous]) => ({ signal: post, sender, build: postFields, source: { kind, runner, metadata, set, shared, row, previous } })));
    }
    if (ownTransaction) await runner.commitTransaction();
    return result;
  } catch (error) {
    if (ownTransaction && runner.isTransactionActive) await runner.rollbackTransaction().catch(() => undefined);
    throw error;
  } finally {
    map.wheres = wheres;
    if (watch) unwatchReturning(runner, watch);
    if (borrowed) {
      builder.queryRunner = undefined;
      await runner.release();
    }
  }
}

function send(runner: QueryRunner, rows: Row[]): Promise<void> {
  let done: Promise<void> = Promise.resolve();
  for (const row of rows) done = enqueue(runner, row);
  return done;
}

/** The rows the statement's criteria select, read with the statement's own WHERE and locked. */
async function lockRows(builder: CriteriaBuilder, kind: Kind, runner: QueryRunner, dataSource: DataSource): Promise<ObjectLiteral[]> {
  const map = builder.expressionMap;
  const wheres = map.wheres.slice();
  // TypeORM 1.x adds `deletedAt IS [NOT] NULL` to a soft delete's/restore's WHERE as it builds
  // the SQL (0.3 does not): building it first gives the SELECT exactly the statement's criteria.
  if (kind === 'soft-delete' || kind === 'restore') builder.getQuery();
  const select = new SelectQueryBuilder(builder as never);
  map.wheres = wheres;
  (select as unknown as CriteriaBuilder).expressionMap.queryType = 'select';
  const alias = map.mainAlias!.name;
  select.setQueryRunner(runner).select(alias).withDeleted().callListeners(false);
  // By key unless the statement has an order of its own (ORDER BY ... LIMIT on MySQL): the
  // payloads come in a stable order, and concurrent criteria writes lock rows in the same order.
  if (Object.keys(select.expressionMap.orderBys).length === 0) {
    for (const column of map.mainAlias!.metadata.primaryColumns) select.addOrderBy(`${alias}.${column.propertyPath}`, 'ASC');
  }
  if (!isSqlite(dataSource)) select.setLock('pessimistic_write');
  return select.getMany();
}

let idParameters = 0;

/** Restricts the statement to the rows read (see step 2 of the module comment). */
function restrictTo(builder: CriteriaBuilder, metadata: EntityMetadata, rows: readonly ObjectLiteral[], dataSource: DataSource): void {
  // SQLite lets one writer in at a time: the statement sees exactly the rows the SELECT saw.
  if (isSqlite(dataSource)) return;
  if (rows.length === 0) {
    builder.andWhere('1 = 0');
    return;
  }
  const primary = metadata.primaryColumns;
  if (dataSource.driver.options.type === 'postgres' && primary.length === 1) {
    // One array parameter, whatever the number of rows.
    const [column] = primary;
    const name = `tsig_ids_${(idParameters = (idParameters + 1) % 1e9)}`;
    const values = rows.map((row) => dataSource.driver.preparePersistentValue(column.getEntityValue(row), column));
    builder.andWhere(`${builder.escape(column.databaseName)} = ANY(:${name})`, { [name]: values });
    return;
  }
  builder.andWhereInIds(rows.map((row) => metadata.getEntityIdMap(row)));
}

/** PostgreSQL: the statement also returns every column of the rows it wrote. */
function returnAllColumns(builder: CriteriaBuilder, runner: QueryRunner, metadata: EntityMetadata): Watch {
  const watch = watchReturning(runner);
  const columns = storedColumns(metadata);
  const own = builder.createReturningExpression;
  builder.createReturningExpression = function (this: CriteriaBuilder, type: string) {
    return returningWith(
      watch,
      own.call(this, type),
      columns.map((c, i) => [this.escape(c.databaseName), String(i)] as const),
      (name) => this.escape(name),
    );
  };
  return watch;
}

type ColumnMetadata = EntityMetadata['columns'][number];
const columnsOf = new WeakMap<EntityMetadata, readonly ColumnMetadata[]>();
/** The columns a row stores, once per entity: changesOf() walks them for every row. */
function storedColumns(metadata: EntityMetadata): readonly ColumnMetadata[] {
  let columns = columnsOf.get(metadata);
  if (columns === undefined) columnsOf.set(metadata, (columns = metadata.columns.filter((c) => !c.isVirtual)));
  return columns;
}

/** [row as written, row before] for each row the statement wrote. */
async function writtenRows(
  kind: Kind,
  runner: QueryRunner,
  metadata: EntityMetadata,
  dataSource: DataSource,
  before: ObjectLiteral[] | undefined,
  watch: Watch | undefined,
): Promise<Array<[ObjectLiteral, ObjectLiteral | undefined]>> {
  if (watch) {
    const columns = storedColumns(metadata);
    const rows = (watch.rows ?? []).map((raw) => {
      const entity = metadata.create(runner, { fromDeserializer: true }) as ObjectLiteral;
      columns.forEach((c, i) => c.setEntityValue(entity, dataSource.driver.prepareHydratedValue(raw[String(i)], c)));
      return entity;
    });
    if (kind === 'delete' || !before) return rows.map((row) => [row, row]);
    // In the order the rows were read, by key (RETURNING follows the table's physical order).
    const order = new Map(before.map((row, i) => [keyOf(metadata, row), i]));
    const keyed = rows.map((row) => [keyOf(metadata, row), row] as const);
    keyed.sort(([a], [b]) => (order.get(a) ?? Infinity) - (order.get(b) ?? Infinity));
    return keyed.map(([key, row]) => [row, before[order.get(key) ?? -1]]);
  }
  const rows = before ?? [];
  if (kind === 'delete' || rows.length === 0) return rows.map((row) => [row, row]);
  const after = byKey(metadata, await readBack(runner, metadata, rows));
  const written: Array<[ObjectLiteral, ObjectLiteral | undefined]> = [];
  for (const row of rows) {
    const now = after.get(keyOf(metadata, row));
    if (now) written.push([now, row]);
  }
  return written;
}

/** The rows again, by key, after the statement (no RETURNING): in chunks, under any parameter limit. */
async function readBack(runner: QueryRunner, metadata: EntityMetadata, rows: readonly ObjectLiteral[]): Promise<ObjectLiteral[]> {
  const found: ObjectLiteral[] = [];
  for (let i = 0; i < rows.length; i += 500) {
    const ids = rows.slice(i, i + 500).map((row) => metadata.getEntityIdMap(row));
    const select = runner.manager.createQueryBuilder(metadata.target, 'tsig_row', runner).whereInIds(ids).withDeleted().callListeners(false);
    found.push(...(await select.getMany()));
  }
  return found;
}

function keyOf(metadata: EntityMetadata, row: ObjectLiteral): string {
  return metadata.primaryColumns.map((c) => comparable(c.getEntityValue(row))).join('\u0000');
}

function byKey(metadata: EntityMetadata, rows: readonly ObjectLiteral[]): Map<string, ObjectLiteral> {
  return new Map(rows.map((row) => [keyOf(metadata, row), row]));
}

interface Source {
  kind: Kind;
  runner: QueryRunner;
  metadata: EntityMetadata;
  /** The statement's SET values (update and increment). */
  set: unknown;
  /** Their keys and the runner's SaveOptions.data, worked out once per statement. */
  shared: Shared;
  row: ObjectLiteral;
  previous?: ObjectLiteral;
}

function idOf(metadata: EntityMetadata, row: ObjectLiteral): EntityId | undefined {
  const id = metadata.getEntityIdMixedMap(row) as EntityId | undefined | null;
  return id ?? undefined;
}

const frozen = (row: ObjectLiteral | undefined) => (row ? Object.freeze({ ...row }) : undefined);

function dataOf(runner: QueryRunner): ObjectLiteral | undefined {
  const data = runner.data as ObjectLiteral | undefined;
  return data && Object.keys(data).length > 0 ? data : undefined;
}

interface Shared {
  readonly updateFields: readonly string[];
  readonly data: ObjectLiteral | undefined;
}

function sharedOf(runner: QueryRunner, set: unknown): Shared {
  return { updateFields: Object.freeze(set && typeof set === 'object' ? Object.keys(set) : []), data: dataOf(runner) };
}

/** The pre signal's payload of one row: the row as it is; for an update, the SET values. */
function preFields({ kind, metadata, set, shared, row }: Source): object {
  const source = kinds[kind].source;
  if (kind !== 'update') return { instance: row, entityId: idOf(metadata, row), previous: frozen(row), source, metadata };
  return {
    instance: set,
    created: false,
    updateFields: shared.updateFields,
    previous: frozen(row),
    changes: undefined,
    entityId: idOf(metadata, row),
    source,
    partial: true,
    metadata,
    data: shared.data,
  };
}

/** The post signal's payload of one row: the row as written, the row before, what changed. */
function postFields({ kind, metadata, shared, row, previous }: Source): object {
  const source = kinds[kind].source;
  if (kind !== 'update') return { instance: row, entityId: idOf(metadata, row), previous: frozen(previous), source, metadata };
  return {
    instance: row,
    created: false,
    updateFields: shared.updateFields,
    previous: frozen(previous),
    changes: previous ? changesOf(metadata, previous, row) : undefined,
    entityId: idOf(metadata, row),
    source,
    partial: false,
    metadata,
    data: shared.data,
  };
}

function changesOf(metadata: EntityMetadata, before: ObjectLiteral, after: ObjectLiteral): object {
  const changes: Record<string, object> = {};
  for (const column of storedColumns(metadata)) {
    const from = column.getEntityValue(before);
    const to = column.getEntityValue(after);
    if (!sameValue(from, to)) changes[column.propertyPath] = Object.freeze({ from, to });
  }
  return Object.freeze(changes);
}
