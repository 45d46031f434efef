/**
 * The import pattern of docs/diagnostics.md on PostgreSQL: mute the welcome mail (a commit-phase
 * receiver) and keep the profiles (the example's batch receiver), with withoutSignals({ receivers })
 * or with SaveOptions.data; captureSignals({ receivers }) records the sends that reach one receiver.
 */
import 'reflect-metadata';
import type { DataSource } from 'typeorm';
import { postSave, withoutSignals } from '../../src';
import '../../src/jest';
import { captureSignals } from '../../src/testing';
import { exampleConfig } from '../../src/example/data-source';
import { User, UserProfile } from '../../src/example/entities';
import { ENSURE_PROFILE_UID, connectExampleReceivers } from '../../src/example/receivers';
import { openTestDataSource, type TestDataSource } from '../helpers/database';

let db: TestDataSource;
let ds: DataSource;
const mails: string[] = [];
const offs: Array<() => unknown> = [];

/** The welcome mail, after COMMIT; `data.skipWelcome` is the SaveOptions.data way to skip it. */
function sendWelcomeMail({ instance, created, data }: { instance: Partial<User>; created: boolean | null; data?: Record<string, unknown> }) {
  if (created && !data?.skipWelcome) mails.push(instance.email!);
}

beforeAll(async () => {
  db = await openTestDataSource(exampleConfig);
  ds = db.dataSource;
  offs.push(connectExampleReceivers(), postSave.connect(sendWelcomeMail, { sender: User, phase: 'commit' }));
});
afterAll(async () => {
  for (const off of offs) off();
  await db?.cleanup();
});
afterEach(async () => {
  mails.length = 0;
  await ds.query('TRUNCATE "users", "user_profiles" RESTART IDENTITY CASCADE');
});

const users = () => ds.getRepository(User);
const rows = (n: number) => Array.from({ length: n }, (_, i) => users().create({ email: `import${i}@example.com` }));
const profiles = () => ds.getRepository(UserProfile).count();

test('an import mutes the welcome mail and keeps the profiles', async () => {
  await withoutSignals(() => users().save(rows(250), { chunk: 100 }), { receivers: [sendWelcomeMail] });
  expect(mails).toEqual([]);
  expect(await profiles()).toBe(250);
  // Outside the scope the mail is sent again.
  await users().save(users().create({ email: 'ada@example.com' }));
  expect(mails).toEqual(['ada@example.com']);
});

test('the other way round, by dispatchUid: no profiles, the mails go out', async () => {
  await withoutSignals(() => users().save(rows(3)), { receivers: [ENSURE_PROFILE_UID] });
  expect(mails).toEqual(['import0@example.com', 'import1@example.com', 'import2@example.com']);
  expect(await profiles()).toBe(0);
});

test('SaveOptions.data reaches the commit-phase receiver, which skips the mail itself', async () => {
  await users().save(rows(3), { data: { skipWelcome: true } });
  expect(mails).toEqual([]);
  expect(await profiles()).toBe(3);
});

test('a capture of one receiver records the sends that reach it, muted or not', async () => {
  const { records } = await captureSignals(
    () => withoutSignals(() => users().save(rows(2)), { receivers: [sendWelcomeMail] }),
    { receivers: [sendWelcomeMail] },
  );
  // Users only (the profiles' postSave does not reach sendWelcomeMail): preSave has no such receiver.
  expect(new Set(records.map((r) => `${r.signal.name}:${(r.sender as Function).name}`))).toEqual(new Set(['postSave:User']));
  // The transaction-phase rows ran ensureProfileExists (not muted); the commit-phase ones were muted.
  expect(records.filter((r) => r.phase === 'commit').map((r) => r.muted)).toEqual([true, true]);
  expect(records).toHaveSentTimes(postSave, 2, { sender: User, created: true });
});
