/**
 * Durable receivers and the test kit: captureSignals records the enqueue, withoutSignals
 * suppresses it (whole sends or single receivers), the DEBUG trace shows enqueue, claim,
 * complete and fail without entity values, and the re-trigger guard: a receiver's write of its
 * own job's row does not enqueue it again, and any other chain stops at MAX_DURABLE_DEPTH.
 */
import 'reflect-metadata';
import createDebug from 'debug';
import { configureSignals, postSave, withoutSignals, type FailureReport } from '../../src';
import { captureSignals, drainDurable } from '../../src/testing';
import { MAX_DURABLE_DEPTH } from '../../src/typeorm/durable/context';
import { User, UserProfile } from '../../src/example/entities';
import { openDurableTest, type DurableTest } from '../helpers/durable';
import { captureDebugLines } from '../helpers/debug-lines';

let t: DurableTest;
beforeAll(async () => {
  t = await openDurableTest();
});
afterAll(() => t?.cleanup());
afterEach(() => t.reset());

describe('captureSignals and withoutSignals', () => {
  test('captureSignals records the enqueued job (phase durable, the job data and deliveryId); no receiver runs in the writer', async () => {
    t.listen(postSave.connect(() => undefined, { sender: User, phase: 'durable', dispatchUid: 'welcome-mail' }));
    const { result: ada, records } = await captureSignals(() => t.ds.getRepository(User).save({ email: 'ada@example.com' }));
    const durable = records.filter((r) => r.phase === 'durable');
    expect(durable).toHaveLength(1);
    const [job] = await t.jobs();
    expect(durable[0]).toMatchObject({ signal: postSave, sender: User, batch: false, muted: false, receivers: [] });
    expect(durable[0].payload).toMatchObject({ receiver: 'welcome-mail', entityId: ada.id, created: true, deliveryId: job.id });
  });

  test('withoutSignals mutes the whole send: no job, a muted record', async () => {
    t.listen(postSave.connect(() => undefined, { sender: User, phase: 'durable', dispatchUid: 'welcome-mail' }));
    const { records } = await captureSignals(() => withoutSignals(() => t.ds.getRepository(User).save({ email: 'ada@example.com' }), { signals: [postSave] }));
    expect(await t.jobs()).toEqual([]);
    expect(records.filter((r) => r.phase === 'durable').map((r) => [r.muted, r.payload.receiver])).toEqual([[true, 'welcome-mail']]);
    expect(await t.ds.getRepository(User).count()).toBe(1); // the write itself happened
  });

  test('withoutSignals({ receivers }) mutes one durable receiver by dispatchUid or function; the others are enqueued', async () => {
    const profile = function createProfile() {};
    t.listen(postSave.connect(() => undefined, { sender: User, phase: 'durable', dispatchUid: 'welcome-mail' }));
    t.listen(postSave.connect(profile, { sender: User, phase: 'durable', dispatchUid: 'profile' }));
    t.listen(postSave.connect(() => undefined, { sender: User, phase: 'durable', dispatchUid: 'reindex', batch: true }));
    await withoutSignals(() => t.ds.getRepository(User).save([{ email: 'ada@example.com' }, { email: 'bob@example.com' }]), { receivers: ['welcome-mail'] });
    expect((await t.jobs()).map((j) => j.data.receiver).sort()).toEqual(['profile', 'profile', 'reindex']);
    await t.reset();
    t.listen(postSave.connect(profile, { sender: User, phase: 'durable', dispatchUid: 'profile' }));
    t.listen(postSave.connect(() => undefined, { sender: User, phase: 'durable', dispatchUid: 'welcome-mail' }));
    await withoutSignals(() => t.ds.getRepository(User).save({ email: 'carol@example.com' }), { receivers: [profile] });
    expect((await t.jobs()).map((j) => j.data.receiver)).toEqual(['welcome-mail']);
  });
});

