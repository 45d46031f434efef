/**
 * typeorm-signals/nestjs on a real NestJS application (@nestjs/testing) with TWO DataSources
 * from @nestjs/typeorm ('default' and 'reports', each on its own PostgreSQL test database,
 * migrated by the example's migrations): SignalsModule installs the signals on both, connects the
 * @OnSignal methods of the providers with `this` bound, each to its own DataSource, and closing
 * the application disconnects them, so an application booted twice runs each receiver once.
 * Bad declarations (a request-scoped or transient provider, a connection name that does not
 * exist) fail the boot with a message naming the class and method, and connect nothing.
 */
import 'reflect-metadata';
import { Injectable, Module, Scope, type DynamicModule } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { InjectRepository, TypeOrmModule, getDataSourceToken, getRepositoryToken } from '@nestjs/typeorm';
import { DataSource, type Repository } from 'typeorm';
import { exampleMigrations } from '../../migrations';
import { SignalsSubscriber, postDelete, postSave, type BatchPayload, type SavePayload } from '../../src';
import { allModelSignals } from '../../src/typeorm/model-signal';
import { OnSignal, SignalsModule, type SignalsModuleOptions } from '../../src/nestjs';
import { User, exampleEntities } from '../../src/example/entities';
import { createTestDatabase, type TestDatabase } from '../helpers/database';

let main: TestDatabase;
let reports: TestDatabase;
beforeAll(async () => {
  [main, reports] = await Promise.all([createTestDatabase('nest_module_main'), createTestDatabase('nest_module_reports')]);
});
afterAll(async () => {
  await Promise.all([main?.drop(), reports?.drop()]);
});

/** What the receivers of one application saw, in order. */
@Injectable()
class Journal {
  readonly lines: string[] = [];
}

/** Receivers for the default DataSource, with an injected dependency reached through `this`. */
@Injectable()
class MainSignals {
  constructor(private readonly journal: Journal) {}

  @OnSignal(postSave, { sender: User, dataSource: 'default' })
  saved({ instance, created }: SavePayload<User, 'transaction'>): void {
    this.journal.lines.push(`main saved ${instance.email} created=${String(created)}`);
  }
}

/** Receivers for the 'reports' DataSource: after COMMIT, per row and as a batch. */
@Injectable()
class ReportSignals {
  constructor(private readonly journal: Journal) {}

  @OnSignal(postSave, { sender: User, phase: 'commit', dataSource: 'reports' })
  committed({ instance }: SavePayload<User, 'commit'>): void {
    this.journal.lines.push(`reports committed ${instance.email}`);
  }

  @OnSignal(postSave, { sender: User, phase: 'commit', batch: true, dataSource: 'reports' })
  batch({ items }: BatchPayload<SavePayload<User, 'commit'>, 'commit'>): void {
    this.journal.lines.push(`reports batch of ${items.length}`);
  }
}

/** No dataSource option: every DataSource; two decorators on one method. */
@Injectable()
class AuditSignals {
  constructor(private readonly journal: Journal) {}

  @OnSignal(postDelete, { sender: User })
  @OnSignal(postSave, { sender: User, phase: 'commit' })
  wrote({ signal, dataSource }: { signal: { name: string }; dataSource: DataSource }): void {
    this.journal.lines.push(`audit ${signal.name} on ${databaseOf(dataSource)}`);
  }
}

/** Which test database a DataSource is on: 'main' or 'reports'. */
function databaseOf(dataSource: DataSource | undefined): string {
  if (dataSource === undefined) return 'any';
  const url = (dataSource.options as { url?: string }).url;
  return url === main.url ? 'main' : url === reports.url ? 'reports' : 'other';
}

@Injectable()
class UsersService {
  constructor(
    @InjectRepository(User) readonly users: Repository<User>,
    @InjectRepository(User, 'reports') readonly reportUsers: Repository<User>,
  ) {}
}

@Module({
  imports: [TypeOrmModule.forFeature([User]), TypeOrmModule.forFeature([User], 'reports')],
  providers: [Journal, MainSignals, ReportSignals, AuditSignals, UsersService],
  exports: [Journal, UsersService],
})
class UsersModule {}

