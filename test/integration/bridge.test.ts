import 'reflect-metadata';
import type { DataSource } from 'typeorm';
import {
  SignalsError,
  SignalsSubscriber,
  installSignals,
  m2mChanged,
  postDelete,
  postRestore,
  postSave,
  postSoftDelete,
  preDelete,
  preSave,
  type SavePayload,
} from '../../src';
import { Article, Author, Content, Post, Tag, blogEntities, blogMigrations } from '../fixtures/blog';
import { openTestDataSource, type TestDataSource } from '../helpers/database';
import { connections } from '../helpers/connections';

let db: TestDataSource;
let ds: DataSource;
const { listen } = connections();

beforeAll(async () => {
  db = await openTestDataSource({ entities: blogEntities, migrations: blogMigrations, subscribers: [SignalsSubscriber] });
  ds = db.dataSource;
});
afterAll(async () => {
  await db?.cleanup();
});
afterEach(async () => {
  await ds.query('TRUNCATE authors, tags, posts, post_tags, contents RESTART IDENTITY CASCADE');
});

type Seen = Pick<SavePayload<Author>, 'created' | 'source' | 'entityId' | 'partial' | 'updateFields' | 'previous' | 'changes'> & { name?: string };

function recordSaves(signal = postSave): Seen[] {
  const seen: Seen[] = [];
  listen(
    signal.connect(
      ({ created, source, entityId, partial, updateFields, previous, changes, instance }) => {
        seen.push({ created, source, entityId, partial, updateFields, previous, changes, name: instance.name });
      },
      { sender: Author },
    ),
  );
  return seen;
}

describe('postSave from save()', () => {
  test('save(new) sends created: true with the generated id, after the row exists in the transaction', async () => {
    const inTx: number[] = [];
    listen(
      postSave.connect(
        async ({ instance, manager, queryRunner }) => {
          expect(queryRunner.isTransactionActive).toBe(true);
          inTx.push(await manager.count(Author, { where: { id: instance.id } }));
        },
        { sender: Author },
      ),
    );
    const seen = recordSaves();
    const author = await ds.getRepository(Author).save({ name: 'Ada' });
    expect(seen).toEqual([expect.objectContaining({ created: true, source: 'save', entityId: author.id, partial: false, name: 'Ada' })]);
    expect(inTx).toEqual([1]);
  });

  test('save(existing) sends created: false with updateFields, previous and changes', async () => {
    const repo = ds.getRepository(Author);
    const author = await repo.save({ name: 'Ada' });
    const seen = recordSaves();
    author.name = 'Ada L.';
    await repo.save(author);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ created: false, source: 'save', entityId: author.id, updateFields: ['name'], partial: false });
    expect(seen[0].previous).toMatchObject({ id: author.id, name: 'Ada' });
    expect(seen[0].changes).toEqual({ name: { from: 'Ada', to: 'Ada L.' } });
  });

  test('save([...]) sends one postSave per row, in order; a save with no change sends nothing', async () => {
    const seen = recordSaves();
    const saved = await ds.getRepository(Author).save([{ name: 'a' }, { name: 'b' }, { name: 'c' }]);
    expect(seen.map((s) => [s.name, s.created, s.entityId])).toEqual(saved.map((a) => [a.name, true, a.id]));
    seen.length = 0;
    await ds.getRepository(Author).save(saved[0]);
    expect(seen).toEqual([]);
  });

  test('preSave may change the instance before it is written', async () => {
    listen(
      preSave.connect(
        ({ instance, created }) => {
          if (created) instance.name = instance.name.toUpperCase();
        },
        { sender: Author },
      ),
    );
    const author = await ds.getRepository(Author).save({ name: 'grace' });
    expect((await ds.getRepository(Author).findOneByOrFail({ id: author.id })).name).toBe('GRACE');
  });

  test('with no pre-signal receiver the before-hooks are hidden from TypeORM (no re-computation of the save)', () => {
    const subscriber = ds.subscribers.find((s) => s instanceof SignalsSubscriber) as SignalsSubscriber;
    expect(subscriber.beforeInsert).toBeUndefined();
    expect(subscriber.beforeRemove).toBeUndefined();
    const disconnect = preSave.connect(() => undefined, { sender: Author });
    try {
      expect(typeof subscriber.beforeInsert).toBe('function');
      expect(typeof subscriber.beforeUpdate).toBe('function');
      expect(subscriber.beforeRemove).toBeUndefined();
    } finally {
      disconnect();
    }
    expect(subscriber.beforeInsert).toBeUndefined();
  });

  test('a receiver error rejects save() and leaves no row', async () => {
    listen(
      postSave.connect(
        () => {
          throw new Error('profile service down');
        },
        { sender: Author },
      ),
    );
    await expect(ds.getRepository(Author).save({ name: 'Ada' })).rejects.toThrow('profile service down');
    expect(await ds.getRepository(Author).count()).toBe(0);
  });

  test('receivers run one after another in connection order, never overlapping', async () => {
    const log: string[] = [];
    const slow = (name: string, ms: number) => async () => {
      log.push(`${name}:start`);
      await new Promise((r) => setTimeout(r, ms));
      log.push(`${name}:end`);
    };
    listen(postSave.connect(slow('first', 30), { sender: Author }));
    listen(postSave.connect(slow('second', 1), { sender: Author }));
    listen(postSave.connect(slow('all-senders', 1)));
    await ds.getRepository(Author).save({ name: 'x' });
    expect(log).toEqual(['first:start', 'first:end', 'second:start', 'second:end', 'all-senders:start', 'all-senders:end']);
  });
});

