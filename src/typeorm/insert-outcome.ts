import type { DataSource, EntityMetadata, ObjectLiteral, QueryRunner } from 'typeorm';
import { dataSourceOf } from './events';
import type { EntityId } from './payloads';
import { returningWith, unwatchReturning, watchReturning, type Watch } from './returning';

/**
 * What an upsert(), insert().orUpdate() or insert().orIgnore() statement did to each of its rows,
 * on PostgreSQL (and PGlite, the same server in-process): TypeORM fires an insert event for every
 * value set whatever happened (typeorm#8811, #5449). When postSave listens, the statement's
 * RETURNING gains `(xmax = 0)`, true for a row the statement inserted and false for one it
 * updated (the conflicting row, locked and rewritten, carries the writing transaction's xmax),
 * plus the key and inserted columns under private aliases. Rows that are not returned were left
 * alone (ON CONFLICT DO NOTHING, or a skipped update): postSave is not sent for them.
 *
 * The aliased columns are read and removed in the subscriber's afterQuery (returning.ts), before
 * TypeORM builds the InsertResult, so neither TypeORM nor the caller sees them.
 */

/** A row's outcome: created true/false, or left alone (not written, so no postSave). */
export type Outcome = { created: boolean; entityId: EntityId | undefined } | 'untouched';

/** Outcomes by value object, while the statement's after-events run. */
export const outcomes = new WeakMap<object, Outcome>();

type ColumnMetadata = EntityMetadata['columns'][number];

interface Capture {
  readonly watch: Watch;
  readonly metadata: EntityMetadata;
  readonly values: readonly ObjectLiteral[];
  /** The key columns, then the inserted ones: what identifies a returned row's value set. */
  readonly columns: readonly ColumnMetadata[];
}

/** Whether this DataSource can tell inserted from updated rows (PostgreSQL's xmax). */
export function canTellOutcome(dataSource: DataSource): boolean {
  return dataSource.driver.options.type === 'postgres';
}

const plain = (value: unknown) => value !== undefined && typeof value !== 'function';

/** Starts watching the runner for this statement's result. */
export function watchOutcome(runner: QueryRunner, metadata: EntityMetadata, values: readonly ObjectLiteral[]): Capture {
  const inserted = metadata.columns.filter((c) => !c.isVirtual && !c.isPrimary && values.some((v) => plain(c.getEntityValue(v))));
  const columns = [...metadata.primaryColumns, ...inserted];
  const dataSource = dataSourceOf(runner);
  let capture: Capture | undefined = undefined;
  const watch = watchReturning(runner, (rows) => {
    if (capture) settle(capture, dataSource, rows);
  });
  capture = { watch, metadata, values, columns };
  return capture;
}

/** The RETURNING expression with the outcome columns appended to TypeORM's own (`base`). */
export function outcomeReturning(capture: Capture, base: string, escape: (name: string) => string): string {
  const extra: Array<readonly [string, string]> = [['(xmax = 0)', 'c'], ...capture.columns.map((c, i) => [escape(c.databaseName), String(i)] as const)];
  return returningWith(capture.watch, base, extra, escape);
}

export function unwatchOutcome(runner: QueryRunner, capture: Capture): void {
  unwatchReturning(runner, capture.watch);
  for (const value of capture.values) outcomes.delete(value);
}

/** Records each value set's outcome from the rows the statement returned. */
function settle(capture: Capture, dataSource: DataSource, rows: readonly ObjectLiteral[]): void {
  const read = rows.map((row) => ({
    created: row.c === true,
    values: capture.columns.map((c, i) => dataSource.driver.prepareHydratedValue(row[String(i)], c)),
  }));
  const matched = match(capture, read);
  if (!matched) return; // unknown: created stays null for every row
  const primary = capture.metadata.primaryColumns;
  capture.values.forEach((value, i) => {
    const found = matched[i];
    if (found === undefined) {
      outcomes.set(value, 'untouched');
      return;
    }
    const id: EntityId | undefined =
      primary.length === 1 ? (found.values[0] as EntityId) : Object.freeze(Object.fromEntries(primary.map((c, k) => [c.propertyName, found.values[k]])));
    outcomes.set(value, { created: found.created, entityId: id ?? undefined });
  });
}

interface ReadRow {
  created: boolean;
  values: unknown[];
}

/**
 * Which returned row belongs to which value set. PostgreSQL returns the rows of one INSERT in
 * the order of its VALUES; when every value set came back (the usual upsert) that order is the
 * answer. When some were skipped, each returned row is matched to the next value set whose
 * inserted columns it equals; when that fails the outcome is unknown (undefined).
 */
function match(capture: Capture, rows: readonly ReadRow[]): Array<ReadRow | undefined> | undefined {
  const { values } = capture;
  if (rows.length === values.length) return [...rows];
  if (rows.length > values.length) return undefined;
  const result: Array<ReadRow | undefined> = new Array(values.length).fill(undefined);
  let next = 0;
  for (const row of rows) {
    while (next < values.length && !sameRow(capture.columns, values[next], row.values)) next++;
    if (next === values.length) return undefined;
    result[next++] = row;
  }
  return result;
}

function sameRow(columns: readonly ColumnMetadata[], value: ObjectLiteral, returned: readonly unknown[]): boolean {
  let compared = 0;
  for (let i = 0; i < columns.length; i++) {
    const given = columns[i].getEntityValue(value);
    if (!plain(given)) continue;
    compared++;
    if (comparable(given) !== comparable(returned[i])) return false;
  }
  return compared > 0;
}

/**
 * @internal Whether two reads of a column hold the same value: what comparable() says, without
 * building its strings for the common cases (the same primitive, two Dates).
 */
export function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a instanceof Date && b instanceof Date) {
    const x = a.getTime();
    const y = b.getTime();
    return x === y || (Number.isNaN(x) && Number.isNaN(y));
  }
  return comparable(a) === comparable(b);
}

/** @internal A value in a form two reads of the same column compare equal in. */
export function comparable(value: unknown): string {
  if (value === null || value === undefined) return '\u0000null';
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString();
  if (Buffer.isBuffer(value)) return value.toString('hex');
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}