function database(url: string, name?: string) {
  return {
    ...(name === undefined ? {} : { name }),
    type: 'postgres' as const,
    url,
    entities: exampleEntities,
    migrations: exampleMigrations,
    migrationsRun: true,
    extra: { max: 3 },
  };
}

interface Extra {
  providers?: any[];
  imports?: any[];
}

function appModule(signals: DynamicModule, extra: Extra = {}): DynamicModule {
  @Module({})
  class AppModule {}
  return {
    module: AppModule,
    imports: [TypeOrmModule.forRoot(database(main.url)), TypeOrmModule.forRoot(database(reports.url, 'reports')), UsersModule, signals, ...(extra.imports ?? [])],
    providers: extra.providers ?? [],
  };
}

async function boot(signals: DynamicModule = SignalsModule.forRoot({ dataSources: ['default', 'reports'] }), extra?: Extra): Promise<TestingModule> {
  const moduleRef = await Test.createTestingModule({ imports: [appModule(signals, extra)] }).compile();
  moduleRef.useLogger(false);
  try {
    await moduleRef.init();
  } catch (error) {
    await moduleRef.close();
    throw error;
  }
  return moduleRef;
}

function connectedReceivers(): string[] {
  return allModelSignals.flatMap((s) => s.receivers().map((r) => `${s.name} ${r.receiver.name}`));
}

afterEach(async () => {
  // Every test leaves the process without receivers; the tables are emptied for the next one.
  expect(connectedReceivers()).toEqual([]);
  for (const url of [main.url, reports.url]) {
    const ds = new DataSource({ type: 'postgres', url, extra: { max: 1 } });
    await ds.initialize();
    try {
      if ((await ds.query(`SELECT to_regclass('users') AS t`))[0].t) await ds.query('TRUNCATE "users", "user_profiles" RESTART IDENTITY CASCADE');
    } finally {
      await ds.destroy();
    }
  }
});

async function writeOnBoth(app: TestingModule, tag: string): Promise<void> {
  const { users, reportUsers } = app.get(UsersService);
  await users.save(users.create({ email: `${tag}-main@example.com` }));
  await reportUsers.manager.transaction((manager) => manager.save(User, [{ email: `${tag}-r1@example.com` }, { email: `${tag}-r2@example.com` }]));
  await users.delete({ email: `${tag}-main@example.com` });
}

const expectedLines = (tag: string) => [
  `main saved ${tag}-main@example.com created=true`,
  'audit postSave on main',
  // After the reports COMMIT: the per-row commit receivers row by row, in connection order, then the batch.
  `reports committed ${tag}-r1@example.com`,
  'audit postSave on reports',
  `reports committed ${tag}-r2@example.com`,
  'audit postSave on reports',
  'reports batch of 2',
  'audit postDelete on main',
];

test('two DataSources, booted twice: each receiver runs once per write, only for its own DataSource, with `this` bound', async () => {
  const first = await boot();
  let firstJournal: Journal;
  try {
    // The signals are installed on both DataSources, once each.
    for (const name of ['default', 'reports']) {
      const ds = first.get<DataSource>(getDataSourceToken(name));
      expect(ds.subscribers.filter((s) => s instanceof SignalsSubscriber)).toHaveLength(1);
    }
    expect(postSave.receivers(User).map((r) => [r.receiver.name, r.phase, r.batch, databaseOf(r.dataSource)])).toEqual([
      ['MainSignals.saved', 'transaction', false, 'main'],
      ['ReportSignals.committed', 'commit', false, 'reports'],
      ['ReportSignals.batch', 'commit', true, 'reports'],
      ['AuditSignals.wrote', 'commit', false, 'any'], // no dataSource option: every DataSource
    ]);
    // connectedAt is the decorator's line in this file, not the module's code.
    expect(postSave.receivers(User)[0].connectedAt).toMatch(/nest-module\.test\.ts:\d+$/);

    await writeOnBoth(first, 'one');
    firstJournal = first.get(Journal);
    expect(firstJournal.lines).toEqual(expectedLines('one'));
  } finally {
    await first.close();
  }
  expect(connectedReceivers()).toEqual([]);

  const second = await boot();
  try {
    await writeOnBoth(second, 'two');
    expect(second.get(Journal).lines).toEqual(expectedLines('two'));
    expect(second.get(Journal)).not.toBe(firstJournal);
    expect(firstJournal.lines).toEqual(expectedLines('one')); // the first application's receivers did not run again
  } finally {
    await second.close();
  }
});

