/**
 * startSignalsWorker()'s wake-up: the queue's `notify` makes pg-boss's job INSERT (in the write's
 * transaction) NOTIFY at COMMIT, and the worker LISTENs on pg-boss's channel through pg-boss's own
 * listener. Every worker here polls every 30 s, so a job that runs within the test's few seconds
 * was fetched because of the notification, not the poll.
 */
import 'reflect-metadata';
import { postSave, startSignalsWorker, type SignalsWorker } from '../../src';
import { notifyChannel } from '../../src/typeorm/durable/listener';
import { User } from '../../src/example/entities';
import { openDurableTest, type DurableTest } from '../helpers/durable';
import { until } from '../helpers/until';

interface ListenClient {
  connect(): Promise<void>;
  query(sql: string): Promise<unknown>;
  on(event: 'notification', listener: (message: { payload?: string }) => void): void;
  end(): Promise<void>;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const pg = require('pg') as { Client: new (config: { connectionString: string }) => ListenClient };

const SLOW_POLL = 30; // seconds: far beyond every wait below (until() gives up after 10 s)

let t: DurableTest;
let worker: SignalsWorker | undefined;
beforeAll(async () => {
  t = await openDurableTest();
});
afterAll(async () => {
  await t?.cleanup();
});
afterEach(async () => {
  await worker?.stop();
  worker = undefined;
  await t.reset();
});

/** Connects a durable receiver that notes each entity id it runs for. */
function recordRuns(): unknown[] {
  const ran: unknown[] = [];
  t.listen(postSave.connect(({ entityId }) => void ran.push(entityId), { sender: User, phase: 'durable', dispatchUid: 'listen-runs' }));
  return ran;
}

/** pids of the other sessions that LISTEN (their last statement is pg-boss's LISTEN or its heartbeat). */
async function listeners(): Promise<number[]> {
  const rows: Array<{ pid: number }> = await t.ds.query(
    `SELECT pid FROM pg_stat_activity
     WHERE datname = current_database() AND pid <> pg_backend_pid() AND (query LIKE 'LISTEN "pgboss%' OR query LIKE 'SELECT EXISTS (%pg_listening_channels()%')
     ORDER BY pid`,
  );
  return rows.map((r) => r.pid);
}

function loadPlans(): { notifyChannelSql(schema: string): string } {
  const nodeModule = process.getBuiltinModule('node:module') as typeof import('node:module');
  return nodeModule.createRequire(__filename)('pg-boss/dist/plans.js');
}

test("the channel is pg-boss's own: the SQL its job INSERT NOTIFYs on gives the same name", async () => {
  const plans = loadPlans();
  for (const schema of ['pgboss', 'jobs', '"jobs"']) {
    const [{ channel }] = await t.ds.query(`SELECT ${plans.notifyChannelSql(schema)} AS channel`);
    expect(notifyChannel(schema)).toBe(channel);
  }
});

test('a job committed while the worker sleeps (30 s poll) runs at once', async () => {
  const ran = recordRuns();
  worker = await startSignalsWorker(t.ds, { boss: t.boss, pollInterval: SLOW_POLL });
  const ada = await t.ds.getRepository(User).save({ email: 'ada@example.com' });
  await until("ada's job", () => ran.length === 1);
  // ada's batch fetched fewer than batchSize jobs: the loop now sleeps its 30 s
  const bob = await t.ds.getRepository(User).save({ email: 'bob@example.com' });
  await until("bob's job", () => ran.length === 2);
  expect(ran).toEqual([ada.id, bob.id]);
});

test('a rolled-back write, or savepoint, sends no NOTIFY and enqueues nothing; the committed one after it does', async () => {
  const ran = recordRuns();
  const client = new pg.Client({ connectionString: t.db.database.url });
  await client.connect();
  try {
    const heard: string[] = [];
    client.on('notification', (message) => heard.push(String(message.payload)));
    await client.query(`LISTEN "${notifyChannel('pgboss')}"`);
    worker = await startSignalsWorker(t.ds, { boss: t.boss, pollInterval: SLOW_POLL });
    await expect(
      t.ds.transaction(async (manager) => {
        await manager.save(User, { email: 'thrown@example.com' });
        throw new Error('payment declined');
      }),
    ).rejects.toThrow('payment declined');
    await t.ds.transaction(async (manager) => {
      await manager.query('SELECT 1');
      const savepoint = manager.transaction(async (inner) => {
        await inner.save(User, { email: 'savepoint@example.com' });
        throw new Error('undo the savepoint');
      });
      await expect(savepoint).rejects.toThrow('undo the savepoint');
    });
    const kept = await t.ds.getRepository(User).save({ email: 'kept@example.com' });
    await until("kept's job", async () => (await t.jobs()).some((j) => j.state === 'completed'));
    // NOTIFYs arrive in commit order and before the reply to a later query on the same connection
    await client.query('SELECT 1');
    expect(heard).toEqual(['typeorm-signals']);
    expect(ran).toEqual([kept.id]);
    expect((await t.jobs()).map((j) => j.data.entityId)).toEqual([kept.id]);
  } finally {
    await client.end();
  }
});

test('stop() releases the listening connection; listen: false opens none and still polls', async () => {
  expect(await listeners()).toEqual([]);
  worker = await startSignalsWorker(t.ds, { boss: t.boss, pollInterval: SLOW_POLL });
  expect(await listeners()).toHaveLength(1);
  await worker.stop();
  await until('no listening session', async () => (await listeners()).length === 0);

  const ran = recordRuns();
  worker = await startSignalsWorker(t.ds, { boss: t.boss, pollInterval: 0.05, listen: false });
  expect(await listeners()).toEqual([]);
  const ada = await t.ds.getRepository(User).save({ email: 'ada@example.com' });
  await until("ada's job", () => ran.length === 1);
  expect(ran).toEqual([ada.id]);
});

test('a listening connection that dies is replaced, and the new one wakes the worker', async () => {
  const ran = recordRuns();
  worker = await startSignalsWorker(t.ds, { boss: t.boss, pollInterval: SLOW_POLL });
  const [first] = await listeners();
  await t.ds.query('SELECT pg_terminate_backend($1)', [first]);
  await until('a new listening session', async () => {
    const now = await listeners();
    return now.length === 1 && now[0] !== first;
  });
  const ada = await t.ds.getRepository(User).save({ email: 'ada@example.com' });
  await until("ada's job", () => ran.length === 1);
  expect(ran).toEqual([ada.id]);
});

test('a queue created without notify: onError says so and the worker polls', async () => {
  await t.ds.query(`UPDATE pgboss.queue SET notify = false WHERE name = 'typeorm-signals'`);
  try {
    const errors: Error[] = [];
    worker = await startSignalsWorker(t.ds, { boss: t.boss, pollInterval: 0.05, onError: (error) => errors.push(error) });
    expect(errors.map((e) => `${e.name}: ${e.message}`)).toEqual([expect.stringMatching(/^SignalsError: durable queue "typeorm-signals" was created without notify, .*SET notify = true/)]);
    const ran = recordRuns();
    const ada = await t.ds.getRepository(User).save({ email: 'ada@example.com' });
    await until("ada's job", () => ran.length === 1);
    expect(ran).toEqual([ada.id]);
  } finally {
    await t.ds.query(`UPDATE pgboss.queue SET notify = true WHERE name = 'typeorm-signals'`);
  }
});

/** Counts the worker's claims (pg-boss fetch() calls, the real ones run) from now on. */
function countFetches(): { calls: number; restore(): void } {
  const counter = { calls: 0, restore: () => spy.mockRestore() };
  const real = t.boss.fetch.bind(t.boss);
  const spy = jest.spyOn(t.boss, 'fetch').mockImplementation((...args: Parameters<typeof t.boss.fetch>) => {
    counter.calls++;
    return real(...args);
  });
  return counter;
}

test('with concurrency 3, one notification wakes one loop: one claim for one write, not three', async () => {
  const ran = recordRuns();
  const fetches = countFetches();
  try {
    worker = await startSignalsWorker(t.ds, { boss: t.boss, pollInterval: SLOW_POLL, concurrency: 3 });
    await until('the three loops to claim once and sleep', () => fetches.calls === 3);
    await t.ds.query('SELECT 1'); // their (empty) claims' transactions end
    fetches.calls = 0;
    const ada = await t.ds.getRepository(User).save({ email: 'ada@example.com' });
    await until("ada's job", async () => (await t.jobs()).some((j) => j.state === 'completed'));
    expect(ran).toEqual([ada.id]);
    expect(fetches.calls).toBe(1);
  } finally {
    fetches.restore();
  }
});

test('a loop that claims a full batch wakes the next, so a backlog gets every loop', async () => {
  // Each receiver waits (up to 5 s) for a second one to run at the same time: only the second
  // loop can provide it, and it sleeps its 30 s unless the first loop's full claim wakes it.
  let active = 0;
  let most = 0;
  const ran: unknown[] = [];
  t.listen(
    postSave.connect(
      async ({ entityId }) => {
        active++;
        most = Math.max(most, active);
        for (let i = 0; i < 250 && active < 2 && most < 2; i++) await new Promise((resolve) => setTimeout(resolve, 20));
        ran.push(entityId);
        active--;
      },
      { sender: User, phase: 'durable', dispatchUid: 'listen-backlog' },
    ),
  );
  worker = await startSignalsWorker(t.ds, { boss: t.boss, pollInterval: SLOW_POLL, concurrency: 2, batchSize: 2 });
  await t.ds.query('SELECT 1');
  const users = await t.ds.getRepository(User).save(['a', 'b', 'c', 'd'].map((name) => ({ email: `${name}@example.com` })));
  await until('the four jobs', () => ran.length === 4);
  expect(most).toBe(2);
  expect([...ran].sort()).toEqual(users.map((u) => u.id).sort());
}, 30_000);
