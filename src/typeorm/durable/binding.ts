import type { DataSource, QueryRunner } from 'typeorm';
import { SignalsError } from '../../signals/errors';

/**
 * The part of a pg-boss (>= 12) `PgBoss` instance that typeorm-signals calls. The library never
 * imports pg-boss for this: the application passes its own started instance, so pg-boss stays
 * an optional peer dependency and nothing of it is bundled.
 *
 * @example
 * import { PgBoss } from 'pg-boss';
 * const boss = new PgBoss({ connectionString: process.env.DATABASE_URL, migrate: false });
 * await boss.start();
 * const queue: DurableQueue = boss; // what installSignals(dataSource, { durable: boss }) uses
 */
export interface DurableQueue {
  /** Inserts jobs in one statement; with `{ db }`, through that connection (the write's transaction). */
  insert(name: string, jobs: object[], options?: { db?: DurableDb; returnId?: boolean }): Promise<unknown>;
  /** Claims up to `batchSize` jobs; with `{ db }`, inside that connection's transaction. */
  fetch(name: string, options?: { batchSize?: number; db?: DurableDb }): Promise<FetchedJob[]>;
  /** Marks jobs completed. */
  complete(name: string, id: unknown, data?: object | null, options?: { db?: DurableDb }): Promise<unknown>;
  /** Marks jobs failed: retried per their policy, else dead-lettered. */
  fail(name: string, id: unknown, data?: object | null, options?: { db?: DurableDb }): Promise<unknown>;
  /** Reads a queue, or null. */
  getQueue(name: string): Promise<object | null>;
  /** Creates a queue. */
  createQueue(name: string, options?: object): Promise<void>;
  /** pg-boss's database; the worker LISTENs through its `listen()` when it has one (pg-boss's own pool does). */
  getDb?(): unknown;
}

/**
 * pg-boss's database adapter shape (`{ db }`): a way to run SQL on a given connection.
 *
 * @example
 * const db: DurableDb = { executeSql: async (text, values) => ({ rows: await client.query(text, values).then((r) => r.rows) }) };
 */
export interface DurableDb {
  /** Runs one statement and resolves to its rows. */
  executeSql(text: string, values?: unknown[]): Promise<DurableDbResult>;
}

/**
 * What DurableDb.executeSql resolves to.
 *
 * @example
 * const { rows }: DurableDbResult = await db.executeSql('SELECT 1 AS one');
 */
export interface DurableDbResult {
  /** The statement's rows (empty for statements without RETURNING). */
  rows: any[];
}

/**
 * A job as pg-boss's fetch() hands it out.
 *
 * @example
 * const [job]: FetchedJob[] = await boss.fetch('typeorm-signals');
 */
export interface FetchedJob {
  /** The job id: the receiver's `deliveryId` (kept in the data too, since a redrive from the dead-letter queue gives a new id). */
  id: string;
  /** The queue name. */
  name: string;
  /** The job's JSON data. */
  data: unknown;
  /** Attempts before this one (0 on the first). */
  retryCount: number;
}

/** @internal What installSignals(dataSource, { durable }) bound to a DataSource. */
export interface Binding {
  readonly boss: DurableQueue;
  readonly queue: string;
  readonly deadLetter: string;
  /** Resolves once both queues exist (created when missing). */
  ready(): Promise<void>;
}

/** The queue every durable job goes to, and where it goes after its last retry. */
export const DEFAULT_QUEUE = 'typeorm-signals';
export const deadLetterOf = (queue: string) => `${queue}.dead-letter`;

const bindings = new WeakMap<DataSource, Binding>();

/** @internal The durable queue bound to this DataSource, if any. */
export function bindingOf(dataSource: DataSource): Binding | undefined {
  return bindings.get(dataSource);
}

/**
 * @internal The durable queue bound to `dataSource`; a SignalsError naming `where` and the
 * DataSource when there is none (`then`: what to do about it).
 */
export function requireBinding(dataSource: DataSource, where: string, then: string): Binding {
  const binding = dataSource && typeof dataSource === 'object' ? bindings.get(dataSource) : undefined;
  if (binding) return binding;
  const name = dataSource && typeof dataSource === 'object' && 'options' in dataSource ? describeDataSource(dataSource) : 'this DataSource';
  throw new SignalsError(`${where}: ${name} has no durable queue; call installSignals(dataSource, { durable: boss }) ${then}`);
}

