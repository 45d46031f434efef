// doc: setup
import 'reflect-metadata';
import type { DataSource } from 'typeorm';
import { checkSignals, describeSignals, postSave, receiver, withoutSignals } from '../src';
import { captureSignals, flushOnCommit } from '../src/testing';
import '../src/jest'; // registers toHaveSent and toHaveSentTimes
import { exampleConfig } from '../src/example/data-source';
import { User, UserProfile } from '../src/example/entities';
import { connectExampleReceivers } from '../src/example/receivers';
import { openTestDataSource, type TestDataSource } from '../test/helpers/database';

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

/*
 * The rest of this file keeps docs/testing.md honest: every ```ts block of the guide is one of
 * the regions marked "doc: <name>" above and below (with the package's import paths), every
 * ```text block of failure messages is what the matchers really print, and the check fails
 * when either side changes without the other.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { SignalRecord } from '../src/testing';
import { failureOf, fencedBlocks as blocksOf, regions } from '../test/helpers/guide';

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

// doc: durable
import { installSignals } from '../src';
import { drainDurable } from '../src/testing';
import { connectWelcomeMail, type WelcomeMail } from '../src/example/receivers';
// pg-boss is ESM-only: jest's CommonJS sandbox cannot import it, Node's own require can (Node >= 20.19).
const { PgBoss } = process.getBuiltinModule('node:module').createRequire(__filename)('pg-boss') as typeof import('pg-boss');

describe('the durable welcome mail', () => {
  const mails: WelcomeMail[] = []; // the mailer's in-memory transport
  let boss: InstanceType<typeof PgBoss>;
  let unbind: () => void;
  let disconnect: () => boolean;
  beforeAll(async () => {
    // As the application starts it: migrate: false (the migrations own pg-boss's schema).
    boss = new PgBoss({ connectionString: db.database.url, migrate: false, supervise: false, schedule: false });
    await boss.start();
    unbind = installSignals(dataSource, { durable: boss });
    disconnect = connectWelcomeMail({ send: (mail) => void mails.push(mail) });
  });
  afterAll(async () => {
    disconnect();
    unbind();
    await boss.stop({ graceful: false, close: true });
  });
  beforeEach(() => {
    mails.length = 0;
  });

  test('the sign-up commits its job; the mail goes out when the job runs', async () => {
    await dataSource.getRepository(User).save({ email: 'ada@example.com', name: 'Ada' });
    expect(mails).toEqual([]); // committed, but no worker has run the job yet

    expect(await drainDurable(dataSource)).toEqual({ ran: 1, failed: 0 });
    expect(mails).toEqual([{ to: 'ada@example.com', subject: 'Welcome, Ada!', idempotencyKey: expect.any(String) }]);
    expect(await drainDurable(dataSource)).toEqual({ ran: 0, failed: 0 }); // done: it never runs twice
  });

  test('a rolled-back sign-up leaves no job, and no mail', async () => {
    const failed = dataSource.transaction(async (manager) => {
      await manager.save(User, { email: 'bob@example.com' });
      throw new Error('payment declined');
    });
    await expect(failed).rejects.toThrow('payment declined');
    expect(await drainDurable(dataSource)).toEqual({ ran: 0, failed: 0 });
    expect(mails).toEqual([]);
  });
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
// Failure messages shown in the guide: produced here by real failing assertions.

const doc = readFileSync(path.join(__dirname, 'testing.md'), 'utf8');
const source = readFileSync(__filename, 'utf8');
const fencedBlocks = (markdown: string) => blocksOf(markdown, 'docs/testing.md');

/** The guide imports the package by name; this file imports the sources. */
function asPublished(code: string): string {
  return code.replace(/'\.\.\/src(\/testing|\/jest)?'/g, (_m, sub: string | undefined) => `'typeorm-signals${sub ?? ''}'`);
}

function failureBlock(name: string): string {
  const block = fencedBlocks(doc).find((b) => b.marker === `failure: ${name}`);
  if (!block) throw new Error(`docs/testing.md has no block marked <!-- failure: ${name} -->`);
  return block.body;
}

describe('docs/testing.md', () => {
  test('every ```ts block is a region of this file, and every region is in the guide, in the same order', () => {
    // Blocks marked <!-- vitest: name --> are regions of the vitest twin instead (checked below).
    const blocks = fencedBlocks(doc).filter((b) => b.lang === 'ts' && !b.marker?.startsWith('vitest: '));
    const unmarked = blocks.filter((b) => !b.marker?.startsWith('test: '));
    expect(unmarked.map((b) => `docs/testing.md:${b.line}`)).toEqual([]);
    const code = regions(source);
    expect(blocks.map((b) => b.marker!.slice('test: '.length))).toEqual([...code.keys()]);
    for (const block of blocks) {
      const name = block.marker!.slice('test: '.length);
      expect({ name, code: block.body }).toEqual({ name, code: asPublished(code.get(name)!) });
    }
  });

  test('every ```ts block marked vitest: is a region of test/vitest/testing-guide.test.ts, which runs the guide under vitest', () => {
    const twin = regions(readFileSync(path.join(__dirname, '../test/vitest/testing-guide.test.ts'), 'utf8'));
    const blocks = fencedBlocks(doc).filter((b) => b.marker?.startsWith('vitest: '));
    expect(blocks.length).toBeGreaterThan(0);
    for (const block of blocks) {
      const name = block.marker!.slice('vitest: '.length);
      expect({ name, lang: block.lang, code: block.body }).toEqual({ name, lang: 'ts', code: twin.get(name) });
    }
  });

  test('every other fenced block is a shell command or a failure message checked below', () => {
    const others = fencedBlocks(doc).filter((b) => b.lang !== 'ts');
    for (const block of others) {
      expect([block.line, block.lang === 'sh' || (block.lang === 'text' && block.marker?.startsWith('failure: '))]).toEqual([block.line, true]);
    }
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
      expect(failureOf(() => expect(records).toHaveSent(postSave, { sender: User, created: false }))).toBe(failureBlock('toHaveSent'));
    });

    test('.not.toHaveSent', () => {
      expect(failureOf(() => expect(records).not.toHaveSent(postSave, { sender: UserProfile }))).toBe(failureBlock('not.toHaveSent'));
    });

    test('toHaveSentTimes', () => {
      expect(failureOf(() => expect(records).toHaveSentTimes(postSave, 1, { sender: User }))).toBe(failureBlock('toHaveSentTimes'));
    });
  });
});
