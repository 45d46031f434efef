/**
 * Model signals sent by hand (`postSave.send(User, payload)`) mean what a write of one row means:
 * transaction-phase receivers run at once with the payload's manager and queryRunner, commit- and
 * rollback-phase receivers wait for that runner's transaction, batch receivers get the row as
 * their one item. The example's own receivers are connected throughout.
 */
import 'reflect-metadata';
import type { DataSource, EntityManager, QueryRunner } from 'typeorm';
import {
  configureSignals,
  postDelete,
  postSave,
  preSave,
  type DeletePayload,
  type FailureReport,
  type SavePayload,
} from '../../src';
import { captureSignals } from '../../src/testing';
import { exampleConfig } from '../../src/example/data-source';
import { User, UserProfile } from '../../src/example/entities';
import { connectExampleReceivers } from '../../src/example/receivers';
import { openTestDataSource, type TestDataSource } from '../helpers/database';

let db: TestDataSource;
let ds: DataSource;
let disconnectExample: (() => boolean) | undefined;

beforeAll(async () => {
  db = await openTestDataSource(exampleConfig);
  ds = db.dataSource;
  disconnectExample = connectExampleReceivers();
});
afterAll(async () => {
  disconnectExample?.();
  await db?.cleanup();
});
afterEach(async () => {
  configureSignals({ logger: null, onReceiverError: null });
  await ds.query('TRUNCATE "users", "user_profiles" RESTART IDENTITY CASCADE');
});

/** The payload of a user row inserted without TypeORM's events (a raw INSERT), sent by hand. */
function created(user: User, manager: EntityManager, queryRunner: QueryRunner | undefined): SavePayload<User> {
  return {
    instance: user,
    created: true,
    partial: false,
    source: 'insert',
    entityId: user.id,
    updateFields: undefined,
    previous: undefined,
    changes: undefined,
    data: undefined,
    metadata: ds.getMetadata(User),
    manager,
    queryRunner: queryRunner as QueryRunner,
    dataSource: ds,
  };
}

/** Inserts a user through SQL, which TypeORM's subscribers never see. */
async function rawUser(manager: EntityManager, email: string): Promise<User> {
  const [row] = (await manager.query('INSERT INTO "users" ("email") VALUES ($1) RETURNING "id"', [email])) as Array<{ id: number }>;
  return Object.assign(new User(), { id: row.id, email, name: null });
}

async function profileCount(userId: number): Promise<number> {
  return ds.getRepository(UserProfile).count({ where: { userId } });
}

