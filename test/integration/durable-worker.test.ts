/**
 * startSignalsWorker(): batches of `batchSize` jobs, each batch in one transaction; `concurrency`
 * batches at once, each in its own transaction; stop() lets a running job finish and commit and
 * claims nothing more.
 */
import 'reflect-metadata';
import { postSave, startSignalsWorker, type SignalsWorker } from '../../src';
import { User, UserProfile } from '../../src/example/entities';
import { openDurableTest, type DurableTest } from '../helpers/durable';
import { until as waitUntil } from '../helpers/until';

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

/** The worker runs on its own schedule: waits up to 15 s for `done()`. */
const until = (what: string, done: () => boolean | Promise<boolean>) => waitUntil(what, done, 15);

/** A promise and its resolve function. */
function gate(): { opened: Promise<void>; open: () => void } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

const txid = async (manager: { query(sql: string): Promise<Array<{ tx: string }>> }) => (await manager.query('SELECT txid_current()::text AS tx'))[0].tx;

test('batchSize: 5 jobs with batchSize 2 run in 3 transactions of 2, 2 and 1 jobs', async () => {
  const calls: Array<{ tx: string; id: unknown }> = [];
  t.listen(postSave.connect(async ({ manager, entityId }) => void calls.push({ tx: await txid(manager), id: entityId }), { sender: User, phase: 'durable', dispatchUid: 'tx-of' }));
  await t.ds.getRepository(User).save(Array.from({ length: 5 }, (_, i) => ({ email: `u${i}@example.com` })));
  worker = await startSignalsWorker(t.ds, { boss: t.boss, batchSize: 2, pollInterval: 0.05 });
  await until('5 receiver calls', () => calls.length === 5);
  await until('5 completed jobs', async () => (await t.jobs()).every((j) => j.state === 'completed'));
  const perTransaction = new Map<string, number>();
  for (const { tx } of calls) perTransaction.set(tx, (perTransaction.get(tx) ?? 0) + 1);
  expect([...perTransaction.values()].sort()).toEqual([1, 2, 2]);
  expect(new Set(calls.map((c) => c.id)).size).toBe(5);
});

test('concurrency: 2 batches run at once, each in its own transaction', async () => {
  let running = 0;
  let most = 0;
  const both = gate();
  const txs: string[] = [];
  t.listen(
    postSave.connect(
      async ({ manager }) => {
        txs.push(await txid(manager));
        running++;
        most = Math.max(most, running);
        if (running === 2) both.open();
        // with one batch at a time the second job never starts while this one waits: fail it instead of hanging
        const alone = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('the other job did not start alongside')), 10_000).unref());
        try {
          await Promise.race([both.opened, alone]);
        } finally {
          running--;
        }
      },
      { sender: User, phase: 'durable', dispatchUid: 'side-by-side', retry: { limit: 0 } },
    ),
  );
  await t.ds.getRepository(User).save([{ email: 'ada@example.com' }, { email: 'bob@example.com' }]);
  worker = await startSignalsWorker(t.ds, { boss: t.boss, concurrency: 2, batchSize: 1, pollInterval: 0.05 });
  await until('2 completed jobs', async () => (await t.jobs()).filter((j) => j.state === 'completed').length === 2);
  expect(most).toBe(2);
  expect(new Set(txs).size).toBe(2);
  expect((await t.jobs()).map((j) => j.state)).toEqual(['completed', 'completed']);
});

test('stop(): the running job finishes and commits, stop() resolves after it, and no job is claimed afterwards', async () => {
  const started = gate();
  const release = gate();
  const events: string[] = [];
  t.listen(
    postSave.connect(
      async ({ entityId, manager }) => {
        started.open();
        await release.opened;
        await manager.insert(UserProfile, { userId: entityId as number, nickname: 'written while stopping' });
        events.push('receiver done');
      },
      { sender: User, phase: 'durable', dispatchUid: 'slow-profile' },
    ),
  );
  worker = await startSignalsWorker(t.ds, { boss: t.boss, pollInterval: 0.05 });
  const ada = await t.ds.getRepository(User).save({ email: 'ada@example.com' });
  await started.opened;
  const stopped = worker.stop().then(() => events.push('stopped'));
  const bob = await t.ds.getRepository(User).save({ email: 'bob@example.com' }); // enqueued while stopping
  release.open();
  await stopped;
  expect(events).toEqual(['receiver done', 'stopped']);
  expect(await t.ds.getRepository(UserProfile).findOneBy({ userId: ada.id })).toMatchObject({ nickname: 'written while stopping' });
  const states = Object.fromEntries((await t.jobs()).map((j) => [j.data.entityId, j.state]));
  expect(states).toEqual({ [ada.id]: 'completed', [bob.id]: 'created' });
  expect(await worker.stop().then(() => 'again')).toBe('again'); // stop() twice is fine
});

test('startSignalsWorker() refuses unknown options, bad numbers and something that is not a PgBoss', async () => {
  await expect(startSignalsWorker(t.ds, { boss: t.boss, concurency: 2 } as never)).rejects.toThrow(/unknown option "concurency"/);
  await expect(startSignalsWorker(t.ds, { boss: t.boss, batchSize: 0 })).rejects.toThrow(/"batchSize" must be a whole number > 0, got 0/);
  await expect(startSignalsWorker(t.ds, { boss: t.boss, concurrency: 1.5 })).rejects.toThrow(/"concurrency" must be a whole number > 0, got 1.5/);
  await expect(startSignalsWorker(t.ds, { boss: t.boss, listen: 'yes' } as never)).rejects.toThrow(/startSignalsWorker\(\): "listen" must be a boolean, got yes/);
  await expect(startSignalsWorker(t.ds, { boss: {} })).rejects.toThrow(/startSignalsWorker\(\): "boss" must be a started PgBoss instance from pg-boss >= 12.*without insert\(\)/);
});
