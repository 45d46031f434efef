import { setImmediate as tick } from 'node:timers/promises';
import { Signal, postSave, withoutSignals } from '../../src';

class User {}
class Order {}

function recorder() {
  const calls: string[] = [];
  const make = (label: string) => (args: { sender: unknown }) => {
    calls.push(`${label}:${typeof args.sender === 'function' ? args.sender.name : String(args.sender)}`);
  };
  return { calls, make };
}

describe('withoutSignals', () => {
  test('mutes every signal for every sender by default, across awaits, and resolves to fn’s result', async () => {
    const a = new Signal<{}>({ name: 'a' });
    const b = new Signal<{}>({ name: 'b' });
    const { calls, make } = recorder();
    a.connect(make('a'));
    b.connect(make('b'));

    const result = await withoutSignals(async () => {
      await a.send(User, {});
      await tick();
      await new Promise((resolve) => setTimeout(resolve, 1));
      await b.sendRobust(Order, {});
      return 42;
    });
    expect(result).toBe(42);
    expect(calls).toEqual([]);

    // Outside the scope again: receivers run.
    await a.send(User, {});
    expect(calls).toEqual(['a:User']);
  });

  test('a synchronous fn works too, and its error rejects the returned promise', async () => {
    const a = new Signal<{}>({ name: 'a' });
    expect(await withoutSignals(() => 'sync')).toBe('sync');
    await expect(
      withoutSignals(() => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    const { calls, make } = recorder();
    a.connect(make('a'));
    await a.send(User, {});
    expect(calls).toEqual(['a:User']);
  });

  test('only the named signals are muted; receivers of other signals keep running', async () => {
    const a = new Signal<{}>({ name: 'a' });
    const b = new Signal<{}>({ name: 'b' });
    const { calls, make } = recorder();
    a.connect(make('a'));
    b.connect(make('b'));
    await withoutSignals(
      async () => {
        await a.send(User, {});
        await b.send(User, {});
      },
      { signals: [a] },
    );
    expect(calls).toEqual(['b:User']);
    // A single Signal is accepted in place of a list.
    calls.length = 0;
    await withoutSignals(() => Promise.all([a.send(User, {}), b.send(User, {})]), { signals: b });
    expect(calls).toEqual(['a:User']);
  });

  test('only the named senders are muted; sends from other senders reach their receivers', async () => {
    const a = new Signal<{}>({ name: 'a' });
    const { calls, make } = recorder();
    a.connect(make('any'));
    a.connect(make('user-only'), { sender: User });
    await withoutSignals(
      async () => {
        await a.send(User, {});
        await a.send(Order, {});
        await a.send('Invoice', {});
      },
      { senders: [User, 'Invoice'] },
    );
    expect(calls).toEqual(['any:Order']);
  });

  test('signals and senders together mute only that combination', async () => {
    const a = new Signal<{}>({ name: 'a' });
    const b = new Signal<{}>({ name: 'b' });
    const { calls, make } = recorder();
    a.connect(make('a'));
    b.connect(make('b'));
    await withoutSignals(
      async () => {
        for (const s of [a, b]) for (const sender of [User, Order]) await s.send(sender, {});
      },
      { signals: [a], senders: User },
    );
    expect(calls).toEqual(['a:Order', 'b:User', 'b:Order']);
  });

  test('scopes nest: an inner scope adds to what the outer one mutes, and ends with its fn', async () => {
    const a = new Signal<{}>({ name: 'a' });
    const b = new Signal<{}>({ name: 'b' });
    const c = new Signal<{}>({ name: 'c' });
    const { calls, make } = recorder();
    a.connect(make('a'));
    b.connect(make('b'));
    c.connect(make('c'));
    const sendAll = async (label: string) => {
      calls.push(label);
      for (const s of [a, b, c]) await s.send(User, {});
    };
    await withoutSignals(
      async () => {
        await sendAll('outer');
        await withoutSignals(() => sendAll('inner'), { signals: [b] });
        await sendAll('outer again');
      },
      { signals: [a] },
    );
    expect(calls).toEqual(['outer', 'b:User', 'c:User', 'inner', 'c:User', 'outer again', 'b:User', 'c:User']);
  });

  test('does not leak into concurrent work that started outside fn', async () => {
    const a = new Signal<{}>({ name: 'a' });
    const { calls, make } = recorder();
    a.connect(make('a'));
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    // Started before the scope, it sends while the muted fn is waiting: it must not be muted.
    const outside = (async () => {
      await gate;
      await a.send(Order, {});
    })();
    const inside = withoutSignals(async () => {
      release();
      await outside;
      await a.send(User, {});
    });
    // Started while the scope is open, but outside fn: not muted either.
    const alsoOutside = a.send('Invoice', {});
    await Promise.all([inside, alsoOutside]);
    expect(calls.sort()).toEqual(['a:Invoice', 'a:Order']);
  });

  test('mutes model signals sent by hand as well', async () => {
    const { calls, make } = recorder();
    const off = postSave.connect(make('postSave') as never, { sender: User });
    try {
      const payload = { instance: {}, created: true, partial: false, source: 'save', manager: {}, dataSource: {} } as never;
      await withoutSignals(() => postSave.send(User, payload), { signals: [postSave] });
      expect(calls).toEqual([]);
      await postSave.send(User, payload);
      expect(calls).toEqual(['postSave:User']);
    } finally {
      off();
    }
  });

  describe('refuses bad arguments with a TypeError naming the problem, without calling fn', () => {
    const a = new Signal<{}>({ name: 'a' });
    const fn = jest.fn();
    afterEach(() => expect(fn).not.toHaveBeenCalled());

    test.each<[string, () => unknown, string | RegExp]>([
      ['fn not a function', () => withoutSignals('x' as never), 'withoutSignals(): the first argument must be a function, got the string "x"'],
      ['options not an object', () => withoutSignals(fn, 'all' as never), 'withoutSignals(): options must be an object { signals?, senders? }, got the string "all"'],
      ['options null', () => withoutSignals(fn, null as never), 'options must be an object { signals?, senders? }, got null'],
      [
        'a Signal in place of the options',
        () => withoutSignals(fn, a as never),
        'withoutSignals(): options must be an object { signals?, senders? }, got the Signal "a" (pass signals as { signals: [...] })',
      ],
      ['an array in place of the options', () => withoutSignals(fn, [a] as never), 'got an array (pass signals as { signals: [...] })'],
      ['an unknown key', () => withoutSignals(fn, { signal: [a] } as never), 'withoutSignals(): unknown option "signal" (known: signals, senders, receivers)'],
      ['a non-Signal in signals', () => withoutSignals(fn, { signals: [a, 'postSave' as never] }), 'withoutSignals(): "signals"[1] is not a Signal (got the string "postSave")'],
      ['a non-Signal as signals', () => withoutSignals(fn, { signals: {} as never }), '"signals" is not a Signal (got object)'],
      [
        'a Signal of another copy of the package',
        () => withoutSignals(fn, { signals: [{ name: 'postSave', connect() {} } as never] }),
        'it comes from another copy of typeorm-signals',
      ],
      ['an empty signals list', () => withoutSignals(fn, { signals: [] }), '"signals" is an empty list, which would select nothing; leave it out to select every signal'],
      ['an empty senders list', () => withoutSignals(fn, { senders: [] }), '"senders" is an empty list'],
      ['a number as sender', () => withoutSignals(fn, { senders: [User, 3 as never] }), 'withoutSignals(): "senders"[1] must be a class or a non-empty entity name string, got number'],
      ['an empty string as sender', () => withoutSignals(fn, { senders: '' }), '"senders" must be a class or a non-empty entity name string, got an empty string'],
      ['null as sender', () => withoutSignals(fn, { senders: [null as never] }), 'got null'],
    ])('%s', (_label, call, message) => {
      expect(call).toThrow(TypeError);
      expect(call).toThrow(message);
    });
  });
});
