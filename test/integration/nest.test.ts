/**
 * The NestJS example (src/example/nest/app.module.ts) booted in a Nest testing module on a test
 * database: @nestjs/typeorm creates and migrates the DataSource, SignalsModule installs the signals
 * on it, and a provider's @OnSignal method (with an injected dependency) runs for a save.
 * test/integration/nest-module.test.ts covers the module itself (two DataSources, bad declarations).
 */
import 'reflect-metadata';
import { Test, type TestingModule } from '@nestjs/testing';
import { getDataSourceToken, getRepositoryToken } from '@nestjs/typeorm';
import type { DataSource, Repository } from 'typeorm';
import { exampleMigrations } from '../../migrations';
import { SignalsSubscriber, postSave } from '../../src';
import { User, exampleEntities } from '../../src/example/entities';
import { AppModule, WelcomeMailer } from '../../src/example/nest/app.module';
import { createTestDatabase, type TestDatabase } from '../helpers/database';

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database?.drop();
});

async function boot(): Promise<TestingModule> {
  const moduleRef = await Test.createTestingModule({
    imports: [
      AppModule.forRoot({
        type: 'postgres',
        url: database.url,
        entities: exampleEntities,
        migrations: exampleMigrations,
        migrationsRun: true,
        extra: { max: 3 },
      }),
    ],
  }).compile();
  moduleRef.useLogger(false);
  await moduleRef.init(); // SignalsModule's onModuleInit: the signals are installed, the receivers connected
  return moduleRef;
}

test('an @OnSignal method of a provider runs for a save, after COMMIT, with its injected dependency', async () => {
  const app = await boot();
  try {
    const dataSource = app.get<DataSource>(getDataSourceToken());
    expect(dataSource.subscribers.filter((s) => s instanceof SignalsSubscriber)).toHaveLength(1);
    const users = app.get<Repository<User>>(getRepositoryToken(User));
    const mailer = app.get(WelcomeMailer);
    expect(postSave.receivers(User).map((r) => [r.receiver.name, r.phase])).toEqual([['UserSignals.welcome', 'commit']]);

    await users.save(users.create({ email: 'nest@example.com', name: 'Nest' }));
    expect(mailer.sent).toEqual(['nest@example.com']);

    // An update (created: false) mails nobody; a rolled-back sign-up neither.
    await users.update({ email: 'nest@example.com' }, { name: 'Nest JS' });
    await expect(
      dataSource.transaction(async (manager) => {
        await manager.save(User, { email: 'rolled-back@example.com' });
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    expect(mailer.sent).toEqual(['nest@example.com']);
  } finally {
    await app.close();
  }
});

test('closing the application disconnects the receivers; booting it again does not run them twice', async () => {
  const first = await boot();
  await first.close(); // SignalsModule's onModuleDestroy: disconnected, uninstalled
  expect(postSave.receivers(User)).toEqual([]);

  const app = await boot();
  try {
    expect(postSave.receivers(User)).toHaveLength(1);
    const users = app.get<Repository<User>>(getRepositoryToken(User));
    await users.save(users.create({ email: 'again@example.com' }));
    expect(app.get(WelcomeMailer).sent).toEqual(['again@example.com']);
    expect(first.get(WelcomeMailer).sent).toEqual([]);
  } finally {
    await app.close();
  }
  expect(postSave.receivers()).toEqual([]);
});
