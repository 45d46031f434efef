/**
 * `npm run demo` with DATABASE_URL set: it works in a fresh schema on that server and drops it,
 * so it can be rerun and leaves no table behind.
 */
import { createTestDatabase, type TestDatabase } from '../helpers/database';
import { runTypeScript } from '../helpers/run-script';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const pg = require('pg') as { Client: new (config: { connectionString: string }) => { connect(): Promise<void>; query(sql: string): Promise<{ rows: Array<Record<string, unknown>> }>; end(): Promise<void> } };

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

async function schemasAndTables(): Promise<string[]> {
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    const { rows } = await client.query(
      `SELECT table_schema || '.' || table_name AS name FROM information_schema.tables
       WHERE table_schema NOT IN ('pg_catalog', 'information_schema')
       UNION ALL SELECT nspname FROM pg_namespace WHERE nspname LIKE 'signals_demo_%'`,
    );
    return rows.map((r) => String(r.name));
  } finally {
    await client.end();
  }
}

test('runs twice on the same database in a fresh schema each time, sends the welcome mails, and leaves nothing behind', async () => {
  for (let i = 0; i < 2; i++) {
    const run = await runTypeScript('src/example/demo.ts', { DATABASE_URL: db.url });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/Migrated schema "signals_demo_[0-9a-f]{8}" on DATABASE_URL's server/);
    expect(run.stdout).toMatch(/3 users, 3 profiles\./);
    expect(run.stdout).toContain('checkSignals: no problems.');
    expect(run.stdout).toMatch(/postSave\s+User\s+user bob@example\.com\s+false/);
    // the profiles' INSERT ... ON CONFLICT DO NOTHING: PostgreSQL's RETURNING says each was inserted
    expect(run.stdout).toMatch(/postSave\s+UserProfile\s+profile of user 1\s+true/);
    // the durable welcome mail: queued with the writes, sent by drainDurable, read as the row is now
    expect(run.stdout).toContain('Welcome mails: 4 pg-boss jobs committed with the writes (3 inserts, 1 update');
    expect(run.stdout).toContain('0 mails sent so far.');
    expect(run.stdout).toContain('drainDurable() ran 4 job(s) in this process (0 failed) and sent:');
    expect(run.stdout).toMatch(/alice@example\.com\s+Welcome, Alice Example!\s+[0-9a-f-]{36}\n\s+bob@example\.com\s+Welcome, Bob B\. Example!\s+[0-9a-f-]{36}\n\s+carol@example\.com\s+Welcome!\s+[0-9a-f-]{36}\n/);
  }
  expect(await schemasAndTables()).toEqual([]);
}, 90_000);
