/**
 * phase 'durable', one batch of jobs: the worker runs a batch's receivers together in ONE
 * savepoint, and when one fails it undoes them all and runs the others again one by one, each in
 * a savepoint of its own (src/typeorm/durable/run.ts). What a test can check of that: the
 * failed receiver's writes are gone, the others' writes and completions commit, the failure is
 * reported once with its attempt and retried, and which receivers were called again.
 */
import 'reflect-metadata';
import { configureSignals, postSave, type FailureReport } from '../../src';
import { drainDurable } from '../../src/testing';
import { User, UserProfile } from '../../src/example/entities';
import { openDurableTest, type DurableTest } from '../helpers/durable';

let t: DurableTest;
const reports: FailureReport[] = [];

beforeAll(async () => {
  t = await openDurableTest();
  configureSignals({ onReceiverError: (report) => void reports.push(report), logger: { error: () => undefined } });
});
afterAll(async () => {
  configureSignals({ onReceiverError: null, logger: null });
  await t?.cleanup();
});
afterEach(async () => {
  reports.length = 0;
  await t.reset();
});

const retryAtOnce = { limit: 2, delay: 0, backoff: false } as const;

async function saveUsers(n: number): Promise<number[]> {
  const users = await t.ds.getRepository(User).save(Array.from({ length: n }, (_, i) => ({ email: `user-${i}@example.com` })));
  return users.map((u) => u.id);
}

/** A durable receiver that gives each saved user a profile nicknamed 'welcome'. */
function connectCreateProfile(): void {
  t.listen(
    postSave.connect(
      async function createProfile({ entityId, manager }) {
        await manager.insert(UserProfile, { userId: entityId as number, nickname: 'welcome' });
      },
      { sender: User, phase: 'durable', dispatchUid: 'create-profile' },
    ),
  );
}

async function profiles(): Promise<Record<number, string | null>> {
  const rows = await t.ds.getRepository(UserProfile).find({ select: { userId: true, nickname: true } });
  return Object.fromEntries(rows.map((r) => [r.userId, r.nickname]));
}

test('job 3 of 5 throws: its writes are undone, the 4 others commit with their completions, it is retried as attempt 2 and reported once', async () => {
  const calls: Array<{ userId: number; attempt: number }> = [];
  let failing: number | undefined;
  t.listen(
    postSave.connect(
      async function createProfile({ entityId, manager, attempt }) {
        const userId = entityId as number;
        calls.push({ userId, attempt });
        await manager.insert(UserProfile, { userId, nickname: `attempt ${attempt}` });
        if (attempt === 1 && (failing === userId || (failing === undefined && calls.length === 3))) {
          failing = userId;
          throw new Error('the profile service is down');
        }
      },
      { sender: User, phase: 'durable', dispatchUid: 'create-profile', retry: retryAtOnce },
    ),
  );
  const ids = await saveUsers(5);

  expect(await drainDurable(t.ds, { batchSize: 5 })).toEqual({ ran: 5, failed: 1 });

  // First the batch together, stopping at the third; then the other four one by one, in batch
  // order (so the first two are called twice in attempt 1, the last two once); then the third's
  // retry, attempt 2.
  const together = calls.slice(0, 3);
  expect(together[2].userId).toBe(failing);
  expect(calls.slice(3, 5)).toEqual(together.slice(0, 2));
  const rest = calls.slice(5, 7);
  expect(rest.map((c) => c.attempt)).toEqual([1, 1]);
  expect(new Set([...together.slice(0, 2), ...rest].map((c) => c.userId))).toEqual(new Set(ids.filter((id) => id !== failing)));
  expect(calls.slice(7)).toEqual([{ userId: failing, attempt: 2 }]);

  // the undone attempt left no profile: each user has one, the failed one from attempt 2
  expect(await profiles()).toEqual(Object.fromEntries(ids.map((id) => [id, id === failing ? 'attempt 2' : 'attempt 1'])));
  const jobs = await t.jobs();
  expect(jobs.map((j) => j.state)).toEqual(['completed', 'completed', 'completed', 'completed', 'completed']);
  const failedJob = jobs.find((j) => j.data.entityId === failing)!;
  expect(failedJob.retryCount).toBe(1);
  expect(jobs.filter((j) => j !== failedJob).map((j) => j.retryCount)).toEqual([0, 0, 0, 0]);
  expect(reports.map((r) => [r.attempt, r.deliveryId, r.errorClass])).toEqual([[1, failedJob.id, 'Error']]);
});

test('a batch whose receivers all return costs one savepoint: the writes and the completions commit together', async () => {
  connectCreateProfile();
  const ids = await saveUsers(4);
  const savepoints: string[] = [];
  const runner = t.ds.createQueryRunner();
  const query = Object.getPrototypeOf(runner).query as (...args: unknown[]) => Promise<unknown>;
  await runner.release();
  const spy = jest.spyOn(Object.getPrototypeOf(runner), 'query').mockImplementation(function (this: unknown, ...args: unknown[]) {
    if (typeof args[0] === 'string' && /SAVEPOINT/.test(args[0])) savepoints.push(args[0]);
    return query.apply(this, args);
  });
  try {
    expect(await drainDurable(t.ds, { batchSize: 4 })).toEqual({ ran: 4, failed: 0 });
  } finally {
    spy.mockRestore();
  }
  expect(savepoints).toEqual(['SAVEPOINT typeorm_1', 'RELEASE SAVEPOINT typeorm_1']);
  expect(await profiles()).toEqual(Object.fromEntries(ids.map((id) => [id, 'welcome'])));
  expect((await t.jobs()).map((j) => j.state)).toEqual(['completed', 'completed', 'completed', 'completed']);
});

