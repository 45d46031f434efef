/**
 * The example on PGlite, the database `npm run demo` and `npm run migration:run` use when no
 * server is configured. PGlite cannot load inside jest's module sandbox (its CommonJS build
 * uses a dynamic import()), so each case runs in a child process.
 */
import path from 'node:path';
import { lastJson, runTypeScript } from '../helpers/run-script';

interface ScenarioResult {
  migrations: string[];
  drift: string[];
  user: { id: number; email: string; name: string | null };
  profile: { userId: number; gender: string; nickname: string | null } | null;
  users: number;
  profiles: number;
  sent: Array<{ sender: string; created: boolean | null; source: string }>;
  failure: string | undefined;
}

const withoutServer = { DATABASE_URL: undefined };
jest.setTimeout(90_000);

test('migrations, one sign-up and one update: one profile, signals with created true then false', async () => {
  const run = await runTypeScript(path.join(__dirname, '../helpers/pglite-scenario.ts'), withoutServer);
  expect(run.stderr).not.toMatch(/Error/);
  expect(run.code).toBe(0);
  const result = lastJson<ScenarioResult>(run.stdout);

  expect(result.migrations).toEqual(['CreateUsers1732435200000', 'CreateUserProfiles1732435200001', 'BackfillUserProfiles1732435200002', 'CreateDurableQueue1732435200003', 'EnableDurableNotify1732435200004']);
  expect(result.drift).toEqual([]);
  expect(result.user).toEqual({ id: 1, email: 'pglite@example.com', name: 'PG Lite' });
  expect(result.profile).toEqual({ userId: 1, gender: 'M', nickname: null });
  expect(result.sent).toEqual([
    { sender: 'User', created: true, source: 'save' },
    // the receiver's INSERT ... ON CONFLICT DO NOTHING: PGlite's RETURNING says it inserted the row
    { sender: 'UserProfile', created: true, source: 'insert' },
    { sender: 'User', created: false, source: 'save' },
    // the failing sign-up: sent, then the failing receiver (per-row receivers run before batch
    // ones, so ensureProfileExists never ran) rolled it back
    { sender: 'User', created: true, source: 'save' },
  ]);
  expect(result.failure).toBe('receiver failed');
  expect({ users: result.users, profiles: result.profiles }).toEqual({ users: 1, profiles: 1 });
});

test('npm run demo works without a database server, the durable welcome mail included', async () => {
  const run = await runTypeScript('src/example/demo.ts', withoutServer);
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  expect(run.stdout).toMatch(/in-memory PGlite/);
  expect(run.stdout).toMatch(/3 users, 3 profiles\./);
  expect(run.stdout).toMatch(/postSave\s+UserProfile\s+profile of user 1\s+true/);
  for (const email of ['alice@example.com', 'bob@example.com', 'carol@example.com']) expect(run.stdout).toContain(email);
  // the durable welcome mail on PGlite: pg-boss on the same instance, jobs run by drainDurable
  expect(run.stdout).toContain('Welcome mails: 4 pg-boss jobs committed with the writes (3 inserts, 1 update');
  expect(run.stdout).toContain('drainDurable() ran 4 job(s) in this process (0 failed) and sent:');
  expect(run.stdout).toMatch(/carol@example\.com\s+Welcome!\s+[0-9a-f-]{36}\n/);
  expect(run.stdout).toContain('PGlite has one\nconnection, so no worker can claim jobs beside the application here');
  // No timing assertion: the demo takes ~6 s alone (PGlite compiles its WebAssembly at start),
  // and twice that while other jest workers share the CPU.
});
