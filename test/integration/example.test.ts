/**
 * The example (src/example/, migrations/) on a real PostgreSQL: the migrations build the schema,
 * and ensureProfileExists gives every inserted user exactly one profile, with one INSERT per write.
 */
import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { postSave, type SavePayload } from '../../src';
import {
  BackfillUserProfiles1732435200002,
  CreateDurableQueue1732435200003,
  CreateUserProfiles1732435200001,
  CreateUsers1732435200000,
  EnableDurableNotify1732435200004,
  exampleMigrations,
} from '../../migrations';
import { exampleConfig } from '../../src/example/data-source';
import { User, UserProfile, exampleEntities } from '../../src/example/entities';
import { ENSURE_PROFILE_UID, connectExampleReceivers, ensureProfileExists } from '../../src/example/receivers';
import { openTestDataSource, type TestDataSource } from '../helpers/database';
import { QueryRecorder } from '../helpers/query-log';

const queries = new QueryRecorder();
let db: TestDataSource;
let ds: DataSource;
let disconnectExample: (() => boolean) | undefined;

beforeAll(async () => {
  db = await openTestDataSource({ ...exampleConfig, logger: queries });
  ds = db.dataSource;
  disconnectExample = connectExampleReceivers();
});
afterAll(async () => {
  disconnectExample?.();
  await db?.cleanup();
});
afterEach(async () => {
  queries.stop();
  await ds.query('TRUNCATE "users", "user_profiles" RESTART IDENTITY CASCADE');
});

