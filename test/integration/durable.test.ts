import 'reflect-metadata';
import type { DataSource } from 'typeorm';
import type { PgBoss } from 'pg-boss';
import { SignalsError, SignalsSubscriber, installSignals, postLoad, postSave, preSave, postDelete } from '../../src';
import { drainDurable } from '../../src/testing';
import { exampleMigrations } from '../../migrations';
import { User, UserProfile } from '../../src/example/entities';
import { openTestDataSource, type TestDataSource } from '../helpers/database';
import { QueryRecorder } from '../helpers/query-log';
import { startBoss } from '../helpers/pg-boss';
import { connections } from '../helpers/connections';

/**
 * phase 'durable', producer and in-process drain: the job is inserted by the write's own
 * transaction (one statement per write), rolls back with it, and runs through a real claim.
 */
let db: TestDataSource;
let ds: DataSource;
let boss: PgBoss;
let unbind: () => void;
const recorder = new QueryRecorder();
const { listen } = connections();

beforeAll(async () => {
  db = await openTestDataSource({ entities: [User, UserProfile], migrations: exampleMigrations, subscribers: [SignalsSubscriber], logger: recorder });
  ds = db.dataSource;
  boss = await startBoss(db.database.url);
  unbind = installSignals(ds, { durable: boss });
});
afterAll(async () => {
  unbind?.();
  await boss?.stop({ graceful: false, close: true });
  await db?.cleanup();
});
afterEach(async () => {
  recorder.stop();
  await ds.query('TRUNCATE users, user_profiles RESTART IDENTITY CASCADE');
  await ds.query('DELETE FROM pgboss.job');
});

async function jobs(): Promise<Array<{ state: string; data: Record<string, unknown> }>> {
  return ds.query(`SELECT state, data FROM pgboss.job WHERE name = 'typeorm-signals' ORDER BY created_on, id`);
}

test('a committed save enqueues one job; drainDurable runs the receiver with ids, flags, deliveryId and load()', async () => {
  const calls: Array<Record<string, unknown>> = [];
  listen(
    postSave.connect(
      async function welcome({ entityId, created, source, partial, updateFields, deliveryId, attempt, load, manager }) {
        const user = await load();
        calls.push({ entityId, created, source, partial, updateFields, deliveryId, attempt, email: user?.email, tx: manager.queryRunner?.isTransactionActive });
      },
      { sender: User, phase: 'durable', dispatchUid: 'welcome-mail' },
    ),
  );
  const ada = await ds.getRepository(User).save({ email: 'ada@example.com' });
  expect(calls).toEqual([]); // nothing runs in the writing process
  const [job] = await jobs();
  expect(job.state).toBe('created');
  expect(job.data).toEqual({ v: 1, deliveryId: expect.any(String), signal: 'postSave', receiver: 'welcome-mail', entity: 'User', depth: 0, entityId: ada.id, created: true, source: 'save', partial: false });

  expect(await drainDurable(ds)).toEqual({ ran: 1, failed: 0 });
  expect(calls).toEqual([
    { entityId: ada.id, created: true, source: 'save', partial: false, updateFields: undefined, deliveryId: expect.any(String), attempt: 1, email: 'ada@example.com', tx: true },
  ]);
  expect((await jobs()).map((j) => j.state)).toEqual(['completed']);
  expect(await drainDurable(ds)).toEqual({ ran: 0, failed: 0 });
});

test('rolled-back transactions and savepoints leave no job', async () => {
  listen(postSave.connect(() => undefined, { sender: User, phase: 'durable', dispatchUid: 'noop' }));
  await expect(
    ds.transaction(async (manager) => {
      await manager.save(User, { email: 'thrown@example.com' });
      throw new Error('payment declined');
    }),
  ).rejects.toThrow('payment declined');
  await ds.transaction(async (manager) => {
    await manager.save(User, { email: 'kept@example.com' });
    const savepoint = manager.transaction(async (inner) => {
      await inner.save(User, { email: 'savepoint@example.com' });
      throw new Error('undo the savepoint');
    });
    await expect(savepoint).rejects.toThrow('undo the savepoint');
  });
  const rows = await jobs();
  expect(rows).toHaveLength(1);
  expect(rows[0].data.entityId).toBe((await ds.getRepository(User).findOneByOrFail({ email: 'kept@example.com' })).id);
});