const QUEUE_METHODS = ['insert', 'fetch', 'complete', 'fail', 'getQueue', 'createQueue'] as const;

/** @internal Checks that `value` looks like a started PgBoss; TypeError otherwise. */
export function checkQueue(value: unknown, where: string, option = 'durable'): DurableQueue {
  const missing = QUEUE_METHODS.filter((m) => typeof (value as Record<string, unknown> | null)?.[m] !== 'function');
  if (missing.length > 0) {
    throw new TypeError(
      `${where}: "${option}" must be a started PgBoss instance from pg-boss >= 12 (new PgBoss(...), then await boss.start()); ` +
        `got ${value === null ? 'null' : typeof value}${typeof value === 'object' && value !== null ? ` without ${missing.map((m) => `${m}()`).join(', ')}` : ''}`,
    );
  }
  return value as DurableQueue;
}

/** @internal A short, credential-free name for a DataSource in messages: driver and database. */
export function describeDataSource(dataSource: DataSource): string {
  const options = dataSource.options as { type: string; database?: unknown; url?: string; name?: string };
  let database = typeof options.database === 'string' ? options.database : undefined;
  if (database === undefined && typeof options.url === 'string') {
    try {
      database = decodeURIComponent(new URL(options.url).pathname.slice(1)) || undefined;
    } catch {
      database = undefined;
    }
  }
  const name = options.name && options.name !== 'default' ? ` "${options.name}"` : '';
  return `DataSource${name} (${options.type}${database ? `, database "${database}"` : ''})`;
}

/** @internal Whether durable jobs can live in this DataSource's database (PostgreSQL or PGlite). */
export function servesDurable(dataSource: DataSource): boolean {
  return dataSource.options.type === 'postgres';
}

/** @internal Binds `boss` to the DataSource (installSignals' `durable` option). */
export function bindQueue(dataSource: DataSource, value: unknown, queue = DEFAULT_QUEUE): () => void {
  const boss = checkQueue(value, 'installSignals()');
  if (!servesDurable(dataSource)) {
    throw new SignalsError(
      `installSignals(): durable receivers need PostgreSQL: pg-boss keeps its jobs in the database the write commits to, ` +
        `and ${describeDataSource(dataSource)} is not PostgreSQL. Use phase 'commit' for receivers of this DataSource`,
    );
  }
  const existing = bindings.get(dataSource);
  if (existing && existing.boss !== boss) {
    throw new SignalsError(`installSignals(): ${describeDataSource(dataSource)} already has another durable queue bound; uninstall it first`);
  }
  if (existing) return () => undefined;
  let ready: Promise<void> | undefined;
  const binding: Binding = {
    boss,
    queue,
    deadLetter: deadLetterOf(queue),
    ready: () => {
      ready ??= ensureQueues(boss, queue).catch((error: unknown) => {
        ready = undefined; // the next write tries again (the migration may have run since)
        throw error;
      });
      return ready;
    },
  };
  bindings.set(dataSource, binding);
  return () => {
    if (bindings.get(dataSource) === binding) bindings.delete(dataSource);
  };
}

/**
 * Creates the queue and its dead-letter queue when the migration did not. Through pg-boss's
 * own pool, once per process: queue rows are set-up, not part of any write. The queue has
 * `notify`, so pg-boss's job INSERT also NOTIFYs and a listening worker wakes at COMMIT.
 */
export async function ensureQueues(boss: DurableQueue, queue: string): Promise<void> {
  const deadLetter = deadLetterOf(queue);
  try {
    if (!(await boss.getQueue(deadLetter))) await boss.createQueue(deadLetter);
    if (!(await boss.getQueue(queue))) await boss.createQueue(queue, { deadLetter, notify: true });
  } catch (error) {
    throw new SignalsError(
      `durable queue "${queue}": pg-boss could not read or create it (${(error as Error)?.message ?? String(error)}). ` +
        "Is the PgBoss instance started, and did the migration create pg-boss's schema (see durableSchemaSql())?",
      { cause: error },
    );
  }
}

/**
 * pg-boss's `{ db }` over a TypeORM QueryRunner: its statements join the runner's transaction.
 * TypeORM's structured result is used because plain query() returns [rows, count] for UPDATE
 * and DELETE on PostgreSQL.
 */
export function runnerDb(runner: QueryRunner): DurableDb {
  return {
    executeSql: async (text, values) => ({ rows: ((await runner.query(text, values, true)) as { records?: any[] }).records ?? [] }),
  };
}
