/**
 * 2. Atomicity under failures: 1,000 signups where a transaction-phase receiver fails for 10%
 * of them, chosen by a seeded PRNG. The failing receiver runs after ensureProfileExists and
 * writes to the new profile before it throws, so each failure has rows to undo.
 */
import type { DataSource } from 'typeorm';
import { postSave } from '../../src';
import { User, UserProfile } from '../../src/example/entities';
import { connectExampleReceivers } from '../../src/example/receivers';
import type { TestDataSource } from '../helpers/database';
import { openExampleDatabase, recordFigures, rowCounts, runPool, seededRandom } from './helpers';

const SIGNUPS = 1000;
const FAILURE_RATE = 0.1;
const SEED = 20241124;
const CONCURRENCY = 50;

let db: TestDataSource;
let ds: DataSource;

beforeAll(async () => {
  db = await openExampleDatabase(10);
  ds = db.dataSource;
});
afterAll(() => db?.cleanup());

class SeededFailure extends Error {
  override name = 'SeededFailure';
}

test(`${SIGNUPS} signups, ${FAILURE_RATE * 100}% failing in a transaction-phase receiver: no failed signup leaves a row, commit receivers run for exactly the committed ones`, async () => {
  const random = seededRandom(SEED);
  const emails = Array.from({ length: SIGNUPS }, (_, i) => `atomic-${i}@example.com`);
  // Decided per signup up front, so the same signups fail whatever order the writes interleave in.
  const doomed = new Set(emails.filter(() => random() < FAILURE_RATE));

  using _example = connectExampleReceivers();
  using _welcomeMail = postSave.connect(
    async function welcomeMail({ items, manager }) {
      for (const { instance } of items) {
        // Written first, so the rollback has a user, a profile and this update to undo.
        await manager.update(UserProfile, { userId: instance.id }, { nickname: 'welcomed' });
        if (doomed.has(instance.email!)) throw new SeededFailure(`welcome mail failed (seed ${SEED})`);
      }
    },
    { sender: User, batch: true },
  );
  const committedSeen: string[] = [];
  const rolledBackSeen: string[] = [];
  using _committedSeen = postSave.connect(({ instance }) => void committedSeen.push(instance.email!), { sender: User, phase: 'commit' });
  using _rolledBackSeen = postSave.connect(({ instance }) => void rolledBackSeen.push(instance.email!), { sender: User, phase: 'rollback' });

  const startedAt = performance.now();
  const results = await runPool(SIGNUPS, CONCURRENCY, (i) => {
    const user = { email: emails[i], name: `Atomic ${i}` };
    // Half through save()'s own transaction, half in an explicit one.
    return i % 2 === 0 ? ds.getRepository(User).save(user) : ds.transaction((manager) => manager.save(User, user));
  });
  const seconds = (performance.now() - startedAt) / 1000;

  const failedEmails = new Set(emails.filter((_, i) => results[i].status === 'rejected'));
  const wrongErrors = results.filter((r) => r.status === 'rejected' && !(r.reason instanceof SeededFailure)).length;
  const counts = await rowCounts(ds);
  const dbEmails = new Set<string>((await ds.query('SELECT email FROM users')).map((r: { email: string }) => r.email));
  const [{ n: notWelcomed }] = await ds.query(`SELECT count(*)::int AS n FROM user_profiles WHERE nickname IS DISTINCT FROM 'welcomed'`);
  const failedLeftRows = [...failedEmails].filter((e) => dbEmails.has(e)).length;
  const committed = new Set(emails.filter((e) => !failedEmails.has(e)));
  const sameSet = (a: Iterable<string>, b: Set<string>) => {
    const s = new Set(a);
    return s.size === b.size && [...s].every((x) => b.has(x));
  };

  recordFigures('atomicity', {
    signups: SIGNUPS,
    seed: SEED,
    failureRate: FAILURE_RATE,
    planned: doomed.size,
    failed: failedEmails.size,
    committed: committed.size,
    users: counts.users,
    profiles: counts.profiles,
    failedLeftRows,
    commitReceiverRuns: committedSeen.length,
    commitSetMatches: sameSet(committedSeen, committed) && committedSeen.length === committed.size,
    rollbackReceiverRuns: rolledBackSeen.length,
    rollbackSetMatches: sameSet(rolledBackSeen, failedEmails) && rolledBackSeen.length === failedEmails.size,
    seconds,
  });

  expect(wrongErrors).toBe(0);
  expect([...failedEmails].sort()).toEqual([...doomed].sort());
  expect(doomed.size).toBeGreaterThan(50); // the seed gives ~10%, not a trivial run
  expect(counts.users).toBe(committed.size);
  expect(counts.profiles).toBe(counts.users);
  expect(notWelcomed).toBe(0);
  expect(failedLeftRows).toBe(0);
  expect([...dbEmails].sort()).toEqual([...committed].sort());
  expect([...committedSeen].sort()).toEqual([...committed].sort());
  expect([...rolledBackSeen].sort()).toEqual([...failedEmails].sort());
});