describe('DEBUG=typeorm-signals trace', () => {
  const lines = captureDebugLines();
  const reports: FailureReport[] = [];
  beforeAll(() => {
    createDebug.enable('typeorm-signals');
    configureSignals({ logger: { error: () => undefined }, onReceiverError: (r) => void reports.push(r) });
  });
  afterAll(() => configureSignals({ logger: null, onReceiverError: null }));

  test('shows enqueue, claim, complete and fail, with ids and receivers but no entity values', async () => {
    t.listen(postSave.connect(() => undefined, { sender: User, phase: 'durable', dispatchUid: 'welcome-mail' }));
    t.listen(
      postSave.connect(
        () => {
          throw new Error('provider down for ada@example.com');
        },
        { sender: User, phase: 'durable', dispatchUid: 'crm-sync', retry: { limit: 0 } },
      ),
    );
    const ada = await t.ds.getRepository(User).save({ email: 'ada@example.com', name: 'Ada Lovelace' });
    const jobs = await t.jobs();
    const idOf = (receiver: string) => jobs.find((j) => j.data.receiver === receiver)!.id;
    expect(await drainDurable(t.ds)).toEqual({ ran: 1, failed: 1 });
    const text = lines.join('\n');
    expect(text).toMatch(new RegExp(`postSave sender=User receiver="welcome-mail" phase=durable enqueued job ${idOf('welcome-mail')} \\(1 row\\(s\\)\\)`));
    expect(text).toMatch(/durable: claimed 2 job\(s\) from "typeorm-signals"/);
    expect(text).toMatch(new RegExp(`postSave sender=User receiver="welcome-mail" phase=durable job ${idOf('welcome-mail')} attempt 1 ok in`));
    expect(text).toMatch(new RegExp(`postSave sender=User receiver="crm-sync" phase=durable job ${idOf('crm-sync')} attempt 1 failed: Error`));
    expect(text).toMatch(/durable: completed 1 job\(s\) of "typeorm-signals"/);
    expect(text).not.toContain('ada@example.com');
    expect(text).not.toContain('Ada Lovelace');
    expect(text).not.toContain('provider down'); // the error's message may hold values too
    expect(ada.id).toBeGreaterThan(0);
    expect(reports).toHaveLength(1);
  });
});

describe('re-trigger guard', () => {
  const reports: FailureReport[] = [];
  beforeAll(() => configureSignals({ logger: { error: () => undefined }, onReceiverError: (r) => void reports.push(r) }));
  afterAll(() => configureSignals({ logger: null, onReceiverError: null }));
  beforeEach(() => void (reports.length = 0));

  test('a receiver that updates the row of its own job is not enqueued again', async () => {
    let calls = 0;
    t.listen(
      postSave.connect(
        async ({ entityId, manager }) => {
          calls++;
          await manager.save(User, { id: entityId as number, name: 'welcomed' });
        },
        { sender: User, phase: 'durable', dispatchUid: 'mark-welcomed' },
      ),
    );
    t.listen(postSave.connect(() => undefined, { sender: User, phase: 'durable', dispatchUid: 'audit' }));
    await t.ds.getRepository(User).save({ email: 'ada@example.com' });
    expect(await drainDurable(t.ds)).toEqual({ ran: 3, failed: 0 }); // mark-welcomed, audit, and audit of the receiver's update
    expect(calls).toBe(1);
    expect((await t.jobs()).map((j) => `${j.data.receiver} at depth ${j.data.depth}`).sort()).toEqual(['audit at depth 0', 'audit at depth 1', 'mark-welcomed at depth 0']);
  });

  test('a receiver that writes a new row of its own entity every time stops at MAX_DURABLE_DEPTH with a clear error', async () => {
    t.listen(
      postSave.connect(
        async function inviteAFriend({ entityId, manager }) {
          await manager.save(User, { email: `friend-of-${String(entityId)}@example.com` });
        },
        { sender: User, phase: 'durable', dispatchUid: 'invite-a-friend', retry: { limit: 0 } },
      ),
    );
    await t.ds.getRepository(User).save({ email: 'ada@example.com' });
    const drained = await drainDurable(t.ds);
    expect(drained).toEqual({ ran: MAX_DURABLE_DEPTH, failed: 1 });
    expect(reports).toHaveLength(1);
    expect(reports[0].error.message).toMatch(
      new RegExp(`durable receivers re-triggered each other more than ${MAX_DURABLE_DEPTH} jobs deep \\(receiver "invite-a-friend" for sender User, from the job of "invite-a-friend"\\)`),
    );
    // the failing job's own write rolled back with it: one user per job that ran, plus the first
    expect(await t.ds.getRepository(User).count()).toBe(MAX_DURABLE_DEPTH + 1);
    expect((await t.jobs('typeorm-signals.dead-letter')).map((j) => j.data.depth)).toEqual([MAX_DURABLE_DEPTH]);
  });

  test('two receivers that trigger each other stop at the same depth', async () => {
    let renames = 0;
    t.listen(
      postSave.connect(async ({ entityId, created, manager }) => {
        if (created) await manager.insert(UserProfile, { userId: entityId as number });
        else await manager.update(UserProfile, { userId: entityId as number }, { bio: 'touched' });
      }, { sender: User, phase: 'durable', dispatchUid: 'user-to-profile', retry: { limit: 0 } }),
    );
    t.listen(
      postSave.connect(async ({ manager, load }) => {
        const profile = (await load()) as UserProfile;
        await manager.save(User, { id: profile.userId, name: `rename ${++renames}` });
      }, { sender: UserProfile, phase: 'durable', dispatchUid: 'profile-to-user', retry: { limit: 0 } }),
    );
    await t.ds.getRepository(User).save({ email: 'ada@example.com' });
    const drained = await drainDurable(t.ds);
    expect(drained.failed).toBe(1);
    expect(drained.ran).toBe(MAX_DURABLE_DEPTH);
    expect(reports[0].error.message).toMatch(/re-triggered each other more than 32 jobs deep/);
  });
});
