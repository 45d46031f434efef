/**
 * docs/testing.md under vitest: the guide's example test, run by `npm run test:vitest` with
 * vitest 4 as users write it (vitest's default `globals: false`, `import 'typeorm-signals/vitest'`,
 * the built package; see vitest.config.mts), on a real PostgreSQL database.
 *
 * Every region below is the guide's block of the same name (the set-up without its jest line,
 * and with paths from test/vitest/ instead of docs/), checked at the end; the guide's vitest
 * set-up block is the region "vitest-setup" (docs/testing.test.ts checks it too, under jest).
 */
// doc: vitest-setup
import { afterAll, afterEach, beforeAll, beforeEach, expect, test } from 'vitest';
import 'typeorm-signals/vitest'; // registers toHaveSent and toHaveSentTimes on vitest's expect
// end doc
// doc: setup
import 'reflect-metadata';
import type { DataSource } from 'typeorm';
import { checkSignals, describeSignals, postSave, receiver, withoutSignals } from 'typeorm-signals';
import { captureSignals, flushOnCommit } from 'typeorm-signals/testing';
import { exampleConfig } from '../../src/example/data-source';
import { User, UserProfile } from '../../src/example/entities';
import { connectExampleReceivers } from '../../src/example/receivers';
import { openTestDataSource, type TestDataSource } from '../../test/helpers/database';

let db: TestDataSource;
let dataSource: DataSource;

beforeAll(async () => {
  // A new, empty database with the example's migrations run and SignalsSubscriber installed.
  db = await openTestDataSource(exampleConfig);
  dataSource = db.dataSource;
  connectExampleReceivers(); // the application's receivers, connected as at start-up
});
afterAll(() => db?.cleanup());
afterEach(() => dataSource.query('TRUNCATE users, user_profiles RESTART IDENTITY CASCADE'));
// end doc

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe } from 'vitest';
import type { SignalRecord } from 'typeorm-signals/testing';
import { failureOf, fencedBlocks, regions } from '../helpers/guide';

// doc: ensure-profile
test('every user created gets an empty profile, with one batch call per save()', async () => {
  const users = dataSource.getRepository(User);
  const { result, records } = await captureSignals(() =>
    users.save([users.create({ email: 'ada@example.com' }), users.create({ email: 'bob@example.com' })]),
  );

  // The receiver ran for real: the profiles are in the database.
  const profiles = await dataSource.getRepository(UserProfile).find({ order: { userId: 'ASC' } });
  expect(profiles.map((p) => p.userId)).toEqual(result.map((u) => u.id));

  // One send per row, whatever the receivers (ensureProfileExists is a batch receiver).
  expect(records).toHaveSentTimes(postSave, 2, { sender: User, created: true });
  // Its own INSERT ... ON CONFLICT DO NOTHING sends postSave for the profiles it inserted
  // (created: true on PostgreSQL; created: null for every row on MySQL, MariaDB and SQLite).
  expect(records).toHaveSent(postSave, { sender: UserProfile, created: true });
  // The batch call is recorded once, with what the receiver returned or threw.
  const [batch] = records.filter((r) => r.batch);
  expect(batch.payload.items).toHaveLength(2);
  expect(batch.receivers.map((r) => [r.receiver.name, r.status])).toEqual([['ensureProfileExists', 'returned']]);
});
// end doc

// doc: ensure-profile-update
test('an update creates no profile', async () => {
  const users = dataSource.getRepository(User);
  const ada = await users.save(users.create({ email: 'ada@example.com' }));
  await dataSource.getRepository(UserProfile).delete({ userId: ada.id });

  ada.name = 'Ada Lovelace';
  const { records } = await captureSignals(() => users.save(ada));

  expect(records).toHaveSent(postSave, { sender: User, created: false, updateFields: ['name'] });
  expect(records).not.toHaveSent(postSave, { sender: UserProfile });
  expect(await dataSource.getRepository(UserProfile).count()).toBe(0);
});
// end doc

// doc: without-signals
test('seeding users without their profiles', async () => {
  const users = dataSource.getRepository(User);
  // Only postSave for User is muted: every other receiver keeps running.
  await withoutSignals(() => users.save([{ email: 'old1@example.com' }, { email: 'old2@example.com' }]), {
    signals: [postSave],
    senders: [User],
  });
  expect(await dataSource.getRepository(UserProfile).count()).toBe(0);

  // The scope ended with its function: the next sign-up gets its profile.
  await users.save({ email: 'new@example.com' });
  expect(await dataSource.getRepository(UserProfile).count()).toBe(1);
});
// end doc

// doc: welcome-receiver
// An application receiver that must act on committed data only: it runs after COMMIT.
const outbox: string[] = []; // the mailer's in-memory transport, as configured for tests

