/**
 * SignalsModule with `durable: { boss, worker }` on a real NestJS application and a real pg-boss
 * (the example's migrations create its schema): a committed save enqueues a job, the module's
 * worker runs the @OnSignal durable receiver with `this` bound, and app.close() stops the worker
 * and disconnects the receiver before @nestjs/typeorm destroys the DataSource.
 */
import 'reflect-metadata';
import { Injectable, Module } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { InjectRepository, TypeOrmModule, getRepositoryToken } from '@nestjs/typeorm';
import type { PgBoss } from 'pg-boss';
import { DataSource, type Repository } from 'typeorm';
import { exampleMigrations } from '../../migrations';
import { postSave, type DurableContext, type DurableSaveItem } from '../../src';
import { OnSignal, SignalsModule } from '../../src/nestjs';
import { User, exampleEntities } from '../../src/example/entities';
import { createTestDatabase, type TestDatabase } from '../helpers/database';
import { startBoss } from '../helpers/pg-boss';

let database: TestDatabase;
let boss: PgBoss;
beforeAll(async () => {
  // pg-boss starts on the migrated database (the example's migrations create its schema).
  database = await createTestDatabase();
  const migrate = new DataSource({ type: 'postgres', url: database.url, entities: exampleEntities, migrations: exampleMigrations, extra: { max: 1 } });
  await migrate.initialize();
  await migrate.runMigrations();
  await migrate.destroy();
  boss = await startBoss(database.url);
});
afterAll(async () => {
  await boss?.stop({ graceful: false, close: true });
  await database?.drop();
});

const BOSS = Symbol('boss');

@Injectable()
class Mailbox {
  readonly sent: string[] = [];
}

@Injectable()
class WelcomeMail {
  constructor(
    private readonly mailbox: Mailbox,
    @InjectRepository(User) private readonly users: Repository<User>,
  ) {}

  @OnSignal(postSave, { sender: User, phase: 'durable', dispatchUid: 'nest-durable-welcome' })
  async welcome({ entityId, created, attempt }: DurableSaveItem<User> & DurableContext): Promise<void> {
    if (!created) return;
    const user = await this.users.findOneByOrFail({ id: entityId as number });
    this.mailbox.sent.push(`${user.email} attempt ${attempt}`);
  }
}

async function boot(): Promise<TestingModule> {
  @Module({ providers: [{ provide: BOSS, useValue: boss }], exports: [BOSS] })
  class QueueModule {}
  @Module({
    imports: [
      TypeOrmModule.forRoot({ type: 'postgres', url: database.url, entities: exampleEntities, extra: { max: 4 } }),
      TypeOrmModule.forFeature([User]),
      SignalsModule.forRootAsync({
        imports: [QueueModule],
        inject: [BOSS],
        useFactory: (started: PgBoss) => ({ durable: { boss: started, worker: { pollInterval: 0.05 } } }),
      }),
    ],
    providers: [Mailbox, WelcomeMail],
  })
  class AppModule {}
  const app = await Test.createTestingModule({ imports: [AppModule] }).compile();
  app.useLogger(false);
  await app.init();
  return app;
}

/** Waits for the worker (an event, not a duration: the limit only ends a hung test). */
async function until(done: () => boolean): Promise<void> {
  for (let i = 0; i < 400 && !done(); i++) await new Promise((resolve) => setTimeout(resolve, 50));
}

test('the module binds the queue, runs the worker from boot to close, and the durable receiver runs once', async () => {
  const app = await boot();
  try {
    const users = app.get<Repository<User>>(getRepositoryToken(User));
    await users.save(users.create({ email: 'durable@example.com' }));
    const mailbox = app.get(Mailbox);
    await until(() => mailbox.sent.length > 0);
    expect(mailbox.sent).toEqual(['durable@example.com attempt 1']);
  } finally {
    await app.close();
  }
  const { rows } = await boss.getDb().executeSql(`SELECT state FROM pgboss.job WHERE name = 'typeorm-signals'`);
  expect(rows).toEqual([{ state: 'completed' }]);
  expect(postSave.receivers()).toEqual([]);
});