test('after app.close() a write runs nothing: the receivers were disconnected', async () => {
  const app = await boot();
  const journal = app.get(Journal);
  const before = app.get<DataSource>(getDataSourceToken());
  await app.close();
  expect(connectedReceivers()).toEqual([]);
  expect(before.isInitialized).toBe(false);

  // A DataSource with the subscriber, on the same database: AuditSignals (every DataSource) would run here if still connected.
  const after = new DataSource({ ...database(main.url), migrationsRun: false, subscribers: [SignalsSubscriber] });
  await after.initialize();
  try {
    await after.getRepository(User).save({ email: 'after-close@example.com' });
    await after.getRepository(User).delete({ email: 'after-close@example.com' });
  } finally {
    await after.destroy();
  }
  expect(journal.lines).toEqual([]);
});

test('forRootAsync: the options come from a factory with injected providers', async () => {
  @Injectable()
  class SignalsConfig {
    readonly dataSources = ['reports', 'default'];
  }
  @Module({ providers: [SignalsConfig], exports: [SignalsConfig] })
  class ConfigModule {}
  const app = await boot(
    SignalsModule.forRootAsync({
      imports: [ConfigModule],
      inject: [SignalsConfig],
      useFactory: async (config: SignalsConfig): Promise<SignalsModuleOptions> => ({ dataSources: config.dataSources }),
    }),
  );
  try {
    await writeOnBoth(app, 'async');
    expect(app.get(Journal).lines).toEqual(expectedLines('async'));
  } finally {
    await app.close();
  }
});

test('dataSources and a receiver\'s dataSource may be DataSource objects; close() uninstalls the signals from them', async () => {
  const outside = new DataSource({ ...database(main.url), migrationsRun: false });
  await outside.initialize();
  try {
    @Injectable()
    class OutsideSignals {
      constructor(private readonly journal: Journal) {}
      @OnSignal(postSave, { sender: User, dataSource: outside })
      saved({ instance }: SavePayload<User, 'transaction'>): void {
        this.journal.lines.push(`outside saved ${instance.email}`);
      }
    }
    const app = await boot(SignalsModule.forRoot({ dataSources: ['default', 'reports', outside] }), { providers: [OutsideSignals] });
    try {
      expect(outside.subscribers.filter((s) => s instanceof SignalsSubscriber)).toHaveLength(1);
      await outside.getRepository(User).save({ email: 'outside@example.com' });
      // MainSignals is limited to the 'default' DataSource, another object on the same database.
      expect(app.get(Journal).lines).toEqual(['outside saved outside@example.com', 'audit postSave on main']);
    } finally {
      await app.close();
    }
    expect(outside.isInitialized).toBe(true); // not the module's to destroy
    expect(outside.subscribers.filter((s) => s instanceof SignalsSubscriber)).toHaveLength(0);
  } finally {
    await outside.destroy();
  }
});

