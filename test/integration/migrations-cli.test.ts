/**
 * What receivers do during a data migration (docs/migrations.md), on the example application: a
 * migration that saves an admin user through `queryRunner.manager`, with the example's
 * ensureProfileExists (transaction phase: inserts the user's profile) and a commit-phase welcome
 * mail connected, as an application's start-up connects them.
 *
 * - At start-up with `migrationsRun: true` (or the application's own `runMigrations()`), the
 *   DataSource has SignalsSubscriber: the migration's writes send signals and receivers run.
 * - Through TypeORM's CLI (`migration:run`), which calls `setOptions({ subscribers: [] })` on the
 *   loaded DataSource before initialize(): no signal, no receiver. The CLI itself runs in
 *   migrations-cli-run.test.ts; here the same setOptions call is made in-process.
 * - withoutSignals() inside the migration, or around initialize()/runMigrations(), makes the
 *   start-up path do what the CLI does; outside its scope everything runs again.
 */
import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { DataSource, type MigrationInterface } from 'typeorm';
import { postSave, SignalsSubscriber, withoutSignals, type Disconnect, type SavePayload } from '../../src';
import { exampleMigrations } from '../../migrations';
import { User, exampleEntities } from '../../src/example/entities';
import { connectExampleReceivers } from '../../src/example/receivers';
import { SeedAdmin1732435300000 } from '../fixtures/seed-admin';
import { SeedAdminQuietly1732435300000 } from '../fixtures/seed-admin-quietly';
import { fencedBlocks, regions } from '../helpers/guide';
import { createTestDatabase, TEST_POOL_SIZE, type TestDatabase } from '../helpers/database';

const mails: string[] = [];
const offs: Disconnect[] = [];
function sendWelcomeMail({ instance, created }: SavePayload<User, 'commit'>) {
  if (created) mails.push(`welcome ${instance.email}`);
}
beforeAll(() => {
  offs.push(connectExampleReceivers());
  offs.push(postSave.connect(sendWelcomeMail, { sender: User, phase: 'commit' }));
});
afterAll(() => offs.forEach((off) => off()));

let database: TestDatabase | undefined;
let opened: DataSource | undefined;
beforeEach(async () => {
  mails.length = 0;
  database = await createTestDatabase();
});
afterEach(async () => {
  if (opened?.isInitialized) await opened.destroy();
  await database?.drop();
  opened = database = undefined;
});

/** The application's DataSource: SignalsSubscriber, the example's migrations plus the data migration. */
function appDataSource(seed: new () => MigrationInterface, options: { migrationsRun?: boolean } = {}): DataSource {
  opened = new DataSource({
    type: 'postgres',
    url: database!.url,
    entities: exampleEntities,
    migrations: [...exampleMigrations, seed],
    subscribers: [SignalsSubscriber],
    synchronize: false,
    migrationsRun: options.migrationsRun ?? false,
    extra: { max: TEST_POOL_SIZE },
  });
  return opened;
}

/** What the migration left: the users, who has a profile, and the mails the commit receiver sent. */
async function outcome(ds: DataSource) {
  const users = await ds.getRepository(User).find({ relations: { profile: true }, order: { id: 'ASC' } });
  return { users: users.map((u) => [u.email, u.profile ? 'profile' : 'no profile']), mails: [...mails] };
}

test('at start-up with migrationsRun: true, the data migration runs the receivers (profile in its transaction, mail after COMMIT)', async () => {
  const ds = appDataSource(SeedAdmin1732435300000, { migrationsRun: true });
  await ds.initialize();
  expect(await outcome(ds)).toEqual({ users: [['admin@example.com', 'profile']], mails: ['welcome admin@example.com'] });
});

test('the application\'s own runMigrations() is the same: the DataSource has SignalsSubscriber', async () => {
  const ds = appDataSource(SeedAdmin1732435300000);
  await ds.initialize();
  expect(await ds.runMigrations()).toHaveLength(exampleMigrations.length + 1);
  expect(await outcome(ds)).toEqual({ users: [['admin@example.com', 'profile']], mails: ['welcome admin@example.com'] });
});

test('as TypeORM\'s CLI loads it (setOptions({ subscribers: [] }) before initialize), no signal is sent: no profile, no mail', async () => {
  const ds = appDataSource(SeedAdmin1732435300000);
  // What typeorm's MigrationRunCommand does to the DataSource it loads from the -d file.
  ds.setOptions({ subscribers: [], synchronize: false, migrationsRun: false, dropSchema: false });
  await ds.initialize();
  expect(ds.subscribers.some((s) => s instanceof SignalsSubscriber)).toBe(false);
  await ds.runMigrations();
  expect(await outcome(ds)).toEqual({ users: [['admin@example.com', 'no profile']], mails: [] });
});

test('withoutSignals() inside the migration: start-up does what the CLI does', async () => {
  const ds = appDataSource(SeedAdminQuietly1732435300000, { migrationsRun: true });
  await ds.initialize();
  expect(await outcome(ds)).toEqual({ users: [['admin@example.com', 'no profile']], mails: [] });
});

test('withoutSignals() around initialize() with migrationsRun: every migration muted, and the application\'s writes after it are not', async () => {
  const dataSource = appDataSource(SeedAdmin1732435300000, { migrationsRun: true });
  // doc: mute-start-up
  await withoutSignals(() => dataSource.initialize()); // migrationsRun: true
  // end doc
  expect(await outcome(dataSource)).toEqual({ users: [['admin@example.com', 'no profile']], mails: [] });

  await dataSource.getRepository(User).save({ email: 'ada@example.com' });
  expect(await outcome(dataSource)).toEqual({
    users: [
      ['admin@example.com', 'no profile'],
      ['ada@example.com', 'profile'],
    ],
    mails: ['welcome ada@example.com'],
  });
});

test('withoutSignals(fn, { receivers }) around runMigrations() mutes only the receivers it names: the profile is made, no mail is sent', async () => {
  const dataSource = appDataSource(SeedAdmin1732435300000);
  await dataSource.initialize();
  // doc: mute-one-receiver
  await withoutSignals(() => dataSource.runMigrations(), { receivers: [sendWelcomeMail] });
  // end doc
  expect(await outcome(dataSource)).toEqual({ users: [['admin@example.com', 'profile']], mails: [] });
});

describe('docs/migrations.md', () => {
  const doc = readFileSync(path.join(__dirname, '../../docs/migrations.md'), 'utf8');
  const blocks = fencedBlocks(doc, 'docs/migrations.md');
  const code = new Map([
    ...regions(readFileSync(__filename, 'utf8')),
    ...regions(readFileSync(path.join(__dirname, '../fixtures/seed-admin-quietly.ts'), 'utf8')),
  ]);

  test('every ```ts block is a region of this test or of test/fixtures/seed-admin-quietly.ts (package import paths)', () => {
    const ts = blocks.filter((b) => b.lang === 'ts');
    expect(ts.length).toBeGreaterThan(0);
    for (const block of ts) {
      const name = block.marker?.startsWith('test: ') ? block.marker.slice('test: '.length) : `(unmarked block at line ${block.line})`;
      const region = code.get(name)?.replace(/'\.\.\/\.\.\/src'/g, "'typeorm-signals'").replace(/'\.\.\/\.\.\/src\/example\/entities'/g, "'./entities'");
      expect({ name, code: block.body }).toEqual({ name, code: region });
    }
  });

  test('every other fenced block is a shell command', () => {
    expect(blocks.filter((b) => b.lang !== 'ts' && b.lang !== 'sh').map((b) => `docs/migrations.md:${b.line}`)).toEqual([]);
  });
});
