import type { AfterQueryEvent, DataSource, EntityMetadata, ObjectLiteral, QueryRunner } from 'typeorm';
import { dataSourceOf } from './events';
import type { EntityId } from './payloads';

/**
 * What an upsert(), insert().orUpdate() or insert().orIgnore() statement did to each of its rows,
 * on PostgreSQL (and PGlite, the same server in-process): TypeORM fires an insert event for every
 * value set whatever happened (typeorm#8811, #5449). When postSave listens, the statement's
 * RETURNING gains `(xmax = 0)`, true for a row the statement inserted and false for one it
 * updated (the conflicting row, locked and rewritten, carries the writing transaction's xmax),
 * plus the key and inserted columns under private aliases. Rows that are not returned were left
 * alone (ON CONFLICT DO NOTHING, or a skipped update): postSave is not sent for them.
 *
 * The aliased columns are read and removed in the subscriber's afterQuery, before TypeORM builds
 * the InsertResult, so neither TypeORM nor the caller sees them.
 */

/** A row's outcome: created true/false, or left alone (not written, so no postSave). */
export type Outcome = { created: boolean; entityId: EntityId | undefined } | 'untouched';

/** Outcomes by value object, while the statement's after-events run. */
export const outcomes = new WeakMap<object, Outcome>();

interface Capture {
  readonly alias: string;
  readonly metadata: EntityMetadata;
  readonly values: readonly ObjectLiteral[];
  readonly compared: readonly ColumnMetadata[];
  /** TypeORM's own RETURNING was empty: the caller expects no rows back. */
  noReturning: boolean;
  done: boolean;
}

type ColumnMetadata = EntityMetadata['columns'][number];

const captures = new WeakMap<QueryRunner, Capture[]>();
let sequence = 0;

/** Whether this DataSource can tell inserted from updated rows (PostgreSQL's xmax). */
export function canTellOutcome(dataSource: DataSource): boolean {
  return dataSource.driver.options.type === 'postgres';
}

const plain = (value: unknown) => value !== undefined && typeof value !== 'function';

/**
 * The RETURNING expression with the outcome columns appended. `base` is what TypeORM built
 * (possibly empty); `escape` is the builder's identifier quoting.
 */
export function outcomeReturning(capture: Capture, base: string, escape: (name: string) => string): string {
  capture.noReturning = base === '';
  const columns = [...capture.metadata.primaryColumns, ...capture.compared.filter((c) => !c.isPrimary)];
  const extra = [`(xmax = 0) AS ${escape(`${capture.alias}c`)}`, ...columns.map((c, i) => `${escape(c.databaseName)} AS ${escape(`${capture.alias}${i}`)}`)];
  return base ? `${base}, ${extra.join(', ')}` : extra.join(', ');
}

/** Starts watching the runner for this statement's result. */
export function watchOutcome(runner: QueryRunner, metadata: EntityMetadata, values: readonly ObjectLiteral[]): Capture {
  const compared = metadata.columns.filter((c) => !c.isVirtual && values.some((v) => plain(c.getEntityValue(v))));
  const capture: Capture = { alias: `tsig_${(sequence = (sequence + 1) % 1e9)}_`, metadata, values, compared, noReturning: false, done: false };
  const list = captures.get(runner);
  if (list) list.push(capture);
  else captures.set(runner, [capture]);
  return capture;
}

export function unwatchOutcome(runner: QueryRunner, capture: Capture): void {
  const list = captures.get(runner);
  if (!list) return;
  const index = list.indexOf(capture);
  if (index >= 0) list.splice(index, 1);
  if (list.length === 0) captures.delete(runner);
  for (const value of capture.values) outcomes.delete(value);
}

/** @internal afterQuery: reads (and removes) the outcome columns of a watched statement. */
export function readOutcome(event: AfterQueryEvent): void {
  const list = captures.get(event.queryRunner);
  if (!list) return;
  const capture = list.find((c) => !c.done && event.query.includes(`${c.alias}c`));
  if (!capture) return;
  capture.done = true;
  const raw = event.rawResults as { rows?: ObjectLiteral[] } | ObjectLiteral[] | undefined;
  const rows = Array.isArray(raw) ? raw : raw?.rows;
  if (!Array.isArray(rows)) return;
  const dataSource = dataSourceOf(event.queryRunner);
  const keyColumns = [...capture.metadata.primaryColumns, ...capture.compared.filter((c) => !c.isPrimary)];
  const read = rows.map((row) => {
    const created = row[`${capture.alias}c`] === true;
    const values = keyColumns.map((c, i) => dataSource.driver.prepareHydratedValue(row[`${capture.alias}${i}`], c));
    for (const key of Object.keys(row)) if (key.startsWith(capture.alias)) delete row[key];
    return { created, values };
  });
  if (capture.noReturning) rows.length = 0;
  const matched = match(capture, keyColumns, read);
  if (!matched) return; // unknown: created stays null for every row
  capture.values.forEach((value, i) => {
    const found = matched[i];
    if (found === undefined) {
      outcomes.set(value, 'untouched');
      return;
    }
    const primary = capture.metadata.primaryColumns;
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
function match(capture: Capture, columns: readonly ColumnMetadata[], rows: readonly ReadRow[]): Array<ReadRow | undefined> | undefined {
  const { values } = capture;
  if (rows.length === values.length) return [...rows];
  if (rows.length > values.length) return undefined;
  const result: Array<ReadRow | undefined> = new Array(values.length).fill(undefined);
  let next = 0;
  for (const row of rows) {
    while (next < values.length && !sameRow(columns, values[next], row.values)) next++;
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

function comparable(value: unknown): string {
  if (value === null || value === undefined) return '\u0000null';
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString();
  if (Buffer.isBuffer(value)) return value.toString('hex');
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}