describe('query-builder writes', () => {
  test('insert() sends created: true, source insert, with the generated id', async () => {
    const seen = recordSaves();
    await ds.getRepository(Author).insert([{ name: 'a' }, { name: 'b' }]);
    expect(seen.map((s) => [s.source, s.created, typeof s.entityId])).toEqual([
      ['insert', true, 'number'],
      ['insert', true, 'number'],
    ]);
  });

  test('upsert() sends created true, then false (PostgreSQL tells; upsert.test.ts has the rest)', async () => {
    const repo = ds.getRepository(Tag);
    const seen: Array<boolean | null> = [];
    const sources: string[] = [];
    listen(
      postSave.connect(
        ({ created, source }) => {
          seen.push(created);
          sources.push(source);
        },
        { sender: Tag },
      ),
    );
    await repo.upsert({ label: 'ts' }, ['label']);
    await repo.upsert({ label: 'ts' }, ['label']);
    expect(seen).toEqual([true, false]);
    expect(sources).toEqual(['upsert', 'upsert']);
    // the mark does not stick to the object: a later save() of it says created: true again
    seen.length = 0;
    await repo.save({ label: 'js' });
    expect(seen).toEqual([true]);
  });

  test('update() names its row: the SET keys, the row before and after, changes (criteria-writes.test.ts has the rest)', async () => {
    const author = await ds.getRepository(Author).save({ name: 'Ada' });
    const seen = recordSaves();
    await ds.getRepository(Author).update({ id: author.id }, { name: 'Lovelace' });
    expect(seen).toEqual([
      expect.objectContaining({
        created: false,
        source: 'update',
        partial: false,
        updateFields: ['name'],
        entityId: author.id,
        previous: expect.objectContaining({ name: 'Ada' }),
        changes: { name: { from: 'Ada', to: 'Lovelace' } },
      }),
    ]);
  });

  test('delete() sends preDelete/postDelete per row with source delete and the row', async () => {
    const author = await ds.getRepository(Author).save({ name: 'Ada' });
    const seen: unknown[] = [];
    listen(preDelete.connect(({ source, instance }) => void seen.push(['pre', source, instance?.name]), { sender: Author }));
    listen(postDelete.connect(({ source, instance }) => void seen.push(['post', source, instance?.name]), { sender: Author }));
    await ds.getRepository(Author).delete({ id: author.id });
    expect(seen).toEqual([
      ['pre', 'delete', 'Ada'],
      ['post', 'delete', 'Ada'],
    ]);
  });

  test('remove() sends postDelete with entityId and the previous row', async () => {
    const author = await ds.getRepository(Author).save({ name: 'Ada' });
    const id = author.id;
    const seen: unknown[] = [];
    listen(postDelete.connect(({ source, entityId, previous }) => void seen.push([source, entityId, previous?.name]), { sender: Author }));
    await ds.getRepository(Author).remove(author);
    expect(seen).toEqual([['remove', id, 'Ada']]);
  });

  test('soft delete and restore send their own signals', async () => {
    const repo = ds.getRepository(Author);
    const author = await repo.save({ name: 'Ada' });
    const seen: unknown[] = [];
    listen(postSoftDelete.connect(({ source, entityId }) => void seen.push(['soft', source, entityId]), { sender: Author }));
    listen(postRestore.connect(({ source, entityId }) => void seen.push(['restore', source, entityId]), { sender: Author }));
    await repo.softRemove(author);
    await repo.recover(author);
    await repo.softDelete({ id: author.id });
    await repo.restore({ id: author.id });
    expect(seen).toEqual([
      ['soft', 'softRemove', author.id],
      ['restore', 'recover', author.id],
      ['soft', 'softDelete', author.id],
      ['restore', 'restore', author.id],
    ]);
  });
});

