/**
 * Introspection and debugging on a real PostgreSQL: describeSignals(), checkSignals() and its
 * problem codes, and the DEBUG=typeorm-signals trace saying why a receiver did not run, without
 * payload values unless configureSignals({ traceValues: true }).
 */
import 'reflect-metadata';
import createDebug from 'debug';
import { DataSource } from 'typeorm';
import {
  SignalsError,
  SignalsSubscriber,
  checkSignals,
  configureSignals,
  describeSignals,
  postDelete,
  postSave,
  preSave,
  withoutSignals,
} from '../../src';
import { exampleConfig } from '../../src/example/data-source';
import { User, UserProfile } from '../../src/example/entities';
import { ENSURE_PROFILE_UID, connectExampleReceivers, ensureProfileExists } from '../../src/example/receivers';
import { captureDebugLines } from '../helpers/debug-lines';
import { runTypeScript } from '../helpers/run-script';
import { openTestDataSource, type TestDataSource } from '../helpers/database';

let db: TestDataSource;
let ds: DataSource;

beforeAll(async () => {
  db = await openTestDataSource(exampleConfig);
  ds = db.dataSource;
});
afterAll(async () => {
  await db?.cleanup();
});
afterEach(async () => {
  await ds.query('TRUNCATE "users", "user_profiles" RESTART IDENTITY CASCADE');
});

/** A class that is not an entity, named like one: what a second copy of a module gives. */
const Impostor = { User: class User {} }.User;
class UserDto {}

describe('describeSignals()', () => {
  test('lists every model signal, in a fixed order, with its receivers as signal.receivers() shows them', () => {
    using _example = connectExampleReceivers();
    function auditProfile() {}
    using _auditProfile = postSave.connect(auditProfile, { sender: UserProfile, phase: 'commit' });
    const described = describeSignals();
    expect(described.map((d) => d.signal.name)).toEqual([
      'preSave',
      'postSave',
      'preDelete',
      'postDelete',
      'preSoftDelete',
      'postSoftDelete',
      'preRestore',
      'postRestore',
      'postLoad',
      'm2mChanged',
    ]);
    const post = described.find((d) => d.signal === postSave)!;
    expect(post.receivers).toEqual([
      {
        receiver: ensureProfileExists,
        sender: User,
        dispatchUid: ENSURE_PROFILE_UID,
        weak: false,
        phase: 'transaction',
        batch: true,
        connectedAt: expect.stringMatching(/src\/example\/receivers\.ts:\d+$/),
      },
      {
        receiver: auditProfile,
        sender: UserProfile,
        dispatchUid: undefined,
        weak: false,
        phase: 'commit',
        batch: false,
        connectedAt: expect.stringMatching(/introspection\.test\.ts:\d+$/),
      },
    ]);
    expect(described.find((d) => d.signal === preSave)!.receivers).toEqual([]);
  });
});

