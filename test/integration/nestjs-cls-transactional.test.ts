/**
 * typeorm-signals under @nestjs-cls/transactional with its TypeORM adapter, in a Nest application
 * booted with @nestjs/testing on PostgreSQL (migrations run by @nestjs/typeorm). The services
 * use `TransactionHost.tx` and `@Transactional()` as nestjs-cls documents them. nestjs-cls keeps
 * the transaction's EntityManager in its CLS store until `transaction()` has resolved, that is
 * after the commit receivers ran: these tests check that they run outside that context.
 */
import 'reflect-metadata';
import { ClsPluginTransactional, Propagation, Transactional, TransactionHost } from '@nestjs-cls/transactional';
import { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { Injectable, Module } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { TypeOrmModule, getDataSourceToken } from '@nestjs/typeorm';
import { ClsModule } from 'nestjs-cls';
import type { DataSource, EntityManager } from 'typeorm';
import { SignalsSubscriber, onCommit, onRollback, postSave } from '../../src';
import { Author, Tag, fixtureEntities, fixtureMigrations } from '../fixtures/blog';
import { createTestDatabase, type TestDatabase } from '../helpers/database';
import { connections } from '../helpers/connections';

const events: string[] = [];

@Injectable()
class AuthorService {
  constructor(private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>) {}

  @Transactional()
  async create(name: string, fail = false): Promise<Author> {
    const author = await this.txHost.tx.getRepository(Author).save({ name });
    if (fail) throw new Error('declined');
    return author;
  }

  /** Required in Required, Nested (savepoints) released and rolled back, RequiresNew, onCommit. */
  @Transactional()
  async signUpTeam(fail: boolean): Promise<void> {
    await this.create('outer');
    await this.create('inner'); // Required: joins
    await this.nested('kept', false);
    await this.nested('undone', true).catch(() => undefined);
    await this.separate('separate');
    await onCommit(this.txHost.tx, () => void events.push('onCommit'));
    await onRollback(this.txHost.tx, () => void events.push('onRollback'));
    if (fail) throw new Error('team declined');
  }

  @Transactional(Propagation.Nested)
  async nested(name: string, fail: boolean): Promise<void> {
    await this.txHost.tx.save(Author, { name });
    await onCommit(this.txHost.tx, () => void events.push(`onCommit in ${name}`));
    await onRollback(this.txHost.tx, () => void events.push(`onRollback in ${name}`));
    if (fail) throw new Error('undo the savepoint');
  }

  @Transactional(Propagation.RequiresNew)
  async separate(name: string): Promise<void> {
    await this.txHost.tx.save(Author, { name });
  }

  /** Writes two rows, then throws: atomic only if it runs in a transaction of its own. */
  @Transactional()
  async twoTagsThenThrow(prefix: string): Promise<void> {
    await this.txHost.tx.save(Tag, { label: `${prefix}:1` });
    await this.txHost.tx.save(Tag, { label: `${prefix}:2` });
    throw new Error('side effect failed');
  }

  /** Saves an author and registers `after` with onCommit, inside the nestjs-cls transaction. */
  @Transactional()
  async createThen(name: string, after: () => unknown): Promise<void> {
    await this.txHost.tx.save(Author, { name });
    await onCommit(this.txHost.tx, after);
  }

  isTransactionActive(): boolean {
    return this.txHost.isTransactionActive();
  }
}

let database: TestDatabase;
let app: TestingModule;
let dataSource: DataSource;
let service: AuthorService;
const { listen } = connections();

beforeAll(async () => {
  database = await createTestDatabase();
  @Module({
    imports: [
      TypeOrmModule.forRoot({
        type: 'postgres',
        url: database.url,
        entities: fixtureEntities,
        migrations: fixtureMigrations,
        migrationsRun: true,
        subscribers: [SignalsSubscriber],
        extra: { max: 4 },
      }),
      ClsModule.forRoot({
        global: true,
        plugins: [new ClsPluginTransactional({ imports: [TypeOrmModule], adapter: new TransactionalAdapterTypeOrm({ dataSourceToken: getDataSourceToken() }) })],
      }),
    ],
    providers: [AuthorService],
  })
  class AppModule {}
  app = await Test.createTestingModule({ imports: [AppModule] }).compile();
  app.useLogger(false);
  await app.init();
  dataSource = app.get<DataSource>(getDataSourceToken());
  service = app.get(AuthorService);
});
afterAll(async () => {
  await app?.close();
  await database?.drop();
});
afterEach(async () => {
  events.length = 0;
  await dataSource.query('TRUNCATE post_tags, posts, tags, authors RESTART IDENTITY CASCADE');
});

test("commit and rollback receivers run once, outside the finished transaction, with the DataSource's own manager", async () => {
  const managers: EntityManager[] = [];
  for (const phase of ['commit', 'rollback'] as const) {
    listen(
      postSave.connect(
        async ({ instance, manager, dataSource: source }) => {
          managers.push(manager);
          const visible = await manager.count(Author, { where: { name: instance.name } });
          events.push(`${phase} ${instance.name} bound=${manager.queryRunner !== undefined} visible=${visible} tx=${service.isTransactionActive()} own=${source === dataSource}`);
        },
        { sender: Author, phase },
      ),
    );
  }
  await service.create('ada');
  await expect(service.create('bob', true)).rejects.toThrow('declined');
  expect(events).toEqual([
    'commit ada bound=false visible=1 tx=false own=true',
    'rollback bob bound=false visible=0 tx=false own=true',
  ]);
  // Work a receiver defers uses its manager once the transaction's runner is released.
  await managers[0].insert(Tag, { label: 'later' });
  expect(await dataSource.getRepository(Tag).count()).toBe(1);
});

test('Required in Required, Nested savepoints and RequiresNew: each row gets the phase the database gave it', async () => {
  for (const phase of ['commit', 'rollback'] as const) {
    listen(postSave.connect(({ instance }) => void events.push(`${phase} ${instance.name}`), { sender: Author, phase }));
  }
  await service.signUpTeam(false);
  expect(events).toEqual([
    'rollback undone', // ROLLBACK TO SAVEPOINT
    'onRollback in undone',
    'commit separate', // its own transaction's COMMIT
    'commit outer', // the outer COMMIT, in the order of the writes
    'commit inner',
    'commit kept',
    'onCommit in kept',
    'onCommit',
  ]);

  events.length = 0;
  await expect(service.signUpTeam(true)).rejects.toThrow('team declined');
  expect(events).toEqual([
    'rollback undone',
    'onRollback in undone',
    'commit separate', // RequiresNew committed before the outer transaction failed
    'rollback outer',
    'rollback inner',
    'rollback kept',
    'onRollback in kept',
    'onRollback',
  ]);
  expect((await dataSource.getRepository(Author).find({ order: { id: 'ASC' } })).map((a) => a.name)).toEqual(['outer', 'inner', 'kept', 'separate', 'separate']);
});

test('a @Transactional() method awaited in a commit receiver, or in an onCommit callback, is atomic', async () => {
  const outcomes: unknown[] = [];
  const sideEffect = (prefix: string) =>
    service.twoTagsThenThrow(prefix).then(
      () => outcomes.push('resolved'),
      (error: Error) => outcomes.push(error.message),
    );
  {
    using _receiver = postSave.connect(() => sideEffect('receiver'), { sender: Author, phase: 'commit' });
    await service.create('trigger');
  }

  await service.createThen('callback', () => sideEffect('onCommit'));

  expect(outcomes).toEqual(['side effect failed', 'side effect failed']);
  // Both calls opened a transaction of their own and rolled back: no 'receiver:*' or 'onCommit:*' rows.
  expect(await dataSource.getRepository(Tag).count()).toBe(0);
  expect(await dataSource.getRepository(Author).count()).toBe(2);
});
