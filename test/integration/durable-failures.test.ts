/**
 * phase 'durable' when receivers fail: retries per the receiver's `retry` policy, then pg-boss's
 * dead-letter queue (inspected and redriven with pg-boss's own calls, as docs/durable.md shows),
 * onReceiverError once per failed attempt with the attempt number, and a job whose receiver
 * the worker does not have fails and is retried: it is never completed unrun.
 */
import 'reflect-metadata';
import { configureSignals, postSave, redriveDurable, type FailureReport } from '../../src';
import { drainDurable } from '../../src/testing';
import { User, UserProfile } from '../../src/example/entities';
import { openDurableTest, type DurableTest } from '../helpers/durable';

let t: DurableTest;
const reports: FailureReport[] = [];
const logged: string[] = [];

beforeAll(async () => {
  t = await openDurableTest();
  configureSignals({ onReceiverError: (report) => void reports.push(report), logger: { error: (message) => void logged.push(message) } });
});
afterAll(async () => {
  configureSignals({ onReceiverError: null, logger: null });
  await t?.cleanup();
});
afterEach(async () => {
  reports.length = 0;
  logged.length = 0;
  await t.reset();
});

class MailBounced extends Error {
  override name = 'MailBounced';
}

test('a failing receiver is retried per its retry policy, then dead-lettered; onReceiverError gets each attempt', async () => {
  const attempts: Array<{ attempt: number; deliveryId: string }> = [];
  t.listen(
    postSave.connect(
      async function sendWelcomeMail({ attempt, deliveryId }) {
        attempts.push({ attempt, deliveryId });
        throw new MailBounced('mailbox ada@example.com is full');
      },
      { sender: User, phase: 'durable', dispatchUid: 'welcome-mail', retry: { limit: 2, delay: 0, backoff: false } },
    ),
  );
  await t.ds.getRepository(User).save({ email: 'ada@example.com' });
  const [queued] = await t.jobs();
  expect(queued.retryLimit).toBe(2);

  // delay 0: each retry is due at once, so one drain runs all three attempts
  expect(await drainDurable(t.ds)).toEqual({ ran: 0, failed: 3 });
  expect(attempts.map((a) => a.attempt)).toEqual([1, 2, 3]);
  expect(new Set(attempts.map((a) => a.deliveryId))).toEqual(new Set([queued.id])); // one idempotency key for every attempt

  expect(reports.map((r) => [r.attempt, r.deliveryId, r.errorClass, r.signal, r.sender])).toEqual([
    [1, queued.id, 'MailBounced', 'postSave', 'User'],
    [2, queued.id, 'MailBounced', 'postSave', 'User'],
    [3, queued.id, 'MailBounced', 'postSave', 'User'],
  ]);
  expect(reports[0].receiver).toBe('sendWelcomeMail ("welcome-mail")');
  expect(reports[0].context).toBe(`durable job ${queued.id}, attempt 1`);
  // the logged line names receiver, signal and attempt, and leaves the error's text (an address) out
  expect(logged).toHaveLength(3);
  expect(logged[2]).toContain('sendWelcomeMail ("welcome-mail")');
  expect(logged[2]).toContain('attempt 3');
  expect(logged.join('\n')).not.toContain('ada@example.com');

  const [job] = await t.jobs();
  expect(job).toMatchObject({ id: queued.id, state: 'failed', retryCount: 2 });
  expect(job.output).toEqual({ name: 'MailBounced', message: 'mailbox ada@example.com is full', attempt: 3 });
  // the dead-letter queue holds a copy with the same data; nothing runs it
  const dead = await t.jobs('typeorm-signals.dead-letter');
  expect(dead).toHaveLength(1);
  expect(dead[0].data).toEqual(queued.data);
  expect(dead[0].state).toBe('created');
  expect(await drainDurable(t.ds)).toEqual({ ran: 0, failed: 0 });
});

test('a receiver that fails twice, then succeeds: its failed attempts\' writes are rolled back, the last one commits with the completion', async () => {
  let calls = 0;
  t.listen(
    postSave.connect(
      async function createProfile({ entityId, manager, attempt }) {
        calls++;
        await manager.insert(UserProfile, { userId: entityId as number, nickname: `attempt ${attempt}` });
        if (attempt < 3) throw new Error('the profile service is down');
      },
      { sender: User, phase: 'durable', dispatchUid: 'create-profile', retry: { limit: 5, delay: 0, backoff: false } },
    ),
  );
  const ada = await t.ds.getRepository(User).save({ email: 'ada@example.com' });
  expect(await drainDurable(t.ds)).toEqual({ ran: 1, failed: 2 });
  expect(calls).toBe(3);
  expect(reports.map((r) => r.attempt)).toEqual([1, 2]);
  expect(await t.ds.getRepository(UserProfile).find({ select: { userId: true, nickname: true } })).toEqual([{ userId: ada.id, nickname: 'attempt 3' }]);
  expect((await t.jobs()).map((j) => [j.state, j.retryCount])).toEqual([['completed', 2]]);
  expect(await t.jobs('typeorm-signals.dead-letter')).toEqual([]);
});

