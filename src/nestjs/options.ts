import type { DataSource } from 'typeorm';

/**
 * What `SignalsModule.forRoot()` takes (and `forRootAsync()`'s factory returns).
 *
 * @example
 * SignalsModule.forRoot({ dataSources: ['default', 'reports'] });
 */
export interface SignalsModuleOptions {
  /**
   * The DataSources to install the signals on: @nestjs/typeorm connection names ('default' is
   * the unnamed `TypeOrmModule.forRoot()`) or DataSource objects. Default: `['default']`.
   */
  dataSources?: ReadonlyArray<string | DataSource>;
  /** Durable receivers (phase 'durable'): the pg-boss queue, and optionally a worker in this process. */
  durable?: SignalsModuleDurableOptions;
}

/**
 * The `durable` option of SignalsModule: the started PgBoss instance durable receivers enqueue
 * to, and optionally a worker that runs them in this process (started when the application has
 * booted, stopped when it shuts down, before the DataSources are destroyed).
 *
 * @example
 * SignalsModule.forRootAsync({
 *   inject: [PgBoss],
 *   useFactory: (boss: PgBoss) => ({ durable: { boss, worker: { concurrency: 2 } } }),
 * });
 */
export interface SignalsModuleDurableOptions {
  /** The application's started PgBoss instance, on the database of `dataSource`. Stop it in onApplicationShutdown, after the worker. */
  boss: unknown;
  /** The DataSource (or connection name) whose writes enqueue durable jobs. Default: the first of `dataSources`. */
  dataSource?: string | DataSource;
  /** Run a worker here, with these options of startSignalsWorker(). Absent: this process only enqueues. */
  worker?: SignalsModuleWorkerOptions;
}

/**
 * The worker options SignalsModule passes to startSignalsWorker().
 *
 * @example
 * const worker: SignalsModuleWorkerOptions = { concurrency: 2, batchSize: 100 };
 */
export interface SignalsModuleWorkerOptions {
  /** Batches run at once, each in its own transaction and connection. Default 1. */
  concurrency?: number;
  /** Jobs claimed per batch (and per transaction). Default 50. */
  batchSize?: number;
  /** Seconds between looks at an empty queue (the backstop of `listen`). Default 0.5. */
  pollInterval?: number;
  /** LISTEN for new jobs on a dedicated connection, so they run at COMMIT rather than at the next poll. Default true. */
  listen?: boolean;
  /** Where the worker's own errors go (not a receiver's). Default: console.error with name and message. */
  onError?: (error: Error) => void;
}

/**
 * What `SignalsModule.forRootAsync()` takes: a factory for the options, with the modules it
 * needs and the providers it is called with, as in @nestjs/typeorm's forRootAsync.
 *
 * @example
 * declare class QueueModule {} // provides the application's started PgBoss
 * SignalsModule.forRootAsync({
 *   imports: [QueueModule],
 *   inject: [PgBoss],
 *   useFactory: (boss: PgBoss) => ({ dataSources: ['default', 'reports'], durable: { boss } }),
 * });
 */
export interface SignalsModuleAsyncOptions {
  /** Modules whose providers the factory injects. */
  imports?: any[];
  /** The providers (tokens) the factory is called with, in order. */
  inject?: any[];
  /** Returns the options, or a promise of them. */
  useFactory: (...args: any[]) => SignalsModuleOptions | Promise<SignalsModuleOptions>;
}

/** @internal The token of the resolved module options. */
export const SIGNALS_MODULE_OPTIONS = Symbol.for('typeorm-signals.nestjs.options');

const optionKeys = ['dataSources', 'durable'];
const durableKeys = ['boss', 'dataSource', 'worker'];

/** @internal Checks the options' shape; TypeErrors name the option. DataSources are resolved at boot. */
export function checkModuleOptions(options: unknown): SignalsModuleOptions {
  const where = 'SignalsModule';
  if (options === undefined) return {};
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new TypeError(`${where}: options must be an object { dataSources?, durable? }, got ${options === null ? 'null' : Array.isArray(options) ? 'an array' : typeof options}`);
  }
  const o = options as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (!optionKeys.includes(key)) throw new TypeError(`${where}: unknown option "${key}" (known: ${optionKeys.join(', ')})`);
    if (o[key] === undefined) throw new TypeError(`${where}: option "${key}" is undefined; leave it out to use its default`);
  }
  if (o.dataSources !== undefined) {
    if (!Array.isArray(o.dataSources) || o.dataSources.length === 0) {
      throw new TypeError(`${where}: "dataSources" must be a non-empty list of connection names or DataSources, got ${describe(o.dataSources)}`);
    }
    o.dataSources.forEach((entry, i) => checkDataSourceRef(entry, `"dataSources"[${i}]`));
  }
  if (o.durable !== undefined) {
    const d = o.durable as Record<string, unknown>;
    if (typeof d !== 'object' || d === null || Array.isArray(d)) throw new TypeError(`${where}: "durable" must be an object { boss, dataSource?, worker? }, got ${describe(d)}`);
    for (const key of Object.keys(d)) {
      if (!durableKeys.includes(key)) throw new TypeError(`${where}: unknown key "${key}" in "durable" (known: ${durableKeys.join(', ')})`);
    }
    if (d.boss === undefined || d.boss === null) throw new TypeError(`${where}: "durable.boss" must be the application's started PgBoss instance, got ${describe(d.boss)}`);
    if ('dataSource' in d) checkDataSourceRef(d.dataSource, '"durable.dataSource"');
    if ('worker' in d && (typeof d.worker !== 'object' || d.worker === null || Array.isArray(d.worker))) {
      throw new TypeError(`${where}: "durable.worker" must be an object { concurrency?, batchSize?, pollInterval?, listen?, onError? }, got ${describe(d.worker)}`);
    }
  }
  return o as SignalsModuleOptions;
}

/** @internal A connection name or a DataSource; anything else (undefined included) is a TypeError. */
export function checkDataSourceRef(value: unknown, what: string): void {
  if (typeof value === 'string' && value !== '') return;
  if (isDataSource(value)) return;
  throw new TypeError(
    `SignalsModule: ${what} must be a @nestjs/typeorm connection name or a TypeORM DataSource, got ${describe(value)}` +
      (value === undefined ? ' (a variable that is undefined when this code runs is usually a circular import)' : ''),
  );
}

/** @internal */
export function isDataSource(value: unknown): value is DataSource {
  return typeof value === 'object' && value !== null && Array.isArray((value as { subscribers?: unknown }).subscribers);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return value.length === 0 ? 'an empty list' : 'a list';
  if (typeof value === 'string') return JSON.stringify(value);
  return typeof value;
}
