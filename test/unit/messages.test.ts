/**
 * Issue 14 item 11: refusals whose message fits the case at hand. postLoad is no "pre" signal,
 * so "use the matching post* signal" made no sense for it; a pre signal's message names its own
 * post signal; disconnect() does not connect, so its unknown-option message says what a typo
 * there would do.
 */
import { Signal, postLoad, preDelete, preRestore, preSave, preSoftDelete } from '../../src';

class User {}

test('a deferred phase on postLoad: a read has nothing to wait for; leave the phase out, or onCommit() from the receiver', () => {
  for (const phase of ['commit', 'rollback'] as const) {
    expect(() => postLoad.connect(() => undefined, { sender: User, phase } as never)).toThrow(
      new TypeError(
        `Signal "postLoad": phase "${phase}" is not allowed: postLoad is sent as each entity is read, and a read commits or rolls back nothing, ` +
          'so there is no later moment to run at; leave the phase out (postLoad receivers run at once). For work after the reading transaction ' +
          'commits, call onCommit(manager, fn) from the receiver',
      ),
    );
  }
  expect(postLoad.receivers()).toEqual([]);
});

test.each([
  [preSave, 'postSave'],
  [preDelete, 'postDelete'],
  [preSoftDelete, 'postSoftDelete'],
  [preRestore, 'postRestore'],
])('a deferred phase on %s names the post signal to use, and says nothing about reads', (signal, post) => {
  const message = (() => {
    try {
      (signal as typeof preSave).connect(() => undefined, { sender: User, phase: 'commit' } as never);
    } catch (error) {
      return (error as Error).message;
    }
    return 'connected';
  })();
  expect(message).toBe(
    `Signal "${signal.name}": phase "commit" is not allowed: ${signal.name} runs before the write and may veto it by throwing, which a ` +
      `receiver run after COMMIT or ROLLBACK could not do; for work after the write, connect to ${post} with phase "commit"`,
  );
});

test('an unknown option in disconnect() says what a typo there would do', () => {
  const signal = new Signal<{ id: number }>({ name: 'userRegistered' });
  const fn = () => undefined;
  signal.connect(fn, { sender: User });
  expect(() => signal.disconnect(fn, { sendr: User } as never)).toThrow(
    'Signal "userRegistered": unknown option "sendr" in disconnect() (known: sender, dispatchUid); an unknown option is refused so that a typo ' +
      'cannot leave the receiver connected while disconnect() quietly returns false',
  );
  expect(() => signal.connect(fn, { sendr: User } as never)).toThrow(/so that a typo cannot connect a receiver to every sender$/);
  expect(signal.receivers()).toHaveLength(1);
});

test('a connect that conflicts with an existing connection says what each asks for', () => {
  const signal = new Signal<{ id: number }>({ name: 'conflict' });
  signal.connect(function audit() {}, { dispatchUid: 'audit', weak: true });
  expect(() => signal.connect(function audit() {}, { dispatchUid: 'audit' })).toThrow(
    'Signal "conflict": connect() of receiver audit with dispatchUid "audit" for every sender asks for phase "transaction", batch false, weak false, ' +
      'but that connection exists with phase "transaction", batch false, weak true; disconnect it first to change them',
  );
});