test('retry: { limit: 0 } means one attempt, straight to the dead-letter queue; a delayed retry waits for a later drain', async () => {
  t.listen(
    postSave.connect(
      () => {
        throw new Error('no');
      },
      { sender: User, phase: 'durable', dispatchUid: 'once', retry: { limit: 0 } },
    ),
  );
  t.listen(
    postSave.connect(
      () => {
        throw new Error('later');
      },
      { sender: User, phase: 'durable', dispatchUid: 'delayed', retry: { limit: 1, delay: 3600 } },
    ),
  );
  await t.ds.getRepository(User).save({ email: 'ada@example.com' });
  expect(await drainDurable(t.ds)).toEqual({ ran: 0, failed: 2 });
  const byReceiver = Object.fromEntries((await t.jobs()).map((j) => [j.data.receiver, j.state]));
  expect(byReceiver).toEqual({ once: 'failed', delayed: 'retry' });
  expect((await t.jobs('typeorm-signals.dead-letter')).map((j) => j.data.receiver)).toEqual(['once']);
  expect(await drainDurable(t.ds)).toEqual({ ran: 0, failed: 0 }); // the retry is an hour away
});

test('dead-lettered jobs: findJobs() lists them, previewRedrive()/redrive() move them back, and a fixed receiver runs them', async () => {
  let broken = true;
  const ran: string[] = [];
  t.listen(
    postSave.connect(
      async ({ deliveryId }) => {
        if (broken) throw new Error('bug in the receiver');
        ran.push(deliveryId);
      },
      { sender: User, phase: 'durable', dispatchUid: 'welcome-mail', retry: { limit: 0 } },
    ),
  );
  await t.ds.getRepository(User).save([{ email: 'ada@example.com' }, { email: 'bob@example.com' }]);
  const originalIds = (await t.jobs()).map((j) => j.id).sort();
  expect(await drainDurable(t.ds)).toEqual({ ran: 0, failed: 2 });

  const dead = await t.boss.findJobs<{ receiver: string; entityId: number }>('typeorm-signals.dead-letter');
  expect(dead.map((j) => [j.data.receiver, j.state])).toEqual([
    ['welcome-mail', 'created'],
    ['welcome-mail', 'created'],
  ]);
  expect(await t.boss.previewRedrive('typeorm-signals.dead-letter')).toEqual({ total: 2, destinations: [{ name: 'typeorm-signals', count: 2 }], unroutable: 0 });

  broken = false; // the fix is deployed
  expect(await t.boss.redrive('typeorm-signals.dead-letter')).toBe(2);
  expect(await t.jobs('typeorm-signals.dead-letter')).toEqual([]);
  // pg-boss makes new jobs of the copies, with the queue's retry settings (its defaults: 2 retries),
  // not the receiver's retry: { limit: 0 } (docs/durable.md says so)
  const redriven = (await t.jobs()).filter((j) => j.state === 'created');
  expect(redriven.map((j) => [j.retryLimit, j.retryCount])).toEqual([
    [2, 0],
    [2, 0],
  ]);
  expect(await drainDurable(t.ds)).toEqual({ ran: 2, failed: 0 });
  expect(ran.sort()).toEqual(originalIds); // the deliveryId survives the redrive (pg-boss gives the copy a new job id)
  const states = (await t.jobs()).map((j) => j.state).sort();
  expect(states).toEqual(['completed', 'completed', 'failed', 'failed']); // the originals stay failed; the redriven copies completed
});

test("redriveDurable() moves the dead-lettered jobs back with their receiver's retry policy, not the queue's", async () => {
  const attempts: Record<string, number[]> = { 'welcome-mail': [], 'crm-sync': [] };
  const offs: Array<() => boolean> = [];
  for (const receiver of ['welcome-mail', 'crm-sync']) {
    offs.push(
      postSave.connect(
        async ({ attempt }) => {
          attempts[receiver].push(attempt);
          throw new Error('still broken');
        },
        { sender: User, phase: 'durable', dispatchUid: receiver, retry: { limit: 1, delay: 0, backoff: false } },
      ),
    );
  }
  offs.forEach((off) => t.listen(off));
  await t.ds.getRepository(User).save({ email: 'ada@example.com' });
  expect(await drainDurable(t.ds)).toEqual({ ran: 0, failed: 4 }); // the receivers' policy: 2 attempts each
  expect(await t.jobs('typeorm-signals.dead-letter')).toHaveLength(2);

  // one receiver's jobs only; the copy gets retry: { limit: 1, delay: 0, backoff: false } again
  expect(await redriveDurable(t.ds, { receiver: 'welcome-mail' })).toEqual({ moved: 1, withReceiverPolicy: 1, withQueuePolicy: 0 });
  const [copy] = (await t.jobs()).filter((j) => j.state === 'created');
  expect(copy).toMatchObject({ retryLimit: 1, retryCount: 0 });
  expect(copy.data.receiver).toBe('welcome-mail');
  expect(copy.id).not.toBe(copy.data.deliveryId);
  attempts['welcome-mail'].length = 0;
  expect(await drainDurable(t.ds)).toEqual({ ran: 0, failed: 2 }); // 2 attempts again, not the queue's 3
  expect(attempts['welcome-mail']).toEqual([1, 2]);
  expect((await t.jobs('typeorm-signals.dead-letter')).map((j) => j.data.receiver).sort()).toEqual(['crm-sync', 'welcome-mail']);

  // a copy whose receiver is not connected here keeps the queue's settings, and says so
  for (const off of offs) off();
  expect(await redriveDurable(t.ds)).toEqual({ moved: 2, withReceiverPolicy: 0, withQueuePolicy: 2 });
  expect((await t.jobs()).filter((j) => j.state === 'created').map((j) => j.retryLimit)).toEqual([2, 2]);
  expect(await redriveDurable(t.ds)).toEqual({ moved: 0, withReceiverPolicy: 0, withQueuePolicy: 0 });
});

