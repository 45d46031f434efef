/**
 * `npm run demo:durable` with DATABASE_URL set: a writer process SIGKILLed right after COMMIT, its
 * commit-phase mail lost, its durable mail's job committed with the user, and a worker process
 * sending that mail; the demo's database is dropped at the end. (Without DATABASE_URL the demo
 * starts an embedded PostgreSQL instead, which jest's global setup already does for the suite.)
 */
import { spawn } from 'node:child_process';
import { User } from '../../src/example/entities';
import { connectWelcomeMail } from '../../src/example/receivers';
import { serverUrl } from '../helpers/database';
import { openDurableTest, type DurableTest } from '../helpers/durable';
import { ROOT, runTypeScript } from '../helpers/run-script';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const pg = require('pg') as { Client: new (config: { connectionString: string }) => { connect(): Promise<void>; query(sql: string): Promise<{ rows: Array<Record<string, unknown>> }>; end(): Promise<void> } };

async function demoDatabases(): Promise<string[]> {
  const client = new pg.Client({ connectionString: serverUrl() });
  await client.connect();
  try {
    const { rows } = await client.query(`SELECT datname FROM pg_database WHERE datname LIKE 'signals_demo_durable_%'`);
    return rows.map((r) => String(r.datname));
  } finally {
    await client.end();
  }
}

test('the writer dies right after COMMIT; its commit-phase mail is lost, and a worker process sends the durable one', async () => {
  const before = await demoDatabases();
  const run = await runTypeScript('src/example/demo-durable.ts', { DATABASE_URL: serverUrl() }, 150_000);
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  const out = run.stdout;
  expect(out).toMatch(/Migrated database "signals_demo_durable_[0-9a-f]{8}" on DATABASE_URL's server: .*CreateDurableQueue1732435200003/);
  expect(out).toContain('   writer: COMMITTED\n   writer killed with SIGKILL right after COMMIT.\n');
  expect(out).toContain("Its 'commit' receiver never ran: that mail is lost.");
  expect(out).not.toContain('NOT KILLED');
  expect(out).toContain('users with that address: 1 (the sign-up committed)');
  const job = /pg-boss job ([0-9a-f-]{36}) for "typeorm-signals\/example:sendWelcomeMail": created \(committed in the same transaction\)/.exec(out);
  expect(job).not.toBeNull();
  const id = job![1];
  // the worker sent it with the job id as idempotency key, and the job is completed
  expect(out).toContain(`   worker: mail "Welcome, Ada!" to ada@example.com (idempotency key ${id})\n`);
  expect(out).toContain(`   pg-boss job ${id}: completed\n`);
  expect(out.match(/worker: mail /g)).toHaveLength(1);
  expect(await demoDatabases()).toEqual(before);
}, 180_000);

describe('src/example/worker.ts (the docker-compose worker service)', () => {
  let t: DurableTest;
  beforeAll(async () => {
    t = await openDurableTest();
  });
  afterAll(() => t?.cleanup());

  test('sends the welcome mail of a sign-up committed by another process, and stops gracefully on SIGTERM', async () => {
    t.listen(connectWelcomeMail()); // the writing side: this process only enqueues
    const child = spawn(process.execPath, [require.resolve('ts-node/dist/bin.js'), '--transpile-only', 'src/example/worker.ts'], {
      cwd: ROOT,
      env: { ...process.env, DATABASE_URL: t.db.database.url },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    const until = async (what: RegExp) => {
      for (let i = 0; i < 1500 && !what.test(stdout) && child.exitCode === null; i++) await new Promise((r) => setTimeout(r, 40));
      if (!what.test(stdout)) throw new Error(`the worker did not print ${what}; stdout:\n${stdout}\nstderr:\n${stderr}`);
    };
    try {
      await until(/running the durable receivers/);
      await t.ds.getRepository(User).save({ email: 'grace@example.com', name: 'Grace' });
      await until(/mail "Welcome, Grace!" to grace@example\.com/);
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
    expect(stdout).toMatch(/SIGTERM, finishing the running jobs/);
    expect(stderr).toBe('');
    expect((await t.jobs()).map((j) => j.state)).toEqual(['completed']);
  }, 120_000);
});
