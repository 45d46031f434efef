import { Signal, receiver } from '../../src';

class User {}
class Invoice {}

describe('receiver()', () => {
  test('connects fn to one signal with the options and returns fn', async () => {
    const saved = new Signal<{ n: number }>({ name: 'saved' });
    const seen: unknown[] = [];
    const fn = ({ sender, n }: { sender: unknown; n: number }) => void seen.push([sender, n]);
    expect(receiver(saved, { sender: User, dispatchUid: 'audit' }, fn)).toBe(fn);
    expect(saved.receivers()).toMatchObject([{ receiver: fn, sender: User, dispatchUid: 'audit', weak: false }]);
    await saved.send(Invoice, { n: 1 });
    await saved.send(User, { n: 2 });
    expect(seen).toEqual([[User, 2]]);
  });

  test('connects fn to each of several signals with the same options', async () => {
    const saved = new Signal<{ id: number }>({ name: 'saved' });
    const deleted = new Signal<{ id: number }>({ name: 'deleted' });
    const seen: string[] = [];
    const fn = receiver([saved, deleted], { sender: User }, ({ signal, id }) => void seen.push(`${signal.name}:${id}`));
    await saved.send(User, { id: 1 });
    await deleted.send(User, { id: 2 });
    await deleted.send(Invoice, { id: 3 });
    expect(seen).toEqual(['saved:1', 'deleted:2']);
    expect(saved.receivers()[0].receiver).toBe(fn);
    expect(deleted.receivers()[0].receiver).toBe(fn);
  });

  test('without options connects for every sender; connectedAt names the line of the receiver() call', () => {
    const saved = new Signal<{ id: number }>({ name: 'saved' });
    receiver(saved, undefined, () => undefined); const line = new Error().stack!.split('\n')[1];
    const [info] = saved.receivers();
    expect(info.sender).toBeUndefined();
    expect(info.connectedAt).toMatch(/[\\/]test[\\/]unit[\\/]receiver\.test\.ts:\d+$/);
    expect(line).toContain(`${info.connectedAt}:`);
  });

  test('follows connect() dedup: the same fn and sender twice is one connection', () => {
    const saved = new Signal<{ id: number }>({ name: 'saved' });
    const fn = () => undefined;
    receiver(saved, { sender: User }, fn);
    receiver([saved], { sender: User }, fn);
    expect(saved.receivers()).toHaveLength(1);
  });
});
