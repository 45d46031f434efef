/**
 * 8. Durable receivers (phase 'durable') on real PostgreSQL, real pg-boss and real processes:
 * writers SIGKILLed right after COMMIT, workers SIGKILLed inside a receiver, rolled-back writes,
 * a poison job, and two worker processes over 10,000 jobs. Every effect is counted in the
 * database (durable_effects, see durable-fixture.ts), never in a process that may be killed.
 */
import type { DataSource } from 'typeorm';
import type { PgBoss } from 'pg-boss';
import { SignalsSubscriber, configureSignals, installSignals, postSave, startSignalsWorker, type FailureReport } from '../../src';
import { exampleMigrations } from '../../migrations';
import { User, exampleEntities } from '../../src/example/entities';
import { openTestDataSource, type TestDataSource } from '../helpers/database';
import { connections } from '../helpers/connections';
import { startBoss } from '../helpers/pg-boss';
import { LineBus, kill, median, startChild, stop, type Child } from './durable-children';
import { CreateDurableEffects1900000000000, connectScenarioReceivers, epochMs } from './durable-fixture';
import { recordFigures, runPool } from './helpers';

const WRITER_KILLS = 100;
const WRITERS_AT_ONCE = 4;
const WORKER_KILLS = 20;
const BULK_JOBS = 10_000;

let db: TestDataSource;
let ds: DataSource;
let boss: PgBoss;
let unbind: () => void;
const bus = new LineBus();
const children: Child[] = [];
const { listen } = connections();

beforeAll(async () => {
  db = await openTestDataSource({
    entities: exampleEntities,
    migrations: [...exampleMigrations, CreateDurableEffects1900000000000],
    subscribers: [SignalsSubscriber],
  });
  ds = db.dataSource;
  boss = await startBoss(db.database.url);
  unbind = installSignals(ds, { durable: boss });
});
afterEach(async () => {
  configureSignals({ onReceiverError: null, logger: null }); // the poison test sets a reporter
  await Promise.all(children.filter((c) => c.alive).map((c) => kill(c)));
});
afterAll(async () => {
  unbind?.();
  await boss?.stop({ graceful: false, close: true });
  await db?.cleanup();
});

function child(name: string, script: 'durable-writer.ts' | 'durable-worker.ts', env: Record<string, string> = {}): Child {
  const c = startChild(bus, name, script, { DURABLE_DATABASE_URL: db.database.url, ...env });
  children.push(c);
  return c;
}

async function ready(worker: Child): Promise<Child> {
  await bus.waitFor(`${worker.name} READY`, (l) => l.child === worker && (l.text === 'READY' || l.text.startsWith('ERROR')), 0, 60_000);
  if (!worker.ready) throw new Error(`${worker.name} did not start: ${bus.lines.filter((l) => l.child === worker).map((l) => l.text).join('; ')}\n${worker.stderr()}`);
  return worker;
}

/** Polls `probe` until it is true; false after `ms` (the assertions that follow then say what is missing). */
async function until(probe: () => Promise<boolean>, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await probe()) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return probe();
}

async function int(sql: string, params: unknown[] = []): Promise<number> {
  const [row] = await ds.query(sql, params);
  return Number(Object.values(row)[0]);
}

const jobCount = () => int(`SELECT count(*) FROM pgboss.job WHERE name = 'typeorm-signals'`);

