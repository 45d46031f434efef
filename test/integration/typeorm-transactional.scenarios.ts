/**
 * typeorm-signals under typeorm-transactional (Aliheym/typeorm-transactional 0.5), for each of its
 * storage drivers (typeorm-transactional-*.test.ts). typeorm-transactional patches the
 * DataSource: inside `@Transactional()`, `dataSource.manager` (and every repository's manager) is
 * the open transaction's EntityManager. Receivers run for real on PostgreSQL with migrations; the
 * service below is written as typeorm-transactional's README writes one.
 */
import 'reflect-metadata';
import type { DataSource, EntityManager } from 'typeorm';
import {
  addTransactionalDataSource,
  deleteDataSourceByName,
  initializeTransactionalContext,
  runOnTransactionCommit,
  Transactional,
  type StorageDriver,
} from 'typeorm-transactional';
import { SignalsSubscriber, onCommit, onRollback, postSave } from '../../src';
import { Author, Tag, fixtureEntities, fixtureMigrations } from '../fixtures/blog';
import { openTestDataSource, type TestDataSource } from '../helpers/database';
import { connections } from '../helpers/connections';

export function typeormTransactionalScenarios(storageDriver: StorageDriver): void {
  let db: TestDataSource;
  let dataSource: DataSource;
  const events: string[] = [];
  const { listen } = connections();

  class AuthorService {
    @Transactional()
    async create(name: string, fail = false): Promise<Author> {
      const author = await dataSource.getRepository(Author).save({ name });
      if (fail) throw new Error('declined');
      return author;
    }

    /** REQUIRED in REQUIRED, a released and a rolled-back savepoint, and onCommit/onRollback. */
    @Transactional()
    async signUpTeam(fail: boolean): Promise<void> {
      await this.create('outer');
      await this.create('inner'); // REQUIRED: joins the outer transaction
      await dataSource.manager.transaction((m) => m.save(Author, { name: 'kept' })); // a savepoint, released
      await dataSource.manager
        .transaction(async (m) => {
          await m.save(Author, { name: 'undone' });
          await onCommit(m, () => void events.push('onCommit in undone savepoint'));
          await onRollback(m, () => void events.push('onRollback in undone savepoint'));
          throw new Error('undo the savepoint');
        })
        .catch(() => undefined);
      await onCommit(dataSource.manager, () => void events.push('onCommit'));
      runOnTransactionCommit(() => void events.push('runOnTransactionCommit'));
      await onRollback(dataSource.manager, () => void events.push('onRollback'));
      if (fail) throw new Error('team declined');
    }

    /** Writes two rows, then throws: atomic only if it runs in a transaction of its own. */
    @Transactional()
    async twoTagsThenThrow(prefix: string): Promise<void> {
      await dataSource.getRepository(Tag).save({ label: `${prefix}:1` });
      await dataSource.getRepository(Tag).save({ label: `${prefix}:2` });
      throw new Error('side effect failed');
    }
  }
  const service = new AuthorService();

  /** A receiver's manager as a string: whether it is bound to a runner, and what it can see. */
  async function describeManager(manager: EntityManager, name: string): Promise<string> {
    const visible = await manager.count(Author, { where: { name } });
    return `bound=${manager.queryRunner !== undefined} visible=${visible}`;
  }

  beforeAll(async () => {
    initializeTransactionalContext({ storageDriver });
    db = await openTestDataSource({ entities: fixtureEntities, migrations: fixtureMigrations, subscribers: [SignalsSubscriber] });
    dataSource = addTransactionalDataSource(db.dataSource);
  });
  afterAll(async () => {
    deleteDataSourceByName('default');
    await db?.cleanup();
  });
  afterEach(async () => {
    events.length = 0;
    await dataSource.query('TRUNCATE post_tags, posts, tags, authors RESTART IDENTITY CASCADE');
  });

  test("commit and rollback receivers run once, with the DataSource's own manager, which keeps working after the transaction", async () => {
    const managers: EntityManager[] = [];
    listen(
      postSave.connect(
        async ({ instance, manager }) => {
          managers.push(manager);
          events.push(`commit ${instance.name} ${await describeManager(manager, instance.name ?? '')}`);
        },
        { sender: Author, phase: 'commit' },
      ),
    );
    listen(
      postSave.connect(
        async ({ instance, manager }) => {
          managers.push(manager);
          events.push(`rollback ${instance.name} ${await describeManager(manager, instance.name ?? '')}`);
        },
        { sender: Author, phase: 'rollback' },
      ),
    );

    await service.create('ada');
    expect(events).toEqual(['commit ada bound=false visible=1']);
    await expect(service.create('bob', true)).rejects.toThrow('declined');
    expect(events).toEqual(['commit ada bound=false visible=1', 'rollback bob bound=false visible=0']);

    // Work a receiver defers (fire-and-forget) uses its manager once the runner is released.
    await managers[0].insert(Tag, { label: 'after commit' });
    await managers[1].insert(Tag, { label: 'after rollback' });
    expect((await dataSource.getRepository(Tag).find({ order: { id: 'ASC' } })).map((t) => t.label)).toEqual(['after commit', 'after rollback']);
    expect(managers[0]).toBe(managers[1]);
    expect(managers[0].connection).toBe(dataSource);
  });

  test('REQUIRED in REQUIRED and savepoints: commit work after the outer COMMIT, rollback work of the undone savepoint at once', async () => {
    for (const phase of ['commit', 'rollback'] as const) {
      listen(postSave.connect(({ instance }) => void events.push(`${phase} ${instance.name}`), { sender: Author, phase }));
    }
    await service.signUpTeam(false);
    expect(events).toEqual([
      'rollback undone', // at ROLLBACK TO SAVEPOINT
      'onRollback in undone savepoint',
      'commit outer', // then, after the COMMIT, in the order of the writes
      'commit inner',
      'commit kept',
      'onCommit',
    ]);
    // typeorm-transactional's own hook comes later, in a setImmediate after @Transactional() resolved.
    await new Promise((resolve) => setImmediate(resolve));
    expect(events.slice(-2)).toEqual(['onCommit', 'runOnTransactionCommit']);
    expect((await dataSource.getRepository(Author).find({ order: { id: 'ASC' } })).map((a) => a.name)).toEqual(['outer', 'inner', 'kept']);

    events.length = 0;
    await expect(service.signUpTeam(true)).rejects.toThrow('team declined');
    expect(events).toEqual([
      'rollback undone',
      'onRollback in undone savepoint',
      'rollback outer', // the whole transaction rolled back: no commit work
      'rollback inner',
      'rollback kept',
      'onRollback',
    ]);
  });

  test('a @Transactional() method awaited in a commit receiver gets a transaction of its own: its throw leaves no row', async () => {
    let outcome: unknown;
    listen(
      postSave.connect(
        async () => {
          outcome = await service.twoTagsThenThrow('side').then(
            () => 'resolved',
            (error: Error) => error.message,
          );
        },
        { sender: Author, phase: 'commit' },
      ),
    );
    await service.create('trigger');
    expect(outcome).toBe('side effect failed');
    expect(await dataSource.getRepository(Tag).count()).toBe(0);
    expect(await dataSource.getRepository(Author).count()).toBe(1);
  });
}
