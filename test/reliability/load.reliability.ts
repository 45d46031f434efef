/**
 * 1. Load: 500 signups at once through a pool of 10 connections, with the example's
 * ensureProfileExists (batch, transaction phase) and a commit-phase receiver.
 */
import type { DataSource } from 'typeorm';
import { postSave } from '../../src';
import { User } from '../../src/example/entities';
import { connectExampleReceivers } from '../../src/example/receivers';
import type { TestDataSource } from '../helpers/database';
import { openExampleDatabase, poolOf, recordFigures, rowCounts } from './helpers';

const SIGNUPS = 500;
const POOL = 10;

let db: TestDataSource;
let ds: DataSource;

beforeAll(async () => {
  db = await openExampleDatabase(POOL);
  ds = db.dataSource;
});
afterAll(() => db?.cleanup());

test(`${SIGNUPS} concurrent signups through a pool of ${POOL}: every user gets exactly one profile, the commit receiver runs once per user`, async () => {
  using _example = connectExampleReceivers();
  const committedIds: number[] = [];
  using _countCommitted = postSave.connect(
    function countCommitted({ instance, created }) {
      if (created) committedIds.push(instance.id);
    },
    { sender: User, phase: 'commit' },
  );
  let peakConnections = 0;
  let peakWaiting = 0;
  using _samplePool = postSave.connect(
    function samplePool() {
      const pool = poolOf(ds);
      peakConnections = Math.max(peakConnections, pool.totalCount);
      peakWaiting = Math.max(peakWaiting, pool.waitingCount);
    },
    { sender: User },
  );

  const users = ds.getRepository(User);
  const startedAt = performance.now();
  const results = await Promise.allSettled(
    Array.from({ length: SIGNUPS }, (_, i) => users.save({ email: `load-${i}@example.com`, name: `Load ${i}` })),
  );
  const seconds = (performance.now() - startedAt) / 1000;

  const errors = results.filter((r) => r.status === 'rejected');
  const counts = await rowCounts(ds);
  const [{ n: duplicateEmails }] = await ds.query('SELECT count(*)::int AS n FROM (SELECT email FROM users GROUP BY email HAVING count(*) > 1) d');
  const [{ n: duplicateProfiles }] = await ds.query('SELECT count(*)::int AS n FROM (SELECT user_id FROM user_profiles GROUP BY user_id HAVING count(*) > 1) d');
  const [{ n: usersWithoutProfile }] = await ds.query(
    'SELECT count(*)::int AS n FROM users u WHERE NOT EXISTS (SELECT 1 FROM user_profiles p WHERE p.user_id = u.id)',
  );
  const dbIds: number[] = (await ds.query('SELECT id FROM users ORDER BY id')).map((r: { id: number }) => r.id);
  const commitRuns = committedIds.length;
  const distinctCommitted = new Set(committedIds).size;

  recordFigures('load', {
    signups: SIGNUPS,
    pool: POOL,
    peakConnections,
    peakWaiting,
    users: counts.users,
    profiles: counts.profiles,
    errors: errors.length,
    duplicates: duplicateEmails + duplicateProfiles + (commitRuns - distinctCommitted),
    usersWithoutProfile,
    commitRuns,
    seconds,
  });

  expect(errors.map((e) => String((e as PromiseRejectedResult).reason))).toEqual([]);
  expect(counts).toEqual({ users: SIGNUPS, profiles: SIGNUPS });
  expect({ duplicateEmails, duplicateProfiles, usersWithoutProfile }).toEqual({ duplicateEmails: 0, duplicateProfiles: 0, usersWithoutProfile: 0 });
  expect(commitRuns).toBe(SIGNUPS);
  expect([...committedIds].sort((a, b) => a - b)).toEqual(dbIds);
  expect(peakConnections).toBeLessThanOrEqual(POOL);
  expect(peakConnections).toBe(POOL); // the pool was really exhausted: 500 writes queued on 10 connections
});
