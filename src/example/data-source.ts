import 'reflect-metadata';
import { DataSource, type DataSourceOptions, type Logger, type LoggerOptions } from 'typeorm';
import { PGliteDriver } from 'typeorm-pglite';
import { SignalsSubscriber } from '../index';
import { exampleMigrations } from '../../migrations';
import { exampleEntities } from './entities';

/**
 * The example's DataSource configuration, in one place: ormconfig.ts (the TypeORM CLI), the demo
 * and the tests all build on it. The schema comes from the migrations; `synchronize` stays off.
 */
export const exampleConfig = {
  entities: exampleEntities,
  migrations: exampleMigrations,
  subscribers: [SignalsSubscriber],
  synchronize: false,
  migrationsRun: false,
};

export interface ExampleDataSourceOptions {
  /**
   * A postgres:// URL. Default: process.env.DATABASE_URL. When there is none (or null is
   * given) the database is an in-process PGlite.
   */
  url?: string | null;
  /**
   * PGlite only: the folder that keeps the database between runs; absent: in memory.
   * PGlite has one instance per process, shared by every PGlite DataSource, and destroying any
   * of them closes it.
   */
  pgliteDataDir?: string;
  /**
   * Server only: use this PostgreSQL schema (it must exist) for everything, the migrations'
   * own SQL included (it becomes the connections' search_path).
   */
  schema?: string;
  /** Connections in the pool (server only). Default 5. */
  poolSize?: number;
  logging?: LoggerOptions;
  logger?: Logger;
}

/** The DataSourceOptions for the example; see createExampleDataSource. */
export function exampleDataSourceOptions(options: ExampleDataSourceOptions = {}): DataSourceOptions {
  const url = options.url === undefined ? process.env.DATABASE_URL || null : options.url;
  const common = {
    ...exampleConfig,
    logging: options.logging ?? false,
    ...(options.logger ? { logger: options.logger } : {}),
  };
  if (url) {
    if (!/^postgres(ql)?:\/\//.test(url)) throw new Error('the example needs a postgres:// URL (DATABASE_URL)');
    const extra: Record<string, unknown> = { max: options.poolSize ?? 5 };
    if (options.schema) extra.options = `-c search_path=${options.schema}`;
    return { ...common, type: 'postgres', url, schema: options.schema, extra };
  }
  if (options.schema) throw new Error('the "schema" option needs a PostgreSQL server (url or DATABASE_URL)');
  // typeorm-pglite stands in for the `pg` module; TypeORM's postgres driver does the rest.
  const driver = new PGliteDriver(options.pgliteDataDir ? { dataDir: options.pgliteDataDir } : {}).driver;
  return { ...common, type: 'postgres', driver };
}

/**
 * A DataSource (not initialized) for the example: User and UserProfile, the example migrations,
 * and SignalsSubscriber, on DATABASE_URL's server or, without one, on PGlite.
 */
export function createExampleDataSource(options: ExampleDataSourceOptions = {}): DataSource {
  return new DataSource(exampleDataSourceOptions(options));
}
