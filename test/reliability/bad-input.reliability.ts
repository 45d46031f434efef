/**
 * 5. Bad input: a catalog of misuses. Each must fail with an error whose message names what is
 * wrong (the signal, the option, the receiver), leave every signal's receivers as they were, and,
 * when it happens inside a write, leave no row of that write behind.
 */
import { DataSource } from 'typeorm';
import {
  Signal,
  SignalsError,
  configureSignals,
  installSignals,
  onCommit,
  onRollback,
  postLoad,
  postSave,
  preSave,
  receiver,
  type Disconnect,
  type FailureReport,
} from '../../src';
import { exampleMigrations } from '../../migrations';
import { User, exampleEntities } from '../../src/example/entities';
import { connectExampleReceivers } from '../../src/example/receivers';
import { allModelSignals } from '../../src/typeorm/model-signal';
import type { TestDataSource } from '../helpers/database';
import { openExampleDatabase, recordFigures, rowCounts } from './helpers';

let db: TestDataSource;
let ds: DataSource;
const plain = new Signal<{ userId: number }>({ name: 'userRegistered' });
const signals: ReadonlyArray<Signal<any>> = [...allModelSignals, plain];

// Receivers connected before the catalog runs: every misuse must leave exactly these.
function existingReceiver() {}
function sendWelcome() {}
let disconnectExample: () => boolean;

const SEED_USERS = 10;
let seeded: Array<{ id: number; email: string; name: string | null; profile_id: number }> = [];

beforeAll(async () => {
  db = await openExampleDatabase(5);
  ds = db.dataSource;
  disconnectExample = connectExampleReceivers();
  postSave.connect(existingReceiver, { sender: User, phase: 'commit', dispatchUid: 'catalog:existing' });
  plain.connect(sendWelcome, { sender: User });
  await ds.getRepository(User).save(Array.from({ length: SEED_USERS }, (_, i) => ({ email: `seed-${i}@example.com`, name: `Seed ${i}` })));
  seeded = await seededRows();
});
afterAll(async () => {
  disconnectExample?.();
  postSave.disconnect(undefined, { sender: User, dispatchUid: 'catalog:existing' });
  plain.disconnect(sendWelcome, { sender: User });
  configureSignals({ logger: null, onReceiverError: null });
  await db?.cleanup();
});

function seededRows() {
  return ds.query(
    `SELECT u.id, u.email, u.name, p.id AS profile_id FROM users u JOIN user_profiles p ON p.user_id = u.id WHERE u.email LIKE 'seed-%' ORDER BY u.id`,
  );
}

/** Every signal's connections, as comparable values. */
function registry(): unknown[] {
  return signals.map((s) =>
    s.receivers().map((r) => [s.name, r.receiver, r.sender, r.dispatchUid, r.phase, r.batch, r.weak]),
  );
}

function sameRegistry(a: unknown[], b: unknown[]): boolean {
  const flat = (x: unknown[]) => (x as unknown[][][]).flat(1);
  const fa = flat(a);
  const fb = flat(b);
  return fa.length === fb.length && fa.every((row, i) => (row as unknown[]).every((v, j) => Object.is(v, (fb[i] as unknown[])[j])));
}

const noop = () => undefined;
const newUser = (tag: string) => ({ email: `bad-${tag}@example.com`, name: null });
const handPayload = (manager = ds.manager) => ({
  instance: { email: 'x@example.com' },
  created: true,
  partial: false,
  source: 'save',
  manager,
  dataSource: ds,
  queryRunner: undefined,
});

interface Misuse {
  name: string;
  /** The misuse itself: throws, or returns a promise that rejects. */
  run: () => unknown;
  /** What the error message must name. */
  mentions: string[];
  /** A write is involved: its rows must not stay. */
  inWrite?: boolean;
  /** The error class expected (default: any Error). */
  type?: new (...args: any[]) => Error;
}

/** Connects a receiver for one write only (a misbehaving receiver), then disconnects it. */
async function withReceiver(connect: () => Disconnect, write: () => Promise<unknown>): Promise<unknown> {
  using _receiver = connect();
  return await write();
}

