// `npm run test:vitest`: vitest on this project (vitest.config.mts), with DATABASE_URL as jest's
// global setup provides it: the server DATABASE_URL names, or else a throwaway embedded PostgreSQL
// (test/helpers/embedded-postgres.mjs), started here in plain Node because vitest's globalSetup
// runs through vite's module runner, which lacks import.meta.resolve. Arguments go to vitest.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startEmbeddedPostgres } from '../helpers/embedded-postgres.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const env = { ...process.env };
let server;
if (!env.DATABASE_URL) {
  server = await startEmbeddedPostgres();
  env.DATABASE_URL = server.url;
  console.log(`test:vitest: DATABASE_URL is not set, so the tests run on an embedded PostgreSQL (${server.url})`);
}
let status;
try {
  const vitest = path.join(root, 'node_modules', 'vitest', 'vitest.mjs');
  const run = spawnSync(process.execPath, [vitest, 'run', '-c', path.join(here, 'vitest.config.mts'), ...process.argv.slice(2)], { cwd: root, env, stdio: 'inherit' });
  status = run.status ?? 1;
  if (run.error) console.error(run.error);
} finally {
  await server?.stop();
}
process.exit(status);
