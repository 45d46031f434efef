/**
 * The same signal scenarios on every database driver: save/insert/update/upsert/delete payloads
 * (the primary key in every insert payload, with or without RETURNING), transaction phases with
 * savepoints, batch receivers, and the example app (migrations + ensureProfileExists).
 *
 * One test file per target (test/drivers/<target>.test.ts) calls describeDriver(); each file
 * opens one database of its own. A target that cannot run here (no MariaDB server answering)
 * registers one skipped test whose title says why, and prints a warning: it is reported as
 * skipped, never as passed.
 */
import 'reflect-metadata';
import fs from 'node:fs';
import path from 'node:path';
import type { DataSource, EntityManager, QueryRunner } from 'typeorm';
import { exampleMigrations } from '../../migrations';
import {
  SignalsSubscriber,
  m2mChanged,
  onCommit,
  onRollback,
  postDelete,
  postRestore,
  postSave,
  postSoftDelete,
  preSave,
  type EntityId,
  type SavePayload,
} from '../../src';
import { User, UserProfile, exampleEntities } from '../../src/example/entities';
import { connectExampleReceivers } from '../../src/example/receivers';
import { QueryRecorder } from '../helpers/query-log';
import { connections } from '../helpers/connections';
import { Author, Post, Tag, fixtureEntities, fixtureMigrations, fixtureTables } from '../fixtures/blog';
import type { OpenTarget, Target } from './targets';

/** The TypeORM this run loads (the typeorm-0.3 jest project maps `typeorm` to the 0.3 copy). */
export const typeormVersion: string = JSON.parse(fs.readFileSync(path.join(path.dirname(require.resolve('typeorm')), 'package.json'), 'utf8')).version;