test(`a writer process SIGKILLed right after COMMIT, ${WRITER_KILLS} times: a worker process runs all ${WRITER_KILLS} durable jobs; the commit-phase receiver is lost every time`, async () => {
  const worker = await ready(child('worker', 'durable-worker.ts'));
  const startedAt = performance.now();
  const outcomes = await runPool(WRITER_KILLS, WRITERS_AT_ONCE, async (i) => {
    const writer = child(`writer-${i}`, 'durable-writer.ts', { DURABLE_EMAIL: `killed-writer-${i}@example.com` });
    const line = await bus.waitFor(`writer-${i} COMMITTED`, (l) => l.child === writer && l.text !== 'READY', 0, 60_000);
    if (line.text !== 'COMMITTED') throw new Error(`writer-${i} said "${line.text}" instead of COMMITTED\n${writer.stderr()}`);
    await kill(writer);
    return (await writer.exited).signal;
  });
  const killSeconds = (performance.now() - startedAt) / 1000;
  const killed = outcomes.filter((o) => o.status === 'fulfilled' && o.value === 'SIGKILL').length;
  const writerErrors = outcomes.filter((o) => o.status === 'rejected').map((o) => String((o as PromiseRejectedResult).reason).slice(0, 300));

  const committed = await int(`SELECT count(*) FROM users WHERE email LIKE 'killed-writer-%'`);
  const effects = `FROM durable_effects e JOIN users u ON u.id = e.user_id WHERE u.email LIKE 'killed-writer-%'`;
  await until(async () => (await int(`SELECT count(DISTINCT e.user_id) ${effects} AND e.kind = 'durable'`)) >= committed, 30_000);
  const drainSeconds = (performance.now() - startedAt) / 1000 - killSeconds;
  const durableRan = await int(`SELECT count(DISTINCT e.user_id) ${effects} AND e.kind = 'durable'`);
  const durableRows = await int(`SELECT count(*) ${effects} AND e.kind = 'durable'`);
  const byWorker = await int(`SELECT count(*) ${effects} AND e.kind = 'durable' AND e.pid = $1`, [worker.process.pid]);
  const commitRan = await int(`SELECT count(*) ${effects} AND e.kind = 'commit'`);
  const completed = await int(`SELECT count(*) FROM pgboss.job WHERE name = 'typeorm-signals' AND state = 'completed'`);
  await stop(worker);

  recordFigures('durable', {
    writerKills: { kills: WRITER_KILLS, killed, writerErrors: writerErrors.length, committed, durableRan, durableRows, byWorker, durableLost: committed - durableRan, commitRan, commitLost: committed - commitRan, completed, killSeconds, drainSeconds },
  });
  expect(writerErrors).toEqual([]);
  expect(killed).toBe(WRITER_KILLS);
  expect(committed).toBe(WRITER_KILLS); // every kill landed after COMMIT
  expect(durableRan).toBe(WRITER_KILLS); // 0 lost
  expect(durableRows).toBe(WRITER_KILLS); // and none run twice
  expect(byWorker).toBe(WRITER_KILLS); // by the worker process, not by a writer
  expect(completed).toBe(WRITER_KILLS);
  expect(commitRan).toBe(0); // phase 'commit' lost every one: the window the durable phase closes
}, 600_000); // 100 process starts of ~0.6 s of CPU each: 200 s at load 20 on 2 cores

test(`a worker process SIGKILLed inside a receiver, ${WORKER_KILLS} times: every job completes, its effect exists once, another worker claims it again at once`, async () => {
  listen(connectScenarioReceivers()); // this process only enqueues
  const block = { DURABLE_BLOCK_INSIDE: '1' };
  let n = 0;
  const pool = [child(`worker-${n++}`, 'durable-worker.ts', block), child(`worker-${n++}`, 'durable-worker.ts', block), child(`worker-${n++}`, 'durable-worker.ts', block)];
  await Promise.all(pool.map(ready));
  const delays: number[] = [];
  const jobIds: string[] = [];
  const victims: number[] = [];
  for (let round = 0; round < WORKER_KILLS; round++) {
    // A survivor must be polling when the victim dies: at least two ready workers.
    await until(async () => pool.filter((w) => w.alive && w.ready).length >= 2, 60_000);
    const from = bus.lines.length;
    await ds.getRepository(User).save({ email: `reclaimed-${round}@example.com`, name: null });
    const inside = await bus.waitFor(`INSIDE of round ${round}`, (l) => l.text.startsWith('INSIDE '), from);
    const jobId = inside.text.slice('INSIDE '.length);
    await ds.query('INSERT INTO durable_spared (job_id) VALUES ($1)', [jobId]); // the next claim runs to the end
    const killedAt = epochMs();
    await kill(inside.child);
    victims.push(inside.child.process.pid!);
    const ran = await bus.waitFor(`RAN ${jobId}`, (l) => l.text.startsWith(`RAN ${jobId} `), from);
    delays.push(Number(ran.text.split(' ')[2]) - killedAt);
    jobIds.push(jobId);
    pool.push(child(`worker-${n++}`, 'durable-worker.ts', block)); // the replacement starts while the next round runs
  }
  await until(async () => (await int(`SELECT count(*) FROM pgboss.job WHERE id = ANY($1) AND state = 'completed'`, [jobIds])) === jobIds.length, 30_000);
  const completed = await int(`SELECT count(*) FROM pgboss.job WHERE id = ANY($1) AND state = 'completed'`, [jobIds]);
  const retried = await int(`SELECT count(*) FROM pgboss.job WHERE id = ANY($1) AND retry_count > 0`, [jobIds]);
  const effectRows = await int(`SELECT count(*) FROM durable_effects WHERE job_id = ANY($1)`, [jobIds]);
  const distinctJobs = await int(`SELECT count(DISTINCT job_id) FROM durable_effects WHERE job_id = ANY($1)`, [jobIds]);
  // The row of each job written by the worker killed on it (a later victim may have run earlier jobs).
  const byVictims = await int(
    `SELECT count(*) FROM durable_effects e JOIN unnest($1::uuid[], $2::int[]) AS k(job_id, pid) ON k.job_id = e.job_id AND k.pid = e.pid`,
    [jobIds, victims],
  );
  await Promise.all(pool.map((w) => stop(w)));

  const sorted = [...delays].sort((a, b) => a - b);
  recordFigures('durable', {
    workerKills: { kills: WORKER_KILLS, victims: new Set(victims).size, completed, retried, effectRows, distinctJobs, byVictims, reclaimMedianMs: median(delays), reclaimMaxMs: sorted[sorted.length - 1], reclaimMinMs: sorted[0], targetMs: 1000 },
  });
  expect(new Set(victims).size).toBe(WORKER_KILLS);
  expect(completed).toBe(WORKER_KILLS);
  expect(effectRows).toBe(WORKER_KILLS); // exactly once per job: the victim's row rolled back with its claim
  expect(distinctJobs).toBe(WORKER_KILLS);
  expect(byVictims).toBe(0);
  // Claimed again because the claim rolled back with the dead session, not through pg-boss's
  // expiry (900 s) or a retry: no attempt was used up.
  expect(retried).toBe(0);
}, 300_000); // 23 process starts

