/**
 * The jest matchers of typeorm-signals/jest on records of real writes: what passes, what fails,
 * and the failure messages (which name signals, senders and the expected fields' values, never
 * whole entities).
 */
import 'reflect-metadata';
import type { DataSource } from 'typeorm';
import { Signal, postDelete, postLoad, postSave, preSave, withoutSignals } from '../../src';
import { signalMatchers, toHaveSent } from '../../src/jest';
import * as neutral from '../../src/matchers';
import { captureSignals, type SignalRecord } from '../../src/testing';
import { exampleConfig } from '../../src/example/data-source';
import { User, UserProfile } from '../../src/example/entities';
import { connectExampleReceivers } from '../../src/example/receivers';
import { openTestDataSource, type TestDataSource } from '../helpers/database';

let db: TestDataSource;
let ds: DataSource;
let disconnectExample: () => boolean;

beforeAll(async () => {
  db = await openTestDataSource(exampleConfig);
  ds = db.dataSource;
  disconnectExample = connectExampleReceivers();
});
afterAll(async () => {
  disconnectExample?.();
  await db?.cleanup();
});
afterEach(async () => {
  await ds.query('TRUNCATE "users", "user_profiles" RESTART IDENTITY CASCADE');
});

const users = () => ds.getRepository(User);

