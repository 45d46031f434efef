import 'reflect-metadata';
import type { DataSource, QueryRunner } from 'typeorm';
import {
  Signal,
  SignalsSubscriber,
  configureSignals,
  onCommit,
  onRollback,
  postDelete,
  postSave,
  preSave,
  type FailureReport,
} from '../../src';
import { hasPendingWork } from '../../src/typeorm/transactions';
import { Author, blogEntities, blogMigrations } from '../fixtures/blog';
import { openTestDataSource, type TestDataSource } from '../helpers/database';
import { connections } from '../helpers/connections';
import { QueryRecorder } from '../helpers/query-log';

let db: TestDataSource;
let ds: DataSource;
const recorder = new QueryRecorder();
const { listen } = connections();

beforeAll(async () => {
  db = await openTestDataSource({ entities: blogEntities, migrations: blogMigrations, subscribers: [SignalsSubscriber], logger: recorder });
  ds = db.dataSource;
});
afterAll(async () => {
  configureSignals({ logger: null, onReceiverError: null });
  await db?.cleanup();
});
afterEach(async () => {
  configureSignals({ logger: null, onReceiverError: null });
  await ds.query('TRUNCATE authors RESTART IDENTITY CASCADE');
});

/** Counts committed authors through another connection: what the rest of the world sees. */
async function visibleAuthors(): Promise<number> {
  const runner = ds.createQueryRunner();
  try {
    const [{ n }] = await runner.query('SELECT count(*)::int AS n FROM authors');
    return n;
  } finally {
    await runner.release();
  }
}

function recordPhase(phase: 'commit' | 'rollback', log: string[] = []): string[] {
  listen(
    postSave.connect(
      async ({ instance, queryRunner, manager }) => {
        expect(queryRunner).toBeUndefined();
        expect(manager).toBe(ds.manager);
        log.push(`${phase}:${instance.name}:visible=${await visibleAuthors()}`);
      },
      { sender: Author, phase },
    ),
  );
  return log;
}

