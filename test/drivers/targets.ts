/**
 * The databases the driver suite (test/drivers/*.test.ts) runs on. Each test file opens ONE
 * database of its own, empty, and drops it at the end:
 *
 * - postgres: the `pg` driver on DATABASE_URL's server (jest's global setup starts an embedded
 *   PostgreSQL when none is set): CREATE DATABASE per file (test/helpers/database.ts).
 * - pglite:   typeorm-pglite, an in-process PGlite in memory. One PGlite per process, shared by
 *   every DataSource and every query runner of that process: its file runs its tests serially.
 * - mariadb / mysql: the `mysql2` driver on MYSQL_URL (default mysql://root@127.0.0.1:3306),
 *   CREATE DATABASE per file. "mariadb" is TypeORM's mariadb type (INSERT ... RETURNING on
 *   MariaDB >= 10.5); "mysql" is TypeORM's mysql type on the same server, which never uses
 *   RETURNING (MySQL has none) and reads generated ids from insertId.
 * - sqlite:   better-sqlite3 on a temporary file.
 */
import 'reflect-metadata';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DataSource, type DataSourceOptions, type MixedList, type Logger } from 'typeorm';
import { createTestDatabase } from '../helpers/database';

export type TargetName = 'postgres' | 'pglite' | 'mariadb' | 'mysql' | 'sqlite';

export interface OpenOptions {
  entities: MixedList<Function | string>;
  migrations: MixedList<Function | string>;
  subscribers?: MixedList<Function | string>;
  logger?: Logger;
}

export interface OpenTarget {
  dataSource: DataSource;
  /** Empties the given tables and restarts their ids. */
  clear(tables: readonly string[]): Promise<void>;
  /** Destroys the DataSource and drops the database. */
  cleanup(): Promise<void>;
}

export interface Target {
  name: TargetName;
  /** What the suite's title says: driver, package, server. */
  label: string;
  /** TypeORM's DataSource type. */
  type: string;
  /** Whether TypeORM reads generated ids back with INSERT ... RETURNING (else insertId / last_insert_rowid). */
  insertReturning: boolean;
  /** Whether a failed statement aborts the whole transaction (PostgreSQL): the COMMIT then rolls back. */
  failedStatementDooms: boolean;
  /** Set when TypeORM's schema diff cannot be trusted on this target: why the drift check is skipped. */
  noDriftCheck?: string;
  /** Why this target cannot run here, or undefined when it can. Synchronous: tests are registered at load time. */
  unavailable(): string | undefined;
  open(options: OpenOptions): Promise<OpenTarget>;
}

const SUFFIX = () => `${process.pid}_${randomBytes(4).toString('hex')}`;

function fileHint(): string {
  const testPath = (globalThis as { expect?: { getState?: () => { testPath?: string } } }).expect?.getState?.().testPath;
  return testPath ? path.basename(testPath).replace(/\.test\.ts$/, '').replace(/[^a-z0-9]+/gi, '_').toLowerCase() : 'drivers';
}

async function initialize(dataSource: DataSource, drop: () => Promise<void>): Promise<void> {
  try {
    await dataSource.initialize();
    await dataSource.runMigrations();
  } catch (error) {
    if (dataSource.isInitialized) await dataSource.destroy().catch(() => undefined);
    await drop().catch(() => undefined);
    throw error;
  }
}

function common(options: OpenOptions) {
  return {
    entities: options.entities,
    migrations: options.migrations,
    subscribers: options.subscribers ?? [],
    synchronize: false,
    migrationsRun: false,
    ...(options.logger ? { logger: options.logger } : {}),
  };
}

const postgres: Target = {
  name: 'postgres',
  label: 'PostgreSQL (pg)',
  type: 'postgres',
  insertReturning: true,
  failedStatementDooms: true,
  unavailable: () => (process.env.DATABASE_URL ? undefined : 'DATABASE_URL is not set (run through jest, whose global setup provides one)'),
  async open(options) {
    const database = await createTestDatabase(`drivers_${fileHint()}`);
    const dataSource = new DataSource({ ...common(options), type: 'postgres', url: database.url, extra: { max: 5 } } as DataSourceOptions);
    await initialize(dataSource, () => database.drop());
    return {
      dataSource,
      async clear(tables) {
        await dataSource.query(`TRUNCATE ${tables.map((t) => `"${t}"`).join(', ')} RESTART IDENTITY CASCADE`);
      },
      async cleanup() {
        try {
          if (dataSource.isInitialized) await dataSource.destroy();
        } finally {
          await database.drop();
        }
      },
    };
  },
};

const pglite: Target = {
  name: 'pglite',
  label: 'PGlite (typeorm-pglite, in memory)',
  type: 'postgres',
  insertReturning: true,
  failedStatementDooms: true,
  unavailable: () => undefined,
  async open(options) {
    // Loaded here, not at the top: the other targets' files need not compile PGlite.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { PGliteDriver } = require('typeorm-pglite') as typeof import('typeorm-pglite');
    const dataSource = new DataSource({ ...common(options), type: 'postgres', driver: new PGliteDriver({}).driver } as DataSourceOptions);
    await initialize(dataSource, async () => undefined);
    return {
      dataSource,
      async clear(tables) {
        await dataSource.query(`TRUNCATE ${tables.map((t) => `"${t}"`).join(', ')} RESTART IDENTITY CASCADE`);
      },
      async cleanup() {
        if (dataSource.isInitialized) await dataSource.destroy();
      },
    };
  },
};

