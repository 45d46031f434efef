/**
 * The testing kit on a real PostgreSQL: withoutSignals() on model signals (every phase, scoped to
 * its own async work), captureSignals() (records, batch calls, awaits, concurrency), and
 * flushOnCommit() for suites that wrap each test in a transaction that is rolled back.
 */
import 'reflect-metadata';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DataSource } from 'typeorm';
import { Signal, configureSignals, onCommit, onRollback, postSave, preSave, withoutSignals, type FailureReport } from '../../src';
import { captureSignals, flushOnCommit, type SignalRecord } from '../../src/testing';
import { exampleConfig } from '../../src/example/data-source';
import { User, UserProfile } from '../../src/example/entities';
import { connectExampleReceivers, ensureProfileExists } from '../../src/example/receivers';
import { openTestDataSource, type TestDataSource } from '../helpers/database';
import { connections } from '../helpers/connections';

let db: TestDataSource;
let ds: DataSource;
const { listen } = connections();

beforeAll(async () => {
  db = await openTestDataSource(exampleConfig);
  ds = db.dataSource;
});
afterAll(async () => {
  configureSignals({ logger: null, onReceiverError: null });
  await db?.cleanup();
});
beforeEach(() => void listen(connectExampleReceivers()));
afterEach(async () => {
  configureSignals({ logger: null, onReceiverError: null });
  await ds.query('TRUNCATE "users", "user_profiles" RESTART IDENTITY CASCADE');
});

const users = () => ds.getRepository(User);
const profileCount = () => ds.getRepository(UserProfile).count();
const emails = (...names: string[]) => names.map((n) => ({ email: `${n}@example.com`, name: n }));

/** A commit-phase receiver of postSave for User that notes the e-mail of each created user. */
function welcomeMails(): string[] {
  const sent: string[] = [];
  listen(
    postSave.connect(
      ({ instance, created }) => {
        if (created) sent.push(instance.email);
      },
      { sender: User, phase: 'commit' },
    ),
  );
  return sent;
}

/** A compact view of records: signal:sender[:phase][:batch][:muted]. */
function summary(records: readonly SignalRecord[]): string[] {
  return records.map((r) =>
    [
      r.signal.name,
      typeof r.sender === 'function' ? r.sender.name : r.sender,
      r.phase === 'transaction' ? '' : r.phase,
      r.batch ? 'batch' : '',
      r.muted ? 'muted' : '',
    ]
      .filter(Boolean)
      .join(':'),
  );
}

describe('withoutSignals() with model signals', () => {
  test('muting postSave for User skips ensureProfileExists; the users are saved, other senders still send', async () => {
    const profileSaves: unknown[] = [];
    listen(postSave.connect(({ created }) => void profileSaves.push(created), { sender: UserProfile }));
    const saved = await withoutSignals(() => users().save(emails('ada', 'bob')), { signals: [postSave], senders: [User] });
    expect(saved.map((u) => u.email)).toEqual(['ada@example.com', 'bob@example.com']);
    expect(await users().count()).toBe(2);
    expect(await profileCount()).toBe(0);

    // Unmuted afterwards; and UserProfile's receivers ran all along (here: for the profile of carol).
    await users().save(emails('carol'));
    expect(await profileCount()).toBe(1);
    expect(profileSaves).toEqual([true]);
  });

  test('a commit-phase receiver of a write made inside the scope stays muted when the COMMIT comes after it', async () => {
    const mails = welcomeMails();
    const runner = ds.createQueryRunner();
    try {
      await runner.startTransaction();
      await withoutSignals(() => runner.manager.save(User, emails('ada')), { signals: [postSave] });
      await runner.manager.save(User, emails('bob'));
      await runner.commitTransaction();
    } finally {
      await runner.release();
    }
    expect(mails).toEqual(['bob@example.com']);
  });

  test('does not mute a concurrent write that started outside the scope', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const outside = (async () => {
      await gate;
      return users().save(emails('outside'));
    })();
    await withoutSignals(async () => {
      release();
      await Promise.all([outside, users().save(emails('inside'))]);
    });
    const withProfile = await users().find({ relations: { profile: true } });
    expect(withProfile.map((u) => [u.email, u.profile ? 'profile' : 'none']).sort()).toEqual([
      ['inside@example.com', 'none'],
      ['outside@example.com', 'profile'],
    ]);
  });

  test('nested scopes add up: preSave muted outside, postSave inside', async () => {
    const seen: string[] = [];
    listen(preSave.connect(() => void seen.push('preSave'), { sender: User }));
    listen(postSave.connect(() => void seen.push('postSave'), { sender: User }));
    await withoutSignals(
      async () => {
        await users().save(emails('a'));
        await withoutSignals(() => users().save(emails('b')), { signals: [postSave] });
        await users().save(emails('c'));
      },
      { signals: [preSave] },
    );
    expect(seen).toEqual(['postSave', 'postSave']);
    expect(await profileCount()).toBe(2); // a and c
  });
});