receiver(postSave, { sender: User, phase: 'commit' }, function sendWelcomeEmail({ instance, created }) {
  if (created) outbox.push(`welcome ${instance.email}`);
});
beforeEach(() => {
  outbox.length = 0;
});
// end doc

// doc: commit-phase
test('the welcome mail goes out after COMMIT, and not at all after a rollback', async () => {
  await dataSource.transaction(async (manager) => {
    await manager.save(User, { email: 'ada@example.com' });
    expect(outbox).toEqual([]); // not yet: the transaction is still open
  });
  expect(outbox).toEqual(['welcome ada@example.com']);

  const failed = dataSource.transaction(async (manager) => {
    await manager.save(User, { email: 'bob@example.com' });
    throw new Error('payment declined');
  });
  await expect(failed).rejects.toThrow('payment declined');
  expect(outbox).toEqual(['welcome ada@example.com']);
});
// end doc

// doc: flush-on-commit
test('in a test transaction that is rolled back, flushOnCommit() runs the commit work', async () => {
  const runner = dataSource.createQueryRunner();
  await runner.startTransaction();
  try {
    await runner.manager.save(User, { email: 'grace@example.com' });
    expect(outbox).toEqual([]); // the COMMIT never comes

    await flushOnCommit(runner); // runs what the COMMIT would have run
    expect(outbox).toEqual(['welcome grace@example.com']);
  } finally {
    await runner.rollbackTransaction(); // the flushed work does not run again
    await runner.release();
  }
  expect(outbox).toEqual(['welcome grace@example.com']);
});
// end doc

// doc: check-signals
test('the receivers are connected to entities this DataSource knows', () => {
  expect(checkSignals(dataSource)).toEqual([]);

  const onPostSave = describeSignals().find((d) => d.signal === postSave)!.receivers;
  expect(onPostSave.map((r) => [r.receiver.name, r.sender, r.phase, r.batch])).toEqual([
    ['sendWelcomeEmail', User, 'commit', false],
    ['ensureProfileExists', User, 'transaction', true],
  ]);
});
// end doc

// ---------------------------------------------------------------------------------------------
// The guide and this file agree; the failure messages the guide shows are vitest's too.

const here = path.dirname(fileURLToPath(import.meta.url));
const guide = fencedBlocks(readFileSync(path.join(here, '../../docs/testing.md'), 'utf8'), 'docs/testing.md');
const twin = regions(readFileSync(fileURLToPath(import.meta.url), 'utf8'));
const JEST_LINE = "import 'typeorm-signals/jest'; // registers toHaveSent and toHaveSentTimes\n";

function guideBlock(marker: string): string {
  const block = guide.find((b) => b.marker === marker);
  if (!block) throw new Error(`docs/testing.md has no block marked <!-- ${marker} -->`);
  return block.body;
}

describe('docs/testing.md', () => {
  test('every region of this file is the guide\'s block of that name', () => {
    expect([...twin.keys()]).toEqual(['vitest-setup', 'setup', 'ensure-profile', 'ensure-profile-update', 'without-signals', 'welcome-receiver', 'commit-phase', 'flush-on-commit', 'check-signals']);
    expect(twin.get('vitest-setup')).toBe(guideBlock('vitest: vitest-setup'));
    const jestSetup = guideBlock('test: setup');
    expect(jestSetup).toContain(JEST_LINE);
    expect(twin.get('setup')!.replaceAll("'../../", "'../")).toBe(jestSetup.replace(JEST_LINE, ''));
    for (const [name, code] of twin) if (name !== 'vitest-setup' && name !== 'setup') expect({ name, code }).toEqual({ name, code: guideBlock(`test: ${name}`) });
  });

  describe('failure messages', () => {
    let records: SignalRecord[];
    beforeEach(async () => {
      const users = dataSource.getRepository(User);
      ({ records } = await captureSignals(
        () => users.save([users.create({ email: 'ada@example.com' }), users.create({ email: 'bob@example.com' })]),
        { signals: [postSave] },
      ));
    });

    test('toHaveSent', () => {
      expect(failureOf(() => expect(records).toHaveSent(postSave, { sender: User, created: false }))).toBe(guideBlock('failure: toHaveSent'));
    });

    test('.not.toHaveSent', () => {
      expect(failureOf(() => expect(records).not.toHaveSent(postSave, { sender: UserProfile }))).toBe(guideBlock('failure: not.toHaveSent'));
    });

    test('toHaveSentTimes', () => {
      expect(failureOf(() => expect(records).toHaveSentTimes(postSave, 1, { sender: User }))).toBe(guideBlock('failure: toHaveSentTimes'));
    });
  });
});
