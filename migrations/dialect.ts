import type { DataSource, QueryRunner } from 'typeorm';

/**
 * The SQL dialects the example's migrations are written for. PGlite (typeorm-pglite) runs
 * TypeORM's postgres driver, and MariaDB is driven by the mysql driver, so they need no family
 * of their own.
 */
export type Dialect = 'postgres' | 'mysql' | 'sqlite';

const dialects: Record<string, Dialect> = {
  postgres: 'postgres',
  mysql: 'mysql',
  mariadb: 'mysql',
  sqlite: 'sqlite',
  'better-sqlite3': 'sqlite',
  sqljs: 'sqlite',
  capacitor: 'sqlite',
  cordova: 'sqlite',
  expo: 'sqlite',
  nativescript: 'sqlite',
  'react-native': 'sqlite',
};

/**
 * The dialect of the database a migration runs on, from the DataSource's `type` (TypeORM 1.x
 * calls the runner's DataSource `dataSource`; 0.3 calls it `connection`).
 */
export function dialectOf(queryRunner: QueryRunner): Dialect {
  const runner = queryRunner as QueryRunner & { dataSource?: DataSource; connection?: DataSource };
  const type = String((runner.dataSource ?? runner.connection)!.options.type);
  const dialect = dialects[type];
  if (!dialect) {
    throw new Error(`The example migrations have SQL for PostgreSQL, MySQL/MariaDB and SQLite, not for the "${type}" driver`);
  }
  return dialect;
}
