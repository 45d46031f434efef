/**
 * A transaction-phase receiver that queries through another connection of the write's DataSource
 * (an injected repository, dataSource.getRepository()) while the write's transaction is open gets
 * one warning, before that query can block on the write's own uncommitted rows. The test
 * DataSource sets lock_timeout, so the receiver that would wait forever fails after 2 s instead.
 */
import 'reflect-metadata';
import type { DataSource, Logger } from 'typeorm';
import { postSave } from '../../src';
import { exampleConfig } from '../../src/example/data-source';
import { User, UserProfile } from '../../src/example/entities';
import { connectExampleReceivers } from '../../src/example/receivers';
import { openTestDataSource, type TestDataSource } from '../helpers/database';

let db: TestDataSource;
let ds: DataSource;

/** What happened, in order: warnings (by code) and failed queries (by driver error code). */
const events: string[] = [];
const warnings: Error[] = [];

/** A real TypeORM logger that notes failed queries next to the warnings. */
const logger: Logger = {
  logQuery: () => undefined,
  logQueryError: (error) => void events.push(`query failed: ${(error as { code?: string }).code ?? String(error)}`),
  logQuerySlow: () => undefined,
  logSchemaBuild: () => undefined,
  logMigration: () => undefined,
  log: () => undefined,
};

/**
 * Records the warnings as they are emitted (and lets them through): jest's sandbox has a process
 * object of its own, on which process.on('warning') never hears what Node emits.
 */
function recordWarnings(): void {
  const emitWarning = process.emitWarning.bind(process);
  jest.spyOn(process, 'emitWarning').mockImplementation(((warning: string | Error, options?: { type?: string; code?: string }) => {
    if (options?.code === 'TYPEORM_SIGNALS_OTHER_CONNECTION') {
      const error = Object.assign(new Error(String(warning)), { name: options.type, code: options.code });
      warnings.push(error);
      events.push('warning');
    }
    emitWarning(warning as string, options as never);
  }) as typeof process.emitWarning);
}

beforeAll(async () => {
  db = await openTestDataSource({ ...exampleConfig, logger, logging: ['error'], extra: { options: '-c lock_timeout=2000' } });
  ds = db.dataSource;
  recordWarnings();
});
afterAll(async () => {
  jest.restoreAllMocks();
  await db?.cleanup();
});
afterEach(async () => {
  events.length = 0;
  warnings.length = 0;
  await ds.query('TRUNCATE "users", "user_profiles" RESTART IDENTITY CASCADE');
});

const users = () => ds.getRepository(User);

test('a receiver that saves the written user through the DataSource is warned before its query blocks', async () => {
  // The NestJS habit: the injected repository instead of the payload's manager. Its INSERT waits
  // on the unique key of the write's own uncommitted row.
  const off = postSave.connect(
    async function saveThroughDataSource({ instance, partial }) {
      if (partial || instance.name === 'renamed') return;
      instance.name = 'renamed';
      await ds.getRepository(User).save(instance);
    },
    { sender: User },
  );
  try {
    await expect(users().save(users().create({ email: 'ada@example.com' }))).rejects.toMatchObject({ driverError: { code: '55P03' } });
  } finally {
    off();
  }
  // The warning came first; the query that blocked failed only when lock_timeout ran out.
  expect(events).toEqual(['warning', 'query failed: 55P03']);
  expect(warnings).toHaveLength(1);
  expect(warnings[0].name).toBe('TypeormSignalsWarning');
  expect(warnings[0].message).toMatch(
    /^receiver saveThroughDataSource of postSave for sender User \(connected at .*other-connection\.test\.ts:\d+\) runs a query on another connection of the DataSource while the write's transaction is still open\./,
  );
  expect(warnings[0].message).toContain("Use the payload's manager (manager.getRepository(...), manager.query(...))");
  expect(warnings[0].message).not.toContain('ada@example.com');
  expect(await users().count()).toBe(0); // the write rolled back
});

test('a harmless read of another table is warned about too, once per receiver, and the write goes through', async () => {
  let counted: number | undefined;
  const off = postSave.connect(
    async function countProfilesThroughDataSource({ created }) {
      if (created) counted = await ds.getRepository(UserProfile).count();
    },
    { sender: User },
  );
  try {
    await users().save(users().create({ email: 'ada@example.com' }));
    await users().save(users().create({ email: 'bob@example.com' }));
  } finally {
    off();
  }
  expect(counted).toBe(0);
  expect(await users().count()).toBe(2);
  expect(warnings.map((w) => w.message.split(' runs ')[0])).toEqual([
    expect.stringMatching(/^receiver countProfilesThroughDataSource of postSave for sender User \(connected at .*other-connection\.test\.ts:\d+\)$/),
  ]);
});

test("the payload's manager, a commit-phase receiver and a write without a transaction are not warned about", async () => {
  const counts: number[] = [];
  const offs = [
    connectExampleReceivers(), // inserts the profiles through the payload's manager
    postSave.connect(async ({ manager }) => void counts.push(await manager.getRepository(UserProfile).count()), { sender: User }),
    postSave.connect(async () => void counts.push(await ds.getRepository(UserProfile).count()), { sender: User, phase: 'commit' }),
  ];
  try {
    await users().save(users().create({ email: 'ada@example.com' }));
    await ds.transaction((manager) => manager.save(User, { email: 'bob@example.com' }));
    // No transaction at all: the row is committed before the receivers run.
    const off = postSave.connect(async function readsAfterAutocommit() {
      await ds.getRepository(UserProfile).count();
    }, { sender: User });
    try {
      await users().save(users().create({ email: 'carol@example.com' }), { transaction: false });
    } finally {
      off();
    }
  } finally {
    for (const off of offs) off();
  }
  expect(warnings).toEqual([]);
  expect(await ds.getRepository(UserProfile).count()).toBe(3);
  expect(counts.length).toBe(6);
});