describe('a bad declaration fails the boot, names the class and method, and connects nothing', () => {
  test('a request-scoped provider', async () => {
    @Injectable({ scope: Scope.REQUEST })
    class PerRequestSignals {
      @OnSignal(postSave, { sender: User })
      saved(): void {}
    }
    await expect(boot(undefined, { providers: [PerRequestSignals] })).rejects.toThrow(
      /^@OnSignal\(postSave\) on PerRequestSignals\.saved: PerRequestSignals is request-scoped \(Scope\.REQUEST, or it depends on a request-scoped provider\)/,
    );
  });

  test('a provider that depends on a request-scoped one', async () => {
    @Injectable({ scope: Scope.REQUEST })
    class RequestContext {}
    @Injectable()
    class ContextSignals {
      constructor(readonly context: RequestContext) {}
      @OnSignal(postDelete, { sender: User })
      deleted(): void {}
    }
    await expect(boot(undefined, { providers: [RequestContext, ContextSignals] })).rejects.toThrow(
      /^@OnSignal\(postDelete\) on ContextSignals\.deleted: ContextSignals is request-scoped/,
    );
  });

  test('a transient provider', async () => {
    @Injectable({ scope: Scope.TRANSIENT })
    class TransientSignals {
      @OnSignal(postSave)
      saved(): void {}
    }
    await expect(boot(undefined, { providers: [TransientSignals] })).rejects.toThrow(
      /^@OnSignal\(postSave\) on TransientSignals\.saved: TransientSignals is transient \(Scope\.TRANSIENT\)/,
    );
  });

  test('a connection name that no TypeOrmModule registered', async () => {
    @Injectable()
    class TypoSignals {
      @OnSignal(postSave, { sender: User, dataSource: 'reprots' })
      saved(): void {}
    }
    await expect(boot(undefined, { providers: [TypoSignals] })).rejects.toThrow(
      '@OnSignal(postSave) on TypoSignals.saved: "dataSource" names the connection "reprots", but the application has no such DataSource',
    );
  });

  test('a DataSource the module did not install the signals on', async () => {
    @Injectable()
    class ReportsOnly {
      @OnSignal(postSave, { sender: User, dataSource: 'reports' })
      saved(): void {}
    }
    await expect(boot(SignalsModule.forRoot(), { providers: [ReportsOnly] })).rejects.toThrow(
      `@OnSignal(postSave) on ReportsOnly.saved: option "dataSource" is "reports", which has no signals: add it to SignalsModule's "dataSources" (now "default")`,
    );
  });

  test('an option connect() refuses (the Signal\'s own message, prefixed)', async () => {
    @Injectable()
    class BadPhase {
      @OnSignal(postSave, { sender: User, phase: 'later' as 'commit' })
      saved(): void {}
    }
    await expect(boot(undefined, { providers: [BadPhase] })).rejects.toThrow(/^@OnSignal\(postSave\) on BadPhase\.saved: Signal "postSave": option "phase" must be/);
  });

  test('a dispatchUid another running application holds', async () => {
    @Injectable()
    class Unique {
      @OnSignal(postSave, { sender: User, dispatchUid: 'nest-module-unique' })
      saved(): void {}
    }
    const first = await boot(undefined, { providers: [Unique] });
    try {
      await expect(boot(undefined, { providers: [Unique] })).rejects.toThrow(
        '@OnSignal(postSave) on Unique.saved: dispatchUid "nest-module-unique" is already connected to postSave',
      );
      // The failed boot took nothing of the first application's.
      expect(postSave.receivers(User).map((r) => r.receiver.name)).toContain('Unique.saved');
    } finally {
      await first.close();
    }
  });

  test('SignalsModule imported twice in one application', async () => {
    @Module({ imports: [SignalsModule.forRoot({ dataSources: ['reports'] })] })
    class ReportsFeature {}
    await expect(boot(undefined, { imports: [ReportsFeature] })).rejects.toThrow(/^SignalsModule is imported twice in this application/);
  });

  test('module options with an unknown key or an undefined value', () => {
    expect(() => SignalsModule.forRoot({ dataSource: ['default'] } as never)).toThrow('SignalsModule: unknown option "dataSource" (known: dataSources, durable)');
    expect(() => SignalsModule.forRoot({ dataSources: [undefined as never] })).toThrow(
      /SignalsModule: "dataSources"\[0\] must be a @nestjs\/typeorm connection name or a TypeORM DataSource, got undefined/,
    );
    expect(() => SignalsModule.forRoot({ dataSources: [] })).toThrow(/"dataSources" must be a non-empty list/);
  });
});

test('@OnSignal refuses what it can tell at once: no signal, and weak', () => {
  expect(() => OnSignal(undefined as never)).toThrow(/^@OnSignal\(\): the first argument is not a Signal \(got undefined\); .*circular import/);
  expect(() => OnSignal(postSave, { weak: true } as never)).toThrow(/^@OnSignal\(postSave\): option "weak" is not for provider methods/);
});

test('the repository token of the default DataSource is the one the receivers see', async () => {
  const app = await boot();
  try {
    const users = app.get<Repository<User>>(getRepositoryToken(User));
    await users.save(users.create({ email: 'token@example.com' }));
    expect(app.get(Journal).lines).toEqual(['main saved token@example.com created=true', 'audit postSave on main']);
  } finally {
    await app.close();
  }
});