describe('cascades', () => {
  test('a cascaded insert sends postSave with created: true for the cascaded entity, before the owner is linked', async () => {
    const seen: string[] = [];
    listen(postSave.connect(({ instance, created }) => void seen.push(`tag:${instance.label}:${created}`), { sender: Tag }));
    listen(postSave.connect(({ instance, created }) => void seen.push(`post:${instance.title}:${created}`), { sender: Post }));
    listen(m2mChanged.connect(({ action, relatedIds }) => void seen.push(`m2m:${action}:${relatedIds.length}`), { sender: Post }));
    await ds.getRepository(Post).save({ title: 'p', tags: [{ label: 'new-1' }, { label: 'new-2' }] as Tag[] });
    expect(seen.sort()).toEqual(['m2m:add:2', 'post:p:true', 'tag:new-1:true', 'tag:new-2:true']);
    expect(await ds.getRepository(Tag).count()).toBe(2);
  });
});

describe('m2mChanged', () => {
  test('adding and removing related rows sends one m2mChanged per owner and action', async () => {
    const tags = await ds.getRepository(Tag).save([{ label: 'a' }, { label: 'b' }, { label: 'c' }]);
    const seen: unknown[] = [];
    listen(
      m2mChanged.connect(
        ({ action, relation, entityId, relatedIds, model, sender }) => void seen.push({ action, relation, entityId, relatedIds: [...relatedIds].sort(), model, sender }),
        { sender: Post },
      ),
    );
    const post = await ds.getRepository(Post).save({ title: 'p', tags });
    expect(seen).toEqual([{ action: 'add', relation: 'tags', entityId: post.id, relatedIds: tags.map((t) => t.id).sort(), model: Tag, sender: Post }]);
    seen.length = 0;
    post.tags = [tags[0]];
    await ds.getRepository(Post).save(post);
    expect(seen).toEqual([{ action: 'remove', relation: 'tags', entityId: post.id, relatedIds: [tags[1].id, tags[2].id].sort(), model: Tag, sender: Post }]);
  });
});

describe('senders', () => {
  test('an entity name string matches writes of that class', async () => {
    const seen: string[] = [];
    listen(postSave.connect(({ instance }) => void seen.push(instance.name), { sender: 'Author' }));
    await ds.getRepository(Author).save({ name: 'by name' });
    await ds.getRepository(Tag).save({ label: 'not me' });
    expect(seen).toEqual(['by name']);
  });

  test('inheritance: a receiver for the parent class does not run for a child entity (exact class, as in Django)', async () => {
    const seen: string[] = [];
    listen(postSave.connect(() => void seen.push('Content'), { sender: Content }));
    listen(postSave.connect(() => void seen.push('Article'), { sender: Article }));
    await ds.getRepository(Article).save({ title: 't', section: 's' });
    await ds.getRepository(Content).save({ title: 'plain' });
    expect(seen).toEqual(['Article', 'Content']);
  });
});