/** The message of the assertion's failure (it must fail). */
function failure(assertion: () => void): string {
  try {
    assertion();
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('the assertion passed');
}

/**
 * Saves three users in one save(), then updates one: 3 + 1 postSave for User, 3 for UserProfile
 * (ensureProfileExists), and a postLoad of the user that save() reloads before its update.
 */
async function signUpThree(): Promise<SignalRecord[]> {
  const { records } = await captureSignals(async () => {
    const [, bob] = await users().save([
      users().create({ email: 'ada@example.com', name: 'Ada' }),
      users().create({ email: 'bob@example.com', name: 'Bob' }),
      users().create({ email: 'carol@example.com', name: 'Carol' }),
    ]);
    bob.name = 'Bob B.';
    await users().save(bob);
  });
  return records;
}

test('importing typeorm-signals/jest registered the matchers on the global expect', () => {
  expect(typeof (expect([]) as unknown as Record<string, unknown>).toHaveSent).toBe('function');
  expect(signalMatchers).toEqual({ toHaveSent, toHaveSentTimes: expect.any(Function) });
});

test('typeorm-signals/jest registers the functions of typeorm-signals/matchers: one implementation for every runner', () => {
  expect(signalMatchers).toBe(neutral.signalMatchers);
  expect([toHaveSent, signalMatchers.toHaveSentTimes]).toEqual([neutral.toHaveSent, neutral.toHaveSentTimes]);
});

describe('toHaveSent', () => {
  test('passes on a partial match of sender and payload fields, counting rows and not batch calls', async () => {
    const records = await signUpThree();
    expect(records).toHaveSent(postSave);
    expect(records).toHaveSent(postSave, { sender: User, created: true });
    expect(records).toHaveSent(postSave, { sender: 'User', created: false, updateFields: ['name'] });
    expect(records).toHaveSent(postSave, { sender: User, instance: expect.objectContaining({ email: 'carol@example.com' }) });
    expect(records).toHaveSent(postSave, { sender: UserProfile, created: true });
    expect(records).not.toHaveSent(postSave, { sender: UserProfile, created: false });
    expect(records).not.toHaveSent(postSave, { sender: User, items: expect.anything() } as never); // the batch call is not a send
    expect({ records }).toHaveSent(preSave, { sender: User }); // the { result, records } of captureSignals works too

    expect(records).toHaveSentTimes(postSave, 7);
    expect(records).toHaveSentTimes(postLoad, 1, { sender: User });
    expect(records).toHaveSentTimes(postSave, 4, { sender: User });
    expect(records).toHaveSentTimes(postSave, 3, { sender: User, created: true });
    expect(records).toHaveSentTimes(postSave, 3, { sender: UserProfile });
    expect(records).toHaveSentTimes(postSave, 0, { sender: User, created: null });
    expect(records).not.toHaveSentTimes(postSave, 2, { sender: User });
  });

  test('muted sends do not count; commit-phase sends count once per row', async () => {
    const off = postSave.connect(() => undefined, { sender: User, phase: 'commit' });
    try {
      const { records } = await captureSignals(async () => {
        await users().save({ email: 'ada@example.com', name: 'Ada' });
        await withoutSignals(() => users().save({ email: 'bob@example.com', name: 'Bob' }), { senders: [User] });
      });
      expect(records).toHaveSentTimes(postSave, 1, { sender: User });
      expect(records).not.toHaveSent(postSave, { sender: User, instance: expect.objectContaining({ name: 'Bob' }) });
      expect(records.filter((r) => r.muted).length).toBeGreaterThan(0);
    } finally {
      off();
    }
  });

  test('failure message lists what was sent instead, with the expected fields only', async () => {
    const records = await signUpThree();
    expect(failure(() => expect(records).toHaveSent(postSave, { sender: User, created: null }))).toBe(
      [
        'expect(records).toHaveSent(postSave, expected)',
        '',
        'Expected postSave with sender User, created: null to be sent, but it was not. Sent (7 postSave):',
        '  1. postSave sender=User created=true',
        '  2. postSave sender=User created=true',
        '  3. postSave sender=User created=true',
        '  4. postSave sender=UserProfile created=true',
        '  5. postSave sender=UserProfile created=true',
        '  6. postSave sender=UserProfile created=true',
        '  7. postSave sender=User created=false',
        '  (also sent: preSave x7, postLoad x1)',
      ].join('\n'),
    );
  });

  test('each expected field shows its actual value, as deep as the expectation goes, never the whole entity', async () => {
    const records = await signUpThree();
    const message = failure(() => expect(records).toHaveSent(postSave, { sender: User, instance: { email: 'nobody@example.com' } }));
    expect(message).toContain('Expected postSave with sender User, instance: {email: "nobody@example.com"} to be sent, but it was not.');
    expect(message).toContain('  1. postSave sender=User instance=User {email: "ada@example.com"}');
    expect(message).toContain('  4. postSave sender=UserProfile instance={email: (absent)}');
    // The names were not asked for: the entity is not printed whole.
    expect(message).not.toMatch(/Ada|Bob|Carol/);

    const changes = failure(() =>
      expect(records).toHaveSent(postSave, {
        sender: User,
        changes: { name: { to: 'Bobby' } },
        updateFields: ['email'],
        instance: expect.objectContaining({ email: 'bob@example.com' }),
      }),
    );
    expect(changes).toContain(
      'Expected postSave with sender User, changes: {name: {to: "Bobby"}}, updateFields: ["email"], instance: ObjectContaining({email: "bob@example.com"}) to be sent',
    );
    expect(changes).toContain('  1. postSave sender=User changes=undefined updateFields=undefined instance=User {email: "ada@example.com"}');
    expect(changes).toContain('  7. postSave sender=User changes={name: {to: "Bob B."}} updateFields=["name"] instance=User {email: "bob@example.com"}');
    // `from` was not asked for.
    expect(changes).not.toContain('"Bob"');

    // Without an object expectation, an object value shows as its class name only.
    expect(failure(() => expect(records).toHaveSent(postSave, { sender: User, instance: 1 as never }))).toContain('  1. postSave sender=User instance=User {…}');
  });

  test('a signal that was not sent at all lists every send', async () => {
    const records = await signUpThree();
    const lines = failure(() => expect(records).toHaveSent(postDelete, { sender: User })).split('\n');
    expect(lines[2]).toBe('Expected postDelete with sender User to be sent, but it was not. postDelete was not sent at all. Sent (15):');
    expect(lines[3]).toBe('  1. preSave sender=User');
  });

  test('.not failure message lists the matching sends', async () => {
    const records = await signUpThree();
    expect(failure(() => expect(records).not.toHaveSent(postSave, { sender: User, created: false }))).toBe(
      [
        'expect(records).not.toHaveSent(postSave, expected)',
        '',
        'Expected postSave with sender User, created: false not to be sent, but it was sent 1 time:',
        '  1. postSave sender=User created=false',
      ].join('\n'),
    );
  });

  test('muted sends are listed as such; nothing sent says so; long lists are cut', async () => {
    const ping = new Signal<{ n: number; label?: string }>({ name: 'ping' });
    const { records: muted } = await captureSignals(() => withoutSignals(() => ping.send('Pinger', { n: 1, label: 'x'.repeat(50) })));
    expect(failure(() => expect(muted).toHaveSent(ping, { label: 'x' }))).toBe(
      [
        'expect(records).toHaveSent(ping, expected)',
        '',
        'Expected ping with label: "x" to be sent, but it was not. Sent (1):',
        `  1. ping sender="Pinger" label="${'x'.repeat(39)}…" (muted)`,
      ].join('\n'),
    );
    expect(failure(() => expect([]).toHaveSent(ping))).toBe('expect(records).toHaveSent(ping)\n\nExpected ping to be sent, but it was not. Nothing was sent.');

    const { records: many } = await captureSignals(async () => {
      for (let n = 1; n <= 25; n++) await ping.send('Pinger', { n });
    });
    const lines = failure(() => expect(many).toHaveSent(ping, { n: 99, missing: 1 } as never)).split('\n');
    expect(lines.slice(2, 4)).toEqual(['Expected ping with n: 99, missing: 1 to be sent, but it was not. Sent (25):', '  1. ping sender="Pinger" n=1 missing=(absent)']);
    expect(lines.slice(-2)).toEqual(['  20. ping sender="Pinger" n=20 missing=(absent)', '  ... and 5 more']);
  });
});

describe('toHaveSentTimes', () => {
  test('failure messages', async () => {
    const records = await signUpThree();
    expect(failure(() => expect(records).toHaveSentTimes(postSave, 2, { sender: User, created: true }))).toBe(
      [
        'expect(records).toHaveSentTimes(postSave, 2, expected)',
        '',
        'Expected postSave with sender User, created: true to be sent 2 times, but it was sent 3 times. Sent (7 postSave):',
        '  1. postSave sender=User created=true',
        '  2. postSave sender=User created=true',
        '  3. postSave sender=User created=true',
        '  4. postSave sender=UserProfile created=true',
        '  5. postSave sender=UserProfile created=true',
        '  6. postSave sender=UserProfile created=true',
        '  7. postSave sender=User created=false',
        '  (also sent: preSave x7, postLoad x1)',
      ].join('\n'),
    );
    expect(failure(() => expect(records).not.toHaveSentTimes(preSave, 1, { sender: User, created: false }))).toBe(
      'expect(records).not.toHaveSentTimes(preSave, 1, expected)\n\nExpected preSave with sender User, created: false not to be sent 1 time, but it was.',
    );
  });
});

describe('bad arguments are a TypeError, not a failed assertion', () => {
  test.each<[string, () => void, string]>([
    ['received is not records', () => expect('nope').toHaveSent(postSave), 'expect(received).toHaveSent(): received must be the records of captureSignals() (or the { result, records } it resolves to), got string "nope"'],
    ['received is an array of something else', () => expect([{}]).toHaveSentTimes(postSave, 1), 'expect(received).toHaveSentTimes(): received must be the records of captureSignals()'],
    ['the signal is not a Signal', () => expect([]).toHaveSent('postSave' as never), 'expect(records).toHaveSent(): the first argument must be a Signal (postSave, ...), got string "postSave"'],
    ['the count is not a whole number', () => expect([]).toHaveSentTimes(postSave, 1.5), 'expect(records).toHaveSentTimes(): the count must be a whole number >= 0, got number 1.5'],
    ['the expected fields are not an object', () => expect([]).toHaveSent(postSave, true as never), 'expect(records).toHaveSent(): the expected fields must be an object such as { sender: User, created: true }, got boolean true'],
    ['the sender is not a class or a name', () => expect([]).toHaveSent(postSave, { sender: 3 as never }), 'expect(records).toHaveSent(): "sender" must be a class or an entity name string, got number 3'],
  ])('%s', (_label, assertion, message) => {
    expect(assertion).toThrow(TypeError);
    expect(assertion).toThrow(message);
  });
});
