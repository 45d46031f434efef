/**
 * A flush runs a write's per-row receivers without an await per row while they return no
 * promise, and builds their arguments with one object literal (dispatcher.ts, runner.ts
 * deliverNow, events.ts PayloadShape). None of that may change what receivers see or when they
 * run: one after another in connection order, row by row, async ones awaited before the next;
 * frozen arguments with the documented keys; a throw rolls the write back; a capture still
 * records every row.
 */
import 'reflect-metadata';
import type { DataSource } from 'typeorm';
import { postSave, type BatchPayload, type SavePayload } from '../../src';
import { captureSignals } from '../../src/testing';
import { exampleConfig } from '../../src/example/data-source';
import { User } from '../../src/example/entities';
import { openTestDataSource, type TestDataSource } from '../helpers/database';

let db: TestDataSource;
let ds: DataSource;

beforeAll(async () => {
  db = await openTestDataSource(exampleConfig);
  ds = db.dataSource;
});
afterAll(async () => {
  await db?.cleanup();
});
afterEach(async () => {
  await ds.query('TRUNCATE "users", "user_profiles" RESTART IDENTITY CASCADE');
});

const users = (n: number, tag: string) => Array.from({ length: n }, (_, i) => Object.assign(new User(), { email: `${tag}${i}@example.com`, name: `${tag}${i}` }));

const SAVE_KEYS = ['instance', 'created', 'updateFields', 'previous', 'changes', 'entityId', 'source', 'partial', 'metadata', 'data', 'manager', 'queryRunner', 'dataSource'];

test('sync and async per-row receivers run one after another, in connection order, row by row', async () => {
  const order: string[] = [];
  using _a = postSave.connect(({ instance }: SavePayload<User>) => void order.push(`a:${instance.name}`), { sender: User });
  using _b = postSave.connect(
    async ({ instance }: SavePayload<User>) => {
      order.push(`b:${instance.name}`);
      await new Promise((resolve) => setTimeout(resolve, 1));
      order.push(`b done:${instance.name}`);
    },
    { sender: User },
  );
  using _c = postSave.connect(({ instance }: SavePayload<User>) => void order.push(`c:${instance.name}`), { sender: User });
  await ds.getRepository(User).save(users(3, 'o'));
  expect(order).toEqual(['o0', 'o1', 'o2'].flatMap((n) => [`a:${n}`, `b:${n}`, `b done:${n}`, `c:${n}`]));
});

test('per-row arguments and batch items are frozen, with the documented keys and values', async () => {
  const seen: Array<Record<string, unknown>> = [];
  const items: Array<Record<string, unknown>> = [];
  using _row = postSave.connect((args: SavePayload<User>) => void seen.push(args as never), { sender: User });
  using _batch = postSave.connect(({ items: got }: BatchPayload<SavePayload<User>>) => void items.push(...(got as never[])), { sender: User, batch: true });
  const saved = users(2, 'k');
  await ds.getRepository(User).save(saved, { data: { by: 'flush test' } });
  expect(seen).toHaveLength(2);
  for (const [i, args] of seen.entries()) {
    expect(Object.keys(args)).toEqual([...SAVE_KEYS, 'signal', 'sender']);
    expect(Object.isFrozen(args)).toBe(true);
    expect(() => {
      'use strict';
      (args as { created: unknown }).created = false;
    }).toThrow(TypeError);
    expect(args).toMatchObject({ instance: saved[i], created: true, entityId: saved[i].id, source: 'save', partial: false, data: { by: 'flush test' }, signal: postSave, sender: User });
    expect(args.queryRunner).toBe(args.manager && (args.manager as { queryRunner: unknown }).queryRunner);
  }
  expect(items).toHaveLength(2);
  for (const [i, item] of items.entries()) {
    expect(Object.keys(item)).toEqual(SAVE_KEYS);
    expect(Object.isFrozen(item)).toBe(true);
    expect(item.instance).toBe(saved[i]);
    expect(item.queryRunner).toBe(seen[i].queryRunner);
  }
});

test('a sync receiver that throws on the second row rolls the write back; the third row is not sent', async () => {
  const names: string[] = [];
  using _r = postSave.connect(
    ({ instance }: SavePayload<User>) => {
      names.push(instance.name!);
      if (instance.name === 'f1') throw new Error('no f1');
    },
    { sender: User },
  );
  await expect(ds.getRepository(User).save(users(3, 'f'))).rejects.toThrow('no f1');
  expect(names).toEqual(['f0', 'f1']);
  expect(await ds.getRepository(User).count()).toBe(0);
});

test('a capture records every row of a flush whose receivers return no promise', async () => {
  let calls = 0;
  using _r = postSave.connect(() => void calls++, { sender: User });
  const { records } = await captureSignals(() => ds.getRepository(User).save(users(3, 'c')));
  const rows = records.filter((r) => r.signal === postSave && !r.batch);
  expect(rows).toHaveLength(3);
  expect(rows.map((r) => r.receivers.length)).toEqual([1, 1, 1]);
  expect(calls).toBe(3);
});