test('rolled-back writes (explicit rollback, thrown error, savepoint, failed statement) enqueue 0 jobs; the committed writes beside them 1 each', async () => {
  listen(connectScenarioReceivers());
  const PER_KIND = 25;
  const users = ds.getRepository(User);
  const kinds: Record<string, (i: number) => Promise<number>> = {
    // Each returns how many of its writes committed (0 or 1).
    'explicit rollback': async (i) => {
      const runner = ds.createQueryRunner();
      await runner.connect();
      await runner.startTransaction();
      await runner.manager.save(User, { email: `rolled-back-explicit-${i}@example.com` });
      await runner.rollbackTransaction();
      await runner.release();
      return 0;
    },
    'thrown error': async (i) => {
      await ds
        .transaction(async (manager) => {
          await manager.save(User, { email: `rolled-back-thrown-${i}@example.com` });
          throw new Error('payment declined');
        })
        .catch((error: Error) => expect(error.message).toBe('payment declined'));
      return 0;
    },
    'savepoint rollback': async (i) => {
      await ds.transaction(async (manager) => {
        await manager.save(User, { email: `kept-beside-savepoint-${i}@example.com` });
        await manager
          .transaction(async (inner) => {
            await inner.save(User, { email: `rolled-back-savepoint-${i}@example.com` });
            throw new Error('undo the savepoint');
          })
          .catch((error: Error) => expect(error.message).toBe('undo the savepoint'));
      });
      return 1;
    },
    'failed statement': async (i) => {
      await ds
        .transaction(async (manager) => {
          await manager.save(User, { email: `rolled-back-failed-${i}@example.com` });
          await manager.save(User, { email: 'taken@example.com' }); // 23505: the email is taken
        })
        .catch((error: { driverError?: { code?: string } }) => expect(error.driverError?.code).toBe('23505'));
      return 0;
    },
  };
  await users.save({ email: 'taken@example.com' });
  const figures: Record<string, { writes: number; committed: number; jobs: number }> = {};
  for (const [kind, write] of Object.entries(kinds)) {
    const before = await jobCount();
    let committed = 0;
    for (let i = 0; i < PER_KIND; i++) committed += await write(i);
    figures[kind] = { writes: PER_KIND, committed, jobs: (await jobCount()) - before };
  }
  const rolledBackRows = await int(`SELECT count(*) FROM users WHERE email LIKE 'rolled-back-%'`);
  recordFigures('durable', { rollbacks: { ...figures, rolledBackRows } });
  for (const [kind, f] of Object.entries(figures)) expect({ kind, jobs: f.jobs }).toEqual({ kind, jobs: f.committed });
  expect(figures['savepoint rollback'].jobs).toBe(PER_KIND); // the outer writes' jobs: a count that can fail both ways
  expect(rolledBackRows).toBe(0);
  // No worker ran here: the committed writes' jobs go, so that the next tests' workers do not meet them.
  await ds.query(`DELETE FROM pgboss.job WHERE name = 'typeorm-signals' AND state = 'created'`);
});

