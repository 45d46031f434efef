/**
 * 4. Recursion: receivers that save what they were told about re-trigger themselves; the
 * dispatcher stops them at MAX_DEPTH with a SignalsError and the write rolls back.
 */
import type { DataSource } from 'typeorm';
import { SignalsError, postSave } from '../../src';
import { User, UserProfile } from '../../src/example/entities';
import { connectExampleReceivers } from '../../src/example/receivers';
import { MAX_DEPTH } from '../../src/typeorm/dispatcher';
import type { TestDataSource } from '../helpers/database';
import { openExampleDatabase, recordFigures, rowCounts } from './helpers';

let db: TestDataSource;
let ds: DataSource;
const figures: Array<Record<string, unknown>> = [];

beforeAll(async () => {
  db = await openExampleDatabase(10);
  ds = db.dataSource;
});
afterAll(async () => {
  recordFigures('recursion', { maxDepth: MAX_DEPTH, cases: figures });
  await db?.cleanup();
});

async function failure(write: Promise<unknown>): Promise<Error> {
  return write.then(
    () => {
      throw new Error('the write resolved: the recursion was not stopped');
    },
    (error: Error) => error,
  );
}

test.each([
  ['repository.save() (its own transaction)', (ds: DataSource, user: Partial<User>) => ds.getRepository(User).save(user)],
  ['inside dataSource.transaction()', (ds: DataSource, user: Partial<User>) => ds.transaction((m) => m.save(User, user))],
])('a receiver that saves the same entity again (%s) is stopped at the depth limit, naming signal, sender and receiver; nothing is written', async (how, write) => {
  using _example = connectExampleReceivers();
  let calls = 0;
  using _touchUpdatedAt = postSave.connect(
    async function touchUpdatedAt({ instance, manager }) {
      calls++;
      instance.name = `touched ${calls}`;
      await manager.save(User, instance); // an UPDATE: postSave again, for ever
    },
    { sender: User },
  );
  const before = await rowCounts(ds);
  const startedAt = performance.now();
  const error = await failure(write(ds, { email: `recursive-${figures.length}@example.com`, name: 'start' }));
  const ms = performance.now() - startedAt;
  const after = await rowCounts(ds);
  figures.push({ case: `self, ${how}`, receiverCalls: calls, ms, rowsWritten: after.users - before.users + after.profiles - before.profiles, error: error.message });

  expect(error).toBeInstanceOf(SignalsError);
  expect(error.message).toContain('Signal "postSave"');
  expect(error.message).toContain(`more than ${MAX_DEPTH} levels deep`);
  expect(error.message).toContain('sender User');
  expect(error.message).toContain('touchUpdatedAt');
  expect(error.message).toContain('rolled back');
  expect(calls).toBe(MAX_DEPTH);
  expect(after).toEqual(before);
});

test('two receivers that keep saving each other (User -> UserProfile -> User ...) are stopped too; the chain names both', async () => {
  let calls = 0;
  using _syncProfile = postSave.connect(
    async function syncProfile({ instance, manager }) {
      calls++;
      await manager.upsert(UserProfile, { userId: instance.id, nickname: instance.name }, ['userId']);
    },
    { sender: User },
  );
  using _syncUserName = postSave.connect(
    async function syncUserName({ instance, manager }) {
      calls++;
      const user = await manager.findOneByOrFail(User, { id: instance.userId });
      user.name = `${instance.nickname ?? ''}!`;
      await manager.save(user);
    },
    { sender: UserProfile },
  );
  const before = await rowCounts(ds);
  const error = await failure(ds.getRepository(User).save({ email: 'ping-pong@example.com', name: 'ping' }));
  const after = await rowCounts(ds);
  figures.push({ case: 'ping-pong User <-> UserProfile', receiverCalls: calls, rowsWritten: after.users - before.users + after.profiles - before.profiles, error: error.message });

  expect(error).toBeInstanceOf(SignalsError);
  expect(error.message).toContain('Signal "postSave"');
  expect(error.message).toMatch(/sender (User|UserProfile)/);
  expect(error.message).toContain('syncProfile');
  expect(error.message).toContain('syncUserName');
  expect(after).toEqual(before);
});
