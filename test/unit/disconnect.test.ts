import { Signal } from '../../src';

// On Node 20, jest's sandbox (a vm context) lacks Symbol.dispose, which the main realm defines as
// Symbol.for('nodejs.dispose'); TypeScript's `using` helper reads it. Node >= 24 has it everywhere.
(Symbol as { dispose?: symbol }).dispose ??= Symbol.for('nodejs.dispose');

class Sender {}

test('connect() returns a disconnect function that says whether it removed the connection', async () => {
  const signal = new Signal<{ n: number }>({ name: 'disconnectFn' });
  const off = signal.connect(() => undefined);
  expect(signal.hasListeners(Sender)).toBe(true);
  expect(off()).toBe(true);
  expect(off()).toBe(false);
  expect(signal.hasListeners(Sender)).toBe(false);
});

test('`using` disconnects when the block ends, also when it throws', async () => {
  const signal = new Signal<{ n: number }>({ name: 'usingScope' });
  const seen: number[] = [];
  {
    using _connection = signal.connect(({ n }) => void seen.push(n), { sender: Sender });
    await signal.send(Sender, { n: 1 });
  }
  await signal.send(Sender, { n: 2 });
  expect(seen).toEqual([1]);
  expect(signal.hasListeners(Sender)).toBe(false);

  const boom = () => {
    using _connection = signal.connect(() => undefined, { sender: Sender });
    expect(signal.hasListeners(Sender)).toBe(true);
    throw new Error('boom');
  };
  expect(boom).toThrow('boom');
  expect(signal.hasListeners(Sender)).toBe(false);
});

test('the disconnect of an already-made connection (same receiver and sender) is disposable too', () => {
  const signal = new Signal<{ n: number }>({ name: 'usingDedup' });
  const fn = () => undefined;
  const first = signal.connect(fn, { sender: Sender });
  {
    using _again = signal.connect(fn, { sender: Sender });
  }
  expect(signal.hasListeners(Sender)).toBe(false);
  expect(first()).toBe(false);
});
