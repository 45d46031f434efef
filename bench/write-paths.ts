/**
 * (f) and (g): what the write paths other than save() cost (issue 10 item 6).
 *
 * (f) update() of 1,000 rows by criteria. Idle: the plugin installed, nothing listening, against
 *     no plugin: the statement must stay TypeORM's own (no SELECT, no RETURNING, no BEGIN). With a
 *     per-row postSave receiver, which gets each row's entityId, previous and instance (the
 *     plugin runs SELECT ... FOR UPDATE, then UPDATE ... RETURNING, in a transaction), against
 *     the same thing by hand: a transaction, a locking find(), the update by key, the same
 *     per-row work.
 * (g) insert() of one row outside a transaction with a transaction-phase receiver (the plugin
 *     gives the statement a transaction of its own, so the receiver can roll it back), against
 *     the same write and work inside dataSource.transaction() by hand.
 *
 *   BENCH_ONLY=f,g npm run bench
 */
import { In, type DataSource } from 'typeorm';
import { postSave } from '../src';
import { User } from '../src/example/entities';
import type { ComparisonDef } from './run';
import { calls, newUsers, type Operation } from './variants';

/** The per-row work both sides of (f) do: compare the old and the new name. Counted only when
 * both are right, so run.ts's check fails if a payload lacks its previous or instance. */
function perRowWork(before: string | null | undefined, after: string | null | undefined): void {
  if (before === 'old' && after === 'new') calls.receiver++;
}

/** n users named 'old', inserted in one statement (untimed). */
async function seedOld(ds: DataSource, n: number): Promise<void> {
  await ds.query(`INSERT INTO "users" ("email", "name") SELECT 'f' || i || '@example.com', 'old' FROM generate_series(1, $1) AS i`, [n]);
}

const updateByCriteria: Operation = {
  prepare: () => undefined,
  seed: seedOld,
  run: async (ds) => {
    await ds.getRepository(User).update({ name: 'old' }, { name: 'new' });
  },
  expect: { users: (n) => n, profiles: () => 0 },
};

export const updateByCriteriaReceiver: Operation = {
  ...updateByCriteria,
  connect: () => postSave.connect(({ previous, instance }) => perRowWork(previous?.name, instance.name), { sender: User }),
  expect: { ...updateByCriteria.expect, receiver: (n) => n },
};

export const updateByHand: Operation = {
  ...updateByCriteria,
  run: async (ds) => {
    await ds.transaction(async (manager) => {
      const rows = await manager.getRepository(User).find({ where: { name: 'old' }, lock: { mode: 'pessimistic_write' } });
      await manager.update(User, { id: In(rows.map((r) => r.id)) }, { name: 'new' });
      for (const row of rows) perRowWork(row.name, 'new');
    });
  },
  expect: { ...updateByCriteria.expect, receiver: (n) => n },
};

/** n separate insert() calls of one user each, outside a transaction. */
export const singleInserts: Operation = {
  prepare: (n) => newUsers(n, 'g'),
  run: async (ds, input) => {
    const repo = ds.getRepository(User);
    for (const user of input as User[]) await repo.insert(user);
  },
  connect: () => postSave.connect(() => void calls.receiver++, { sender: User }),
  expect: { users: (n) => n, profiles: () => 0, receiver: (n) => n },
};

export const singleInsertsByHand: Operation = {
  ...singleInserts,
  connect: undefined,
  run: async (ds, input) => {
    for (const user of input as User[]) {
      await ds.transaction(async (manager) => {
        await manager.insert(User, user);
        calls.receiver++;
      });
    }
  },
};

/** The comparisons run.ts adds to its list. */
export function writePathComparisons(rounds: number, reps: number, singles: number, fmt: (n: number) => string): ComparisonDef[] {
  return [
    {
      id: 'f',
      title: 'update() of 1,000 rows by criteria',
      sizes: [1000],
      rounds: () => rounds,
      reps: () => reps,
      unit: (n) => `update({ name }, ...) of ${fmt(n)} rows`,
      variants: [
        { key: 'plain', label: 'no plugin (plain TypeORM)', subscribers: 'none', op: updateByCriteria },
        { key: 'signals-idle', label: 'SignalsSubscriber, no receivers', subscribers: 'signals', op: updateByCriteria },
        { key: 'by-hand', label: 'by hand: transaction, find() FOR UPDATE, update by key, per-row work', subscribers: 'none', op: updateByHand },
        { key: 'receiver', label: 'per-row postSave receiver (entityId, previous, instance)', subscribers: 'signals', op: updateByCriteriaReceiver },
      ],
      ratios: [
        { num: 'signals-idle', den: 'plain', label: 'idle plugin / no plugin', target: { op: '<=', value: 1.03 } },
        { num: 'receiver', den: 'by-hand', label: 'receiver / by hand', target: { op: '<=', value: 1.25 } },
      ],
    },
    {
      id: 'g',
      title: 'insert() of one row outside a transaction, with a transaction-phase receiver',
      sizes: [singles],
      rounds: () => rounds,
      reps: () => reps,
      unit: (n) => `${fmt(n)} x insert(user)`,
      variants: [
        { key: 'by-hand', label: 'by hand: the insert and the work in dataSource.transaction()', subscribers: 'none', op: singleInsertsByHand },
        { key: 'receiver', label: 'insert() with a receiver: its own transaction', subscribers: 'signals', op: singleInserts },
      ],
      ratios: [{ num: 'receiver', den: 'by-hand', label: 'receiver / by hand', target: { op: '<=', value: 1.05 }, perCall: true }],
    },
  ];
}
