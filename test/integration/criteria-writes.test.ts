import 'reflect-metadata';
import { In, type DataSource } from 'typeorm';
import { SignalsSubscriber, postDelete, postRestore, postSave, postSoftDelete, preDelete, preSave, type DeletePayload, type SavePayload } from '../../src';
import { captureSignals } from '../../src/testing';
import { Author, blogEntities, blogMigrations } from '../fixtures/blog';
import { openTestDataSource, type TestDataSource } from '../helpers/database';
import { connections } from '../helpers/connections';
import { QueryRecorder } from '../helpers/query-log';

/**
 * Criteria writes name their rows: update()/delete()/softDelete()/restore()/increment()/
 * decrement() and their query-builder forms send one payload per row written, with its id, the
 * row before and (update, soft delete, restore) the row after, when something listens; on
 * PostgreSQL through SELECT ... FOR UPDATE and RETURNING inside the write's transaction.
 */
let db: TestDataSource;
let ds: DataSource;
const recorder = new QueryRecorder();
const { listen } = connections();
const authors = () => ds.getRepository(Author);

beforeAll(async () => {
  db = await openTestDataSource({ entities: blogEntities, migrations: blogMigrations, subscribers: [SignalsSubscriber], logger: recorder });
  ds = db.dataSource;
});
afterAll(() => db?.cleanup());
beforeEach(async () => {
  await ds.query(`INSERT INTO authors (name, posts) VALUES ('Ada', 1), ('old', 2), ('Bob', 3), ('old', 4), ('old', 5)`);
});
afterEach(async () => {
  recorder.stop();
  await ds.query('TRUNCATE authors, tags RESTART IDENTITY CASCADE');
});

function recordSaves(): Array<SavePayload<Author>> {
  const seen: Array<SavePayload<Author>> = [];
  listen(postSave.connect((payload) => void seen.push(payload), { sender: Author }));
  return seen;
}
function recordDeletes(signal: typeof postDelete = postDelete): Array<DeletePayload<Author>> {
  const seen: Array<DeletePayload<Author>> = [];
  listen(signal.connect((payload) => void seen.push(payload), { sender: Author }));
  return seen;
}
const rows = async () => (await ds.query('SELECT id, name, posts, "deletedAt" IS NOT NULL AS deleted FROM authors ORDER BY id')) as Array<{ id: number; name: string; posts: number; deleted: boolean }>;