describe('postSave.send() inside a transaction', () => {
  test('runs transaction-phase receivers at once and commit-phase ones after the COMMIT, with the DataSource manager', async () => {
    const events: string[] = [];
    let commitContext: { manager: EntityManager; queryRunner: QueryRunner | undefined } | undefined;
    using _tx = postSave.connect(({ queryRunner }) => void events.push(`transaction active=${queryRunner.isTransactionActive}`), { sender: User });
    using _commit = postSave.connect(
      ({ manager, queryRunner }) => {
        commitContext = { manager, queryRunner };
        events.push('commit');
      },
      { sender: User, phase: 'commit' },
    );
    using _rollback = postSave.connect(() => void events.push('rollback'), { sender: User, phase: 'rollback' });

    await ds.transaction(async (manager) => {
      const user = await rawUser(manager, 'ada@example.com');
      await postSave.send(User, created(user, manager, manager.queryRunner));
      events.push('sent');
    });
    expect(events).toEqual(['transaction active=true', 'sent', 'commit']);
    expect(commitContext?.manager).toBe(ds.manager);
    expect(commitContext?.queryRunner).toBeUndefined();
  });

  test('a rolled-back transaction drops the commit-phase receivers and runs the rollback-phase ones', async () => {
    const events: string[] = [];
    using _commit = postSave.connect(() => void events.push('commit'), { sender: User, phase: 'commit' });
    using _rollback = postSave.connect(({ entityId }) => void events.push(`rollback ${String(entityId)}`), { sender: User, phase: 'rollback' });
    const oops = new Error('oops');
    let id = 0;
    await expect(
      ds.transaction(async (manager) => {
        const user = await rawUser(manager, 'ada@example.com');
        id = user.id;
        await postSave.send(User, created(user, manager, manager.queryRunner));
        throw oops;
      }),
    ).rejects.toBe(oops);
    expect(events).toEqual([`rollback ${id}`]);
  });

  test('the manager alone names the transaction: its queryRunner is the one the receivers get', async () => {
    const events: string[] = [];
    using _tx = postSave.connect(({ queryRunner }) => void events.push(`runner active=${queryRunner?.isTransactionActive}`), { sender: User });
    using _commit = postSave.connect(() => void events.push('commit'), { sender: User, phase: 'commit' });
    await ds.transaction(async (manager) => {
      const user = await rawUser(manager, 'ada@example.com');
      await postSave.send(User, created(user, manager, undefined));
      events.push('sent');
    });
    expect(events).toEqual(['runner active=true', 'sent', 'commit']);
  });

  test('the example receiver (a batch receiver) gets the row as its one item and inserts the profile in the transaction', async () => {
    const batches: number[][] = [];
    using _batch = postSave.connect(({ items }) => void batches.push(items.map((item) => Number(item.entityId))), { sender: User, batch: true });
    let userId = 0;
    const oops = new Error('roll back after checking');
    await expect(
      ds.transaction(async (manager) => {
        const user = await rawUser(manager, 'ada@example.com');
        userId = user.id;
        await postSave.send(User, created(user, manager, manager.queryRunner));
        expect(await manager.getRepository(UserProfile).count({ where: { userId } })).toBe(1);
        throw oops;
      }),
    ).rejects.toBe(oops);
    expect(batches).toEqual([[userId]]);
    // The profile was written through the write's manager: it rolled back with the user.
    expect(await profileCount(userId)).toBe(0);
  });

  test('the example receiver commits the profile with the transaction', async () => {
    const user = await ds.transaction(async (manager) => {
      const u = await rawUser(manager, 'ada@example.com');
      await postSave.send(User, created(u, manager, manager.queryRunner));
      return u;
    });
    expect(await profileCount(user.id)).toBe(1);
  });
});

describe('postSave.send() without a transaction', () => {
  test('the example receiver inserts the profile (it used to reject: items was undefined)', async () => {
    const user = await rawUser(ds.manager, 'ada@example.com');
    await expect(postSave.send(User, created(user, ds.manager, undefined))).resolves.toBeDefined();
    expect(await profileCount(user.id)).toBe(1);
  });

  test('commit-phase receivers run right after the transaction-phase ones; rollback-phase ones never', async () => {
    const events: string[] = [];
    using _commit = postSave.connect(() => void events.push('commit'), { sender: User, phase: 'commit' });
    using _rollback = postSave.connect(() => void events.push('rollback'), { sender: User, phase: 'rollback' });
    using _tx = postSave.connect(() => void events.push('transaction'), { sender: User });
    const user = await rawUser(ds.manager, 'ada@example.com');
    await postSave.send(User, created(user, ds.manager, undefined));
    events.push('sent');
    expect(events).toEqual(['transaction', 'commit', 'sent']);
  });

  test('a queryRunner that is not in a transaction counts as no transaction', async () => {
    const events: string[] = [];
    using _commit = postSave.connect(() => void events.push('commit'), { sender: User, phase: 'commit' });
    const runner = ds.createQueryRunner();
    try {
      const user = await rawUser(runner.manager, 'ada@example.com');
      await postSave.send(User, created(user, runner.manager, runner));
      events.push('sent');
    } finally {
      await runner.release();
    }
    expect(events).toEqual(['commit', 'sent']);
  });
});