describe('captureSignals()', () => {
  test('records every send of a real write, per row, with batch calls marked, and resolves to { result, records }', async () => {
    const { result, records } = await captureSignals(() => users().save(emails('ada', 'bob')));
    expect(result.map((u) => u.id)).toEqual([1, 2]);
    expect(summary(records)).toEqual([
      'preSave:User',
      'preSave:User',
      'postSave:User',
      'postSave:User',
      'postSave:User:batch',
      // ensureProfileExists's INSERT, made from inside the batch receiver
      'preSave:UserProfile',
      'preSave:UserProfile',
      'postSave:UserProfile',
      'postSave:UserProfile',
    ]);
    // Nobody listens to preSave: recorded all the same, with no receivers.
    expect(records[0].receivers).toEqual([]);
    const rows = records.filter((r) => r.signal === postSave && r.sender === User && !r.batch);
    expect(rows.map((r) => [r.payload.created, r.payload.instance.email, 'signal' in r.payload, 'sender' in r.payload])).toEqual([
      [true, 'ada@example.com', false, false],
      [true, 'bob@example.com', false, false],
    ]);
    const batch = records[4];
    expect(batch.payload.items.map((i: { entityId: number }) => i.entityId)).toEqual([1, 2]);
    expect(batch.payload.manager).toBeDefined();
    expect(batch.receivers).toEqual([{ receiver: ensureProfileExists, status: 'returned', result: undefined }]);
    expect(records.every((r) => r.muted === false)).toBe(true);
    expect(await profileCount()).toBe(2); // the receivers ran for real
  });

  test('records what receivers threw, and rejects with fn’s error', async () => {
    const failure = new Error('no profile for you');
    listen(
      postSave.connect(
        () => {
          throw failure;
        },
        { sender: UserProfile },
      ),
    );
    const { result, records } = await captureSignals(() => users().save(emails('ada')).catch((e: unknown) => e), { signals: [postSave] });
    expect(result).toBe(failure);
    expect(summary(records)).toEqual(['postSave:User', 'postSave:User:batch', 'postSave:UserProfile']);
    expect(records[1].receivers).toEqual([{ receiver: ensureProfileExists, status: 'threw', error: failure }]);
    expect(records[2].receivers).toEqual([expect.objectContaining({ status: 'threw', error: failure })]);
    expect(await users().count()).toBe(0); // rolled back

    await expect(captureSignals(() => users().save(emails('ada')))).rejects.toBe(failure);
  });

  test('records plain signals (phase "transaction"), commit-phase sends, and muted sends', async () => {
    const invited = new Signal<{ email: string }>({ name: 'invited' });
    const mails = welcomeMails();
    const { records } = await captureSignals(
      async () => {
        await ds.transaction(async (manager) => {
          await manager.save(User, emails('ada'));
          await invited.send(User, { email: 'x@example.com' });
        });
        await withoutSignals(() => users().save(emails('bob')), { senders: [User] });
      },
      { signals: [postSave, invited], senders: [User] },
    );
    expect(summary(records)).toEqual([
      'postSave:User',
      'postSave:User:batch',
      'invited:User',
      'postSave:User:commit',
      'postSave:User:muted',
      'postSave:User:batch:muted',
      'postSave:User:commit:muted',
    ]);
    expect(records[2]).toEqual({ signal: invited, sender: User, payload: { email: 'x@example.com' }, phase: 'transaction', batch: false, muted: false, receivers: [] });
    expect(records[4].receivers).toEqual([]);
    expect(mails).toEqual(['ada@example.com']);
  });

  test('filters by signal(s) and by sender(s), an entity name selecting its class', async () => {
    const bySender = await captureSignals(() => users().save(emails('ada')), { senders: 'UserProfile' });
    expect(summary(bySender.records)).toEqual(['preSave:UserProfile', 'postSave:UserProfile']);
    const bySignal = await captureSignals(() => users().save(emails('bob')), { signals: preSave });
    expect(summary(bySignal.records)).toEqual(['preSave:User', 'preSave:UserProfile']);
    const both = await captureSignals(() => users().save(emails('carol')), { signals: [preSave, postSave], senders: [User] });
    expect(summary(both.records)).toEqual(['preSave:User', 'postSave:User', 'postSave:User:batch']);
  });

  test('follows awaits (timers, several writes) and stops recording when fn settles', async () => {
    let later!: Promise<unknown>;
    const { records } = await captureSignals(
      async () => {
        await users().save(emails('a'));
        await sleep(5);
        await new Promise((resolve) => setImmediate(resolve));
        await users().save(emails('b'));
        // Started inside, finishes after fn returned: not recorded (the capture is closed).
        later = sleep(20).then(() => users().save(emails('c')));
      },
      { signals: [postSave], senders: [User] },
    );
    await later;
    expect(summary(records)).toEqual(['postSave:User', 'postSave:User:batch', 'postSave:User', 'postSave:User:batch']);
    expect(await users().count()).toBe(3);
  });

  test('concurrent captures see only their own sends; nested captures both see the inner sends', async () => {
    const capture = (name: string, delay: number) =>
      captureSignals(
        async () => {
          await sleep(delay);
          await users().save(emails(`${name}1`));
          await sleep(delay);
          await users().save(emails(`${name}2`));
        },
        { signals: [postSave], senders: [User] },
      );
    const [a, b] = await Promise.all([capture('a', 3), capture('b', 1)]);
    const rowEmails = (records: SignalRecord[]) => records.filter((r) => !r.batch).map((r) => r.payload.instance.email);
    expect(rowEmails(a.records)).toEqual(['a1@example.com', 'a2@example.com']);
    expect(rowEmails(b.records)).toEqual(['b1@example.com', 'b2@example.com']);

    const outer = await captureSignals(async () => {
      await users().save(emails('o1'));
      const inner = await captureSignals(() => users().save(emails('i1')), { signals: [postSave] });
      expect(rowEmails(inner.records.filter((r) => r.sender === User))).toEqual(['i1@example.com']);
    }, { signals: [postSave], senders: [User] });
    expect(rowEmails(outer.records)).toEqual(['o1@example.com', 'i1@example.com']);
  });

  test('refuses bad arguments with a TypeError', async () => {
    await expect(captureSignals(42 as never)).rejects.toThrow('captureSignals(): the first argument must be a function, got number');
    await expect(captureSignals(() => 1, { signal: postSave } as never)).rejects.toThrow('captureSignals(): unknown option "signal" (known: signals, senders, receivers)');
    await expect(captureSignals(() => 1, { signals: ['postSave'] as never })).rejects.toThrow('captureSignals(): "signals"[0] is not a Signal (got the string "postSave")');
  });
});