describe('installation', () => {
  test('listing the subscriber and installing it again never runs a receiver twice', async () => {
    const uninstall = installSignals(ds);
    (ds.subscribers as object[]).push(new SignalsSubscriber());
    try {
      const seen = recordSaves();
      await ds.getRepository(Author).save({ name: 'once' });
      expect(seen).toHaveLength(1);
    } finally {
      uninstall();
      (ds.subscribers as object[]).splice(ds.subscribers.length - 1, 1);
    }
    expect(ds.subscribers.filter((s) => s instanceof SignalsSubscriber)).toHaveLength(1);
  });

  test('two DataSources at once: each payload names its own', async () => {
    const other = await openTestDataSource({ entities: blogEntities, migrations: blogMigrations });
    try {
      installSignals(other.dataSource);
      const seen: DataSource[] = [];
      listen(postSave.connect(({ dataSource }) => void seen.push(dataSource), { sender: Author }));
      await ds.getRepository(Author).save({ name: 'one' });
      await other.dataSource.getRepository(Author).save({ name: 'two' });
      expect(seen).toEqual([ds, other.dataSource]);
    } finally {
      await other.cleanup();
    }
  });

  test('two DataSources listing SignalsSubscriber (TypeORM 0.3 gives both ONE shared instance): writes at once, each payload names its own', async () => {
    const other = await openTestDataSource({ entities: blogEntities, migrations: blogMigrations, subscribers: [SignalsSubscriber] });
    try {
      const mine = ds.subscribers.find((s) => s instanceof SignalsSubscriber);
      const theirs = other.dataSource.subscribers.find((s) => s instanceof SignalsSubscriber);
      // 0.3 builds subscribers through its container: one singleton per class for every
      // DataSource. 1.x constructs one per DataSource. The subscriber keeps no state of its own.
      const typeorm03 = !('dataSource' in ds.manager);
      expect(mine === theirs).toBe(typeorm03);
      expect(Object.keys(mine!)).toEqual([]);
      const seen: Array<[string, boolean]> = [];
      listen(
        postSave.connect(
          async ({ instance, dataSource, queryRunner, manager }) => {
            await new Promise((r) => setTimeout(r, 5));
            expect(queryRunner.manager).toBe(manager);
            seen.push([String(instance.name), dataSource === ds]);
          },
          { sender: Author },
        ),
      );
      const commits: Array<[string, boolean]> = [];
      listen(postSave.connect(({ instance, dataSource }) => void commits.push([String(instance.name), dataSource === ds]), { sender: Author, phase: 'commit' }));
      await Promise.all([
        ds.getRepository(Author).save([{ name: 'a1' }, { name: 'a2' }]),
        other.dataSource.getRepository(Author).save([{ name: 'b1' }, { name: 'b2' }]),
      ]);
      const sort = (list: Array<[string, boolean]>) => [...list].sort(([a], [b]) => a.localeCompare(b));
      const expected = [
        ['a1', true],
        ['a2', true],
        ['b1', false],
        ['b2', false],
      ];
      expect(sort(seen)).toEqual(expected);
      expect(sort(commits)).toEqual(expected);
      expect(await other.dataSource.getRepository(Author).count()).toBe(2);
    } finally {
      await other.cleanup();
    }
  });

  test('installSignals before initialize() is refused with a clear error', () => {
    const { DataSource: DS } = jest.requireActual<typeof import('typeorm')>('typeorm');
    const uninitialized = new DS({ type: 'postgres', url: process.env.DATABASE_URL, entities: blogEntities });
    expect(() => installSignals(uninitialized)).toThrow(/not initialized/);
  });
});

describe('recursion', () => {
  test('a receiver that saves its own entity again is stopped at the depth limit and the write rolls back', async () => {
    listen(
      postSave.connect(
        async function bumpPosts({ instance, manager }) {
          instance.posts = (instance.posts ?? 0) + 1;
          await manager.save(Author, instance);
        },
        { sender: Author },
      ),
    );
    const error = await ds
      .getRepository(Author)
      .save({ name: 'loop', posts: 0 })
      .then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(SignalsError);
    expect((error as Error).message).toMatch(/postSave.*32 levels.*sender Author.*bumpPosts/s);
    expect(await ds.getRepository(Author).count()).toBe(0);
  });
});