describe('commit phase', () => {
  test('runs once after save() commits, sees the committed row, and save() waits for it', async () => {
    const log = recordPhase('commit');
    await ds.getRepository(Author).save({ name: 'Ada' });
    expect(log).toEqual(['commit:Ada:visible=1']);
  });

  test('runs at once for an autocommit insert(), before insert() resolves', async () => {
    const log = recordPhase('commit');
    await ds.getRepository(Author).insert({ name: 'Bob' });
    expect(log).toEqual(['commit:Bob:visible=1']);
  });

  test('waits for the outermost commit when the write was in a released savepoint', async () => {
    const log = recordPhase('commit');
    await ds.transaction(async (outer) => {
      await outer.transaction(async (inner) => {
        await inner.save(Author, { name: 'nested' });
      });
      expect(log).toEqual([]);
      await outer.save(Author, { name: 'outer' });
      expect(log).toEqual([]);
    });
    expect(log).toEqual(['commit:nested:visible=2', 'commit:outer:visible=2']);
  });

  test.each([
    ['an explicit rollback', async () => {
      const runner = ds.createQueryRunner();
      await runner.startTransaction();
      await runner.manager.save(Author, { name: 'x' });
      await runner.rollbackTransaction();
      await runner.release();
    }],
    ['a thrown error in transaction()', async () => {
      await expect(
        ds.transaction(async (m) => {
          await m.save(Author, { name: 'x' });
          throw new Error('abort');
        }),
      ).rejects.toThrow('abort');
    }],
    ['a transaction-phase receiver that fails', async () => {
      listen(postSave.connect(() => Promise.reject(new Error('veto')), { sender: Author }));
      await expect(ds.getRepository(Author).save({ name: 'x' })).rejects.toThrow('veto');
    }],
    ['COMMIT after a failed statement (PostgreSQL rolls back silently)', async () => {
      await ds.transaction(async (m) => {
        await m.save(Author, { name: 'x' });
        await m.query('SELECT * FROM no_such_table').catch(() => undefined);
      });
    }],
  ])('never runs after %s, and the rollback phase runs instead', async (_name, act) => {
    const commits = recordPhase('commit');
    const rollbacks: string[] = [];
    listen(postSave.connect(({ instance }) => void rollbacks.push(String(instance.name)), { sender: Author, phase: 'rollback' }));
    await act();
    expect(commits).toEqual([]);
    expect(rollbacks).toEqual(['x']);
    expect(await visibleAuthors()).toBe(0);
  });

  test('drops the work of a savepoint that rolled back, keeps the rest', async () => {
    const log = recordPhase('commit');
    const undone: string[] = [];
    listen(postSave.connect(({ instance }) => void undone.push(String(instance.name)), { sender: Author, phase: 'rollback' }));
    await ds.transaction(async (outer) => {
      await outer.save(Author, { name: 'kept' });
      await outer
        .transaction(async (inner) => {
          await inner.save(Author, { name: 'undone' });
          throw new Error('inner fails');
        })
        .catch(() => undefined);
      expect(undone).toEqual(['undone']);
    });
    expect(log).toEqual(['commit:kept:visible=1']);
    expect(undone).toEqual(['undone']);
  });

  test('a failing commit receiver does not reject the save, keeps the data, and does not stop the others', async () => {
    const reports: FailureReport[] = [];
    const lines: string[] = [];
    configureSignals({ logger: { error: (message) => void lines.push(message) }, onReceiverError: (r) => void reports.push(r) });
    listen(
      postSave.connect(
        function sendWelcomeMail() {
          throw new Error('smtp down');
        },
        { sender: Author, phase: 'commit' },
      ),
    );
    const log = recordPhase('commit');
    await expect(ds.getRepository(Author).save({ name: 'secret-name' })).resolves.toBeDefined();
    expect(await visibleAuthors()).toBe(1);
    expect(log).toEqual(['commit:secret-name:visible=1']);
    expect(reports).toEqual([expect.objectContaining({ signal: 'postSave', receiver: 'sendWelcomeMail', sender: 'Author', context: 'commit' })]);
    expect(reports[0].error.message).toBe('smtp down');
    expect(lines.join('\n')).not.toContain('secret-name');
  });

  test('order: the order of the writes, then connection order', async () => {
    const log: string[] = [];
    listen(postSave.connect(({ instance }) => void log.push(`A:${instance.name}`), { sender: Author, phase: 'commit' }));
    listen(postDelete.connect(({ entityId }) => void log.push(`D:${String(entityId)}`), { sender: Author, phase: 'commit' }));
    listen(postSave.connect(({ instance }) => void log.push(`B:${instance.name}`), { sender: Author, phase: 'commit' }));
    await ds.transaction(async (m) => {
      const one = await m.save(Author, { name: 'one' });
      await m.save(Author, { name: 'two' });
      await m.remove(Author, one);
    });
    expect(log).toEqual(['A:one', 'B:one', 'A:two', 'B:two', 'D:1']);
  });
});

describe('rollback phase', () => {
  test('does not run when the transaction commits', async () => {
    const rollbacks: string[] = [];
    listen(postSave.connect(({ instance }) => void rollbacks.push(String(instance.name)), { sender: Author, phase: 'rollback' }));
    await ds.getRepository(Author).save({ name: 'fine' });
    await ds.getRepository(Author).insert({ name: 'autocommit' });
    expect(rollbacks).toEqual([]);
  });
});

