import { Signal, SignalsError, receiver } from '../../src';

class User {}

/**
 * Runs `action`, expects it to throw `type` with a message that names the signal and matches
 * `problem`, and expects the signal's connections to be exactly what they were before.
 */
function expectRefused(signal: Signal<any>, action: () => unknown, problem: RegExp, type: new (...a: any[]) => Error = TypeError): void {
  const before = signal.receivers();
  let thrown: unknown;
  try {
    action();
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(type);
  expect((thrown as Error).message).toContain(`Signal "${signal.name}"`);
  expect((thrown as Error).message).toMatch(problem);
  expect(signal.receivers()).toEqual(before);
}

/** A signal with one connection already, so "changes nothing" is checked against a non-empty list. */
function signalWithOne(): Signal<{ n: number }> {
  const signal = new Signal<{ n: number }>({ name: 'validated' });
  signal.connect(() => undefined, { sender: User, dispatchUid: 'existing' });
  return signal;
}

describe('connect() refuses bad input and connects nothing', () => {
  test.each([
    ['undefined', undefined],
    ['null', null],
    ['a string', 'handler'],
    ['an object', { handle() {} }],
  ])('receiver that is %s', (_label, value) => {
    const signal = signalWithOne();
    expectRefused(signal, () => signal.connect(value as never), /connect\(\) needs a function as receiver/);
  });

  test('an unknown option key (a typo of sender must not connect to every sender)', async () => {
    const signal = signalWithOne();
    let calls = 0;
    expectRefused(signal, () => signal.connect(() => void calls++, { sendr: User } as never), /unknown option "sendr" in connect\(\)/);
    expect(signal.hasListeners('Invoice')).toBe(false);
    await signal.send('Invoice', { n: 1 });
    await signal.send(User, { n: 1 });
    expect(calls).toBe(0);
  });

  test.each([
    ['an empty dispatchUid', '', /"dispatchUid" must be a non-empty string, got an empty string/],
    ['a numeric dispatchUid', 7, /"dispatchUid" must be a non-empty string, got number/],
    ['a null dispatchUid', null, /"dispatchUid" must be a non-empty string/],
  ])('%s', (_label, dispatchUid, message) => {
    const signal = signalWithOne();
    expectRefused(signal, () => signal.connect(() => undefined, { dispatchUid } as never), message);
  });

  test.each([
    ['a number', 1, /sender must be a class or an entity name string, got number/],
    ['an object', {}, /sender must be a class or an entity name string, got object/],
    ['an instance', new User(), /sender must be a class or an entity name string, got object/],
    ['null', null, /sender must be a class or an entity name string, got null/],
    ['an empty string', '', /sender must not be an empty string/],
  ])('a sender that is %s', (_label, sender, message) => {
    const signal = signalWithOne();
    expectRefused(signal, () => signal.connect(() => undefined, { sender } as never), message);
  });

  test('a non-boolean weak', () => {
    const signal = signalWithOne();
    expectRefused(signal, () => signal.connect(() => undefined, { weak: 'yes' } as never), /option "weak" must be a boolean, got string/);
  });

  test.each([
    ['null', null],
    ['an array', []],
    ['a string', 'User'],
  ])('options that are %s', (_label, options) => {
    const signal = signalWithOne();
    expectRefused(signal, () => signal.connect(() => undefined, options as never), /connect\(\) options must be an object/);
  });

  test('phase on a plain Signal', () => {
    const signal = signalWithOne();
    expectRefused(signal, () => signal.connect(() => undefined, { phase: 'afterCommit' } as never), /option "phase" is only for the post\* model signals/);
  });

  test('batch on a plain Signal', () => {
    const signal = signalWithOne();
    expectRefused(signal, () => signal.connect(() => undefined, { batch: true } as never), /option "batch" is only for model signals/);
    expectRefused(signal, () => signal.connect(() => undefined, { batch: false } as never), /option "batch" is only for model signals/);
  });

  test('another weak flag for an existing connection is a SignalsError (wrong state)', () => {
    const signal = signalWithOne();
    expectRefused(signal, () => signal.connect(() => undefined, { sender: User, dispatchUid: 'existing', weak: true }), /asks for .*weak true, but that connection exists with .*weak false/, SignalsError);
  });
});

describe('send() and sendRobust() refuse bad input before calling anyone', () => {
  const methods = ['send', 'sendRobust'] as const;

  test.each(methods)('%s: a sender that is not a class or a non-empty string', (method) => {
    const signal = signalWithOne();
    let calls = 0;
    signal.connect(() => void calls++);
    for (const sender of [undefined, null, 1, {}, '']) {
      expectRefused(signal, () => signal[method](sender as never, { n: 1 }), new RegExp(`${method}\\(\\) sender must`));
    }
    expect(calls).toBe(0);
  });

  test.each(methods)('%s: a payload that is not an object', (method) => {
    const signal = signalWithOne();
    let calls = 0;
    signal.connect(() => void calls++);
    for (const [payload, got] of [
      [undefined, 'undefined'],
      [null, 'null'],
      [5, 'number'],
      ['n', 'string'],
      [[1], 'object'],
    ] as const) {
      expectRefused(signal, () => signal[method](User, payload as never), new RegExp(`${method}\\(\\) payload must be an object, got ${got}`));
    }
    expect(calls).toBe(0);
  });

  test.each(methods)('%s: a payload with a reserved key', (method) => {
    const signal = signalWithOne();
    let calls = 0;
    signal.connect(() => void calls++);
    expectRefused(signal, () => signal[method](User, { n: 1, signal: 'x' } as never), /reserved key "signal"/);
    expectRefused(signal, () => signal[method](User, { n: 1, sender: 'x' } as never), /reserved key "sender"/);
    expect(calls).toBe(0);
  });
});

describe('disconnect(), hasListeners() and receivers() refuse bad input and change nothing', () => {
  test('disconnect without a receiver or a dispatchUid', () => {
    const signal = signalWithOne();
    expectRefused(signal, () => signal.disconnect(), /disconnect\(\) needs a receiver or a dispatchUid/);
    expectRefused(signal, () => signal.disconnect(undefined, { sender: User }), /disconnect\(\) needs a receiver or a dispatchUid/);
  });

  test('disconnect with a receiver that is not a function', () => {
    const signal = signalWithOne();
    expectRefused(signal, () => signal.disconnect('existing' as never), /disconnect\(\) takes the receiver function, got string/);
  });

  test('disconnect with an unknown option, a bad dispatchUid or a bad sender', () => {
    const signal = signalWithOne();
    expectRefused(signal, () => signal.disconnect(undefined, { dispatchUid: 'existing', sendr: User } as never), /unknown option "sendr" in disconnect\(\)/);
    expectRefused(signal, () => signal.disconnect(undefined, { dispatchUid: 'existing', phase: 'afterCommit' } as never), /unknown option "phase" in disconnect\(\)/);
    expectRefused(signal, () => signal.disconnect(undefined, { dispatchUid: '' }), /"dispatchUid" must be a non-empty string/);
    expectRefused(signal, () => signal.disconnect(undefined, { dispatchUid: 'existing', sender: 1 as never }), /disconnect\(\) sender must be/);
    expectRefused(signal, () => signal.disconnect(() => undefined, null as never), /disconnect\(\) options must be an object/);
  });

  test('hasListeners and receivers with a sender that is not a class or a non-empty string', () => {
    const signal = signalWithOne();
    signal.connect(() => undefined); // an all-sender receiver: a bad sender must not look like "any sender"
    for (const sender of [null, 1, {}, '']) {
      expectRefused(signal, () => signal.hasListeners(sender as never), /hasListeners\(\) sender must/);
      expectRefused(signal, () => signal.receivers(sender as never), /receivers\(\) sender must/);
    }
  });
});

describe('receiver() with bad input connects nothing to any of its signals', () => {
  test('an unknown option', () => {
    const a = signalWithOne();
    const b = new Signal<{ n: number }>({ name: 'other' });
    const before = [a.receivers(), b.receivers()];
    expect(() => receiver([a, b], { sendr: User } as never, () => undefined)).toThrow(/Signal "validated": unknown option "sendr"/);
    expect([a.receivers(), b.receivers()]).toEqual(before);
  });

  test('a receiver that is not a function', () => {
    const a = signalWithOne();
    expect(() => receiver(a, undefined, 'fn' as never)).toThrow(TypeError);
    expect(a.receivers()).toHaveLength(1);
  });

  test('a weak flag that conflicts with an existing connection on the second signal', () => {
    const a = new Signal<{ n: number }>({ name: 'first' });
    const b = new Signal<{ n: number }>({ name: 'second' });
    const fn = () => undefined;
    b.connect(fn, { sender: User });
    expect(() => receiver([a, b], { sender: User, weak: true }, fn)).toThrow(SignalsError);
    expect(() => receiver([a, b], { sender: User, weak: true }, fn)).toThrow(/Signal "second": receiver\(\) of receiver fn/);
    expect(a.receivers()).toEqual([]);
    expect(b.receivers()).toMatchObject([{ receiver: fn, weak: false }]);
  });

  test('no signal, or something that is not a Signal', () => {
    const a = signalWithOne();
    expect(() => receiver([], undefined, () => undefined)).toThrow(/receiver\(\): needs at least one signal/);
    expect(() => receiver([a, null] as never, undefined, () => undefined)).toThrow(/receiver\(\): signals\[1\] is not a Signal \(got null\)/);
    expect(() => receiver([a, {}] as never, undefined, () => undefined)).toThrow(/receiver\(\): signals\[1\] is not a Signal \(got object\)/);
    expect(() => receiver(undefined as never, undefined, () => undefined)).toThrow(
      'receiver(): the first argument is not a Signal (got undefined); a signal that is undefined when this code runs is usually a circular import',
    );
    expect(a.receivers()).toHaveLength(1);
  });
});
