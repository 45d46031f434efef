import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { Signal } from '../../src';

// Jest workers run without --expose-gc; turn it on for this file and fetch the gc function.
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

class User {}

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

/** Collects garbage until `done()` holds, for at most `rounds` rounds; returns whether it held. */
async function collectUntil(done: () => boolean, rounds = 50): Promise<boolean> {
  for (let i = 0; i < rounds; i++) {
    await tick();
    gc();
    if (done()) return true;
  }
  return done();
}

describe('weak receivers', () => {
  test('a weak receiver that is garbage collected is dropped quietly', async () => {
    const signal = new Signal<{ n: number }>({ name: 'weakSignal' });
    const calls: string[] = [];
    const strong = () => {
      calls.push('strong');
    };
    signal.connect(strong);
    // Created in a scope that ends here: only the signal's WeakRef points at these receivers.
    (() => {
      signal.connect(() => calls.push('weak-all'), { weak: true });
      signal.connect(() => calls.push('weak-user'), { weak: true, sender: User });
    })();
    expect(signal.receivers()).toHaveLength(3);
    expect(signal.hasListeners(User)).toBe(true);

    const collected = await collectUntil(() => signal.receivers().length === 1);
    expect(collected).toBe(true);

    const results = await signal.send(User, { n: 1 });
    expect(calls).toEqual(['strong']);
    expect(results).toEqual([[strong, undefined]]);
    expect(signal.receivers().map((r) => r.receiver)).toEqual([strong]);

    signal.disconnect(strong);
    expect(signal.hasListeners()).toBe(false);
    expect(signal.hasListeners(User)).toBe(false);
    await expect(signal.send(User, { n: 2 })).resolves.toEqual([]);
    expect(calls).toEqual(['strong']);
  });

  test('hasListeners is false once the only (weak) receiver is collected, before any send prunes it', async () => {
    const signal = new Signal<{ n: number }>({ name: 'weakOnly' });
    (() => {
      signal.connect(() => undefined, { weak: true, sender: User });
    })();
    expect(signal.hasListeners()).toBe(true);
    expect(await collectUntil(() => !signal.hasListeners())).toBe(true);
    expect(signal.hasListeners(User)).toBe(false);
    expect(signal.receivers(User)).toEqual([]);
  });

  test('a weak receiver that is still referenced keeps running and can be disconnected by function', async () => {
    const signal = new Signal<{ n: number }>({ name: 'weakAlive' });
    const seen: number[] = [];
    const kept = ({ n }: { n: number }) => {
      seen.push(n);
    };
    signal.connect(kept, { weak: true });
    await collectUntil(() => false, 5);
    await signal.send(User, { n: 1 });
    expect(seen).toEqual([1]);
    expect(signal.receivers()).toMatchObject([{ receiver: kept, weak: true }]);
    // Connecting it again (same key, same weak flag) keeps one connection.
    signal.connect(kept, { weak: true });
    expect(signal.receivers()).toHaveLength(1);
    expect(signal.disconnect(kept)).toBe(true);
    expect(signal.hasListeners()).toBe(false);
  });
});