describe('results and failures', () => {
  test('send() resolves to the transaction-phase pairs, per-row receivers before batch ones, as for a write', async () => {
    const batchReceiver = ({ items }: { items: readonly unknown[] }) => `batch of ${items.length}`;
    const rowReceiver = () => 'row';
    const commitReceiver = () => 'commit';
    using _batch = postSave.connect(batchReceiver, { sender: User, batch: true });
    using _row = postSave.connect(rowReceiver, { sender: User });
    using _commit = postSave.connect(commitReceiver, { sender: User, phase: 'commit' });
    const results = await ds.transaction(async (manager) => {
      const user = await rawUser(manager, 'ada@example.com');
      return postSave.send(User, created(user, manager, manager.queryRunner));
    });
    expect(results.map(([receiver, result]) => [receiver.name, result])).toEqual([
      ['rowReceiver', 'row'],
      ['ensureProfileExists', undefined],
      ['batchReceiver', 'batch of 1'],
    ]);
  });

  test('send() rejects with the first transaction-phase error; sendRobust() reports it and runs the rest', async () => {
    const boom = new Error('boom');
    const reports: FailureReport[] = [];
    configureSignals({ logger: { error: () => undefined }, onReceiverError: (report) => void reports.push(report) });
    const ran: string[] = [];
    using _failing = postSave.connect(
      function failing() {
        throw boom;
      },
      { sender: User },
    );
    using _after = postSave.connect(() => void ran.push('after'), { sender: User });
    const user = await rawUser(ds.manager, 'ada@example.com');
    await expect(postSave.send(User, created(user, ds.manager, undefined))).rejects.toBe(boom);
    expect(ran).toEqual([]);

    const results = await postSave.sendRobust(User, created(user, ds.manager, undefined));
    expect(ran).toEqual(['after']);
    expect(results.find(([receiver]) => receiver.name === 'failing')?.[1]).toBe(boom);
    expect(reports).toEqual([expect.objectContaining({ signal: 'postSave', receiver: 'failing', sender: 'User', context: 'sendRobust', error: boom })]);
  });

  test('a failing transaction-phase receiver still lets the rollback-phase receivers of the row run when the caller rolls back', async () => {
    const events: string[] = [];
    using _rollback = postSave.connect(() => void events.push('rollback'), { sender: User, phase: 'rollback' });
    using _failing = postSave.connect(
      () => {
        throw new Error('veto');
      },
      { sender: User },
    );
    await expect(
      ds.transaction(async (manager) => {
        const user = await rawUser(manager, 'ada@example.com');
        await postSave.send(User, created(user, manager, manager.queryRunner));
      }),
    ).rejects.toThrow('veto');
    expect(events).toEqual(['rollback']);
  });
});

describe('the other model signals and the test kit', () => {
  test('postDelete.send() defers commit-phase receivers too', async () => {
    const events: string[] = [];
    using _commit = postDelete.connect(({ entityId }) => void events.push(`deleted ${String(entityId)}`), { sender: User, phase: 'commit' });
    await ds.transaction(async (manager) => {
      const user = await rawUser(manager, 'ada@example.com');
      const payload: DeletePayload<User> = {
        instance: user,
        entityId: user.id,
        previous: user,
        source: 'delete',
        metadata: ds.getMetadata(User),
        manager,
        queryRunner: manager.queryRunner!,
        dataSource: ds,
      };
      await postDelete.send(User, payload);
      events.push('sent');
    });
    expect(events).toEqual(['sent', 'deleted 1']);
  });

  test('a pre signal sent by hand runs its receivers at once, batch ones with the one item', async () => {
    const seen: string[] = [];
    using _row = preSave.connect(({ instance }) => void seen.push(`row ${instance.email}`), { sender: User });
    using _batch = preSave.connect(({ items }) => void seen.push(`batch ${items.length}`), { sender: User, batch: true });
    const user = Object.assign(new User(), { email: 'ada@example.com' });
    await preSave.send(User, { ...created(user, ds.manager, undefined), entityId: undefined });
    expect(seen).toEqual(['row ada@example.com', 'batch 1']);
  });

  test('captureSignals() records the hand-sent row in the transaction phase and the commit call when it runs', async () => {
    using _commit = postSave.connect(() => undefined, { sender: User, phase: 'commit' });
    const { records } = await captureSignals(() =>
      ds.transaction(async (manager) => {
        const user = await rawUser(manager, 'ada@example.com');
        await postSave.send(User, created(user, manager, manager.queryRunner));
      }),
    );
    const saves = records.filter((r) => r.signal === postSave && r.sender === User);
    expect(saves.map((r) => [r.phase, r.batch])).toEqual([
      ['transaction', false],
      ['transaction', true],
      ['commit', false],
    ]);
    expect(saves[2].payload.queryRunner).toBeUndefined();
  });
});