describe('flushOnCommit()', () => {
  /** A test wrapped in a transaction that is rolled back, as transactional test suites do. */
  async function inRolledBackTransaction(fn: (runner: import('typeorm').QueryRunner) => Promise<void>): Promise<void> {
    const runner = ds.createQueryRunner();
    try {
      await runner.startTransaction();
      await fn(runner);
    } finally {
      if (runner.isTransactionActive) await runner.rollbackTransaction();
      await runner.release();
    }
  }

  test('runs the queued commit receivers and onCommit callbacks now, once, in order; rollback work still runs on rollback', async () => {
    const mails = welcomeMails();
    const log: string[] = [];
    let flushed = -1;
    await inRolledBackTransaction(async (runner) => {
      await runner.manager.save(User, emails('ada', 'bob'));
      await onCommit(runner, () => void log.push('onCommit'));
      await onRollback(runner, () => void log.push('onRollback'));
      expect(mails).toEqual([]);
      flushed = await flushOnCommit(runner);
      expect(mails).toEqual(['ada@example.com', 'bob@example.com']);
      expect(log).toEqual(['onCommit']);
      expect(await flushOnCommit(runner.manager)).toBe(0); // nothing left
    });
    expect(flushed).toBe(2); // the commit task of the save (both rows), and the callback
    expect(mails).toEqual(['ada@example.com', 'bob@example.com']); // not again
    expect(log).toEqual(['onCommit', 'onRollback']);
    expect(await users().count()).toBe(0);
  });

  test('takes work from released savepoints, and work queued by flushed work', async () => {
    const mails = welcomeMails();
    const log: string[] = [];
    await inRolledBackTransaction(async (runner) => {
      await runner.manager.transaction(async (inner) => {
        await inner.save(User, emails('ada'));
      });
      await onCommit(runner, async () => {
        log.push('first');
        await onCommit(runner, () => void log.push('queued by first'));
      });
      expect(await flushOnCommit(runner)).toBe(3);
    });
    expect(mails).toEqual(['ada@example.com']);
    expect(log).toEqual(['first', 'queued by first']);
  });

  test('keeps the write’s mute and capture scopes', async () => {
    const mails = welcomeMails();
    await inRolledBackTransaction(async (runner) => {
      await withoutSignals(() => runner.manager.save(User, emails('muted')), { signals: [postSave] });
      const { records } = await captureSignals(
        async () => {
          await runner.manager.save(User, emails('ada'));
          await flushOnCommit(runner);
        },
        { signals: [postSave], senders: [User] },
      );
      expect(summary(records)).toEqual(['postSave:User', 'postSave:User:batch', 'postSave:User:commit']);
    });
    expect(mails).toEqual(['ada@example.com']);
  });

  test('a failing commit receiver is reported, not thrown, as after a real COMMIT', async () => {
    const reports: FailureReport[] = [];
    configureSignals({ logger: { error: () => undefined }, onReceiverError: (r) => void reports.push(r) });
    listen(
      postSave.connect(
        function failing() {
          throw new Error('mailer down');
        },
        { sender: User, phase: 'commit' },
      ),
    );
    await inRolledBackTransaction(async (runner) => {
      await runner.manager.save(User, emails('ada'));
      await expect(flushOnCommit(runner)).resolves.toBe(1);
    });
    expect(reports.map((r) => [r.receiver, r.context])).toEqual([['failing', 'commit']]);
  });

  test('outside a transaction there is nothing to flush; a receiver that re-queues forever is stopped', async () => {
    const runner = ds.createQueryRunner();
    try {
      expect(await flushOnCommit(runner)).toBe(0);
      await runner.startTransaction();
      const again = (): Promise<void> => onCommit(runner, again);
      await again();
      await expect(flushOnCommit(runner)).rejects.toThrow(
        'flushOnCommit(): commit work kept queueing more commit work after 100 rounds (100 tasks run); a commit receiver or onCommit() callback probably re-queues itself',
      );
      await runner.rollbackTransaction();
    } finally {
      await runner.release();
    }
  });

  test('refuses what is not a transaction’s runner or manager', async () => {
    await expect(flushOnCommit(ds.manager)).rejects.toThrow(
      "flushOnCommit(): this EntityManager is not bound to a QueryRunner (it is the DataSource's manager, whose writes commit at once); pass the QueryRunner of the test transaction or its manager",
    );
    await expect(flushOnCommit(null as never)).rejects.toThrow('flushOnCommit(): the first argument must be an EntityManager or a QueryRunner, got null');
    await expect(flushOnCommit({} as never)).rejects.toThrow('flushOnCommit(): the first argument must be an EntityManager or a QueryRunner');
  });
});