describe('update() and increment()', () => {
  test('update(1, { name }): entityId 1, the row before and after, changes, partial false', async () => {
    const seen = recordSaves();
    await authors().update(1, { name: 'Ada L.' });
    expect(seen).toHaveLength(1);
    const [saved] = seen;
    expect(saved).toMatchObject({ entityId: 1, created: false, partial: false, source: 'update', updateFields: ['name'] });
    expect(saved.instance).toBeInstanceOf(Author);
    expect(saved.instance).toMatchObject({ id: 1, name: 'Ada L.', posts: 1, deletedAt: null });
    expect(saved.previous).toMatchObject({ id: 1, name: 'Ada', posts: 1 });
    expect(saved.changes).toEqual({ name: { from: 'Ada', to: 'Ada L.' } });
    expect(Object.isFrozen(saved.previous)).toBe(true);
  });

  test('update(criteria): one payload per row written, in key order', async () => {
    const seen = recordSaves();
    await authors().update({ name: 'old' }, { name: 'renamed' });
    expect(seen.map((s) => [s.entityId, s.previous?.name, s.instance.name, s.previous?.posts])).toEqual([
      [2, 'old', 'renamed', 2],
      [4, 'old', 'renamed', 4],
      [5, 'old', 'renamed', 5],
    ]);
  });

  test('increment() and decrement(): changes of the computed column', async () => {
    const seen = recordSaves();
    await authors().increment({ name: 'old' }, 'posts', 10);
    await authors().decrement({ id: 1 }, 'posts', 1);
    expect(seen.map((s) => [s.entityId, s.changes])).toEqual([
      [2, { posts: { from: 2, to: 12 } }],
      [4, { posts: { from: 4, to: 14 } }],
      [5, { posts: { from: 5, to: 15 } }],
      [1, { posts: { from: 1, to: 0 } }],
    ]);
  });

  test('the query-builder form, with a string WHERE and parameters', async () => {
    const seen = recordSaves();
    await ds.createQueryBuilder().update(Author).set({ posts: () => 'posts * 2' }).where('posts >= :min', { min: 4 }).execute();
    expect(seen.map((s) => [s.entityId, s.previous?.posts, s.instance.posts])).toEqual([
      [4, 4, 8],
      [5, 5, 10],
    ]);
  });

  test('preSave per row, before the statement: the row as it is, the SET values, partial true', async () => {
    const seen: Array<[unknown, unknown, unknown, boolean]> = [];
    listen(preSave.connect(({ entityId, previous, instance, partial }) => void seen.push([entityId, previous?.name, instance.name, partial]), { sender: Author }));
    await authors().update({ id: In([1, 3]) }, { name: 'x' });
    expect(seen).toEqual([
      [1, 'Ada', 'x', true],
      [3, 'Bob', 'x', true],
    ]);
  });

  test('a batch receiver gets one call with every row', async () => {
    const calls: unknown[][] = [];
    listen(postSave.connect(({ items }) => void calls.push(items.map((i) => [i.entityId, i.changes])), { sender: Author, batch: true }));
    await authors().update({ name: 'old' }, { posts: 0 });
    expect(calls).toEqual([
      [
        [2, { posts: { from: 2, to: 0 } }],
        [4, { posts: { from: 4, to: 0 } }],
        [5, { posts: { from: 5, to: 0 } }],
      ],
    ]);
  });
});

describe('delete(), softDelete() and restore()', () => {
  test("delete({ name: 'old' }) of 3 rows: 3 postDelete payloads carrying their rows", async () => {
    const seen = recordDeletes();
    await authors().delete({ name: 'old' });
    expect(seen.map((s) => [s.entityId, s.source, s.instance?.posts, s.previous?.name])).toEqual([
      [2, 'delete', 2, 'old'],
      [4, 'delete', 4, 'old'],
      [5, 'delete', 5, 'old'],
    ]);
    expect(seen[0].instance).toBeInstanceOf(Author);
    expect((await rows()).map((r) => r.id)).toEqual([1, 3]);
  });

  test('preDelete per row, then postDelete per row; the query-builder form', async () => {
    const log: string[] = [];
    listen(preDelete.connect(({ entityId, instance }) => void log.push(`pre ${String(entityId)} ${String(instance?.name)}`), { sender: Author }));
    listen(postDelete.connect(({ entityId }) => void log.push(`post ${String(entityId)}`), { sender: Author }));
    await ds.createQueryBuilder().delete().from(Author).where('id IN (:...ids)', { ids: [1, 2] }).execute();
    expect(log).toEqual(['pre 1 Ada', 'pre 2 old', 'post 1', 'post 2']);
  });

  test('softDelete() and restore(): the row before as previous, the row after as instance', async () => {
    const soft = recordDeletes(postSoftDelete as unknown as typeof postDelete);
    const restored = recordDeletes(postRestore as unknown as typeof postDelete);
    await authors().softDelete({ name: 'old' });
    await authors().restore({ id: 4 });
    expect(soft.map((s) => [s.entityId, s.source, s.previous?.deletedAt, s.instance?.deletedAt instanceof Date])).toEqual([
      [2, 'softDelete', null, true],
      [4, 'softDelete', null, true],
      [5, 'softDelete', null, true],
    ]);
    expect(restored.map((s) => [s.entityId, s.source, s.previous?.deletedAt instanceof Date, s.instance?.deletedAt])).toEqual([[4, 'restore', true, null]]);
  });

  test('softDelete() skips rows already soft-deleted, as TypeORM 1.x does, and names only the rows it wrote', async () => {
    await authors().softDelete({ id: 2 });
    const soft = recordDeletes(postSoftDelete as unknown as typeof postDelete);
    const result = await authors().softDelete({ name: 'old' });
    expect(soft.map((s) => s.entityId)).toEqual(result.affected === 2 ? [4, 5] : [2, 4, 5]);
  });
});

