/**
 * `npm run demo`: the Django tutorial's "a profile for every new user", end to end, and the
 * welcome mail as a durable receiver (its pg-boss job commits with the sign-up).
 *
 * Without DATABASE_URL it needs no server: the migrations run on an in-memory PGlite database,
 * and pg-boss runs on that same PGlite. With DATABASE_URL (postgres://...) it works in a fresh
 * schema on that server and drops the schema at the end, so it can be rerun and leaves nothing
 * behind. Either way the mail jobs are run by drainDurable() in this process, after the writes:
 * PGlite has a single connection, so no worker can claim jobs beside the application there
 * (`npm run demo:durable` shows a worker process on embedded PostgreSQL).
 */
import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import type { PgBoss } from 'pg-boss';
import { getPGliteInstance } from 'typeorm-pglite';
import { checkSignals, installSignals, postSave } from '../index';
import { drainDurable } from '../testing';
import { examplePgBossSchema } from '../../migrations/1732435200003-CreateDurableQueue';
import { createExampleDataSource } from './data-source';
import { User, UserProfile } from './entities';
import { connectExampleReceivers, connectWelcomeMail, type WelcomeMail } from './receivers';

/** The slice of `pg` used here (the package ships no types). */
interface PgClient {
  connect(): Promise<void>;
  query(sql: string): Promise<unknown>;
  end(): Promise<void>;
}

async function onServer(url: string, sql: string): Promise<void> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const pg = require('pg') as { Client: new (config: { connectionString: string }) => PgClient };
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

interface SentSignal {
  signal: string;
  sender: string;
  row: string;
  created: boolean | null;
}

/**
 * The application's own PgBoss on the example's database, started without touching the schema
 * (the migration made it): on PGlite through pg-boss's PGlite adapter, on the same instance.
 */
async function startBoss(url: string | null, dataSource: import('typeorm').DataSource): Promise<PgBoss> {
  // pg-boss is ESM-only; Node >= 20.19 loads it with require().
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const pgBoss = require('pg-boss') as typeof import('pg-boss');
  const common = { migrate: false, supervise: false, schedule: false, schema: examplePgBossSchema(dataSource) };
  const boss = url
    ? new pgBoss.PgBoss({ ...common, connectionString: url, max: 2 })
    : new pgBoss.PgBoss({ ...common, db: pgBoss.fromPglite(await getPGliteInstance()), backend: 'pglite' });
  boss.on('error', (error: Error) => console.error(`pg-boss: ${error.message}`));
  await boss.start();
  return boss;
}

function table(rows: Array<Record<string, unknown>>): string {
  if (rows.length === 0) return '  (none)';
  const columns = Object.keys(rows[0]);
  const cells = rows.map((row) => columns.map((c) => (row[c] === null || row[c] === undefined ? '-' : String(row[c]))));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((r) => r[i].length)));
  const line = (values: string[]) => '  ' + values.map((v, i) => v.padEnd(widths[i])).join('  ').trimEnd();
  return [line(columns), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}