describe('checkSignals()', () => {
  test('finds nothing wrong with the example set-up', () => {
    using _example = connectExampleReceivers();
    using _everySender = postSave.connect(() => undefined); // every sender: always fine
    using _byName = postSave.connect(() => undefined, { sender: 'UserProfile' }); // an entity name
    expect(checkSignals(ds)).toEqual([]);
  });

  test('unknown-sender: a class that is not an entity, a same-named class, a misspelt name', () => {
    function onDto() {}
    function onImpostor() {}
    function onTypo() {}
    function onNothingLikeIt() {}
    using _onDto = postSave.connect(onDto, { sender: UserDto });
    using _onImpostor = preSave.connect(onImpostor, { sender: Impostor });
    using _onTypo = postDelete.connect(onTypo, { sender: 'UserProfil' });
    using _onNothingLikeIt = postDelete.connect(onNothingLikeIt, { sender: 'Invoice' });
    const problems = checkSignals(ds);
    const at = (fn: Function) => postSave.receivers().concat(preSave.receivers(), postDelete.receivers()).find((r) => r.receiver === fn)!.connectedAt;
    expect(problems).toEqual([
      {
        code: 'unknown-sender',
        message: `checkSignals(): receiver onImpostor of preSave (connected at ${at(onImpostor)}) has sender class User, which is not an entity class of this DataSource, so it never runs; the entity called User is another class (a second copy of the module, or a class with the same name?)`,
        signal: preSave,
        receiver: onImpostor,
        sender: Impostor,
      },
      {
        code: 'unknown-sender',
        message: `checkSignals(): receiver onDto of postSave (connected at ${at(onDto)}) has sender class UserDto, which is not an entity class of this DataSource, so it never runs; connect it with the entity class itself`,
        signal: postSave,
        receiver: onDto,
        sender: UserDto,
      },
      {
        code: 'unknown-sender',
        message: `checkSignals(): receiver onTypo of postDelete (connected at ${at(onTypo)}) has sender "UserProfil", which is not an entity name of this DataSource, so it never runs; did you mean "UserProfile"?`,
        signal: postDelete,
        receiver: onTypo,
        sender: 'UserProfil',
      },
      {
        code: 'unknown-sender',
        message: `checkSignals(): receiver onNothingLikeIt of postDelete (connected at ${at(onNothingLikeIt)}) has sender "Invoice", which is not an entity name of this DataSource, so it never runs`,
        signal: postDelete,
        receiver: onNothingLikeIt,
        sender: 'Invoice',
      },
    ]);
    expect(problems.map((p) => p.message).join('\n')).toMatch(/introspection\.test\.ts:\d+\)/);
  });

  test('a wrongly-cased entity name is suggested with its case', () => {
    using _lowerCase = postSave.connect(() => undefined, { sender: 'userprofile' });
    expect(checkSignals(ds).map((p) => p.message)).toEqual([expect.stringMatching(/has sender "userprofile", .*; did you mean "UserProfile"\?$/)]);
  });

  test('not-installed and installed-twice', () => {
    const subscribers = ds.subscribers as unknown[];
    const original = [...subscribers];
    try {
      subscribers.length = 0;
      expect(checkSignals(ds)).toEqual([
        {
          code: 'not-installed',
          message:
            'checkSignals(): the DataSource has no SignalsSubscriber, so no model signal (postSave, ...) is sent for it; ' +
            'list SignalsSubscriber in its subscribers option or call installSignals(dataSource) after initialize()',
        },
      ]);
      subscribers.push(...original, new SignalsSubscriber());
      expect(checkSignals(ds)).toEqual([
        {
          code: 'installed-twice',
          message:
            'checkSignals(): the DataSource has 2 SignalsSubscribers; only the first sends signals. ' +
            'List SignalsSubscriber once (two copies of typeorm-signals in node_modules also cause this)',
        },
      ]);
    } finally {
      subscribers.length = 0;
      subscribers.push(...original);
    }
    expect(checkSignals(ds)).toEqual([]);
  });

  test('refuses a DataSource that is not initialized, and what is not a DataSource', () => {
    const fresh = new DataSource({ type: 'postgres', entities: [User, UserProfile] });
    expect(() => checkSignals(fresh)).toThrow(SignalsError);
    expect(() => checkSignals(fresh)).toThrow('checkSignals(): the DataSource is not initialized; call checkSignals() after dataSource.initialize()');
    expect(() => checkSignals({} as never)).toThrow(new TypeError('checkSignals(): expected a TypeORM DataSource'));
    expect(() => checkSignals(null as never)).toThrow(TypeError);
  });
});

