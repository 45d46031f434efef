/**
 * withoutSignals() and captureSignals() with `receivers`: a receiver function or a dispatchUid
 * selects single receivers. An entry that names no connected receiver is a TypeError, never a
 * wider selection.
 */
import { Signal, withoutSignals } from '../../src';
import { captureSignals } from '../../src/testing';

class User {}
class Order {}

function setup() {
  const signal = new Signal<{ n: number }>({ name: 'userSignedUp' });
  const calls: string[] = [];
  const welcome = ({ sender }: { sender: unknown }) => void calls.push(`welcome:${(sender as Function).name}`);
  const profile = ({ sender }: { sender: unknown }) => void calls.push(`profile:${(sender as Function).name}`);
  const audit = ({ sender }: { sender: unknown }) => void calls.push(`audit:${(sender as Function).name}`);
  const offs = [signal.connect(welcome), signal.connect(profile), signal.connect(audit, { dispatchUid: 'test:audit' })];
  return { signal, calls, welcome, profile, audit, off: () => offs.forEach((off) => off()) };
}

describe('withoutSignals({ receivers })', () => {
  test('mutes only the named receivers, by function or dispatchUid; the others run in order', async () => {
    const { signal, calls, welcome, off } = setup();
    try {
      await withoutSignals(() => signal.send(User, { n: 1 }), { receivers: [welcome, 'test:audit'] });
      expect(calls).toEqual(['profile:User']);
      calls.length = 0;
      await withoutSignals(() => signal.send(User, { n: 1 }), { receivers: welcome });
      expect(calls).toEqual(['profile:User', 'audit:User']);
    } finally {
      off();
    }
  });

  test('with senders: only for those senders', async () => {
    const { signal, calls, welcome, off } = setup();
    try {
      await withoutSignals(
        async () => {
          await signal.send(User, { n: 1 });
          await signal.send(Order, { n: 2 });
        },
        { senders: [User], receivers: [welcome] },
      );
      expect(calls).toEqual(['profile:User', 'audit:User', 'welcome:Order', 'profile:Order', 'audit:Order']);
    } finally {
      off();
    }
  });

  test('with signals: another signal with the same receiver still runs it', async () => {
    const { signal, calls, welcome, off } = setup();
    const other = new Signal<{}>({ name: 'other' });
    const offOther = other.connect(welcome);
    try {
      await withoutSignals(
        async () => {
          await signal.send(User, { n: 1 });
          await other.send(User, {});
        },
        { signals: [signal], receivers: [welcome] },
      );
      expect(calls).toEqual(['profile:User', 'audit:User', 'welcome:User']);
    } finally {
      off();
      offOther();
    }
  });

  test('a capture records the send with the receivers that ran; all muted is a muted send', async () => {
    const { signal, welcome, profile, off } = setup();
    try {
      const { records } = await captureSignals(() =>
        withoutSignals(
          async () => {
            await signal.send(User, { n: 1 });
          },
          { receivers: [welcome] },
        ),
      );
      expect(records.map((r) => [r.muted, r.receivers.map((o) => o.receiver)])).toEqual([[false, [profile, expect.any(Function)]]]);
      const { records: all } = await captureSignals(() => withoutSignals(() => signal.send(User, { n: 1 }), { receivers: [welcome, profile, 'test:audit'] }));
      expect(all.map((r) => [r.muted, r.receivers.length])).toEqual([[true, 0]]);
    } finally {
      off();
    }
  });

  test('entries that name no connected receiver are a TypeError naming them, and nothing is muted', async () => {
    const { signal, calls, welcome, off } = setup();
    try {
      const fn = jest.fn();
      expect(() => withoutSignals(fn, { receivers: [welcome, undefined as never] })).toThrow(
        'withoutSignals(): "receivers"[1] must be a receiver function or a dispatchUid string, got undefined; it would select no receiver, or worse, all of them. A value that is undefined when this code runs is usually a circular import',
      );
      expect(() => withoutSignals(fn, { receivers: ['test:audti'] })).toThrow(
        'withoutSignals(): "receivers"[0] is the dispatchUid "test:audti", which no receiver is connected with (connected: "test:audit")',
      );
      expect(() => withoutSignals(fn, { receivers: welcome.bind(null) })).toThrow(
        'withoutSignals(): "receivers" is function bound welcome, which is not connected to any signal now',
      );
      expect(() => withoutSignals(fn, { receivers: [] })).toThrow('withoutSignals(): "receivers" is an empty list, which would select nothing');
      expect(() => withoutSignals(fn, { receivers: undefined })).toThrow('withoutSignals(): "receivers" is undefined, which would select every receiver');
      expect(() => withoutSignals(fn, { receivers: [3 as never] })).toThrow('"receivers"[0] must be a receiver function or a dispatchUid string, got number');
      expect(fn).not.toHaveBeenCalled();
      await signal.send(User, { n: 1 });
      expect(calls).toEqual(['welcome:User', 'profile:User', 'audit:User']);
    } finally {
      off();
    }
    // Disconnected: no longer known.
    expect(() => withoutSignals(() => undefined, { receivers: ['test:audit'] })).toThrow('which no receiver is connected with');
    expect(() => withoutSignals(() => undefined, { receivers: [welcome] })).toThrow('is function welcome, which is not connected to any signal now');
  });
});

describe('captureSignals(fn, { receivers })', () => {
  test('records only the sends that have one of the receivers connected', async () => {
    const { signal, welcome, off } = setup();
    const lonely = new Signal<{}>({ name: 'lonely' });
    const other = () => undefined;
    const offOther = lonely.connect(other, { sender: Order });
    try {
      const { records } = await captureSignals(
        async () => {
          await signal.send(User, { n: 1 });
          await lonely.send(Order, {});
          await lonely.send(User, {});
        },
        { receivers: [welcome] },
      );
      expect(records.map((r) => `${r.signal.name}:${(r.sender as Function).name}`)).toEqual(['userSignedUp:User']);
      const { records: byUid } = await captureSignals(() => lonely.send(Order, {}), { receivers: other });
      expect(byUid).toHaveLength(1);
      await expect(captureSignals(() => undefined, { receivers: ['nope'] })).rejects.toThrow('captureSignals(): "receivers"[0] is the dispatchUid "nope"');
    } finally {
      off();
      offOther();
    }
  });
});