test('redriveDurable() refuses a DataSource without a queue and bad options', async () => {
  t.unbind();
  try {
    await expect(redriveDurable(t.ds)).rejects.toThrow(/redriveDurable\(\): DataSource .* has no durable queue; call installSignals/);
  } finally {
    t.bind();
  }
  await expect(redriveDurable(t.ds, { receivers: 'x' } as never)).rejects.toThrow('redriveDurable(): unknown option "receivers" (known: receiver, limit)');
  await expect(redriveDurable(t.ds, { limit: 0 })).rejects.toThrow('redriveDurable(): "limit" must be a whole number > 0, got 0');
  await expect(redriveDurable(t.ds, { receiver: '' })).rejects.toThrow('redriveDurable(): "receiver" must be a dispatchUid');
});

test('a job whose receiver the worker does not have fails loudly and is retried, never completed unrun', async () => {
  const ran: number[] = [];
  const receiver = async ({ attempt }: { attempt: number }) => void ran.push(attempt);
  const options = { sender: User, phase: 'durable', dispatchUid: 'renamed-later', retry: { limit: 3, delay: 0, backoff: false } } as const;
  const disconnect = postSave.connect(receiver, options);
  await t.ds.getRepository(User).save({ email: 'ada@example.com' });
  disconnect(); // this "worker" does not have the receiver (an old deploy, a missing import)

  const first = await drainDurable(t.ds);
  expect(first.ran).toBe(0);
  expect(first.failed).toBe(4); // every attempt failed; none completed
  expect(ran).toEqual([]);
  expect(reports[0].receiver).toBe('"renamed-later"');
  expect(reports[0].errorClass).toBe('SignalsError');
  expect(reports[0].error.message).toMatch(
    /durable job for receiver "renamed-later" \(postSave, User\): no durable receiver "renamed-later" of postSave for User is connected in this process.*never completed unrun/,
  );
  expect((await t.jobs()).map((j) => j.state)).toEqual(['failed']);
  expect((await t.jobs('typeorm-signals.dead-letter')).map((j) => j.data.receiver)).toEqual(['renamed-later']);
});

test('a job whose receiver is connected again before its retry runs on that retry', async () => {
  const ran: number[] = [];
  const receiver = async ({ attempt }: { attempt: number }) => void ran.push(attempt);
  const options = { sender: User, phase: 'durable', dispatchUid: 'comes-back', retry: { limit: 2, delay: 0, backoff: false } } as const;
  const disconnect = postSave.connect(receiver, options);
  await t.ds.getRepository(User).save({ email: 'ada@example.com' });
  disconnect();
  // the first attempt fails for want of the receiver; the worker gets it (a deploy) before the retry
  configureSignals({
    onReceiverError: (report) => {
      reports.push(report);
      if (reports.length === 1) t.listen(postSave.connect(receiver, options));
    },
  });
  try {
    expect(await drainDurable(t.ds)).toEqual({ ran: 1, failed: 1 });
  } finally {
    configureSignals({ onReceiverError: (report) => void reports.push(report) });
  }
  expect(ran).toEqual([2]);
  expect((await t.jobs()).map((j) => [j.state, j.retryCount])).toEqual([['completed', 1]]);
});

test('drainDurable() refuses unknown options and a batchSize that is not a whole number > 0', async () => {
  await expect(drainDurable(t.ds, { batchSize: 0 })).rejects.toThrow(/drainDurable\(\): "batchSize" must be a whole number > 0, got 0/);
  await expect(drainDurable(t.ds, { batchsize: 10 } as never)).rejects.toThrow(/drainDurable\(\): unknown option "batchsize" \(known: batchSize\)/);
});

test('a job that is not typeorm-signals\' (sent to the queue by other code) fails with a message saying so', async () => {
  await t.boss.send('typeorm-signals', { hello: 'world' }, { retryLimit: 0 });
  expect(await drainDurable(t.ds)).toEqual({ ran: 0, failed: 1 });
  expect(reports[0].error.message).toMatch(/is not a typeorm-signals job/);
  expect((await t.jobs()).map((j) => j.state)).toEqual(['failed']);
});
