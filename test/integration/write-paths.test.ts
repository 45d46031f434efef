import 'reflect-metadata';
import type { DataSource } from 'typeorm';
import { SignalsSubscriber, postDelete, postRestore, postSave, postSoftDelete, preSave } from '../../src';
import { Author, Tag, blogEntities, blogMigrations } from '../fixtures/blog';
import { openTestDataSource, type TestDataSource } from '../helpers/database';
import { connections } from '../helpers/connections';
import { QueryRecorder } from '../helpers/query-log';

/**
 * Writes TypeORM runs outside a transaction (insert(), update(), delete(), softDelete(),
 * restore(), upsert(), increment()/decrement(), a query builder's execute()) get a transaction of
 * their own when a transaction-phase receiver listens, so that a failing receiver rolls them back.
 */
let db: TestDataSource;
let ds: DataSource;
const recorder = new QueryRecorder();
const { listen } = connections();

beforeAll(async () => {
  db = await openTestDataSource({ entities: blogEntities, migrations: blogMigrations, subscribers: [SignalsSubscriber], logger: recorder });
  ds = db.dataSource;
});
afterAll(() => db?.cleanup());
afterEach(async () => {
  recorder.stop();
  await ds.query('TRUNCATE authors, tags RESTART IDENTITY CASCADE');
});

const refuse = () => {
  throw new Error('receiver refused');
};

/** The authors table as another connection sees it: only committed rows. */
async function committedAuthors(): Promise<Array<{ name: string; posts: number; deleted: boolean }>> {
  const runner = ds.createQueryRunner();
  try {
    return await runner.query('SELECT name, posts, "deletedAt" IS NOT NULL AS deleted FROM authors ORDER BY id');
  } finally {
    await runner.release();
  }
}

const transactionStatements = () => recorder.matching(/^(START TRANSACTION|BEGIN|COMMIT|ROLLBACK)/i);

describe('a throwing transaction-phase receiver rolls back the statement', () => {
  const paths: Array<{ name: string; signal: typeof postSave | typeof postDelete; sender?: Function; seed?: 'one' | 'deleted'; write: () => Promise<unknown> }> = [
    { name: 'insert()', signal: postSave, write: () => ds.getRepository(Author).insert({ name: 'new' }) },
    { name: 'update(criteria)', signal: postSave, seed: 'one', write: () => ds.getRepository(Author).update({ name: 'seed' }, { name: 'changed' }) },
    { name: 'update(id)', signal: postSave, seed: 'one', write: () => ds.getRepository(Author).update(1, { name: 'changed' }) },
    { name: 'increment()', signal: postSave, seed: 'one', write: () => ds.getRepository(Author).increment({ id: 1 }, 'posts', 5) },
    { name: 'decrement()', signal: postSave, seed: 'one', write: () => ds.getRepository(Author).decrement({ id: 1 }, 'posts', 5) },
    { name: 'delete()', signal: postDelete, seed: 'one', write: () => ds.getRepository(Author).delete({ name: 'seed' }) },
    { name: 'softDelete()', signal: postSoftDelete, seed: 'one', write: () => ds.getRepository(Author).softDelete({ name: 'seed' }) },
    { name: 'restore()', signal: postRestore, seed: 'deleted', write: () => ds.getRepository(Author).restore({ name: 'seed' }) },
    {
      name: 'query builder update().execute()',
      signal: postSave,
      seed: 'one',
      write: () => ds.createQueryBuilder().update(Author).set({ name: 'changed' }).where('id = :id', { id: 1 }).execute(),
    },
    {
      name: 'query builder insert().execute()',
      signal: postSave,
      write: () => ds.createQueryBuilder().insert().into(Author).values([{ name: 'a' }, { name: 'b' }]).execute(),
    },
    {
      name: 'query builder softDelete().execute()',
      signal: postSoftDelete,
      seed: 'one',
      write: () => ds.createQueryBuilder().softDelete().from(Author).where('id = :id', { id: 1 }).execute(),
    },
  ];

  test.each(paths)('$name', async ({ signal, seed, write }) => {
    if (seed) await ds.query(`INSERT INTO authors (name, posts, "deletedAt") VALUES ('seed', 10, ${seed === 'deleted' ? 'now()' : 'NULL'})`);
    const before = await committedAuthors();
    listen((signal as typeof postSave).connect(refuse, { sender: Author }));
    recorder.start();
    await expect(write()).rejects.toThrow('receiver refused');
    expect(transactionStatements()).toEqual(['START TRANSACTION', 'ROLLBACK']);
    expect(await committedAuthors()).toEqual(before);
  });

  test('upsert()', async () => {
    listen(postSave.connect(refuse, { sender: Tag }));
    await expect(ds.getRepository(Tag).upsert([{ label: 'ts' }, { label: 'js' }], ['label'])).rejects.toThrow('receiver refused');
    expect(await ds.getRepository(Tag).count()).toBe(0);
  });

  test('a batch receiver and a pre receiver count as transaction-phase receivers too', async () => {
    {
      using _batch = postSave.connect(refuse, { sender: Author, batch: true });
      await expect(ds.getRepository(Author).insert([{ name: 'a' }, { name: 'b' }])).rejects.toThrow('receiver refused');
    }
    listen(preSave.connect(refuse, { sender: Author }));
    await expect(ds.getRepository(Author).insert({ name: 'c' })).rejects.toThrow('receiver refused');
    expect(await committedAuthors()).toEqual([]);
  });
});