describe('rows, statements and results', () => {
  test('a statement that touches no row sends nothing', async () => {
    const saves = recordSaves();
    const deletes = recordDeletes();
    const before = await rows();
    await authors().update({ name: 'nobody' }, { posts: 9 });
    await authors().delete({ name: 'nobody' });
    await authors().softDelete({ name: 'nobody' });
    expect([saves, deletes]).toEqual([[], []]);
    expect(await rows()).toEqual(before);
  });

  test('nothing listening: TypeORM statements only, no SELECT, no RETURNING, no BEGIN', async () => {
    recorder.start();
    await authors().update({ name: 'old' }, { posts: 0 });
    await authors().increment({ id: 1 }, 'posts', 1);
    await authors().softDelete({ id: 1 });
    await authors().restore({ id: 1 });
    await authors().delete({ name: 'old' });
    expect(recorder.queries).toHaveLength(5);
    expect(recorder.matching(/^SELECT|RETURNING|^START TRANSACTION/i)).toEqual([]);
  });

  test('listened: update reads and locks the rows, writes only those, and returns them; delete needs RETURNING only', async () => {
    recordSaves();
    recorder.start();
    await authors().update({ name: 'old' }, { posts: 0 });
    const update = recorder.stop();
    expect(update).toHaveLength(4);
    expect(update[0]).toBe('START TRANSACTION');
    expect(update[1]).toMatch(/^SELECT .* FROM "authors" .*WHERE .*"name" = .* FOR UPDATE$/);
    expect(update[2]).toMatch(/^UPDATE "authors" SET .* WHERE .*"id" = ANY\(.*\) RETURNING /);
    expect(update[3]).toBe('COMMIT');

    // a commit-phase delete receiver needs no transaction: DELETE ... RETURNING names the rows
    listen(postDelete.connect(() => undefined, { sender: Author, phase: 'commit' }));
    recorder.start();
    await authors().delete({ name: 'old' });
    const remove = recorder.stop();
    expect(remove).toHaveLength(1);
    expect(remove[0]).toMatch(/^DELETE FROM "authors" WHERE .* RETURNING /);
  });

  test('the caller gets the same UpdateResult and DeleteResult with and without receivers', async () => {
    const writes = async () => [
      await authors().update({ name: 'old' }, { posts: 7 }),
      await authors().increment({ id: 1 }, 'posts', 1),
      await authors().softDelete({ id: 3 }),
      await authors().restore({ id: 3 }),
      await authors().delete({ name: 'old' }),
      await authors().delete({ name: 'nobody' }),
    ];
    const reset = () => ds.query(`TRUNCATE authors RESTART IDENTITY; INSERT INTO authors (name, posts) VALUES ('Ada', 1), ('old', 2), ('Bob', 3), ('old', 4), ('old', 5)`);
    await reset();
    const without = await writes();
    const endWithout = await rows();
    recordSaves();
    recordDeletes();
    recordDeletes(postSoftDelete as unknown as typeof postDelete);
    recordDeletes(postRestore as unknown as typeof postDelete);
    await reset();
    expect(await writes()).toEqual(without);
    expect(await rows()).toEqual(endWithout);
  });

  test('a capture records the per-row sends', async () => {
    const { records } = await captureSignals(() => authors().delete({ name: 'old' }), { signals: [postDelete] });
    expect(records.map((r) => r.payload.entityId)).toEqual([2, 4, 5]);
  });
});

