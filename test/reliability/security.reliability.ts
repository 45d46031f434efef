/**
 * 7. Security: entity values never reach the library's log lines, error messages or DEBUG trace
 * by default; one receiver cannot change what the next one is told (the payload is frozen),
 * while `instance` stays the caller's real entity.
 */
import { format } from 'node:util';
import createDebug from 'debug';
import type { DataSource } from 'typeorm';
import { SignalsError, configureSignals, postSave, preSave, type FailureReport } from '../../src';
import { User } from '../../src/example/entities';
import { connectExampleReceivers } from '../../src/example/receivers';
import type { TestDataSource } from '../helpers/database';
import { openExampleDatabase, recordFigures } from './helpers';

const SECRET = 'sk_live_7Hq2-SECRET';
const SECRET_EMAIL = 'very.private.person@secret-domain.example';

let db: TestDataSource;
let ds: DataSource;
const figures: Record<string, unknown> = {};

beforeAll(async () => {
  db = await openExampleDatabase(5);
  ds = db.dataSource;
});
afterEach(() => {
  configureSignals({ logger: null, onReceiverError: null });
});
afterAll(async () => {
  recordFigures('security', figures);
  await db?.cleanup();
});

/** Every string a failure can show: the message, the stack, String(error), the cause chain's messages. */
function textsOf(error: unknown): string[] {
  const out: string[] = [];
  let e = error as { message?: unknown; stack?: unknown; cause?: unknown } | undefined;
  for (let depth = 0; e && depth < 5; depth++) {
    if (typeof e !== 'object') break; // a non-Error cause is the thrown value itself: not a message
    out.push(String(e), String(e.message), String(e.stack));
    e = e.cause as typeof e;
  }
  return out;
}

const leaks = (texts: readonly string[]) => texts.filter((t) => t.includes(SECRET) || t.includes(SECRET_EMAIL) || t.includes('secret-domain'));

test('failing receivers whose entity holds a secret: no error message, log line, report or DEBUG trace line shows it', async () => {
  using _example = connectExampleReceivers();
  const consoleLines: string[] = [];
  const spy = jest.spyOn(console, 'error').mockImplementation((...args: unknown[]) => void consoleLines.push(format(...(args as [unknown]))));
  const traceLines: string[] = [];
  const originalLog = createDebug.log;
  const previouslyEnabled = createDebug.disable();
  createDebug.log = (...args: unknown[]) => void traceLines.push(format(...(args as [unknown])));
  createDebug.enable('typeorm-signals');
  const errorTexts: string[] = [];
  const reportTexts: string[] = [];
  let failures = 0;
  const secretUser = (tag: string) => ({ email: `${tag}.${SECRET_EMAIL}`, name: `${SECRET} ${tag}` });
  const expectFailure = async (write: Promise<unknown>) => {
    const error = await write.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeDefined();
    failures++;
    errorTexts.push(...textsOf(error));
  };

  try {
    // 1. A transaction-phase receiver throws: the write rejects with its error.
    {
      using _chargeCard = postSave.connect(
        function chargeCard() {
          throw new Error('payment provider unavailable');
        },
        { sender: User },
      );
      await expectFailure(ds.getRepository(User).save(secretUser('tx')));
    }

    // 2. A receiver throws the secret itself (a non-Error): wrapped, the message says "string".
    {
      using _throwsTheName = postSave.connect(
        function throwsTheName({ instance }) {
          throw instance.name;
        },
        { sender: User },
      );
      await expectFailure(ds.getRepository(User).save(secretUser('non-error')));
    }

    // 3. Recursion: the SignalsError describes the chain, not the entity.
    {
      using _resave = postSave.connect(
        async function resave({ instance, manager }) {
          instance.name = `${instance.name}.`; // a change, so that the save is an UPDATE
          await manager.save(User, instance);
        },
        { sender: User },
      );
      await expectFailure(ds.getRepository(User).save(secretUser('recursion')));
    }

    // 4. Commit-phase receivers fail after the commit: reported to the default logger (console.error)...
    using _sendReceipt = postSave.connect(
      function sendReceipt() {
        throw new Error('smtp refused');
      },
      { sender: User, phase: 'commit' },
    );
    using _leakyNonError = postSave.connect(
      function leakyNonError({ instance }) {
        throw `${instance.email}`;
      },
      { sender: User, phase: 'commit' },
    );
    await ds.getRepository(User).save(secretUser('commit-default-logger'));
    // ...and to a configured logger and onReceiverError, whose reports are checked field by field.
    const reports: FailureReport[] = [];
    configureSignals({
      logger: { error: (message, report) => void (reportTexts.push(message), reports.push(report)) },
      onReceiverError: (report) => void reports.push(report),
    });
    await ds.getRepository(User).save(secretUser('commit-configured-logger'));
    for (const r of reports) reportTexts.push(r.signal, r.receiver, r.sender, r.context, ...textsOf(r.error));
  } finally {
    createDebug.log = originalLog;
    createDebug.disable();
    if (previouslyEnabled) createDebug.enable(previouslyEnabled);
    spy.mockRestore();
  }

  const all = [...errorTexts, ...consoleLines, ...reportTexts, ...traceLines];
  Object.assign(figures, {
    failures,
    errorTexts: errorTexts.length,
    consoleLines: consoleLines.length,
    reportTexts: reportTexts.length,
    traceLines: traceLines.length,
    checked: all.length,
    leaked: leaks(all).length,
  });

  expect(consoleLines.length).toBeGreaterThanOrEqual(2); // the default logger did report
  expect(reportTexts.length).toBeGreaterThanOrEqual(4);
  expect(traceLines.length).toBeGreaterThan(10); // the trace was on
  expect(leaks(all)).toEqual([]);
});