test('a poison job is retried per its policy, then dead-lettered; onReceiverError hears of every attempt', async () => {
  const LIMIT = 3;
  const calls: number[] = [];
  const reports: FailureReport[] = [];
  listen(
    postSave.connect(
      async function alwaysFails({ attempt }) {
        calls.push(attempt);
        throw new Error('the mail server refuses this address');
      },
      { sender: User, phase: 'durable', dispatchUid: 'poison', retry: { limit: LIMIT, delay: 0, backoff: false } },
    ),
  );
  configureSignals({ onReceiverError: (report) => void reports.push(report), logger: { error: () => undefined } });
  const user = await ds.getRepository(User).save({ email: 'poison@example.com' });
  const [{ id }] = await ds.query(`SELECT id FROM pgboss.job WHERE name = 'typeorm-signals' AND data->>'receiver' = 'poison'`);
  const worker = await startSignalsWorker(ds, { boss, pollInterval: 0.05 });
  const state = () => ds.query(`SELECT state, retry_count FROM pgboss.job WHERE id = $1 AND name = 'typeorm-signals'`, [id]);
  const deadLettered = () =>
    ds.query(`SELECT data->>'receiver' AS receiver, (data->>'entityId')::int AS "entityId" FROM pgboss.job WHERE name = 'typeorm-signals.dead-letter'`);
  await until(async () => (await deadLettered()).length > 0, 30_000);
  await worker.stop();
  const [job] = await state();
  const dead = await deadLettered();

  recordFigures('durable', {
    poison: { retryLimit: LIMIT, attempts: calls.length, reports: reports.length, reportAttempts: reports.map((r) => r.attempt), state: job?.state, retryCount: job?.retry_count, deadLettered: dead.length },
  });
  expect(calls).toEqual([1, 2, 3, 4]);
  expect(reports.map((r) => ({ receiver: r.receiver, attempt: r.attempt, deliveryId: r.deliveryId }))).toEqual(
    calls.map((attempt) => ({ receiver: 'alwaysFails ("poison")', attempt, deliveryId: id })),
  );
  expect(job).toEqual({ state: 'failed', retry_count: LIMIT });
  expect(dead).toEqual([{ receiver: 'poison', entityId: user.id }]);
});

test(`2 worker processes over ${BULK_JOBS.toLocaleString('en-US')} jobs: all done, 0 duplicate effects`, async () => {
  listen(connectScenarioReceivers());
  const env = { DURABLE_CONCURRENCY: '2', DURABLE_BATCH_SIZE: '100' };
  const workers = await Promise.all([ready(child('bulk-a', 'durable-worker.ts', env)), ready(child('bulk-b', 'durable-worker.ts', env))]);
  const CHUNK = 1000;
  const startedAt = performance.now();
  for (let i = 0; i < BULK_JOBS; i += CHUNK) {
    const chunk = Array.from({ length: CHUNK }, (_, j) => ds.getRepository(User).create({ email: `bulk-${i + j}@example.com` }));
    await ds.getRepository(User).save(chunk);
  }
  const insertSeconds = (performance.now() - startedAt) / 1000;
  const bulk = `FROM durable_effects e JOIN users u ON u.id = e.user_id WHERE u.email LIKE 'bulk-%'`;
  await until(async () => (await int(`SELECT count(DISTINCT e.job_id) ${bulk}`)) >= BULK_JOBS, 120_000);
  const seconds = (performance.now() - startedAt) / 1000;
  const rows = await int(`SELECT count(*) ${bulk}`);
  const distinct = await int(`SELECT count(DISTINCT e.job_id) ${bulk}`);
  const users = await int(`SELECT count(DISTINCT e.user_id) ${bulk}`);
  const perWorker = await Promise.all(workers.map((w) => int(`SELECT count(*) ${bulk} AND e.pid = $1`, [w.process.pid])));
  await Promise.all(workers.map((w) => stop(w)));
  const left = await int(`SELECT count(*) FROM pgboss.job WHERE name = 'typeorm-signals' AND state <> 'completed' AND data->>'receiver' = 'welcome-mail'`);

  recordFigures('durable', { bulk: { jobs: BULK_JOBS, rows, distinct, users, duplicates: rows - distinct, perWorker, left, insertSeconds, seconds, jobsPerSecond: BULK_JOBS / seconds } });
  expect(distinct).toBe(BULK_JOBS);
  expect(users).toBe(BULK_JOBS);
  expect(rows - distinct).toBe(0);
  expect(left).toBe(0);
  expect(perWorker.every((count) => count > 0)).toBe(true); // both processes claimed work
});