/** A receiver that, on attempt 1 of one job (the `culprit`-th called), catches a failed statement and returns. */
function connectSwallower(culpritIndex: number) {
  const calls: Array<{ userId: number; attempt: number }> = [];
  const state: { culprit?: number } = {};
  t.listen(
    postSave.connect(
      async function createProfile({ entityId, manager, attempt }) {
        const userId = entityId as number;
        calls.push({ userId, attempt });
        if (state.culprit === undefined && calls.length === culpritIndex + 1) state.culprit = userId;
        if (attempt === 1 && userId === state.culprit) {
          await manager.query('SELECT 1 / 0').catch(() => undefined); // aborts the transaction, and hides it
          return;
        }
        await manager.insert(UserProfile, { userId, nickname: `attempt ${attempt}` });
      },
      { sender: User, phase: 'durable', dispatchUid: 'create-profile', retry: retryAtOnce },
    ),
  );
  return { calls, state };
}

async function expectCulpritRetried(ids: number[], culprit: number | undefined, message: string): Promise<void> {
  expect(await profiles()).toEqual(Object.fromEntries(ids.map((id) => [id, id === culprit ? 'attempt 2' : 'attempt 1'])));
  const jobs = await t.jobs();
  expect(jobs.map((j) => j.state)).toEqual(['completed', 'completed', 'completed']);
  const culpritJob = jobs.find((j) => j.data.entityId === culprit)!;
  expect(culpritJob.retryCount).toBe(1);
  expect(reports.map((r) => [r.attempt, r.deliveryId])).toEqual([[1, culpritJob.id]]);
  expect(reports[0].error.message).toContain(message);
}

test.each([
  ['the middle one', 1],
  ['the last one', 2],
])('a receiver that catches a failed statement and returns (%s) fails at once, named; the others run again, each in its own savepoint', async (_which, index) => {
  const { calls, state } = connectSwallower(index);
  const ids = await saveUsers(3);

  expect(await drainDurable(t.ds, { batchSize: 3 })).toEqual({ ran: 3, failed: 1 });

  // together up to the culprit (seen as soon as it returns), then the two others, then its retry
  const together = calls.slice(0, index + 1);
  expect(together[index].userId).toBe(state.culprit);
  const others = calls.slice(index + 1, index + 3);
  expect(others.map((c) => c.userId).sort()).toEqual(ids.filter((id) => id !== state.culprit).sort());
  expect(others.slice(0, index)).toEqual(together.slice(0, index));
  expect(calls.slice(index + 3)).toEqual([{ userId: state.culprit, attempt: 2 }]);
  await expectCulpritRetried(ids, state.culprit, 'returned after one of its statements failed');
});

test.each([
  ['the middle one', 'the next receiver is refused (25P02)', 1],
  ['the last one', 'the batch savepoint cannot be released', 2],
])(
  'without SignalsSubscriber on the DataSource, a receiver that catches a failed statement (%s) is found when %s: every job runs again in its own savepoint',
  async (_which, _how, index) => {
    const { calls, state } = connectSwallower(index);
    const ids = await saveUsers(3);
    const subscribers = t.ds.subscribers as unknown[];
    const removed = subscribers.splice(0, subscribers.length);
    try {
      expect(await drainDurable(t.ds, { batchSize: 3 })).toEqual({ ran: 3, failed: 1 });
    } finally {
      subscribers.push(...removed);
    }
    // all three together (the one after the culprit refused, or the RELEASE), all three again, the retry
    expect(calls.slice(3, 6)).toEqual(calls.slice(0, 3));
    expect(calls.slice(6)).toEqual([{ userId: state.culprit, attempt: 2 }]);
    await expectCulpritRetried(ids, state.culprit, 'current transaction is aborted');
  },
);

test('a job whose receiver is not connected fails beside a batch that runs', async () => {
  connectCreateProfile();
  const off = postSave.connect(() => undefined, { sender: User, phase: 'durable', dispatchUid: 'gone-in-the-worker', retry: { limit: 0 } });
  const ids = await saveUsers(2);
  off();
  expect(await drainDurable(t.ds, { batchSize: 10 })).toEqual({ ran: 2, failed: 2 });
  expect(await profiles()).toEqual(Object.fromEntries(ids.map((id) => [id, 'welcome'])));
  const states = Object.fromEntries((await t.jobs()).map((j) => [`${j.data.receiver} ${j.data.entityId}`, j.state]));
  expect(states).toEqual(Object.fromEntries(ids.flatMap((id) => [[`create-profile ${id}`, 'completed'], [`gone-in-the-worker ${id}`, 'failed']])));
  expect(reports.map((r) => r.receiver)).toEqual(['"gone-in-the-worker"', '"gone-in-the-worker"']);
});