test('a save of 1,000 users costs one job-insert statement', async () => {
  listen(postSave.connect(() => undefined, { sender: User, phase: 'durable', dispatchUid: 'per-row' }));
  listen(postSave.connect(() => undefined, { sender: User, phase: 'durable', dispatchUid: 'batch', batch: true }));
  const users = Array.from({ length: 1000 }, (_, i) => ds.getRepository(User).create({ email: `u${i}@example.com` }));
  recorder.start();
  await ds.getRepository(User).save(users);
  const queries = recorder.stop();
  expect(queries.filter((q) => /INSERT INTO pgboss\./i.test(q))).toHaveLength(1);
  const [{ n, items }] = await ds.query(
    `SELECT count(*)::int AS n, max(jsonb_array_length(data->'items'))::int AS items FROM pgboss.job WHERE name = 'typeorm-signals'`,
  );
  expect({ n, items }).toEqual({ n: 1001, items: 1000 });
});

test('a write outside a transaction gets one: insert() and its job commit together', async () => {
  listen(postSave.connect(() => undefined, { sender: User, phase: 'durable', dispatchUid: 'noop' }));
  recorder.start();
  await ds.getRepository(User).insert({ email: 'plain@example.com' });
  const queries = recorder.stop();
  const begin = queries.findIndex((q) => q === 'START TRANSACTION' || q === 'BEGIN');
  const job = queries.findIndex((q) => /INSERT INTO pgboss\./i.test(q));
  const commit = queries.findIndex((q) => q === 'COMMIT');
  expect(begin).toBeGreaterThanOrEqual(0);
  expect(begin < job && job < commit).toBe(true);
});

test('connect() refuses durable receivers without dispatchUid, on pre signals and on postLoad', () => {
  expect(() => postSave.connect(() => undefined, { sender: User, phase: 'durable' } as never)).toThrow(TypeError);
  expect(() => postSave.connect(() => undefined, { sender: User, phase: 'durable' } as never)).toThrow(/needs a "dispatchUid"/);
  expect(() => preSave.connect(() => undefined, { phase: 'durable', dispatchUid: 'x' } as never)).toThrow(/runs before the write.*use postSave/);
  expect(() => postLoad.connect(() => undefined, { phase: 'durable', dispatchUid: 'x' } as never)).toThrow(/runs on a read/);
  expect(() => postSave.connect(() => undefined, { phase: 'commit', retry: { limit: 1 } } as never)).toThrow(/only for phase 'durable'/);
  expect(() => postDelete.connect(() => undefined, { phase: 'durable', dispatchUid: 'x', retry: { limit: -1 } })).toThrow(/retry.limit/);
  expect(postSave.receivers().length).toBe(0);
});

test('without a queue on the DataSource the write fails with a SignalsError naming receiver and DataSource, and rolls back', async () => {
  listen(postSave.connect(() => undefined, { sender: User, phase: 'durable', dispatchUid: 'welcome-mail' }));
  unbind();
  try {
    const failed = ds.getRepository(User).save({ email: 'lost@example.com' });
    await expect(failed).rejects.toThrow(SignalsError);
    await expect(ds.getRepository(User).save({ email: 'lost@example.com' })).rejects.toThrow(
      /durable receiver "welcome-mail" for sender User has no queue on DataSource \(postgres, database "tsig_test_/,
    );
    expect(await ds.getRepository(User).count()).toBe(0);
  } finally {
    unbind = installSignals(ds, { durable: boss });
  }
});

test('startSignalsWorker runs the job in a worker transaction; the receiver\'s writes commit with the completion', async () => {
  const { startSignalsWorker } = await import('../../src');
  listen(
    postSave.connect(
      async function createProfile({ entityId, created, manager }) {
        if (created) await manager.insert(UserProfile, { userId: entityId as number, nickname: 'from the worker' });
      },
      { sender: User, phase: 'durable', dispatchUid: 'profile' },
    ),
  );
  const worker = await startSignalsWorker(ds, { boss, pollInterval: 0.05 });
  try {
    const ada = await ds.getRepository(User).save({ email: 'ada@example.com' });
    for (let i = 0; i < 200 && (await ds.getRepository(UserProfile).count()) === 0; i++) await new Promise((r) => setTimeout(r, 25));
    const profile = await ds.getRepository(UserProfile).findOneByOrFail({ userId: ada.id });
    expect(profile.nickname).toBe('from the worker');
    expect((await jobs()).map((j) => j.state)).toEqual(['completed']);
  } finally {
    await worker.stop();
  }
});