const users = () => ds.getRepository(User);
const profiles = () => ds.getRepository(UserProfile);
const profileInserts = () => queries.matching(/^\s*INSERT INTO "user_profiles"/i);
/** How many rows a recorded multi-row INSERT carries: one "($n" per VALUES tuple. */
const tuples = (sql: string) => (sql.match(/\(\$\d+/g) ?? []).length;

async function profileUserIds(): Promise<number[]> {
  return (await profiles().find({ order: { userId: 'ASC' } })).map((p) => p.userId);
}

function newUsers(n: number, prefix = 'user'): User[] {
  return Array.from({ length: n }, (_, i) => users().create({ email: `${prefix}${i + 1}@example.com`, name: `User ${i + 1}` }));
}

describe('migrations', () => {
  test('create both tables with their constraints', async () => {
    const constraints: Array<{ table: string; name: string; type: string; def: string }> = await ds.query(`
      SELECT c.conrelid::regclass::text AS "table", c.conname AS name, c.contype AS type, pg_get_constraintdef(c.oid) AS def
      FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
      WHERE n.nspname = current_schema() AND c.conrelid::regclass::text IN ('users', 'user_profiles')
        AND c.contype <> 'n' -- PostgreSQL 18 lists NOT NULL as constraints too; columns are checked below
      ORDER BY 1, 2`);
    expect(constraints).toEqual([
      { table: 'user_profiles', name: 'user_profiles_gender_check', type: 'c', def: expect.stringMatching(/gender.*'M'.*'F'.*'P'/) },
      { table: 'user_profiles', name: 'user_profiles_pkey', type: 'p', def: 'PRIMARY KEY (id)' },
      {
        table: 'user_profiles',
        name: 'user_profiles_user_id_fkey',
        type: 'f',
        def: 'FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE',
      },
      { table: 'user_profiles', name: 'user_profiles_user_id_key', type: 'u', def: 'UNIQUE (user_id)' },
      { table: 'users', name: 'users_email_key', type: 'u', def: 'UNIQUE (email)' },
      { table: 'users', name: 'users_pkey', type: 'p', def: 'PRIMARY KEY (id)' },
    ]);
    const columns: Array<{ table_name: string; column_name: string; data_type: string; max: number | null; is_nullable: string }> =
      await ds.query(`
        SELECT table_name, column_name, data_type, character_maximum_length AS max, is_nullable
        FROM information_schema.columns
        WHERE table_schema = current_schema() AND table_name IN ('users', 'user_profiles')
        ORDER BY table_name, ordinal_position`);
    expect(columns.map((c) => `${c.table_name}.${c.column_name} ${c.data_type}${c.max ? `(${c.max})` : ''} ${c.is_nullable === 'YES' ? 'null' : 'not null'}`)).toEqual([
      'user_profiles.id integer not null',
      'user_profiles.user_id integer not null',
      'user_profiles.nickname character varying(64) null',
      'user_profiles.dob date null',
      'user_profiles.gender character varying(1) not null',
      'user_profiles.bio character varying(1024) null',
      'users.id integer not null',
      'users.email character varying(254) not null',
      'users.name character varying(128) null',
      'users.created_at timestamp without time zone not null',
    ]);
  });

  test('match the entities: schema sync would change nothing', async () => {
    const { upQueries } = await ds.driver.createSchemaBuilder().log();
    expect(upQueries.map((q) => q.query)).toEqual([]);
  });

  test('the constraints hold: gender choices, lengths, one profile per user, cascade delete', async () => {
    const [user] = await ds.query(`INSERT INTO "users" ("email") VALUES ('raw@example.com') RETURNING "id"`);
    // the receiver did not run (raw SQL sends no signal): insert the profile by hand
    await ds.query(`INSERT INTO "user_profiles" ("user_id") VALUES ($1)`, [user.id]);
    const profile = await profiles().findOneByOrFail({ userId: user.id });
    expect(profile).toMatchObject({ gender: 'M', nickname: null, dob: null, bio: null });

    await expect(profiles().update(profile.id, { gender: 'X' as never })).rejects.toThrow(/user_profiles_gender_check/);
    await expect(profiles().update(profile.id, { nickname: 'n'.repeat(65) })).rejects.toThrow(/too long/);
    await expect(profiles().update(profile.id, { bio: 'b'.repeat(1025) })).rejects.toThrow(/too long/);
    await profiles().update(profile.id, { nickname: 'n'.repeat(64), bio: 'b'.repeat(1024), gender: 'P', dob: '1990-01-31' });
    await expect(ds.query(`INSERT INTO "user_profiles" ("user_id") VALUES ($1)`, [user.id])).rejects.toThrow(/user_profiles_user_id_key/);
    await expect(ds.query(`INSERT INTO "user_profiles" ("user_id") VALUES (999999)`)).rejects.toThrow(/user_profiles_user_id_fkey/);
    await expect(ds.query(`INSERT INTO "users" ("email") VALUES ('raw@example.com')`)).rejects.toThrow(/users_email_key/);
    await expect(ds.query(`INSERT INTO "users" ("email") VALUES ($1)`, ['e'.repeat(255)])).rejects.toThrow(/too long/);

    await users().delete(user.id);
    expect(await profiles().count()).toBe(0);
  });

  test('revert cleanly, one at a time, and apply again', async () => {
    const other = await openTestDataSource({ entities: exampleEntities, migrations: exampleMigrations });
    try {
      const tables = async () =>
        (
          await other.dataSource.query(
            `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() ORDER BY 1`,
          )
        ).map((r: { table_name: string }) => r.table_name);
      const pgBossSchema = async () =>
        (await other.dataSource.query(`SELECT count(*)::int AS n FROM pg_namespace WHERE nspname = 'pgboss'`))[0].n;
      expect(await tables()).toEqual(['migrations', 'user_profiles', 'users']);
      expect(await pgBossSchema()).toBe(1);
      const notify = async () => (await other.dataSource.query(`SELECT notify FROM pgboss.queue WHERE name = 'typeorm-signals'`))[0].notify;
      expect(await notify()).toBe(true);
      await other.dataSource.undoLastMigration(); // the queue's notify
      expect(await notify()).toBe(false);
      await other.dataSource.undoLastMigration(); // pg-boss's schema and the durable queues
      expect(await pgBossSchema()).toBe(0);
      expect(await tables()).toEqual(['migrations', 'user_profiles', 'users']);
      await other.dataSource.undoLastMigration(); // the backfill: a no-op
      expect(await tables()).toEqual(['migrations', 'user_profiles', 'users']);
      await other.dataSource.undoLastMigration();
      expect(await tables()).toEqual(['migrations', 'users']);
      await other.dataSource.undoLastMigration();
      expect(await tables()).toEqual(['migrations']);
      expect(await other.dataSource.query(`SELECT * FROM "migrations"`)).toEqual([]);
      const again = await other.dataSource.runMigrations();
      expect(again.map((m) => m.name)).toEqual(exampleMigrations.map((m) => m.name));
    } finally {
      await other.cleanup();
    }
  });

  test('the backfill gives a profile to every user inserted before it ran, and keeps existing ones', async () => {
    const other = await openTestDataSource({
      entities: exampleEntities,
      migrations: [CreateUsers1732435200000, CreateUserProfiles1732435200001],
    });
    try {
      const q = other.dataSource;
      await q.query(`INSERT INTO "users" ("email") SELECT 'old' || i || '@example.com' FROM generate_series(1, 5) i`);
      await q.query(`INSERT INTO "user_profiles" ("user_id", "nickname") VALUES (2, 'kept')`);

      // A later deploy: a DataSource that knows all the migrations runs only the pending one.
      const later = new DataSource({ ...q.options, migrations: exampleMigrations } as typeof q.options);
      await later.initialize();
      try {
        const ran = await later.runMigrations();
        expect(ran.map((m) => m.name)).toEqual([BackfillUserProfiles1732435200002.name, CreateDurableQueue1732435200003.name, EnableDurableNotify1732435200004.name]);
      } finally {
        await later.destroy();
      }
      const rows = await q.query(`SELECT "user_id", "nickname" FROM "user_profiles" ORDER BY "user_id"`);
      expect(rows).toEqual([
        { user_id: 1, nickname: null },
        { user_id: 2, nickname: 'kept' },
        { user_id: 3, nickname: null },
        { user_id: 4, nickname: null },
        { user_id: 5, nickname: null },
      ]);
    } finally {
      await other.cleanup();
    }
  });

  test('EnableDurableNotify turns notify on for the queue an earlier deploy created without it, and keeps its jobs', async () => {
    const other = await openTestDataSource({ entities: exampleEntities, migrations: exampleMigrations.slice(0, 4) });
    try {
      const q = other.dataSource;
      const queue = async () => (await q.query(`SELECT notify, dead_letter FROM pgboss.queue WHERE name = 'typeorm-signals'`))[0];
      expect(await queue()).toEqual({ notify: false, dead_letter: 'typeorm-signals.dead-letter' });
      await q.query(`INSERT INTO pgboss.job (name, data, policy) VALUES ('typeorm-signals', '{"v":1}', 'standard')`);

      const later = new DataSource({ ...q.options, migrations: exampleMigrations } as typeof q.options);
      await later.initialize();
      try {
        const ran = await later.runMigrations();
        expect(ran.map((m) => m.name)).toEqual([EnableDurableNotify1732435200004.name]);
      } finally {
        await later.destroy();
      }
      expect(await queue()).toEqual({ notify: true, dead_letter: 'typeorm-signals.dead-letter' });
      expect(await q.query(`SELECT data FROM pgboss.job WHERE name = 'typeorm-signals'`)).toEqual([{ data: { v: 1 } }]);
    } finally {
      await other.cleanup();
    }
  });
});

describe('ensureProfileExists', () => {
  test('connectExampleReceivers connects one transaction-phase batch receiver, once', () => {
    connectExampleReceivers();
    const mine = postSave.receivers(User).filter((r) => r.dispatchUid === ENSURE_PROFILE_UID);
    expect(mine).toEqual([expect.objectContaining({ receiver: ensureProfileExists, sender: User, batch: true, phase: 'transaction' })]);
  });

  test('save(new user): exactly one profile, reachable as user.profile', async () => {
    queries.start();
    const saved = await users().save(users().create({ email: 'alice@example.com', name: 'Alice' }));
    expect(profileInserts()).toHaveLength(1);
    expect(profileInserts()[0]).toMatch(/ON CONFLICT DO NOTHING/);

    const loaded = await users().findOneOrFail({ where: { id: saved.id }, relations: { profile: true } });
    expect(loaded.profile).toMatchObject({ userId: saved.id, gender: 'M', nickname: null, dob: null, bio: null });
    expect(await profileUserIds()).toEqual([saved.id]);
  });

  test('save([50 users]): 50 profiles from one INSERT, inside the same transaction', async () => {
    queries.start();
    const saved = await users().save(newUsers(50));
    const log = queries.stop();
    const inserts = profileInserts();
    expect(inserts).toHaveLength(1);
    expect(tuples(inserts[0])).toBe(50);
    // the profiles are written between the users' INSERT and the COMMIT of save()'s transaction
    const start = log.findIndex((q) => /^START TRANSACTION/i.test(q));
    const usersInsert = log.findIndex((q) => /^\s*INSERT INTO "users"/i.test(q));
    const profilesInsert = log.indexOf(inserts[0]);
    const commit = log.findIndex((q, i) => i > profilesInsert && /^COMMIT/i.test(q));
    expect(start).toBeGreaterThanOrEqual(0);
    expect(start < usersInsert && usersInsert < profilesInsert && profilesInsert < commit).toBe(true);
    expect(log.filter((q) => /^\s*INSERT INTO "users"/i.test(q))).toHaveLength(1);

    expect(await profileUserIds()).toEqual(saved.map((u) => u.id).sort((a, b) => a - b));
  });

  test('insert(): one profile per inserted row, one INSERT per statement', async () => {
    queries.start();
    await users().insert({ email: 'one@example.com' });
    await users().insert([{ email: 'two@example.com' }, { email: 'three@example.com' }, { email: 'four@example.com' }]);
    const inserts = profileInserts();
    expect(inserts.map(tuples)).toEqual([1, 3]);
    const ids = (await users().find({ order: { id: 'ASC' } })).map((u) => u.id);
    expect(ids).toHaveLength(4);
    expect(await profileUserIds()).toEqual(ids);
  });

  test('query builder insert and manager.save in a transaction: profiles commit with their users', async () => {
    await ds.createQueryBuilder().insert().into(User).values([{ email: 'qb1@example.com' }, { email: 'qb2@example.com' }]).execute();
    await ds.transaction(async (manager) => {
      await manager.save(User, manager.create(User, { email: 'tx@example.com' }));
      // visible inside the transaction already
      expect(await manager.count(UserProfile)).toBe(3);
    });
    expect(await profiles().count()).toBe(3);
    expect(await users().count()).toBe(3);
  });

  test('updates create no profile: save(existing), update(), and an upsert that updates (created false)', async () => {
    const seen: Array<boolean | null> = [];
    using _seen = postSave.connect(({ created }) => void seen.push(created), { sender: User });
    // users that have no profile: inserted with raw SQL, which sends no signal
    await ds.query(`INSERT INTO "users" ("email") VALUES ('a@example.com'), ('b@example.com')`);
    queries.start();

    const a = await users().findOneByOrFail({ email: 'a@example.com' });
    a.name = 'Renamed';
    await users().save(a);
    await users().update({ email: 'b@example.com' }, { name: 'Also renamed' });
    await users().upsert({ email: 'b@example.com', name: 'Upserted' }, ['email']);

    expect(seen).toEqual([false, false, false]);
    expect(profileInserts()).toEqual([]);
    expect(await profiles().count()).toBe(0);
    expect(await users().count()).toBe(2);
  });

  test('an upsert that inserts (created true on PostgreSQL) gets its profile; the one that updates does not', async () => {
    await ds.query(`INSERT INTO "users" ("email") VALUES ('a@example.com')`);
    await users().upsert(
      [
        { email: 'a@example.com', name: 'Existing' },
        { email: 'new@example.com', name: 'New' },
      ],
      ['email'],
    );
    const withProfile = await ds.query(`SELECT u.email FROM users u JOIN user_profiles p ON p.user_id = u.id ORDER BY u.email`);
    expect(withProfile.map((r: { email: string }) => r.email)).toEqual(['new@example.com']);
  });

  test('idempotent: a user whose profile already exists keeps it, no duplicate and no error', async () => {
    // a receiver that runs first (per-row receivers run before batch ones) and creates the profile itself
    using _earlyBird = postSave.connect(
      async ({ instance, created, manager }) => {
        if (created) await manager.insert(UserProfile, { userId: instance.id, nickname: 'early bird' });
      },
      { sender: User },
    );
    queries.start();
    const [first, second] = await users().save(newUsers(2));
    expect(profileInserts().map(tuples)).toEqual([1, 1, 2]); // two by hand, then ensureProfileExists' one
    const rows = await profiles().find({ order: { userId: 'ASC' } });
    expect(rows.map((p) => [p.userId, p.nickname])).toEqual([
      [first.id, 'early bird'],
      [second.id, 'early bird'],
    ]);

    // and called again for the same users (e.g. a redelivered batch): still nothing to do
    await ensureProfileExists({
      items: [{ created: true, instance: first } as SavePayload<User, 'transaction'>],
      manager: ds.manager,
    });
    expect(await profiles().count()).toBe(2);
  });

  test('a failing receiver rolls the save back: no user, no profile', async () => {
    using _failing = postSave.connect(
      () => {
        throw new Error('welcome mail failed');
      },
      { sender: User },
    );
    await expect(users().save(users().create({ email: 'doomed@example.com' }))).rejects.toThrow('welcome mail failed');
    await expect(users().save(newUsers(3, 'doomed'))).rejects.toThrow('welcome mail failed');
    expect(await users().count()).toBe(0);
    expect(await profiles().count()).toBe(0);
  });

  test('a rolled-back transaction takes the profiles with it', async () => {
    await expect(
      ds.transaction(async (manager) => {
        await manager.save(User, newUsers(2));
        expect(await manager.count(UserProfile)).toBe(2);
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    expect(await users().count()).toBe(0);
    expect(await profiles().count()).toBe(0);
  });

  test('once disconnected, new users get no profile', async () => {
    expect(disconnectExample!()).toBe(true);
    try {
      await users().save(users().create({ email: 'late@example.com' }));
      expect(await profiles().count()).toBe(0);
    } finally {
      disconnectExample = connectExampleReceivers();
    }
    await users().save(users().create({ email: 'later@example.com' }));
    expect(await profiles().count()).toBe(1);
  });
});