describe('phases', () => {
  test('commit receivers run after the COMMIT, with the rows; a failing transaction receiver rolls the statement back and runs rollback receivers per row', async () => {
    const log: string[] = [];
    listen(postSave.connect(({ entityId }) => void log.push(`commit ${String(entityId)}`), { sender: Author, phase: 'commit' }));
    await authors().update({ id: In([1, 3]) }, { posts: 0 });
    expect(log).toEqual(['commit 1', 'commit 3']);

    log.length = 0;
    listen(postSave.connect(({ entityId }) => void log.push(`rollback ${String(entityId)}`), { sender: Author, phase: 'rollback' }));
    listen(
      postSave.connect(
        () => {
          throw new Error('refused');
        },
        { sender: Author },
      ),
    );
    await expect(authors().update({ name: 'old' }, { posts: 99 })).rejects.toThrow('refused');
    expect(log).toEqual(['rollback 2', 'rollback 4', 'rollback 5']);
    expect((await rows()).map((r) => r.posts)).toEqual([0, 2, 0, 4, 5]);
  });

  test('inside a transaction: the rows are named in it, and a receiver sees its own uncommitted writes', async () => {
    const seen = recordSaves();
    await ds.transaction(async (manager) => {
      await manager.update(Author, { id: 1 }, { name: 'first' });
      await manager.update(Author, { id: 1 }, { name: 'second' });
    });
    expect(seen.map((s) => s.changes)).toEqual([{ name: { from: 'Ada', to: 'first' } }, { name: { from: 'first', to: 'second' } }]);
  });
});

describe('a concurrent writer at READ COMMITTED (two connections)', () => {
  test('a row another transaction makes match between the SELECT and the UPDATE is not written, and not named', async () => {
    const other = ds.createQueryRunner();
    await other.connect();
    try {
      const seen: number[] = [];
      let once = false;
      // The pre receiver runs after the SELECT ... FOR UPDATE and before the UPDATE: another
      // connection then inserts a matching row and renames one, and commits.
      listen(
        preSave.connect(
          async () => {
            if (once) return;
            once = true;
            await other.query(`INSERT INTO authors (name, posts) VALUES ('old', 6)`);
            await other.query(`UPDATE authors SET name = 'old' WHERE id = 3`);
          },
          { sender: Author },
        ),
      );
      listen(postSave.connect(({ entityId }) => void seen.push(entityId as number), { sender: Author }));
      const result = await authors().update({ name: 'old' }, { posts: 0 });
      const after = await rows();
      const written = after.filter((r) => r.posts === 0).map((r) => r.id);
      expect(seen).toEqual(written);
      expect(seen).toEqual([2, 4, 5]);
      expect(result.affected).toBe(3);
      expect(after.filter((r) => r.name === 'old').map((r) => [r.id, r.posts])).toEqual([
        [2, 0],
        [3, 3],
        [4, 0],
        [5, 0],
        [6, 6],
      ]);
    } finally {
      await other.release();
    }
  });

  test('a writer that wants a locked row waits for the COMMIT: the rows named are the rows written', async () => {
    const other = ds.createQueryRunner();
    await other.connect();
    try {
      const seen: Array<[number, number | undefined, number]> = [];
      let blocked: Promise<unknown> | undefined;
      listen(
        preSave.connect(
          () => {
            // Another connection updates a locked row: it waits on the lock until this commits.
            blocked ??= other.query(`UPDATE authors SET posts = posts + 100 WHERE id = 2`);
          },
          { sender: Author },
        ),
      );
      listen(postSave.connect(({ entityId, previous, instance }) => void seen.push([entityId as number, previous?.posts, instance.posts as number]), { sender: Author }));
      await authors().increment({ name: 'old' }, 'posts', 1);
      await blocked;
      expect(seen).toEqual([
        [2, 2, 3],
        [4, 4, 5],
        [5, 5, 6],
      ]);
      expect((await rows()).map((r) => r.posts)).toEqual([1, 103, 3, 5, 6]);
    } finally {
      await other.release();
    }
  });
});
