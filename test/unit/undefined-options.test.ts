/**
 * An option given as `undefined` is refused: leaving `sender` out means "every sender", so a
 * `sender: User` whose `User` is still undefined (a circular import) must not silently widen a
 * receiver to every sender, nor a `senders: undefined` widen what withoutSignals mutes.
 */
import { Signal, postSave, receiver, withoutSignals } from '../../src';
import { captureSignals } from '../../src/testing';

class Post {}
const notYetDefined = undefined as unknown as typeof Post;

test.each([
  ['sender', { sender: notYetDefined }],
  ['dispatchUid', { dispatchUid: undefined }],
  ['weak', { weak: undefined }],
])('connect() with %s: undefined is a TypeError that names the option and the usual cause, and connects nothing', (key, options) => {
  const signal = new Signal<{ n: number }>({ name: 'undefinedOption' });
  expect(() => signal.connect(() => undefined, options)).toThrow(
    new RegExp(`Signal "undefinedOption": connect\\(\\) option "${key}" is undefined\\..*circular import`),
  );
  expect(signal.receivers()).toEqual([]);
});

test('model signals refuse sender, phase and batch given as undefined', () => {
  const fn = () => undefined;
  expect(() => postSave.connect(fn, { sender: notYetDefined })).toThrow(/postSave.*option "sender" is undefined/);
  expect(() => postSave.connect(fn, { sender: Post, phase: undefined })).toThrow(/option "phase" is undefined/);
  expect(() => postSave.connect(fn, { sender: Post, batch: undefined })).toThrow(/option "batch" is undefined/);
  // Leaving dataSource out means every DataSource: an undefined one must not widen the receiver.
  expect(() => postSave.connect(fn, { sender: Post, dataSource: undefined })).toThrow(/postSave.*connect\(\) option "dataSource" is undefined.*circular import/);
  expect(() => postSave.disconnect(fn, { sender: Post, dataSource: undefined })).toThrow(/disconnect\(\) option "dataSource" is undefined/);
  expect(postSave.hasListeners(Post)).toBe(false);
});

test('dataSource must be a DataSource: a name, or anything else, is a TypeError that connects nothing', () => {
  const fn = () => undefined;
  expect(() => postSave.connect(fn, { sender: Post, dataSource: 'reports' as never })).toThrow(
    /postSave": connect\(\) option "dataSource" must be a TypeORM DataSource, got the string "reports" \(a connection name works in @OnSignal of typeorm-signals\/nestjs only\)/,
  );
  expect(() => postSave.connect(fn, { sender: Post, dataSource: null as never })).toThrow(/"dataSource" must be a TypeORM DataSource, got null/);
  expect(() => postSave.connect(fn, { sender: Post, dataSource: {} as never })).toThrow(/"dataSource" must be a TypeORM DataSource, got object/);
  expect(postSave.hasListeners(Post)).toBe(false);
  // A plain Signal has no DataSource to be limited to.
  const plain = new Signal<{ n: number }>({ name: 'plainScope' });
  expect(() => plain.connect(fn, { dataSource: {} } as never)).toThrow('Signal "plainScope": option "dataSource" is only for model signals (postSave, ...), which TypeORM writes send');
});

test('receiver() refuses sender: undefined before connecting to any signal', () => {
  const other = new Signal<{ n: number }>({ name: 'receiverUndefined' });
  expect(() => receiver([other, postSave], { sender: notYetDefined }, () => undefined)).toThrow(/option "sender" is undefined/);
  expect(other.receivers()).toEqual([]);
});

test('disconnect() refuses sender: undefined instead of looking for an all-sender connection', () => {
  const signal = new Signal<{ n: number }>({ name: 'disconnectUndefined' });
  const fn = () => undefined;
  signal.connect(fn);
  expect(() => signal.disconnect(fn, { sender: notYetDefined })).toThrow(/disconnect\(\) option "sender" is undefined/);
  expect(signal.receivers()).toHaveLength(1);
});

test('connect() without the option, or with options undefined, still means every sender', async () => {
  const signal = new Signal<{ n: number }>({ name: 'stillAll' });
  const seen: string[] = [];
  signal.connect(({ sender }) => void seen.push((sender as typeof Post).name));
  signal.connect(({ sender }) => void seen.push(`again ${(sender as typeof Post).name}`), undefined);
  await signal.send(Post, { n: 1 });
  expect(seen).toEqual(['Post', 'again Post']);
});

test.each([
  // withoutSignals throws synchronously, captureSignals rejects: both before running fn.
  ['withoutSignals', async (options: object) => withoutSignals(async () => undefined, options as never)],
  ['captureSignals', (options: object) => captureSignals(async () => undefined, options as never)],
])('%s refuses senders: undefined and signals: undefined (they would select everything)', async (_name, run) => {
  await expect(run({ senders: undefined })).rejects.toThrow(/"senders" is undefined, which would select every sender.*circular import/);
  await expect(run({ signals: undefined })).rejects.toThrow(/"signals" is undefined, which would select every signal/);
});

test.each([
  // withoutSignals throws synchronously, captureSignals rejects: both before running fn.
  ['withoutSignals', async (options: object) => withoutSignals(async () => undefined, options as never)],
  ['captureSignals', (options: object) => captureSignals(async () => undefined, options as never)],
])('%s names an undefined entry of its lists and the usual cause', async (_name, run) => {
  await expect(run({ senders: [Post, notYetDefined] })).rejects.toThrow(/"senders"\[1\].*got undefined.*circular import/);
  await expect(run({ signals: [postSave, undefined] })).rejects.toThrow(/"signals"\[1\] is not a Signal \(got undefined\).*circular import/);
});
