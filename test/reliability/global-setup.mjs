// The shared set-up (an embedded PostgreSQL unless DATABASE_URL is set), plus a fresh folder for
// the figures the tests measure (workers inherit its path through the environment) and the
// server's version for the summary's header.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import sharedSetup from '../helpers/global-setup.mjs';

export default async function globalSetup(globalConfig, projectConfig) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'typeorm-signals-figures-'));
  process.env.TSIG_RELIABILITY_FIGURES = dir;
  const database = process.env.DATABASE_URL ? 'server' : 'embedded';
  await sharedSetup(globalConfig, projectConfig);
  const client = new pg.Client({ connectionString: process.env.DATABASE_URL });
  let postgres = '(unknown)';
  try {
    await client.connect();
    postgres = (await client.query(`SELECT current_setting('server_version') AS v`)).rows[0].v;
  } catch {
    // the tests will say what is wrong with the server
  } finally {
    await client.end().catch(() => undefined);
  }
  fs.writeFileSync(path.join(dir, 'environment.json'), JSON.stringify({ postgres, database }));
}