describe('onCommit / onRollback', () => {
  test('onCommit runs after commit, at once outside a transaction; onRollback only on rollback', async () => {
    const log: string[] = [];
    await ds.transaction(async (m) => {
      await onCommit(m, () => void log.push('commit-1'));
      await onRollback(m, () => void log.push('rollback-1'));
      expect(log).toEqual([]);
    });
    await expect(
      ds.transaction(async (m) => {
        await onCommit(m, () => void log.push('commit-2'));
        await onRollback(m, () => void log.push('rollback-2'));
        throw new Error('undo');
      }),
    ).rejects.toThrow('undo');
    await onCommit(ds.manager, () => void log.push('at-once'));
    await onRollback(ds.manager, () => void log.push('never'));
    expect(log).toEqual(['commit-1', 'rollback-2', 'at-once']);
  });

  test('bad arguments are TypeErrors', () => {
    expect(() => onCommit({} as never, () => undefined)).toThrow(TypeError);
    expect(() => onCommit(ds.manager, 'nope' as never)).toThrow(/callback must be a function/);
  });

  test('per-transaction state is keyed by the runner and nothing is left after 10,000 transactions', async () => {
    let ran = 0;
    const runners: QueryRunner[] = [];
    for (let i = 0; i < 10_000; i++) {
      const runner = ds.createQueryRunner();
      await runner.startTransaction();
      await onCommit(runner, () => void ran++);
      await onRollback(runner, () => void ran--);
      if (i % 2) await runner.commitTransaction();
      else await runner.rollbackTransaction();
      await runner.release();
      runners.push(runner);
    }
    expect(ran).toBe(0); // 5,000 commits, 5,000 rollbacks
    expect(runners.filter(hasPendingWork)).toHaveLength(0);
    const subscriber = ds.subscribers.find((s) => s instanceof SignalsSubscriber)!;
    expect(Object.keys(subscriber)).toEqual([]);
  }, 120_000);
});

describe('options', () => {
  test('a deferred phase on a pre signal or a plain Signal is a TypeError that connects nothing', () => {
    expect(() => preSave.connect(() => undefined, { sender: Author, phase: 'commit' as never })).toThrow(/phase "commit" is not allowed: preSave/);
    expect(preSave.receivers()).toEqual([]);
    const plain = new Signal<{ n: number }>({ name: 'plain' });
    expect(() => plain.connect(() => undefined, { phase: 'commit' } as never)).toThrow(/"phase" is only for the post\* model signals/);
    expect(() => postSave.connect(() => undefined, { sender: Author, phase: 'later' as never })).toThrow(/must be 'transaction', 'commit', 'rollback' or 'durable'/);
    expect(postSave.receivers()).toEqual([]);
  });
});

describe('batch receivers', () => {
  test('one call per save([...]) with all items, in every phase', async () => {
    const calls: Array<[string, number[]]> = [];
    for (const phase of ['transaction', 'commit'] as const) {
      listen(
        postSave.connect(({ items }) => void calls.push([phase, items.map((i) => Number(i.instance.id))]), { sender: Author, batch: true, phase }),
      );
    }
    const saved = await ds.getRepository(Author).save([{ name: 'a' }, { name: 'b' }, { name: 'c' }]);
    const ids = saved.map((a) => a.id);
    expect(calls).toEqual([
      ['transaction', ids],
      ['commit', ids],
    ]);
  });

  test('with the chunk option: one call per chunk', async () => {
    const sizes: number[] = [];
    listen(postSave.connect(({ items }) => void sizes.push(items.length), { sender: Author, batch: true }));
    await ds.getRepository(Author).save(
      Array.from({ length: 7 }, (_, i) => ({ name: `n${i}` })),
      { chunk: 3 },
    );
    expect(sizes).toEqual([3, 3, 1]);
  });

  test('insert([...]) is one write: one batch call', async () => {
    const sizes: number[] = [];
    listen(postSave.connect(({ items }) => void sizes.push(items.length), { sender: Author, batch: true }));
    await ds.getRepository(Author).insert([{ name: 'a' }, { name: 'b' }]);
    expect(sizes).toEqual([2]);
  });

  test('a batch receiver writing all rows at once: one statement for 1,000 rows', async () => {
    listen(
      postSave.connect(
        async ({ items, manager }) => {
          const ids = items.filter((i) => i.created).map((i) => i.entityId as number);
          await manager.query('UPDATE authors SET posts = posts + 1 WHERE id = ANY($1)', [ids]);
        },
        { sender: Author, batch: true },
      ),
    );
    recorder.start();
    await ds.getRepository(Author).save(Array.from({ length: 1000 }, (_, i) => ({ name: `u${i}` })));
    const queries = recorder.stop();
    expect(queries.filter((q) => q.startsWith('UPDATE authors SET posts'))).toHaveLength(1);
    expect(await ds.getRepository(Author).countBy({ posts: 1 })).toBe(1000);
  });
});
