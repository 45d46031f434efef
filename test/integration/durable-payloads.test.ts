/**
 * What travels in a durable job: JSON, with Dates, bigints and Buffers in a defined form that
 * comes back as what it was, through the job table and a real claim. A value JSON cannot carry
 * fails the write with an error naming the field (never its value) and leaves nothing written.
 */
import 'reflect-metadata';
import { SignalsError, postSave, postDelete } from '../../src';
import { drainDurable } from '../../src/testing';
import { User } from '../../src/example/entities';
import { openDurableTest, type DurableTest } from '../helpers/durable';

let t: DurableTest;
beforeAll(async () => {
  t = await openDurableTest();
});
afterAll(() => t?.cleanup());
afterEach(() => t.reset());

test('Dates, bigints, Buffers, nested values and look-alike objects in SaveOptions.data round-trip', async () => {
  const got: unknown[] = [];
  t.listen(postSave.connect(({ data }) => void got.push(data), { sender: User, phase: 'durable', dispatchUid: 'data' }));
  const data = {
    at: new Date('2026-12-03T08:00:00.123Z'),
    big: 9007199254740993n,
    bytes: Buffer.from([0, 1, 2, 254, 255]),
    view: new Uint8Array([7, 8]),
    nested: { list: [1, 'two', null, { when: new Date(0) }], ok: true },
    lookAlike: { $date: 'not a date' }, // the user's own object with a tag-like key stays an object
    wrapped: { $object: { $bigint: '1' } },
    decimal: { toJSON: () => '12.50' },
  };
  await t.ds.getRepository(User).save({ email: 'ada@example.com' }, { data });
  const [job] = await t.jobs();
  expect(job.data.data).toEqual({
    at: { $date: '2026-12-03T08:00:00.123Z' },
    big: { $bigint: '9007199254740993' },
    bytes: { $bytes: 'AAEC/v8=' },
    view: { $bytes: 'Bwg=' },
    nested: { list: [1, 'two', null, { when: { $date: '1970-01-01T00:00:00.000Z' } }], ok: true },
    lookAlike: { $object: { $date: 'not a date' } },
    wrapped: { $object: { $object: { $object: { $bigint: '1' } } } },
    decimal: '12.50',
  });
  expect(await drainDurable(t.ds)).toEqual({ ran: 1, failed: 0 });
  const [received] = got as Array<Record<string, any>>;
  expect(received.at).toEqual(data.at);
  expect(received.at).toBeInstanceOf(Date);
  expect(received.big).toBe(9007199254740993n);
  expect(Buffer.isBuffer(received.bytes)).toBe(true);
  expect([...received.bytes]).toEqual([0, 1, 2, 254, 255]);
  expect([...received.view]).toEqual([7, 8]);
  expect(received.nested).toEqual({ list: [1, 'two', null, { when: new Date(0) }], ok: true });
  expect(received.lookAlike).toEqual({ $date: 'not a date' });
  expect(received.wrapped).toEqual({ $object: { $bigint: '1' } });
  expect(received.decimal).toBe('12.50');
});

test('values: true carries changes and previous, Dates included; without it neither is in the job', async () => {
  const got: Array<Record<string, any>> = [];
  t.listen(postSave.connect((args) => void got.push({ ...args }), { sender: User, phase: 'durable', dispatchUid: 'with-values', values: true }));
  t.listen(postSave.connect((args) => void got.push({ ...args }), { sender: User, phase: 'durable', dispatchUid: 'ids-only' }));
  const users = t.ds.getRepository(User);
  const ada = await users.save({ email: 'ada@example.com', name: 'Ada' });
  await drainDurable(t.ds);
  got.length = 0;
  await users.save({ ...ada, name: 'Ada Lovelace' });
  const jobs = await t.jobs();
  const byReceiver = Object.fromEntries(jobs.filter((j) => j.state === 'created').map((j) => [j.data.receiver, j.data]));
  expect(byReceiver['ids-only']).not.toHaveProperty('changes');
  expect(byReceiver['ids-only']).not.toHaveProperty('previous');
  expect(JSON.stringify(byReceiver['ids-only'])).not.toContain('Ada'); // no personal data without values: true
  expect(byReceiver['with-values'].changes).toEqual({ name: { from: 'Ada', to: 'Ada Lovelace' } });

  expect(await drainDurable(t.ds)).toEqual({ ran: 2, failed: 0 });
  const withValues = got.find((g) => g.changes !== undefined)!;
  expect(withValues.changes).toEqual({ name: { from: 'Ada', to: 'Ada Lovelace' } });
  expect(withValues.previous.createdAt).toBeInstanceOf(Date);
  expect(withValues.previous.createdAt).toEqual(ada.createdAt);
  const idsOnly = got.find((g) => g.changes === undefined)!;
  expect(idsOnly.previous).toBeUndefined();
  expect(idsOnly.updateFields).toEqual(['name']);
});

test.each([
  ['a function', { callback: () => 1 }, /"data\.callback" is a function/],
  ['a nested Set', { tags: { chosen: new Set(['a']) } }, /"data\.tags\.chosen" is a Set/],
  ['NaN in an array', { scores: [1, NaN] }, /"data\.scores\[1\]" is NaN/],
  ['an invalid Date', { when: new Date('not a date') }, /"data\.when" is an invalid Date/],
  ['a circular reference', (() => { const o: Record<string, unknown> = {}; o.self = o; return { o }; })(), /"data\.o\.self" is a circular reference/],
])('%s in the data fails the write naming the field, and nothing is written', async (_what, data, message) => {
  t.listen(postSave.connect(() => undefined, { sender: User, phase: 'durable', dispatchUid: 'welcome-mail' }));
  const write = t.ds.getRepository(User).save({ email: 'secret@example.com' }, { data });
  await expect(write).rejects.toThrow(SignalsError);
  const error = await t.ds.getRepository(User).save({ email: 'secret@example.com' }, { data }).catch((e: Error) => e);
  expect((error as Error).message).toMatch(message);
  expect((error as Error).message).toMatch(/^Signal "postSave": durable receiver "welcome-mail" for sender User: .*; the write is rolled back/);
  expect((error as Error).message).not.toContain('secret@example.com');
  expect(await t.ds.getRepository(User).count()).toBe(0);
  expect(await t.jobs()).toEqual([]);
});

test('in a transaction, the refused job rolls the whole transaction back, earlier writes included', async () => {
  t.listen(postSave.connect(() => undefined, { sender: User, phase: 'durable', dispatchUid: 'welcome-mail' }));
  await expect(
    t.ds.transaction(async (manager) => {
      await manager.save(User, { email: 'first@example.com' });
      await manager.save(User, { email: 'second@example.com' }, { data: { callback: () => 1 } });
    }),
  ).rejects.toThrow(/"data\.callback" is a function/);
  expect(await t.ds.getRepository(User).count()).toBe(0);
  expect(await t.jobs()).toEqual([]);
});

test('a delete\'s job: load() resolves to null once the row is gone', async () => {
  const got: unknown[] = [];
  t.listen(postDelete.connect(async ({ entityId, load }) => void got.push([entityId, await load()]), { sender: User, phase: 'durable', dispatchUid: 'on-delete' }));
  const users = t.ds.getRepository(User);
  const ada = await users.save({ email: 'ada@example.com' });
  const id = ada.id;
  await users.remove(ada);
  expect(await drainDurable(t.ds)).toEqual({ ran: 1, failed: 0 });
  expect(got).toEqual([[id, null]]);
});