async function main(): Promise<void> {
  const url = process.env.DATABASE_URL || null;
  const schema = url ? `signals_demo_${randomBytes(4).toString('hex')}` : undefined;
  if (url && schema) await onServer(url, `CREATE SCHEMA "${schema}"`);

  const dataSource = createExampleDataSource({ url, schema });
  const sent: SentSignal[] = [];
  const mails: WelcomeMail[] = [];
  let boss: PgBoss | undefined;
  const disconnectExample = connectExampleReceivers();
  const disconnectMail = connectWelcomeMail({ send: (mail) => void mails.push(mail) });
  // A small recording receiver: every postSave, whatever the sender, one call per row.
  const disconnectRecorder = postSave.connect(({ signal, sender, instance, created }) => {
    const row =
      sender === User
        ? `user ${(instance as Partial<User>).email ?? '?'}`
        : `profile of user ${(instance as Partial<UserProfile>).userId ?? '?'}`;
    sent.push({ signal: signal.name, sender: typeof sender === 'string' ? sender : sender.name, row, created });
  });

  try {
    await dataSource.initialize();
    const ran = await dataSource.runMigrations();
    const where = url ? `schema "${schema}" on DATABASE_URL's server` : 'an in-memory PGlite database';
    console.log(`Migrated ${where}: ${ran.map((m) => m.name).join(', ')}\n`);
    boss = await startBoss(url, dataSource);
    installSignals(dataSource, { durable: boss }); // the queue the welcome mail's jobs go to
    // Start-up check: no SignalsSubscriber (or two), or a receiver whose sender is not an entity here.
    const problems = checkSignals(dataSource);
    console.log(
      problems.length === 0
        ? 'checkSignals: no problems.\n'
        : `checkSignals found ${problems.length} problem(s):\n${problems.map((p) => `  [${p.code}] ${p.message}`).join('\n')}\n`,
    );

    const users = dataSource.getRepository(User);
    // Three sign-ups in one save(): one INSERT for the users, one for their profiles.
    const [, bob] = await users.save([
      users.create({ email: 'alice@example.com', name: 'Alice Example' }),
      users.create({ email: 'bob@example.com', name: 'Bob Example' }),
      users.create({ email: 'carol@example.com', name: null }),
    ]);
    // An update: postSave with created = false, so no profile is created.
    bob.name = 'Bob B. Example';
    await users.save(bob);

    const rows = await users.find({ relations: { profile: true }, order: { id: 'ASC' } });
    const profiles = await dataSource.getRepository(UserProfile).count();
    console.log('Users and their profiles:');
    console.log(
      table(
        rows.map((u) => ({
          id: u.id,
          email: u.email,
          name: u.name,
          'profile id': u.profile?.id ?? null,
          gender: u.profile?.gender ?? null,
        })),
      ),
    );
    console.log(`\n${rows.length} users, ${profiles} profiles.\n`);
    console.log('Signals sent:');
    console.log(table(sent.map((s) => ({ signal: s.signal, sender: s.sender, row: s.row, created: String(s.created) }))));
    console.log(
      '\ncreated: true for an insert, false for an update. The profiles are inserted with ON CONFLICT DO\n' +
        'NOTHING: PostgreSQL says which rows it inserted (MySQL, MariaDB and SQLite cannot: created null there).',
    );

    // The welcome mail is durable: each sign-up's transaction inserted its pg-boss job.
    const [{ queued, inserts }] = await dataSource.query(
      `SELECT count(*)::int AS queued, count(*) FILTER (WHERE data->>'created' = 'true')::int AS inserts
       FROM ${examplePgBossSchema(dataSource)}.job WHERE name = 'typeorm-signals' AND state = 'created'`,
    );
    console.log(
      `\nWelcome mails: ${queued} pg-boss jobs committed with the writes (${inserts} inserts, ${queued - inserts} update: the receiver\n` +
        `mails new users only), ${mails.length} mails sent so far.`,
    );
    const drained = await drainDurable(dataSource);
    console.log(
      `drainDurable() ran ${drained.ran} job(s) in this process (${drained.failed} failed) and sent:\n` +
        table([...mails].sort((a, b) => a.to.localeCompare(b.to)).map((m) => ({ to: m.to, subject: m.subject, 'idempotency key': m.idempotencyKey }))),
    );
    console.log(
      '\nA worker process runs them in an application: startSignalsWorker(dataSource, { boss }). ' +
        (url ? '' : 'PGlite has one\nconnection, so no worker can claim jobs beside the application here; ') +
        '`npm run demo:durable` kills a\nwriter right after COMMIT and shows a worker process sending its mail anyway.',
    );
  } finally {
    disconnectRecorder();
    disconnectMail();
    disconnectExample();
    await boss?.stop({ graceful: false, close: url !== null }); // on PGlite the DataSource owns the instance
    if (dataSource.isInitialized) {
      if (schema) await dataSource.query(`DROP SCHEMA "${schema}" CASCADE`);
      await dataSource.destroy();
    } else if (url && schema) {
      await onServer(url, `DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    }
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
