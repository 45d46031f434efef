/**
 * TypeORM's own CLI (docs/migrations.md), in a child process, on a test database: the
 * package.json scripts on ormconfig.ts, and a data migration. For the latter the -d file
 * (test/fixtures/cli-data-source.ts) lists SignalsSubscriber and connects the receivers, yet the
 * CLI calls setOptions({ subscribers: [] }) before initialize(): the migration's save sends no
 * signal, so no profile is made and the commit receiver never prints. (typeorm-1 project only:
 * the child process loads the real `typeorm` package; migrations-cli.test.ts makes the same
 * setOptions call in-process on both TypeORM lines.)
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { DataSource } from 'typeorm';
import { exampleMigrations } from '../../migrations';
import { exampleEntities, User } from '../../src/example/entities';
import { createTestDatabase, type TestDatabase } from '../helpers/database';

const root = path.resolve(__dirname, '../..');
const cli = (database: TestDatabase, ...args: string[]) =>
  promisify(execFile)(path.join(root, 'node_modules/.bin/typeorm-ts-node-commonjs'), args, {
    cwd: root,
    env: { ...process.env, DATABASE_URL: database.url, TS_NODE_TRANSPILE_ONLY: 'true' },
    timeout: 120_000,
  });

let database: TestDatabase;
beforeEach(async () => {
  database = await createTestDatabase();
});
afterEach(() => database?.drop());

async function appliedMigrations(): Promise<string[]> {
  const check = new DataSource({ type: 'postgres', url: database.url, entities: [], migrations: [] });
  await check.initialize();
  try {
    return (await check.query('SELECT name FROM migrations ORDER BY id')).map((m: { name: string }) => m.name);
  } finally {
    await check.destroy();
  }
}

test('npm run migration:run and migration:revert: the example\'s migrations through ormconfig.ts on DATABASE_URL', async () => {
  const scripts = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).scripts;
  expect([scripts['migration:run'], scripts['migration:revert']]).toEqual([
    'typeorm-ts-node-commonjs migration:run -d ormconfig.ts',
    'typeorm-ts-node-commonjs migration:revert -d ormconfig.ts',
  ]);
  await cli(database, 'migration:run', '-d', 'ormconfig.ts');
  const names = exampleMigrations.map((m) => m.name);
  expect(await appliedMigrations()).toEqual(names);
  await cli(database, 'migration:revert', '-d', 'ormconfig.ts');
  expect(await appliedMigrations()).toEqual(names.slice(0, -1));
});

test('migration:run through the CLI runs the data migration with no receiver: the admin has no profile, no mail is sent', async () => {
  const run = await cli(database, 'migration:run', '-d', 'test/fixtures/cli-data-source.ts');
  expect(run.stdout).toContain('Migration SeedAdmin1732435300000 has been executed successfully.');
  expect(run.stdout).toContain('CONNECTED ensureProfileExists, sendWelcomeEmail\n');
  expect(run.stdout).not.toContain('RECEIVER');

  const check = new DataSource({ type: 'postgres', url: database.url, entities: exampleEntities, migrations: [] });
  await check.initialize();
  try {
    const users = await check.getRepository(User).find({ relations: { profile: true } });
    expect(users.map((u) => [u.email, u.profile ? 'profile' : 'no profile'])).toEqual([['admin@example.com', 'no profile']]);
  } finally {
    await check.destroy();
  }
  expect(await appliedMigrations()).toEqual([...exampleMigrations.map((m) => m.name), 'SeedAdmin1732435300000']);
});