export function describeDriver(target: Target): void {
  const title = `${target.label} on TypeORM ${typeormVersion}`;
  const reason = target.unavailable();
  if (reason) {
    // Loud on purpose: a skipped database must not pass for a tested one.
    process.stderr.write(`\n*** SKIPPED: ${title}: ${reason}\n\n`);
    describe(title, () => {
      test.skip(`SKIPPED: ${reason}`, () => undefined);
    });
    return;
  }

  describe(title, () => {
    let db: OpenTarget;
    let ds: DataSource;
    const queries = new QueryRecorder();
    const { listen } = connections();

    beforeAll(async () => {
      db = await target.open({
        entities: [...exampleEntities, ...fixtureEntities],
        migrations: [...exampleMigrations, ...fixtureMigrations],
        subscribers: [SignalsSubscriber],
        logger: queries,
      });
      ds = db.dataSource;
    });
    afterAll(async () => {
      await db?.cleanup();
    });
    afterEach(async () => {
      await db?.clear([...fixtureTables, 'user_profiles', 'users']);
    });

    const authors = () => ds.getRepository(Author);
    const ids = async (table: string): Promise<number[]> =>
      (await ds.query(`SELECT id FROM ${table} ORDER BY id`)).map((r: { id: number | string }) => Number(r.id));

    interface Seen {
      created: boolean | null;
      source: string;
      entityId: EntityId | undefined;
      id: unknown;
      name: unknown;
    }
    function recordSaves(): Seen[] {
      const seen: Seen[] = [];
      listen(
        postSave.connect(
          ({ created, source, entityId, instance }) => void seen.push({ created, source, entityId, id: instance.id, name: instance.name }),
          { sender: Author },
        ),
      );
      return seen;
    }

    describe('schema', () => {
      const driftTest = target.noDriftCheck ? test.skip : test;
      const driftTitle = 'the migrations build the schema the entities describe: synchronize would change nothing';
      driftTest(target.noDriftCheck ? `${driftTitle} (SKIPPED: ${target.noDriftCheck})` : driftTitle, async () => {
        const { upQueries } = await ds.driver.createSchemaBuilder().log();
        expect(upQueries.map((q) => q.query)).toEqual([]);
      });
    });

    describe('writes: every insert payload carries the primary key', () => {
      test('save(new): created true, entityId = the generated id, preSave may change the row', async () => {
        listen(
          preSave.connect(
            ({ instance, created }) => {
              if (created) instance.name = instance.name.toUpperCase();
            },
            { sender: Author },
          ),
        );
        const seen = recordSaves();
        const author = await authors().save({ name: 'ada' });
        expect(typeof author.id).toBe('number');
        expect(seen).toEqual([{ created: true, source: 'save', entityId: author.id, id: author.id, name: 'ADA' }]);
        expect(await ids('authors')).toEqual([author.id]);
        expect((await authors().findOneByOrFail({ id: author.id })).name).toBe('ADA');
      });

      test('save([a, b, c]): one payload per row, each with its own id', async () => {
        const seen = recordSaves();
        const saved = await authors().save([{ name: 'a' }, { name: 'b' }, { name: 'c' }]);
        const dbIds = await ids('authors');
        expect(dbIds).toHaveLength(3);
        expect(seen.map((s) => [s.name, s.created, s.entityId])).toEqual(saved.map((a, i) => [a.name, true, dbIds[i]]));
      });

      const readBack = target.insertReturning ? 'INSERT ... RETURNING' : 'no RETURNING: the driver\'s insert id';
      test(`insert([...]) and a query-builder insert: source insert, entityId from the database (${readBack})`, async () => {
        const seen = recordSaves();
        queries.start();
        await authors().insert([{ name: 'x' }, { name: 'y' }]);
        await ds.createQueryBuilder().insert().into(Author).values({ name: 'z' }).execute();
        const inserts = queries.stop().filter((q) => /^\s*INSERT INTO/i.test(q));
        expect(inserts).toHaveLength(2);
        expect(inserts.map((q) => /\bRETURNING\b/i.test(q))).toEqual([target.insertReturning, target.insertReturning]);
        const dbIds = await ids('authors');
        expect(seen.map((s) => [s.name, s.source, s.created, s.entityId])).toEqual([
          ['x', 'insert', true, dbIds[0]],
          ['y', 'insert', true, dbIds[1]],
          ['z', 'insert', true, dbIds[2]],
        ]);
      });

      test('save(existing): created false with previous and changes; update(): the row named, with previous and changes too', async () => {
        const author = await authors().save({ name: 'Ada' });
        const seen: unknown[] = [];
        listen(
          postSave.connect(
            ({ created, source, entityId, partial, updateFields, previous, changes }) =>
              void seen.push({ created, source, entityId, partial, updateFields, previous: previous?.name, changes }),
            { sender: Author },
          ),
        );
        author.name = 'Ada L.';
        await authors().save(author);
        await authors().update({ id: author.id }, { name: 'Lovelace' });
        expect(seen).toEqual([
          { created: false, source: 'save', entityId: author.id, partial: false, updateFields: ['name'], previous: 'Ada', changes: { name: { from: 'Ada', to: 'Ada L.' } } },
          { created: false, source: 'update', entityId: author.id, partial: false, updateFields: ['name'], previous: 'Ada L.', changes: { name: { from: 'Ada L.', to: 'Lovelace' } } },
        ]);
      });

      // PostgreSQL and PGlite say which rows an upsert inserted (RETURNING (xmax = 0)); elsewhere TypeORM cannot tell.
      const tellsCreated = target.type === 'postgres';
      test(`upsert() and orIgnore(): ${tellsCreated ? 'created true or false per row, ignored rows not sent' : 'created null for every row (the database cannot tell)'}`, async () => {
        const seen: Array<[unknown, boolean | null, string]> = [];
        listen(postSave.connect(({ instance, created, source }) => void seen.push([instance.label, created, source]), { sender: Tag }));
        await ds.getRepository(Tag).upsert({ label: 'ts' }, ['label']);
        await ds.getRepository(Tag).upsert([{ label: 'ts' }, { label: 'js' }], ['label']);
        await ds.createQueryBuilder().insert().into(Tag).values([{ label: 'js' }, { label: 'go' }]).orIgnore().updateEntity(false).execute();
        expect(seen).toEqual(
          tellsCreated
            ? [
                ['ts', true, 'upsert'],
                ['ts', false, 'upsert'],
                ['js', true, 'upsert'],
                ['go', true, 'insert'],
              ]
            : [
                ['ts', null, 'upsert'],
                ['ts', null, 'upsert'],
                ['js', null, 'upsert'],
                ['js', null, 'insert'],
                ['go', null, 'insert'],
              ],
        );
        expect(await ds.getRepository(Tag).count()).toBe(3);
      });

      test('remove(), delete(), softRemove() and recover() send their signals with the ids they know', async () => {
        const [one, two] = await authors().save([{ name: 'one' }, { name: 'two' }]);
        const oneId = one.id;
        const seen: unknown[] = [];
        listen(postDelete.connect(({ source, entityId, previous }) => void seen.push(['delete', source, entityId, previous?.name]), { sender: Author }));
        listen(postSoftDelete.connect(({ source, entityId }) => void seen.push(['soft', source, entityId]), { sender: Author }));
        listen(postRestore.connect(({ source, entityId }) => void seen.push(['restore', source, entityId]), { sender: Author }));
        await authors().softRemove(two);
        await authors().recover(two);
        await authors().remove(one);
        await authors().delete({ id: two.id });
        expect(seen).toEqual([
          ['soft', 'softRemove', two.id],
          ['restore', 'recover', two.id],
          ['delete', 'remove', oneId, 'one'],
          ['delete', 'delete', two.id, 'two'],
        ]);
        expect(await authors().count({ withDeleted: true })).toBe(0);
      });

      test('m2mChanged: one call per owner and action with the related ids', async () => {
        const tags = await ds.getRepository(Tag).save([{ label: 'a' }, { label: 'b' }]);
        const seen: unknown[] = [];
        listen(m2mChanged.connect(({ action, entityId, relatedIds }) => void seen.push([action, entityId, [...relatedIds].sort()]), { sender: Post }));
        const post = await ds.getRepository(Post).save({ title: 'p', tags });
        expect(seen).toEqual([['add', post.id, tags.map((t) => t.id).sort()]]);
      });
    });

    describe('criteria writes name their rows', () => {
      const returning = target.type === 'postgres';
      const locks = target.name !== 'sqlite';
      const how = `${locks ? 'SELECT ... FOR UPDATE' : 'SELECT (SQLite: one writer at a time)'} then ${returning ? 'UPDATE ... RETURNING' : 'UPDATE and a SELECT by key'}`;
      async function seed(): Promise<number[]> {
        await authors().insert([
          { name: 'Ada', posts: 1 },
          { name: 'old', posts: 2 },
          { name: 'old', posts: 3 },
        ]);
        return ids('authors');
      }

      test(`update() and increment(): one payload per row with entityId, previous, instance and changes (${how})`, async () => {
        const [ada, old1, old2] = await seed();
        const seen: unknown[] = [];
        listen(
          postSave.connect(
            ({ entityId, previous, instance, changes, partial, source }) => void seen.push([entityId, previous?.posts, instance.posts, changes, partial, source]),
            { sender: Author },
          ),
        );
        queries.start();
        const result = await authors().update({ name: 'old' }, { posts: 0 });
        const statements = queries.stop();
        await authors().increment({ id: ada }, 'posts', 5);
        expect(result.affected).toBe(2);
        expect(seen).toEqual([
          [old1, 2, 0, { posts: { from: 2, to: 0 } }, false, 'update'],
          [old2, 3, 0, { posts: { from: 3, to: 0 } }, false, 'update'],
          [ada, 1, 6, { posts: { from: 1, to: 6 } }, false, 'update'],
        ]);
        const select = statements.find((q) => /^SELECT/i.test(q))!;
        const update = statements.find((q) => /^UPDATE/i.test(q))!;
        expect([/FOR UPDATE/i.test(select), /RETURNING/i.test(update)]).toEqual([locks, returning]);
        expect(statements.filter((q) => /^SELECT/i.test(q))).toHaveLength(returning ? 1 : 2);
      });

      test('delete(), softDelete() and restore(): the rows, each with its id', async () => {
        const [ada, old1, old2] = await seed();
        const seen: unknown[] = [];
        listen(postDelete.connect(({ entityId, instance, previous }) => void seen.push(['delete', entityId, instance?.name, previous?.posts]), { sender: Author }));
        listen(postSoftDelete.connect(({ entityId, instance }) => void seen.push(['soft', entityId, instance?.deletedAt instanceof Date]), { sender: Author }));
        listen(postRestore.connect(({ entityId, previous, instance }) => void seen.push(['restore', entityId, previous?.deletedAt instanceof Date, instance?.deletedAt]), { sender: Author }));
        await authors().softDelete({ id: ada });
        await authors().restore({ id: ada });
        const result = await authors().delete({ name: 'old' });
        expect(result.affected).toBe(2);
        expect(seen).toEqual([
          ['soft', ada, true],
          ['restore', ada, true, null],
          ['delete', old1, 'old', 2],
          ['delete', old2, 'old', 3],
        ]);
        expect(await ids('authors')).toEqual([ada]);
      });

      test('no row touched: nothing sent; nothing listening: no extra statement', async () => {
        await seed();
        const seen: unknown[] = [];
        {
          using _seen = postSave.connect(({ entityId }) => void seen.push(entityId), { sender: Author });
          await authors().update({ name: 'nobody' }, { posts: 9 });
          expect(seen).toEqual([]);
        }
        queries.start();
        await authors().update({ name: 'old' }, { posts: 9 });
        await authors().delete({ name: 'old' });
        expect(queries.stop().map((q) => q.split(' ')[0].toUpperCase())).toEqual(['UPDATE', 'DELETE']);
      });

      test('a failing receiver rolls the statement back', async () => {
        await seed();
        listen(
          postDelete.connect(
            () => {
              throw new Error('refused');
            },
            { sender: Author },
          ),
        );
        await expect(authors().delete({ name: 'old' })).rejects.toThrow('refused');
        expect(await ids('authors')).toHaveLength(3);
      });
    });

    describe('listened writes outside a transaction are atomic with their receivers', () => {
      const refuse = () => {
        throw new Error('refused');
      };
      const transactionStatements = (q: string[]) => q.filter((sql) => /^\s*(START TRANSACTION|BEGIN|COMMIT|ROLLBACK)\b/i.test(sql));
      const authorRows = async () => (await ds.query('SELECT name, posts FROM authors ORDER BY id')).map((r: { name: string; posts: number | string }) => `${r.name}:${Number(r.posts)}`);
      const paths: Array<{ name: string; signal: typeof postSave | typeof postDelete; seed?: 'deleted'; write: () => Promise<unknown> }> = [
        { name: 'insert()', signal: postSave, write: () => authors().insert({ name: 'new' }) },
        { name: 'update(criteria)', signal: postSave, write: () => authors().update({ name: 'seed' }, { name: 'changed' }) },
        { name: 'increment()', signal: postSave, write: () => authors().increment({ name: 'seed' }, 'posts', 5) },
        { name: 'delete()', signal: postDelete, write: () => authors().delete({ name: 'seed' }) },
        { name: 'softDelete()', signal: postSoftDelete, write: () => authors().softDelete({ name: 'seed' }) },
        { name: 'restore()', signal: postRestore, seed: 'deleted', write: () => authors().restore({ name: 'seed' }) },
        { name: 'a query-builder insert().execute()', signal: postSave, write: () => ds.createQueryBuilder().insert().into(Author).values([{ name: 'a' }, { name: 'b' }]).execute() },
        { name: 'a query-builder update().execute()', signal: postSave, write: () => ds.createQueryBuilder().update(Author).set({ posts: 0 }).where('name = :name', { name: 'seed' }).execute() },
      ];

      test.each(paths)('a throwing transaction-phase receiver rolls back $name', async ({ signal, seed, write }) => {
        await authors().insert({ name: 'seed', posts: 10 });
        if (seed === 'deleted') await authors().softDelete({ name: 'seed' });
        const before = await authorRows();
        listen((signal as typeof postSave).connect(refuse, { sender: Author }));
        queries.start();
        await expect(write()).rejects.toThrow('refused');
        const statements = transactionStatements(queries.stop());
        expect(statements.map((q) => /ROLLBACK/i.test(q))).toEqual([false, true]);
        expect(await authorRows()).toEqual(before);
      });

      test("the receiver's writes through manager commit with the statement; commit receivers run after that COMMIT", async () => {
        const log: string[] = [];
        listen(
          postSave.connect(
            async ({ manager, queryRunner }) => {
              log.push(`transaction active=${queryRunner?.isTransactionActive}`);
              await manager.insert(Tag, { label: 'from-receiver' });
            },
            { sender: Author },
          ),
        );
        listen(postSave.connect(async () => void log.push(`commit: ${(await ids('tags')).length} tag`), { sender: Author, phase: 'commit' }));
        await authors().insert({ name: 'Ada' });
        expect(log).toEqual(['transaction active=true', 'commit: 1 tag']);
        expect(await ids('authors')).toHaveLength(1);
      });

      test('only a commit-phase receiver: insert() gets no BEGIN/COMMIT; update(criteria) one, to lock and name the rows it writes', async () => {
        const commits: unknown[] = [];
        listen(postSave.connect(({ entityId }) => void commits.push(entityId), { sender: Author, phase: 'commit' }));
        queries.start();
        await authors().insert({ name: 'Ada' });
        await authors().delete({ name: 'nobody' });
        expect(transactionStatements(queries.stop())).toEqual([]);
        queries.start();
        await authors().update({ name: 'Ada' }, { name: 'Lovelace' });
        expect(transactionStatements(queries.stop()).map((q) => /COMMIT/i.test(q))).toEqual([false, true]);
        const [id] = await ids('authors');
        expect(commits).toEqual([id, id]);
      });
    });

    describe('a model signal sent by hand behaves like a write', () => {
      function payloadOf(author: Author, manager: EntityManager): SavePayload<Author> {
        return {
          instance: author,
          created: false,
          partial: false,
          source: 'save',
          entityId: author.id,
          updateFields: undefined,
          previous: undefined,
          changes: undefined,
          data: undefined,
          metadata: ds.getMetadata(Author),
          manager,
          queryRunner: manager.queryRunner as QueryRunner,
          dataSource: ds,
        };
      }

      test('inside a transaction: commit receivers wait for the COMMIT, batch receivers get the row as their items', async () => {
        await authors().insert({ name: 'Ada' });
        const author = (await authors().findOneByOrFail({ name: 'Ada' })) as Author;
        const log: string[] = [];
        listen(postSave.connect(({ items }) => void log.push(`batch ${items.map((i) => i.entityId).join(',')}`), { sender: Author, batch: true }));
        listen(postSave.connect(() => void log.push('commit'), { sender: Author, phase: 'commit' }));
        listen(postSave.connect(() => void log.push('rollback'), { sender: Author, phase: 'rollback' }));
        await ds.transaction(async (manager) => {
          await postSave.send(Author, payloadOf(author, manager));
          log.push('sent');
        });
        expect(log).toEqual([`batch ${author.id}`, 'sent', 'commit']);
        log.length = 0;
        await expect(
          ds.transaction(async (manager) => {
            await postSave.send(Author, payloadOf(author, manager));
            throw new Error('undo');
          }),
        ).rejects.toThrow('undo');
        expect(log).toEqual([`batch ${author.id}`, 'rollback']);
      });
    });

    describe('transaction phases', () => {
      function recordPhase(phase: 'commit' | 'rollback', log: string[] = []): string[] {
        listen(
          postSave.connect(
            async ({ instance, queryRunner, manager }) => {
              expect(queryRunner).toBeUndefined();
              log.push(`${phase}:${instance.name}:rows=${await manager.count(Author)}`);
            },
            { sender: Author, phase },
          ),
        );
        return log;
      }

      test('commit: after save() commits, before save() resolves', async () => {
        const log = recordPhase('commit');
        await authors().save({ name: 'Ada' });
        expect(log).toEqual(['commit:Ada:rows=1']);
      });

      test('commit: a released savepoint waits for the outermost COMMIT', async () => {
        const log = recordPhase('commit');
        await ds.transaction(async (outer) => {
          await outer.transaction(async (inner) => {
            await inner.save(Author, { name: 'nested' });
          });
          await outer.save(Author, { name: 'outer' });
          expect(log).toEqual([]);
        });
        expect(log).toEqual(['commit:nested:rows=2', 'commit:outer:rows=2']);
      });

      test('a savepoint rolled back: its rows get the rollback phase at once, the rest commits', async () => {
        const log = recordPhase('commit');
        const undone: string[] = [];
        listen(postSave.connect(({ instance }) => void undone.push(String(instance.name)), { sender: Author, phase: 'rollback' }));
        await ds.transaction(async (outer) => {
          await outer.save(Author, { name: 'kept' });
          await outer
            .transaction(async (inner) => {
              await inner.save(Author, { name: 'undone' });
              throw new Error('inner fails');
            })
            .catch(() => undefined);
          expect(undone).toEqual(['undone']);
        });
        expect(log).toEqual(['commit:kept:rows=1']);
        expect((await authors().find()).map((a) => a.name)).toEqual(['kept']);
      });

      test('rollback: a transaction that throws runs the rollback phase, never the commit phase', async () => {
        const log = recordPhase('commit');
        const undone: string[] = [];
        listen(postSave.connect(({ instance }) => void undone.push(String(instance.name)), { sender: Author, phase: 'rollback' }));
        await expect(
          ds.transaction(async (m) => {
            await m.save(Author, { name: 'x' });
            throw new Error('abort');
          }),
        ).rejects.toThrow('abort');
        expect(log).toEqual([]);
        expect(undone).toEqual(['x']);
        expect(await authors().count()).toBe(0);
      });

      const afterFailure = target.failedStatementDooms
        ? 'the server rolls back at COMMIT: the rollback phase runs'
        : 'the transaction goes on and commits: the commit phase runs';
      test(`a failed statement, caught, then COMMIT: ${afterFailure}`, async () => {
        const log = recordPhase('commit');
        const undone: string[] = [];
        listen(postSave.connect(({ instance }) => void undone.push(String(instance.name)), { sender: Author, phase: 'rollback' }));
        await ds.transaction(async (m) => {
          await m.save(Author, { name: 'x' });
          await m.query('SELECT * FROM no_such_table').catch(() => undefined);
        });
        if (target.failedStatementDooms) {
          expect([log, undone, await authors().count()]).toEqual([[], ['x'], 0]);
        } else {
          expect([log, undone, await authors().count()]).toEqual([['commit:x:rows=1'], [], 1]);
        }
      });

      // MySQL/MariaDB only: there a failed statement leaves the transaction open, except a deadlock.
      const mysqlFamily = target.type === 'mysql' || target.type === 'mariadb';
      if (mysqlFamily)
        test('a deadlock the transaction survives in code: the server rolled it back, so the rollback phase runs', async () => {
          const rows = await authors().save(Array.from({ length: 6 }, (_, i) => ({ name: `r${i}` })));
          const [a, b] = rows;
          const log = recordPhase('commit');
          const undone: string[] = [];
          listen(postSave.connect(({ instance }) => void undone.push(String(instance.name)), { sender: Author, phase: 'rollback' }));
          const other = ds.createQueryRunner();
          await other.connect();
          await other.startTransaction();
          let victim: unknown;
          try {
            await ds.transaction(async (m) => {
              await m.save(Author, { name: 'x' });
              await m.query('SELECT id FROM authors WHERE id = ? FOR UPDATE', [a.id]);
              // The other transaction writes more rows, so InnoDB picks this one as the victim.
              // One primary-key lookup per row: on a table this small, an IN list becomes a scan
              // that would also lock the rows of the first transaction.
              for (const row of rows.slice(1)) await other.query('UPDATE authors SET posts = 1 WHERE id = ?', [row.id]);
              const blocked = other.query('SELECT id FROM authors WHERE id = ? FOR UPDATE', [a.id]);
              await new Promise((r) => setTimeout(r, 200));
              victim = await m.query('SELECT id FROM authors WHERE id = ? FOR UPDATE', [b.id]).then(() => undefined, (e: unknown) => e);
              await blocked;
            });
          } finally {
            await other.rollbackTransaction().catch(() => undefined);
            await other.release();
          }
          expect(String((victim as Error | undefined)?.message)).toMatch(/deadlock/i);
          expect([log, undone, await authors().countBy({ name: 'x' })]).toEqual([[], ['x'], 0]);
        });

      test('onCommit and onRollback', async () => {
        const log: string[] = [];
        await ds.transaction(async (m) => {
          await onCommit(m, () => void log.push('commit-1'));
          await onRollback(m, () => void log.push('rollback-1'));
          expect(log).toEqual([]);
        });
        await expect(
          ds.transaction(async (m) => {
            await onCommit(m, () => void log.push('commit-2'));
            await onRollback(m, () => void log.push('rollback-2'));
            throw new Error('undo');
          }),
        ).rejects.toThrow('undo');
        await onCommit(ds.manager, () => void log.push('at-once'));
        expect(log).toEqual(['commit-1', 'rollback-2', 'at-once']);
      });
    });

    describe('batch receivers', () => {
      test('one call per save([...]) with every row and its id, in the transaction and commit phases', async () => {
        const calls: Array<[string, unknown[]]> = [];
        for (const phase of ['transaction', 'commit'] as const) {
          listen(postSave.connect(({ items }) => void calls.push([phase, items.map((i) => i.entityId)]), { sender: Author, batch: true, phase }));
        }
        await authors().save([{ name: 'a' }, { name: 'b' }, { name: 'c' }]);
        const dbIds = await ids('authors');
        expect(calls).toEqual([
          ['transaction', dbIds],
          ['commit', dbIds],
        ]);
      });

      test('with the chunk option: one call per chunk', async () => {
        const sizes: number[] = [];
        listen(postSave.connect(({ items }) => void sizes.push(items.length), { sender: Author, batch: true }));
        await authors().save(
          Array.from({ length: 7 }, (_, i) => ({ name: `n${i}` })),
          { chunk: 3 },
        );
        expect(sizes).toEqual([3, 3, 1]);
      });
    });

    describe('the example (migrations, ensureProfileExists)', () => {
      test('sign-ups get one profile each, in the same transaction; an update creates none', async () => {
        listen(connectExampleReceivers());
        const sent: Array<[string, boolean | null]> = [];
        listen(postSave.connect(({ sender, created }) => void sent.push([sender === User ? 'User' : 'UserProfile', created])));
        const users = ds.getRepository(User);
        const [alice, bob] = await users.save([users.create({ email: 'alice@example.com', name: 'Alice' }), users.create({ email: 'bob@example.com', name: null })]);
        bob.name = 'Bob';
        await users.save(bob);
        const profiles = await ds.getRepository(UserProfile).find({ order: { userId: 'ASC' } });
        expect(profiles.map((p) => [p.userId, p.gender, p.nickname])).toEqual([
          [alice.id, 'M', null],
          [bob.id, 'M', null],
        ]);
        // The profiles' INSERT ... ON CONFLICT DO NOTHING (INSERT IGNORE on MySQL): only PostgreSQL tells what it inserted.
        const profileCreated = target.type === 'postgres' ? true : null;
        expect(sent).toEqual([
          ['User', true],
          ['User', true],
          ['UserProfile', profileCreated],
          ['UserProfile', profileCreated],
          ['User', false],
        ]);
        const loaded = await users.findOneOrFail({ where: { id: alice.id }, relations: { profile: true } });
        expect(loaded.profile?.userId).toBe(alice.id);
        expect(loaded.createdAt).toBeInstanceOf(Date);
      });

      test('a failing receiver rolls back the user and its profile', async () => {
        listen(connectExampleReceivers());
        listen(
          postSave.connect(
            () => {
              throw new Error('receiver failed');
            },
            { sender: UserProfile },
          ),
        );
        await expect(ds.getRepository(User).save({ email: 'doomed@example.com' })).rejects.toThrow('receiver failed');
        expect([await ds.getRepository(User).count(), await ds.getRepository(UserProfile).count()]).toEqual([0, 0]);
      });

      test('the profile gender check holds on this database', async () => {
        const user = await ds.getRepository(User).save({ email: 'check@example.com' });
        await expect(ds.getRepository(UserProfile).insert({ userId: user.id, gender: 'X' as never })).rejects.toThrow();
        await ds.getRepository(UserProfile).insert({ userId: user.id, gender: 'F' });
        expect(await ds.getRepository(UserProfile).count()).toBe(1);
      });
    });
  });
}
