/**
 * Integration-test databases on the PostgreSQL server named by DATABASE_URL (jest's global setup
 * starts an embedded one when the variable is not set, and every worker inherits it).
 *
 * Each test file gets a database of its own, created empty and dropped afterwards, so files
 * running in parallel workers never see each other's rows, tables or migrations:
 *
 *   let db: TestDataSource;
 *   beforeAll(async () => {
 *     db = await openTestDataSource({ entities: [User], migrations: [CreateUsers], subscribers: [SignalsSubscriber] });
 *   });
 *   afterAll(() => db?.cleanup());
 *
 * The schema always comes from the migrations (`runMigrations()`), never from `synchronize`.
 */
import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { DataSource, type DataSourceOptions } from 'typeorm';

type PostgresOptions = Extract<DataSourceOptions, { type: 'postgres' }>;

/** The slice of `pg` used here (the package ships no types and @types/pg is not installed). */
interface PgClient {
  connect(): Promise<void>;
  query(sql: string): Promise<unknown>;
  end(): Promise<void>;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const pg = require('pg') as { Client: new (config: { connectionString: string }) => PgClient };

/** Connections per test DataSource: jest runs two workers against one server. */
export const TEST_POOL_SIZE = 5;

/** Every database made here starts with this, so leftovers of a killed run are easy to find. */
export const TEST_DATABASE_PREFIX = 'tsig_test_';

export interface TestDatabase {
  /** postgres:// URL of the new, empty database. */
  url: string;
  /** Its name. */
  name: string;
  /** Drops it (closing any connection still open to it). Safe to call twice. */
  drop(): Promise<void>;
}

export function serverUrl(): string {
  const url = process.env.DATABASE_URL;
  if (!url || !/^postgres(ql)?:\/\//.test(url)) {
    throw new Error(
      'DATABASE_URL is not a postgres:// URL. Run the tests through jest (its global setup starts an ' +
        'embedded PostgreSQL) or set DATABASE_URL to a server where this user may CREATE DATABASE.',
    );
  }
  return url;
}

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${encodeURIComponent(database)}`;
  return u.toString();
}

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** "test/integration/example.test.ts" -> "example_test": a readable hint in the database name. */
function hintFromTestPath(): string {
  const testPath = (globalThis as { expect?: { getState?: () => { testPath?: string } } }).expect?.getState?.().testPath;
  return testPath ? path.basename(testPath).replace(/\.ts$/, '') : 'db';
}

/**
 * Runs `fn` with a client on a database of the server that exists: the one DATABASE_URL names,
 * or `postgres` when that one does not exist (CREATE/DROP DATABASE work from any database).
 */
async function withAdminClient<T>(fn: (client: PgClient) => Promise<T>): Promise<T> {
  const base = serverUrl();
  let client = new pg.Client({ connectionString: base });
  try {
    await client.connect();
  } catch (error) {
    if ((error as { code?: string }).code !== '3D000') throw error; // 3D000: database does not exist
    client = new pg.Client({ connectionString: withDatabase(base, 'postgres') });
    await client.connect();
  }
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/**
 * Creates an empty, uniquely named database on the DATABASE_URL server. `hint` (default: the
 * running test file's name) only makes the name readable; uniqueness comes from a random suffix.
 */
export async function createTestDatabase(hint: string = hintFromTestPath()): Promise<TestDatabase> {
  const slug = hint.toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^_|_$/g, '').slice(0, 30) || 'db';
  const name = `${TEST_DATABASE_PREFIX}${slug}_${process.pid}_${randomBytes(4).toString('hex')}`;
  await withAdminClient((client) => client.query(`CREATE DATABASE ${quoteIdent(name)}`));
  let dropped = false;
  return {
    name,
    url: withDatabase(serverUrl(), name),
    async drop() {
      if (dropped) return;
      dropped = true;
      await withAdminClient(async (client) => {
        // FORCE (PostgreSQL 13+) ends connections a failed test may have left open.
        await client.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
      });
    },
  };
}

/** What openTestDataSource takes: entities and migrations, plus any other postgres option. */
export type TestDataSourceOptions = Omit<Partial<PostgresOptions>, 'type' | 'url' | 'database' | 'synchronize'> & {
  entities: NonNullable<PostgresOptions['entities']>;
  migrations: NonNullable<PostgresOptions['migrations']>;
};

export interface TestDataSource {
  dataSource: DataSource;
  database: TestDatabase;
  /** Destroys the DataSource (if still initialized) and drops the database. */
  cleanup(): Promise<void>;
}

/**
 * Creates a test database, initializes a DataSource on it and applies the given migrations with
 * `dataSource.runMigrations()`. `subscribers` defaults to none: pass `[SignalsSubscriber]` (or call
 * `installSignals`) in tests that need signals. Any other DataSource option may be passed; `extra`
 * is merged over the small pool this helper uses.
 */
export async function openTestDataSource(options: TestDataSourceOptions): Promise<TestDataSource> {
  const database = await createTestDatabase();
  const { extra, subscribers, ...rest } = options;
  const dataSource = new DataSource({
    ...rest,
    type: 'postgres',
    url: database.url,
    subscribers: subscribers ?? [],
    synchronize: false,
    migrationsRun: false,
    extra: { max: TEST_POOL_SIZE, ...(extra as object | undefined) },
  });
  const cleanup = async () => {
    try {
      if (dataSource.isInitialized) await dataSource.destroy();
    } finally {
      await database.drop();
    }
  };
  try {
    await dataSource.initialize();
    await dataSource.runMigrations();
  } catch (error) {
    await cleanup().catch(() => undefined);
    throw error;
  }
  return { dataSource, database, cleanup };
}