const catalog: Misuse[] = [
  { name: 'receiver is not a function', run: () => postSave.connect('sendWelcome' as any, { sender: User }), mentions: ['postSave', 'receiver', 'function', 'string'], type: TypeError },
  { name: 'typo in an option ({ sendr: User })', run: () => postSave.connect(noop, { sendr: User } as any), mentions: ['postSave', '"sendr"', 'sender'], type: TypeError },
  { name: 'empty dispatchUid', run: () => postSave.connect(noop, { sender: User, dispatchUid: '' }), mentions: ['postSave', 'dispatchUid', 'empty'], type: TypeError },
  { name: 'phase on a pre signal', run: () => preSave.connect(noop, { sender: User, phase: 'commit' } as any), mentions: ['preSave', 'phase', 'commit', 'connect to postSave'], type: TypeError },
  { name: 'phase on postLoad', run: () => postLoad.connect(noop, { phase: 'commit' } as any), mentions: ['postLoad', 'phase', 'is read', 'leave the phase out'], type: TypeError },
  { name: 'phase on a plain Signal', run: () => plain.connect(noop, { phase: 'commit' } as any), mentions: ['userRegistered', 'phase'], type: TypeError },
  { name: 'batch on a plain Signal', run: () => plain.connect(noop, { batch: true } as any), mentions: ['userRegistered', 'batch'], type: TypeError },
  { name: 'bad phase string', run: () => postSave.connect(noop, { sender: User, phase: 'comit' } as any), mentions: ['postSave', 'phase', '"comit"'], type: TypeError },
  { name: 'batch not a boolean', run: () => postSave.connect(noop, { sender: User, batch: 'yes' } as any), mentions: ['postSave', 'batch', 'boolean'], type: TypeError },
  { name: 'weak not a boolean', run: () => postSave.connect(noop, { weak: 1 } as any), mentions: ['postSave', 'weak', 'boolean'], type: TypeError },
  { name: 'options not an object', run: () => postSave.connect(noop, 'commit' as any), mentions: ['postSave', 'options', 'object'], type: TypeError },
  { name: 'sender a number', run: () => postSave.connect(noop, { sender: 42 as any }), mentions: ['postSave', 'sender', 'number'], type: TypeError },
  { name: 'sender a plain object', run: () => plain.connect(noop, { sender: {} as any }), mentions: ['userRegistered', 'sender', 'object'], type: TypeError },
  { name: 'sender an empty string', run: () => postSave.connect(noop, { sender: '' }), mentions: ['postSave', 'sender', 'empty'], type: TypeError },
  { name: 'reserved payload key "signal"', run: () => plain.send(User, { userId: 1, signal: 'x' } as any), mentions: ['userRegistered', '"signal"', 'reserved'], type: TypeError },
  { name: 'reserved payload key "sender"', run: () => plain.sendRobust(User, { userId: 1, sender: 'x' } as any), mentions: ['userRegistered', '"sender"', 'reserved'], type: TypeError },
  { name: 'payload not an object', run: () => plain.send(User, null as any), mentions: ['userRegistered', 'payload', 'object'], type: TypeError },
  { name: 'new Signal with a typo ({ nam })', run: () => new Signal({ nam: 'x' } as any), mentions: ['Signal', '"nam"'], type: TypeError },
  {
    name: 'installSignals before initialize()',
    run: () => installSignals(new DataSource({ type: 'postgres', url: 'postgres://127.0.0.1:1/none', entities: exampleEntities, migrations: exampleMigrations })),
    mentions: ['installSignals', 'initialize'],
    type: SignalsError,
  },
  { name: 'installSignals on something else', run: () => installSignals({ isInitialized: true } as any), mentions: ['installSignals', 'DataSource'], type: TypeError },
  { name: 'configureSignals with an unknown key', run: () => configureSignals({ loger: console } as any), mentions: ['configureSignals', '"loger"'], type: TypeError },
  { name: 'configureSignals with a logger lacking error()', run: () => configureSignals({ logger: {} as any }), mentions: ['configureSignals', 'logger', 'error'], type: TypeError },
  { name: 'disconnect without receiver or uid', run: () => postSave.disconnect(), mentions: ['postSave', 'disconnect', 'receiver', 'dispatchUid'], type: TypeError },
  { name: 'disconnect with a typo ({ sendr })', run: () => postSave.disconnect(existingReceiver, { sendr: User } as any), mentions: ['postSave', '"sendr"', 'leave the receiver connected'], type: TypeError },
  {
    name: 're-connect with another phase',
    run: () => postSave.connect(existingReceiver, { sender: User, phase: 'transaction', dispatchUid: 'catalog:existing' }),
    mentions: ['postSave', 'existingReceiver', 'asks for phase "transaction"', 'exists with phase "commit"'],
    type: SignalsError,
  },
  { name: 'receiver() with no signals', run: () => receiver([], undefined, noop), mentions: ['receiver()', 'signal'], type: TypeError },
  { name: 'receiver() with something that is not a Signal', run: () => receiver([postSave, {} as any], { sender: User }, noop), mentions: ['receiver()', 'signals[1] is not a Signal'], type: TypeError },
  {
    name: 'receiver() on two signals, bad for the second (nothing connected on the first)',
    run: () => receiver([postSave, preSave], { sender: User, phase: 'commit' } as any, function auditBoth() {}),
    mentions: ['preSave', 'phase'],
    type: TypeError,
  },
  { name: 'hand-sent model signal without manager', run: () => postSave.send(User, { instance: {}, created: true } as any), mentions: ['postSave', '"manager"'], type: TypeError },
  { name: 'hand-sent model signal with a bad created', run: () => postSave.sendRobust(User, { ...handPayload(), created: 'yes' } as any), mentions: ['postSave', '"created"'], type: TypeError },
  { name: 'onCommit with a non-function', run: () => onCommit(ds.manager, 'sendMail' as any), mentions: ['onCommit', 'callback', 'function'], type: TypeError },
  { name: 'onRollback with a non-function', run: () => onRollback(ds.manager, 42 as any), mentions: ['onRollback', 'callback', 'function'], type: TypeError },
  { name: 'onCommit without a manager', run: () => onCommit(null as any, noop), mentions: ['onCommit', 'EntityManager'], type: TypeError },
  // --- inside a write: the write must roll back completely ---
  {
    name: 'a transaction-phase receiver throws a non-Error',
    inWrite: true,
    run: () =>
      withReceiver(
        () =>
          postSave.connect(
            function throwsString() {
              throw 'quota exceeded';
            },
            { sender: User },
          ),
        () => ds.getRepository(User).save(newUser('throws-string')),
      ),
    mentions: ['postSave', 'throwsString', 'non-Error'],
    type: SignalsError,
  },
  {
    name: 'a preSave receiver vetoes with a non-Error',
    inWrite: true,
    run: () =>
      withReceiver(
        () =>
          preSave.connect(
            function vetoWithNumber() {
              throw 42;
            },
            { sender: User },
          ),
        () => ds.transaction((m) => m.save(User, newUser('veto-number'))),
      ),
    mentions: ['preSave', 'vetoWithNumber', 'non-Error'],
    type: SignalsError,
  },
  {
    name: 'a receiver returns a rejected (non-native) thenable',
    inWrite: true,
    run: () =>
      withReceiver(
        () =>
          postSave.connect(
            function rejectsThenable() {
              return { then: (_ok: unknown, fail: (reason: unknown) => void) => fail('smtp down') };
            },
            { sender: User },
          ),
        () => ds.getRepository(User).save(newUser('thenable')),
      ),
    mentions: ['postSave', 'rejectsThenable', 'non-Error'],
    type: SignalsError,
  },
  {
    name: 'a batch receiver (after ensureProfileExists) rejects with a non-Error',
    inWrite: true,
    run: () =>
      withReceiver(
        () =>
          postSave.connect(
            async function batchRejects() {
              throw undefined;
            },
            { sender: User, batch: true },
          ),
        () => ds.getRepository(User).save([newUser('batch-1'), newUser('batch-2')]),
      ),
    mentions: ['postSave', 'batchRejects', 'non-Error'],
    type: SignalsError,
  },
  {
    name: 'a receiver connects with a typo during the write',
    inWrite: true,
    run: () =>
      withReceiver(
        () => postSave.connect(() => void postSave.connect(noop, { sendr: User } as any), { sender: User }),
        () => ds.getRepository(User).save(newUser('typo-in-receiver')),
      ),
    mentions: ['postSave', '"sendr"'],
    type: TypeError,
  },
  {
    name: 'onCommit with a non-function inside a transaction',
    inWrite: true,
    run: () =>
      ds.transaction(async (m) => {
        await m.save(User, newUser('oncommit'));
        await onCommit(m, { send: noop } as any);
      }),
    mentions: ['onCommit', 'function'],
    type: TypeError,
  },
  {
    name: 'a model signal sent by hand with a wrong payload inside a transaction',
    inWrite: true,
    run: () =>
      ds.transaction(async (m) => {
        await m.save(User, newUser('hand-sent'));
        await postSave.send(User, { ...handPayload(m), source: 'import' } as any);
      }),
    mentions: ['postSave', '"source"'],
    type: TypeError,
  },
  {
    name: 'a plain signal sent with a reserved key from a receiver during the write',
    inWrite: true,
    run: () =>
      withReceiver(
        () => postSave.connect(({ instance }) => plain.send(User, { userId: instance.id!, sender: 'me' } as any), { sender: User }),
        () => ds.getRepository(User).save(newUser('reserved-in-receiver')),
      ),
    mentions: ['userRegistered', '"sender"'],
    type: TypeError,
  },
];

