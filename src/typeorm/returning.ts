import type { AfterQueryEvent, ObjectLiteral, QueryRunner } from 'typeorm';

/**
 * Extra RETURNING columns for the bridge's own use (PostgreSQL and PGlite): which rows an upsert
 * inserted (insert-outcome.ts), which rows a criteria write touched and their values
 * (criteria-rows.ts). The columns go under private aliases; the subscriber's afterQuery hands them
 * to the watch and removes them from the driver's rows before TypeORM builds its result, so the
 * caller gets exactly what it would have got without them (no rows at all when the statement had
 * no RETURNING of its own).
 *
 * Only PostgreSQL is served this way: there the statement's result keeps its row count whatever
 * it returns. MariaDB's DELETE ... RETURNING and SQLite's RETURNING would change the DeleteResult
 * or UpdateResult the caller gets (no affected count, other raw), so those read their rows with a
 * SELECT instead.
 */
export interface Watch {
  /** The alias prefix, unique per statement: `tsig_<n>_`. */
  readonly alias: string;
  /** The statement's own RETURNING was empty: the caller expects no rows back. */
  noReturning: boolean;
  /** Our columns of each returned row, by the name after the prefix; set once the statement ran. */
  rows?: ObjectLiteral[];
  /** Called with `rows` as soon as they are read, before TypeORM's after-events. */
  readonly onRows?: (rows: ObjectLiteral[]) => void;
}

const watches = new WeakMap<QueryRunner, Watch[]>();
let sequence = 0;

/** Starts watching the runner for the statement that will carry these columns. */
export function watchReturning(runner: QueryRunner, onRows?: (rows: ObjectLiteral[]) => void): Watch {
  sequence = (sequence + 1) % 1e9;
  const watch: Watch = { alias: `tsig_${sequence}_`, noReturning: false, onRows };
  const list = watches.get(runner);
  if (list) list.push(watch);
  else watches.set(runner, [watch]);
  return watch;
}

export function unwatchReturning(runner: QueryRunner, watch: Watch): void {
  const list = watches.get(runner);
  if (!list) return;
  const index = list.indexOf(watch);
  if (index >= 0) list.splice(index, 1);
  if (list.length === 0) watches.delete(runner);
}

/**
 * The RETURNING expression: TypeORM's own (`base`, maybe empty) followed by `extra`, a list of
 * [SQL expression, name] pairs, each aliased under the watch's prefix.
 */
export function returningWith(watch: Watch, base: string, extra: ReadonlyArray<readonly [string, string]>, escape: (name: string) => string): string {
  watch.noReturning = base === '';
  const ours = extra.map(([sql, name]) => `${sql} AS ${escape(watch.alias + name)}`).join(', ');
  return base ? `${base}, ${ours}` : ours;
}

/** @internal afterQuery: takes the watched columns out of a watched statement's rows. */
export function readReturning(event: AfterQueryEvent): void {
  const list = watches.get(event.queryRunner);
  if (!list) return;
  const watch = list.find((w) => w.rows === undefined && event.query.includes(w.alias));
  if (!watch) return;
  const raw = event.rawResults as { rows?: ObjectLiteral[] } | ObjectLiteral[] | undefined;
  const rows = Array.isArray(raw) ? raw : raw?.rows;
  if (!Array.isArray(rows)) return;
  const prefix = watch.alias;
  // TypeORM asked for no RETURNING of its own: it gets no rows, so ours need not be taken out.
  const keep = !watch.noReturning;
  watch.rows = rows.map((row) => {
    const ours: ObjectLiteral = {};
    for (const key of Object.keys(row)) {
      if (!key.startsWith(prefix)) continue;
      ours[key.slice(prefix.length)] = row[key];
      if (keep) delete row[key];
    }
    return ours;
  });
  if (!keep) rows.length = 0;
  watch.onRows?.(watch.rows);
}
