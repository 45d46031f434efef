import { Signal, SignalsError, type ReceiverArgs } from '../../src';

class User {}
class Admin extends User {}

/** "file:line" of the caller's line, in the same form as ReceiverInfo.connectedAt. */
function lineHere(): string {
  const frame = new Error().stack!.split('\n')[2];
  const match = /\(?([^()\s]+):(\d+):\d+\)?\s*$/.exec(frame)!;
  return `${match[1]}:${match[2]}`;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('new Signal', () => {
  test('keeps its name', () => {
    expect(new Signal({ name: 'userRegistered' }).name).toBe('userRegistered');
  });

  test.each([
    ['no options', undefined, /expected an options object/],
    ['a string', 'userRegistered', /expected an options object/],
    ['null', null, /expected an options object/],
    ['an empty name', { name: '' }, /"name" must be a non-empty string/],
    ['a blank name', { name: '   ' }, /"name" must be a non-empty string/],
    ['a non-string name', { name: 42 }, /"name" must be a non-empty string/],
    ['an unknown option', { name: 'x', useCaching: true }, /unknown option "useCaching"/],
  ])('rejects %s', (_label, options, message) => {
    expect(() => new Signal(options as never)).toThrow(TypeError);
    expect(() => new Signal(options as never)).toThrow(message);
  });
});

describe('connect', () => {
  test('returns a disconnect function that is true once, then false', async () => {
    const signal = new Signal<{ n: number }>({ name: 's' });
    const seen: number[] = [];
    const off = signal.connect(({ n }) => {
      seen.push(n);
    });
    await signal.send(User, { n: 1 });
    expect(off()).toBe(true);
    expect(off()).toBe(false);
    await signal.send(User, { n: 2 });
    expect(seen).toEqual([1]);
    expect(signal.hasListeners()).toBe(false);
  });

  test('sender limits a receiver to a class or to an entity name', async () => {
    const signal = new Signal<{ n: number }>({ name: 's' });
    const seen: string[] = [];
    signal.connect(() => void seen.push('class'), { sender: User });
    signal.connect(() => void seen.push('name'), { sender: 'Invoice' });
    await signal.send(User, { n: 1 });
    await signal.send('Invoice', { n: 1 });
    await signal.send('Other', { n: 1 });
    expect(seen).toEqual(['class', 'name']);
  });

  test('weak defaults to false and dispatchUid to undefined', () => {
    const signal = new Signal({ name: 's' });
    const fn = () => undefined;
    signal.connect(fn);
    signal.connect(fn, { sender: User, dispatchUid: 'uid', weak: true });
    expect(signal.receivers()).toMatchObject([
      { receiver: fn, sender: undefined, dispatchUid: undefined, weak: false },
      { receiver: fn, sender: User, dispatchUid: 'uid', weak: true },
    ]);
  });

  test('the same receiver and sender connected twice is kept once', async () => {
    const signal = new Signal<{ n: number }>({ name: 's' });
    let calls = 0;
    const fn = () => void calls++;
    const first = signal.connect(fn, { sender: User });
    const second = signal.connect(fn, { sender: User });
    expect(signal.receivers()).toHaveLength(1);
    await signal.send(User, { n: 1 });
    expect(calls).toBe(1);
    // Both disconnect functions name the one connection.
    expect(second()).toBe(true);
    expect(first()).toBe(false);
    expect(signal.hasListeners()).toBe(false);
  });

  test('a second connect with the same dispatchUid and sender is ignored, even with another function', async () => {
    const signal = new Signal<{ n: number }>({ name: 's' });
    const seen: string[] = [];
    const first = () => void seen.push('first');
    const second = () => void seen.push('second');
    signal.connect(first, { dispatchUid: 'audit' });
    signal.connect(second, { dispatchUid: 'audit' });
    expect(signal.receivers().map((r) => r.receiver)).toEqual([first]);
    await signal.send(User, { n: 1 });
    expect(seen).toEqual(['first']);
  });

  test('the same dispatchUid with another sender is another connection', () => {
    const signal = new Signal({ name: 's' });
    signal.connect(() => undefined, { dispatchUid: 'audit' });
    signal.connect(() => undefined, { dispatchUid: 'audit', sender: User });
    expect(signal.receivers().map((r) => r.sender)).toEqual([undefined, User]);
  });

  test('reconnecting the same key with another weak flag throws SignalsError and changes nothing', () => {
    const signal = new Signal({ name: 'conflicting' });
    const fn = function audit() {};
    signal.connect(fn, { sender: User });
    const before = signal.receivers();
    expect(() => signal.connect(fn, { sender: User, weak: true })).toThrow(SignalsError);
    expect(() => signal.connect(fn, { sender: User, weak: true })).toThrow(
      /Signal "conflicting": connect\(\) of receiver audit for sender User asks for phase "transaction", batch false, weak true, but that connection exists with .*weak false/,
    );
    signal.connect(() => undefined, { dispatchUid: 'uid', weak: true });
    expect(() => signal.connect(() => undefined, { dispatchUid: 'uid' })).toThrow(SignalsError);
    expect(signal.receivers()).toEqual([...before, expect.objectContaining({ dispatchUid: 'uid', weak: true })]);
  });
});

describe('disconnect', () => {
  test('removes only the connection made with the same sender', async () => {
    const signal = new Signal<{ n: number }>({ name: 's' });
    let calls = 0;
    const fn = () => void calls++;
    signal.connect(fn, { sender: User });
    expect(signal.disconnect(fn)).toBe(false);
    expect(signal.disconnect(fn, { sender: Admin })).toBe(false);
    expect(signal.disconnect(fn, { sender: 'User' })).toBe(false);
    await signal.send(User, { n: 1 });
    expect(calls).toBe(1);

    signal.connect(fn);
    expect(signal.disconnect(fn)).toBe(true);
    expect(signal.receivers()).toMatchObject([{ receiver: fn, sender: User }]);
    expect(signal.disconnect(fn, { sender: User })).toBe(true);
    expect(signal.disconnect(fn, { sender: User })).toBe(false);
    expect(signal.hasListeners()).toBe(false);
  });

  test('by dispatchUid, with or without the receiver', () => {
    const signal = new Signal({ name: 's' });
    const fn = () => undefined;
    signal.connect(fn, { dispatchUid: 'a' });
    signal.connect(fn, { dispatchUid: 'b', sender: User });
    expect(signal.disconnect(fn)).toBe(false); // connected by uid, not by function
    expect(signal.disconnect(undefined, { dispatchUid: 'b' })).toBe(false); // wrong sender
    expect(signal.disconnect(undefined, { dispatchUid: 'b', sender: User })).toBe(true);
    expect(signal.disconnect(undefined, { dispatchUid: 'a' })).toBe(true);
    expect(signal.disconnect(undefined, { dispatchUid: 'a' })).toBe(false);
    expect(signal.receivers()).toEqual([]);
  });

  test('a disconnect function removes only its own connection', () => {
    const signal = new Signal({ name: 's' });
    const fn = () => undefined;
    const offAll = signal.connect(fn);
    signal.connect(fn, { sender: User });
    expect(offAll()).toBe(true);
    expect(signal.receivers()).toMatchObject([{ sender: User }]);
  });
});

describe('hasListeners', () => {
  test('with a sender: counts receivers for it and for every sender', () => {
    const signal = new Signal({ name: 's' });
    expect(signal.hasListeners(User)).toBe(false);
    const off = signal.connect(() => undefined, { sender: User });
    expect(signal.hasListeners(User)).toBe(true);
    expect(signal.hasListeners(Admin)).toBe(false);
    expect(signal.hasListeners('User')).toBe(false);
    off();
    signal.connect(() => undefined);
    expect(signal.hasListeners(User)).toBe(true);
    expect(signal.hasListeners(Admin)).toBe(true);
    expect(signal.hasListeners('anything')).toBe(true);
  });

  test('without a sender: whether any receiver is connected at all (unlike Django, sender-specific ones count)', () => {
    const signal = new Signal({ name: 's' });
    expect(signal.hasListeners()).toBe(false);
    const off = signal.connect(() => undefined, { sender: User });
    expect(signal.hasListeners()).toBe(true);
    off();
    expect(signal.hasListeners()).toBe(false);
  });
});

describe('send', () => {
  test('calls receivers in connection order, awaiting each before the next starts', async () => {
    const signal = new Signal<{ n: number }>({ name: 's' });
    const events: string[] = [];
    signal.connect(async () => {
      events.push('a:start');
      await sleep(20);
      events.push('a:end');
    });
    signal.connect(() => {
      events.push('b');
    });
    signal.connect(async () => {
      events.push('c:start');
      await sleep(5);
      events.push('c:end');
    });
    signal.connect(() => {
      events.push('d');
    });
    await signal.send(User, { n: 1 });
    expect(events).toEqual(['a:start', 'a:end', 'b', 'c:start', 'c:end', 'd']);
  });

  test('does not settle before its last async receiver has finished', async () => {
    const signal = new Signal<{ n: number }>({ name: 's' });
    let finished = false;
    signal.connect(async () => {
      await sleep(10);
      finished = true;
    });
    await signal.send(User, { n: 1 });
    expect(finished).toBe(true);
  });

  test('resolves to [receiver, result] pairs, with async results awaited', async () => {
    const signal = new Signal<{ n: number }>({ name: 's' });
    const double = ({ n }: { n: number }) => n * 2;
    const later = async ({ n }: { n: number }) => {
      await sleep(1);
      return n + 100;
    };
    const nothing = () => undefined;
    signal.connect(double);
    signal.connect(later);
    signal.connect(nothing);
    expect(await signal.send(User, { n: 3 })).toEqual([
      [double, 6],
      [later, 103],
      [nothing, undefined],
    ]);
  });

  test('with no receivers resolves to an empty list', async () => {
    const signal = new Signal<{ n: number }>({ name: 's' });
    signal.connect(() => 1, { sender: Admin });
    await expect(signal.send(User, { n: 1 })).resolves.toEqual([]);
  });

  test('the first error (thrown) rejects the send and later receivers are not called', async () => {
    const signal = new Signal<{ n: number }>({ name: 's' });
    const calls: string[] = [];
    const boom = new Error('boom');
    signal.connect(() => void calls.push('first'));
    signal.connect(() => {
      calls.push('second');
      throw boom;
    });
    signal.connect(() => void calls.push('third'));
    await expect(signal.send(User, { n: 1 })).rejects.toBe(boom);
    expect(calls).toEqual(['first', 'second']);
  });

  test('the first error (rejected promise) rejects the send and later receivers are not called', async () => {
    const signal = new Signal<{ n: number }>({ name: 's' });
    const calls: string[] = [];
    const boom = new Error('async boom');
    signal.connect(async () => {
      calls.push('first');
      await sleep(1);
      throw boom;
    });
    signal.connect(async () => void calls.push('second'));
    await expect(signal.send(User, { n: 1 })).rejects.toBe(boom);
    expect(calls).toEqual(['first']);
  });

  test('a sync receiver after an async one still runs, and an error after an async one rejects', async () => {
    const signal = new Signal<{ n: number }>({ name: 's' });
    const calls: string[] = [];
    signal.connect(async () => void calls.push('async'));
    signal.connect(() => {
      calls.push('sync');
      throw new TypeError('late');
    });
    signal.connect(() => void calls.push('never'));
    await expect(signal.send(User, { n: 1 })).rejects.toThrow('late');
    expect(calls).toEqual(['async', 'sync']);
  });

  test('calls each receiver with one object: the payload plus signal and sender', async () => {
    const signal = new Signal<{ n: number; label: string }>({ name: 's' });
    const calls: unknown[][] = [];
    signal.connect(function (this: unknown, ...args: unknown[]) {
      calls.push(args);
    } as never);
    await signal.send(User, { n: 1, label: 'x' });
    expect(calls).toHaveLength(1);
    expect(calls[0]).toHaveLength(1);
    expect(calls[0][0]).toEqual({ n: 1, label: 'x', signal, sender: User });
    expect((calls[0][0] as ReceiverArgs<{}>).signal).toBe(signal);
    expect((calls[0][0] as ReceiverArgs<{}>).sender).toBe(User);
  });

  test('the payload is frozen: a receiver cannot change what later receivers see', async () => {
    const signal = new Signal<{ n: number; tags: string[] }>({ name: 's' });
    const seen: number[] = [];
    let refused: unknown;
    signal.connect((args) => {
      try {
        (args as { n: number }).n = 99;
      } catch (error) {
        refused = error;
      }
      seen.push(args.n);
    });
    signal.connect(({ n }) => void seen.push(n));
    const payload = { n: 1, tags: [] };
    await signal.send(User, payload);
    expect(refused).toBeInstanceOf(TypeError);
    expect(seen).toEqual([1, 1]);
    expect(payload.n).toBe(1);
  });

  test('a receiver connected for every sender and for sender X runs twice for X, once for others', async () => {
    const signal = new Signal<{ n: number }>({ name: 's' });
    let calls = 0;
    const fn = () => void calls++;
    signal.connect(fn);
    signal.connect(fn, { sender: User });
    expect((await signal.send(User, { n: 1 })).map(([r]) => r)).toEqual([fn, fn]);
    expect(calls).toBe(2);
    await signal.send(Admin, { n: 1 });
    expect(calls).toBe(3);
  });

  test('a receiver connected during a send is not called by it, but by the next one', async () => {
    const signal = new Signal<{ n: number }>({ name: 's' });
    const calls: string[] = [];
    const late = () => void calls.push('late');
    signal.connect(() => {
      calls.push('connector');
      signal.connect(late);
    });
    await signal.send(User, { n: 1 });
    expect(calls).toEqual(['connector']);
    await signal.send(User, { n: 2 });
    expect(calls).toEqual(['connector', 'connector', 'late']);
  });

  test('a receiver disconnected during a send is still called by it, not by the next one', async () => {
    const signal = new Signal<{ n: number }>({ name: 's' });
    const calls: string[] = [];
    const victim = () => void calls.push('victim');
    const removed: boolean[] = [];
    signal.connect(async () => {
      calls.push('remover');
      removed.push(signal.disconnect(victim, { sender: User }));
    });
    signal.connect(victim, { sender: User });
    await signal.send(User, { n: 1 });
    expect(removed).toEqual([true]);
    expect(calls).toEqual(['remover', 'victim']);
    await signal.send(User, { n: 2 });
    expect(calls).toEqual(['remover', 'victim', 'remover']);
  });
});

describe('sender matching', () => {
  test('classes match by identity: a subclass is another sender', async () => {
    const signal = new Signal<{ n: number }>({ name: 's' });
    const seen: unknown[] = [];
    signal.connect(({ sender }) => void seen.push(sender), { sender: User });
    await signal.send(Admin, { n: 1 });
    expect(seen).toEqual([]);
    await signal.send(User, { n: 1 });
    expect(seen).toEqual([User]);
  });

  test('two different classes with the same name are different senders', async () => {
    const A = (() => class Thing {})();
    const B = (() => class Thing {})();
    expect(A.name).toBe(B.name);
    const signal = new Signal<{ n: number }>({ name: 's' });
    const seen: unknown[] = [];
    signal.connect(({ sender }) => void seen.push(sender), { sender: A });
    await signal.send(B, { n: 1 });
    await signal.send('Thing', { n: 1 });
    expect(seen).toEqual([]);
    await signal.send(A, { n: 1 });
    expect(seen).toEqual([A]);
    expect(signal.hasListeners(B)).toBe(false);
  });

  test('strings match by equality', async () => {
    const signal = new Signal<{ n: number }>({ name: 's' });
    const seen: unknown[] = [];
    signal.connect(({ sender }) => void seen.push(sender), { sender: 'Invoice' });
    await signal.send(['In', 'voice'].join(''), { n: 1 });
    await signal.send('invoice', { n: 1 });
    expect(seen).toEqual(['Invoice']);
  });
});

describe('receivers()', () => {
  test('lists what would run for a sender, all-sender receivers included, in connection order', () => {
    const signal = new Signal<{ n: number }>({ name: 's' });
    const forAll = () => undefined;
    const forUser = () => undefined;
    const forAdmin = () => undefined;
    signal.connect(forUser, { sender: User, dispatchUid: 'user-audit' }); const userLine = lineHere();
    signal.connect(forAll); const allLine = lineHere();
    signal.connect(forAdmin, { sender: Admin });

    expect(signal.receivers(User)).toEqual([
      { receiver: forUser, sender: User, dispatchUid: 'user-audit', weak: false, phase: 'transaction', batch: false, connectedAt: userLine },
      { receiver: forAll, sender: undefined, dispatchUid: undefined, weak: false, phase: 'transaction', batch: false, connectedAt: allLine },
    ]);
    expect(userLine).toMatch(/[\\/]test[\\/]unit[\\/]signal\.test\.ts:\d+$/);
    expect(signal.receivers(Admin).map((r) => r.receiver)).toEqual([forAll, forAdmin]);
    expect(signal.receivers('User').map((r) => r.receiver)).toEqual([forAll]);
    expect(signal.receivers().map((r) => r.receiver)).toEqual([forUser, forAll, forAdmin]);
  });

  test('returns copies: changing them changes no connection', async () => {
    const signal = new Signal<{ n: number }>({ name: 's' });
    let calls = 0;
    signal.connect(() => void calls++, { sender: User });
    const [info] = signal.receivers();
    info.sender = Admin;
    signal.receivers().pop();
    await signal.send(User, { n: 1 });
    expect(calls).toBe(1);
    expect(signal.receivers()[0].sender).toBe(User);
  });
});