interface Outcome {
  name: string;
  clear: boolean;
  registryUnchanged: boolean;
  halfWritten: number;
  message: string;
}

test(`a catalog of ${catalog.length} misuses: each fails with a clear error and changes nothing`, async () => {
  // The logger configured before the catalog must still be the one after it.
  const reports: FailureReport[] = [];
  const logger = { error: (_message: string, report: FailureReport) => void reports.push(report) };
  configureSignals({ logger });

  const outcomes: Outcome[] = [];
  for (const misuse of catalog) {
    const before = registry();
    const countsBefore = misuse.inWrite ? await rowCounts(ds) : undefined;
    let error: unknown;
    try {
      await misuse.run();
    } catch (e) {
      error = e;
    }
    const countsAfter = misuse.inWrite ? await rowCounts(ds) : undefined;
    const message = error instanceof Error ? error.message : String(error);
    const clear =
      error instanceof (misuse.type ?? Error) && misuse.mentions.every((m) => message.includes(m));
    outcomes.push({
      name: misuse.name,
      clear,
      registryUnchanged: sameRegistry(before, registry()),
      halfWritten: countsBefore && countsAfter ? countsAfter.users - countsBefore.users + (countsAfter.profiles - countsBefore.profiles) : 0,
      message,
    });
  }

  // Still the same logger: a failing commit-phase receiver is reported to it.
  await withReceiver(
    () =>
      postSave.connect(
        function failsAfterCommit() {
          throw new Error('after commit');
        },
        { sender: User, phase: 'commit' },
      ),
    () => ds.getRepository(User).save({ email: 'logger-check@example.com', name: null }),
  );
  await ds.getRepository(User).delete({ email: 'logger-check@example.com' });
  const loggerKept = reports.some((r) => r.receiver === 'failsAfterCommit');

  const after = await seededRows();
  const rowsLost = seeded.filter((row) => !after.some((a: (typeof seeded)[number]) => a.id === row.id && a.email === row.email && a.name === row.name && a.profile_id === row.profile_id)).length;
  const counts = await rowCounts(ds);

  recordFigures('badInput', {
    tried: outcomes.length,
    clear: outcomes.filter((o) => o.clear).length,
    registryUnchanged: outcomes.filter((o) => o.registryUnchanged).length,
    inWrite: catalog.filter((m) => m.inWrite).length,
    halfWritten: outcomes.reduce((n, o) => n + o.halfWritten, 0),
    rowsLost,
    loggerKept,
    unclear: outcomes.filter((o) => !o.clear).map((o) => `${o.name}: ${o.message}`),
  });

  expect(outcomes.length).toBeGreaterThanOrEqual(20);
  expect(outcomes.filter((o) => !o.clear).map((o) => `${o.name} -> ${o.message}`)).toEqual([]);
  expect(outcomes.filter((o) => !o.registryUnchanged).map((o) => o.name)).toEqual([]);
  expect(outcomes.filter((o) => o.halfWritten !== 0).map((o) => o.name)).toEqual([]);
  expect(loggerKept).toBe(true);
  expect(rowsLost).toBe(0);
  expect(counts).toEqual({ users: SEED_USERS, profiles: SEED_USERS });
});