describe('the transaction a listened statement gets', () => {
  test("the receiver's writes through manager commit with the statement; commit receivers run after that COMMIT", async () => {
    const log: string[] = [];
    listen(
      postSave.connect(
        async ({ manager, queryRunner }) => {
          expect(queryRunner?.isTransactionActive).toBe(true);
          log.push(`transaction: ${(await committedAuthors()).length} committed`);
          await manager.insert(Tag, { label: 'from-receiver' });
        },
        { sender: Author },
      ),
    );
    listen(postSave.connect(async () => void log.push(`commit: ${(await committedAuthors()).length} committed`), { sender: Author, phase: 'commit' }));
    recorder.start();
    await ds.getRepository(Author).insert({ name: 'Ada' });
    expect(transactionStatements()).toEqual(['START TRANSACTION', 'COMMIT']);
    expect(log).toEqual(['transaction: 0 committed', 'commit: 1 committed']);
    expect(await ds.getRepository(Tag).count()).toBe(1);
  });

  test('inside a transaction already: no nested transaction is added', async () => {
    listen(postSave.connect(() => undefined, { sender: Author }));
    recorder.start();
    await ds.transaction((manager) => manager.getRepository(Author).insert({ name: 'Ada' }));
    expect(transactionStatements()).toEqual(['START TRANSACTION', 'COMMIT']);
  });
});

describe('statements nothing listens to in the transaction phase keep TypeORM behaviour', () => {
  test('no receiver at all: no BEGIN/COMMIT on any path', async () => {
    const repo = ds.getRepository(Author);
    recorder.start();
    await repo.insert({ name: 'Ada' });
    await repo.update({ name: 'Ada' }, { name: 'Lovelace' });
    await repo.increment({ id: 1 }, 'posts', 1);
    await repo.softDelete({ id: 1 });
    await repo.restore({ id: 1 });
    await repo.delete({ id: 1 });
    await ds.getRepository(Tag).upsert({ label: 'ts' }, ['label']);
    expect(recorder.queries.length).toBeGreaterThanOrEqual(7);
    expect(transactionStatements()).toEqual([]);
  });

  test('only a commit-phase receiver, or one for another entity: no BEGIN/COMMIT, the commit receiver still runs', async () => {
    const seen: string[] = [];
    listen(postSave.connect(({ source }) => void seen.push(source), { sender: Author, phase: 'commit' }));
    listen(postSave.connect(refuse, { sender: Tag }));
    recorder.start();
    await ds.getRepository(Author).insert({ name: 'Ada' });
    expect(transactionStatements()).toEqual([]);
    expect(seen).toEqual(['insert']);
  });
});