test('the SignalsError of a thrown secret keeps the value only as its cause, for code that asks', async () => {
  using _throwsTheName = postSave.connect(
    function throwsTheName({ instance }) {
      throw instance.name;
    },
    { sender: User },
  );
  const error = await ds
    .getRepository(User)
    .save({ email: `cause.${SECRET_EMAIL}`, name: SECRET })
    .catch((e: unknown) => e);
  expect(error).toBeInstanceOf(SignalsError);
  expect((error as Error).message).toBe('Signal "postSave": receiver throwsTheName threw a non-Error value (string)');
  expect((error as Error).cause).toBe(SECRET);
});

test('a receiver cannot change created, sender, previous or changes for the receivers after it; instance is the real entity', async () => {
  const user = await ds.getRepository(User).save({ email: 'frozen@example.com', name: 'Original' });
  const refused: string[] = [];
  const attempt = (what: string, change: () => void) => {
    try {
      change();
    } catch (error) {
      if (error instanceof TypeError) refused.push(what);
    }
  };
  const seenBySecond: Array<Record<string, unknown>> = [];
  let instanceIsEntity = false;
  class Impostor {}
  using _meddler = postSave.connect(
    function meddler(args) {
      if (args.created || refused.length > 0) return; // the first update below is the write under test
      const a = args as any;
      attempt('created', () => (a.created = true));
      attempt('sender', () => (a.sender = Impostor));
      attempt('previous', () => (a.previous = { name: 'Forged' }));
      attempt('previous.name', () => (a.previous.name = 'Forged'));
      attempt('changes', () => (a.changes = {}));
      attempt('changes.name.from', () => (a.changes.name.from = 'Forged'));
      attempt('updateFields', () => a.updateFields.push('email'));
      attempt('delete created', () => delete a.created);
      instanceIsEntity = args.instance === user;
    },
    { sender: User },
  );
  using _honest = postSave.connect(
    function honest({ created, sender, previous, changes, updateFields }) {
      if (created) return;
      seenBySecond.push({ created, sender, previousName: previous?.name, from: changes?.name?.from, updateFields: [...(updateFields ?? [])] });
    },
    { sender: User },
  );
  const itemsRefused: string[] = [];
  using _batchMeddler = postSave.connect(
    function batchMeddler({ items }) {
      if (itemsRefused.length > 0) return;
      try {
        (items as any[]).push({});
      } catch (error) {
        if (error instanceof TypeError) itemsRefused.push('items.push');
      }
      try {
        (items[0] as any).created = true;
      } catch (error) {
        if (error instanceof TypeError) itemsRefused.push('items[0].created');
      }
    },
    { sender: User, batch: true },
  );

  user.name = 'Renamed';
  await ds.getRepository(User).save(user);

  // preSave may still change the entity itself: the change is what gets written.
  using _checked = preSave.connect(
    ({ instance }) => {
      instance.name = `${instance.name} (checked)`;
    },
    { sender: User },
  );
  user.name = 'Edited';
  await ds.getRepository(User).save(user);
  const created = await ds.getRepository(User).save({ email: 'presave-insert@example.com', name: 'New' });
  const reloaded = await ds.getRepository(User).findOneByOrFail({ id: user.id });
  const reloadedNew = await ds.getRepository(User).findOneByOrFail({ id: created.id });

  Object.assign(figures, {
    changeAttempts: 8 + 2,
    refused: refused.length + itemsRefused.length,
    instanceIsEntity,
    preSaveChangePersisted: reloaded.name === 'Edited (checked)' && reloadedNew.name === 'New (checked)',
  });

  expect(refused).toEqual(['created', 'sender', 'previous', 'previous.name', 'changes', 'changes.name.from', 'updateFields', 'delete created']);
  expect(itemsRefused).toEqual(['items.push', 'items[0].created']);
  expect(seenBySecond[0]).toEqual({ created: false, sender: User, previousName: 'Original', from: 'Original', updateFields: ['name'] });
  expect(instanceIsEntity).toBe(true);
  expect(reloaded.name).toBe('Edited (checked)');
  expect(reloadedNew.name).toBe('New (checked)');
  expect(user.name).toBe('Edited (checked)'); // the caller's own object
});