describe('DEBUG=typeorm-signals trace', () => {
  const SECRET = 'do-not-log-me@example.com';
  const lines = captureDebugLines();

  beforeAll(() => {
    createDebug.enable('typeorm-signals');
  });
  afterAll(() => {
    configureSignals({ traceValues: false });
  });

  const users = () => ds.getRepository(User);
  const traced = (pattern: RegExp) => lines.filter((line) => pattern.test(line));

  test('says why a receiver did not run: other sender, muted, queued for commit, dropped by rollback', async () => {
    using _onProfileSaved = postSave.connect(function onProfileSaved() {}, { sender: UserProfile });
    await users().save({ email: SECRET, name: 'Ada' });
    expect(traced(/postSave sender=User not run/)).toEqual([
      expect.stringMatching(/postSave sender=User not run \(other sender; connected for UserProfile\): onProfileSaved$/),
    ]);

    using _welcome = postSave.connect(function welcome() {}, { sender: User, phase: 'commit' });
    lines.length = 0;
    await withoutSignals(() => users().save({ email: `b.${SECRET}`, name: 'Bob' }), { signals: [postSave] });
    expect(traced(/not run \(muted\)/)).toEqual([
      expect.stringMatching(/postSave sender=User not run \(muted\): welcome$/), // its commit-phase call
    ]);

    lines.length = 0;
    await ds
      .transaction(async (manager) => {
        await manager.save(User, { email: `c.${SECRET}`, name: 'Carol' });
        throw new Error('abort');
      })
      .catch(() => undefined);
    expect(traced(/queued for commit|rolled back/)).toEqual([
      expect.stringMatching(/1 row\(s\) of postSave queued for commit$/),
      expect.stringMatching(/transaction rolled back: 1 commit task\(s\) dropped$/),
    ]);
    for (const line of lines) expect(line).not.toContain('Carol');
  });

  test('a write on a DataSource without SignalsSubscriber says, once per signal and entity, which receivers it leaves out', async () => {
    const bare = new DataSource({ ...(ds.options as object), subscribers: [] } as never);
    await bare.initialize();
    try {
      using _welcome = postSave.connect(function sendWelcomeMail() {}, { sender: User });
      await bare.getRepository(User).save({ email: SECRET, name: 'Ada' });
      await bare.getRepository(User).save({ email: `b.${SECRET}`, name: 'Bob' });
      const missing = traced(/not sent/);
      expect(missing).toEqual([
        expect.stringMatching(/postSave sender=User not sent: DataSource \(postgres, database "[^"]+"\) has no SignalsSubscriber, .*Receivers that do not run: sendWelcomeMail$/),
      ]);
      // preSave has no receiver: no line for it; the DataSource with the subscriber: none either.
      lines.length = 0;
      await users().save({ email: `c.${SECRET}`, name: 'Carol' });
      expect(traced(/not sent/)).toEqual([]);
      for (const line of lines) expect(line).not.toContain(SECRET);
    } finally {
      await bare.destroy();
    }
  });

  test('with DEBUG on at start-up, an app whose only DataSource lacks the subscriber gets the line too', async () => {
    const run = await runTypeScript('test/fixtures/missing-subscriber.ts', { DEBUG: 'typeorm-signals', DEBUG_COLORS: 'no', SIGNALS_URL: db.database.url });
    expect(run.code).toBe(0);
    const missing = run.stderr.split('\n').filter((line) => line.includes('not sent'));
    expect(missing).toHaveLength(1);
    expect(missing[0]).toMatch(/postSave sender=User not sent: .*has no SignalsSubscriber.*Receivers that do not run: sendWelcomeMail$/);
    expect(run.stderr).not.toContain('@example.com');
  });

  test('a receiver connected for another class named User: the line says it is another class, not "other sender User"', async () => {
    using _impostor = postSave.connect(function onImpostorSaved() {}, { sender: Impostor });
    await users().save({ email: SECRET, name: 'Ada' });
    expect(traced(/postSave sender=User not run/)).toEqual([
      expect.stringMatching(/postSave sender=User not run \(another class also named User: .*loaded twice.*\): onImpostorSaved$/),
    ]);
  });

  test('payload values are absent by default and present with configureSignals({ traceValues: true })', async () => {
    using _onUserSaved = postSave.connect(function onUserSaved() {}, { sender: User });
    await users().save({ email: SECRET, name: 'Ada' });
    const ran = traced(/postSave sender=User receiver=onUserSaved phase=transaction ok/);
    expect(ran).toHaveLength(1);
    for (const line of lines) {
      expect(line).not.toContain(SECRET);
      expect(line).not.toContain('payload=');
    }

    configureSignals({ traceValues: true });
    try {
      lines.length = 0;
      await users().save({ email: `x.${SECRET}`, name: 'Xavier' });
      const [line] = traced(/receiver=onUserSaved/);
      expect(line).toContain(`payload=`);
      expect(line).toContain(`"email":"x.${SECRET}"`);
      expect(line).toContain('"created":true');
      expect(line).not.toMatch(/"manager"|"queryRunner"|"dataSource"/);
    } finally {
      configureSignals({ traceValues: false });
    }
    lines.length = 0;
    await users().save({ email: `y.${SECRET}`, name: 'Yann' });
    expect(lines.join('\n')).not.toContain(SECRET);
    expect(() => configureSignals({ traceValues: 'yes' as never })).toThrow('configureSignals(): "traceValues" must be a boolean, got string');
  });
});