/** The MySQL/MariaDB server the mariadb and mysql targets use. */
export function mysqlUrl(): URL {
  return new URL(process.env.MYSQL_URL || 'mysql://root@127.0.0.1:3306');
}

let mysqlProbe: string | undefined | null = null;

/** Connects once (in a child process, synchronously) to see whether the server answers. */
function mysqlUnavailable(): string | undefined {
  if (mysqlProbe !== null) return mysqlProbe;
  const url = mysqlUrl();
  const script = `
    const mysql = require('mysql2/promise');
    mysql.createConnection({ uri: process.argv[1], connectTimeout: 3000 })
      .then((c) => c.query('SELECT VERSION() AS v').then(([rows]) => { console.log(rows[0].v); return c.end(); }))
      .catch((e) => { console.error(e.code || e.message); process.exit(1); });`;
  const run = spawnSync(process.execPath, ['-e', script, url.toString()], { encoding: 'utf8', timeout: 10_000, cwd: path.resolve(__dirname, '../..') });
  mysqlProbe =
    run.status === 0
      ? undefined
      : `no MySQL/MariaDB server answers at ${url.host} (${(run.stderr || run.error?.message || 'timeout').trim().split('\n').pop()}); set MYSQL_URL or start mariadbd`;
  return mysqlProbe;
}

function mysqlTarget(name: 'mariadb' | 'mysql'): Target {
  return {
    name,
    label: name === 'mariadb' ? 'MariaDB (mysql2, type "mariadb")' : 'MySQL dialect (mysql2, type "mysql", on the MariaDB server)',
    type: name,
    // TypeORM uses RETURNING with type "mariadb" on MariaDB >= 10.5 (this suite's server); type
    // "mysql" never does.
    insertReturning: name === 'mariadb',
    failedStatementDooms: false,
    noDriftCheck:
      name === 'mysql'
        ? 'TypeORM\'s mysql type misreads the column defaults a MariaDB server reports (NULL comes back as a string), so its schema diff is wrong there; the mariadb target checks the same migrations'
        : undefined,
    unavailable: mysqlUnavailable,
    async open(options) {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const mysql = require('mysql2/promise') as typeof import('mysql2/promise');
      const url = mysqlUrl();
      const database = `tsig_test_${name}_${fileHint()}_${SUFFIX()}`.slice(0, 64);
      const admin = async (sql: string) => {
        const connection = await mysql.createConnection({ uri: url.toString() });
        try {
          await connection.query(sql);
        } finally {
          await connection.end();
        }
      };
      await admin(`CREATE DATABASE \`${database}\``);
      const drop = () => admin(`DROP DATABASE IF EXISTS \`${database}\``);
      const dataSource = new DataSource({
        ...common(options),
        type: name,
        host: url.hostname,
        port: Number(url.port || 3306),
        username: decodeURIComponent(url.username || 'root'),
        password: decodeURIComponent(url.password),
        database,
        poolSize: 5,
        // TypeORM 0.3 prefers the old `mysql` package unless told otherwise; 1.x knows only mysql2.
        connectorPackage: 'mysql2',
      } as DataSourceOptions);
      await initialize(dataSource, drop);
      return {
        dataSource,
        async clear(tables) {
          // One connection for the whole reset: FOREIGN_KEY_CHECKS is per session.
          const runner = dataSource.createQueryRunner();
          try {
            await runner.query('SET FOREIGN_KEY_CHECKS = 0');
            for (const table of tables) await runner.query(`TRUNCATE TABLE \`${table}\``);
            await runner.query('SET FOREIGN_KEY_CHECKS = 1');
          } finally {
            await runner.release();
          }
        },
        async cleanup() {
          try {
            if (dataSource.isInitialized) await dataSource.destroy();
          } finally {
            await drop();
          }
        },
      };
    },
  };
}

const sqlite: Target = {
  name: 'sqlite',
  label: 'SQLite (better-sqlite3, temporary file)',
  type: 'better-sqlite3',
  insertReturning: false,
  failedStatementDooms: false,
  unavailable() {
    try {
      require.resolve('better-sqlite3');
      return undefined;
    } catch {
      return 'better-sqlite3 is not installed';
    }
  },
  async open(options) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsig-sqlite-'));
    const drop = async () => fs.rmSync(dir, { recursive: true, force: true });
    const dataSource = new DataSource({ ...common(options), type: 'better-sqlite3', database: path.join(dir, 'test.sqlite') } as DataSourceOptions);
    await initialize(dataSource, drop);
    return {
      dataSource,
      async clear(tables) {
        await dataSource.query('PRAGMA foreign_keys = OFF');
        for (const table of tables) await dataSource.query(`DELETE FROM "${table}"`);
        const sequences = await dataSource.query(`SELECT name FROM sqlite_master WHERE name = 'sqlite_sequence'`);
        if (sequences.length) await dataSource.query(`DELETE FROM sqlite_sequence WHERE name IN (${tables.map((t) => `'${t}'`).join(', ')})`);
        await dataSource.query('PRAGMA foreign_keys = ON');
      },
      async cleanup() {
        try {
          if (dataSource.isInitialized) await dataSource.destroy();
        } finally {
          await drop();
        }
      },
    };
  },
};

export const targets: Record<TargetName, Target> = {
  postgres,
  pglite,
  mariadb: mysqlTarget('mariadb'),
  mysql: mysqlTarget('mysql'),
  sqlite,
};
