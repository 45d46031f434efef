/**
 * The async context of deferred work (src/signals/context.ts): commit and rollback receivers and
 * onCommit/onRollback callbacks run outside the async context of the transaction that ended, so
 * an AsyncLocalStorage value set around the transaction (what a CLS transaction library keeps) is
 * not visible there, while the library's own scopes (captureSignals, withoutSignals) still follow
 * the receivers' writes. On PostgreSQL with migrations.
 */
import 'reflect-metadata';
import { AsyncLocalStorage } from 'node:async_hooks';
import type { DataSource } from 'typeorm';
import { SignalsSubscriber, onCommit, postSave, withoutSignals } from '../../src';
import { captureSignals } from '../../src/testing';
import { Author, Tag, fixtureEntities, fixtureMigrations } from '../fixtures/blog';
import { openTestDataSource, type TestDataSource } from '../helpers/database';
import { connections } from '../helpers/connections';

let db: TestDataSource;
let dataSource: DataSource;
const { listen } = connections();
beforeAll(async () => {
  db = await openTestDataSource({ entities: fixtureEntities, migrations: fixtureMigrations, subscribers: [SignalsSubscriber] });
  dataSource = db.dataSource;
});
afterAll(() => db?.cleanup());
afterEach(async () => {
  await dataSource.query('TRUNCATE post_tags, posts, tags, authors RESTART IDENTITY CASCADE');
});

// Stands in for a CLS library's store: set around the transaction, as nestjs-cls and
// typeorm-transactional set theirs before they call transaction().
const ambient = new AsyncLocalStorage<{ tx: string }>();

test('commit, rollback and onCommit work does not see the AsyncLocalStorage values of the transaction that ended', async () => {
  const seen: string[] = [];
  for (const phase of ['transaction', 'commit', 'rollback'] as const) {
    listen(postSave.connect(({ instance }) => void seen.push(`${phase} ${instance.name}: ${ambient.getStore()?.tx}`), { sender: Author, phase }));
  }
  await ambient.run({ tx: 'open' }, () =>
    dataSource.transaction(async (manager) => {
      await manager.save(Author, { name: 'ada' });
      await onCommit(manager, () => void seen.push(`onCommit: ${ambient.getStore()?.tx}`));
    }),
  );
  await ambient
    .run({ tx: 'open' }, () =>
      dataSource.transaction(async (manager) => {
        await manager.save(Author, { name: 'bob' });
        throw new Error('abort');
      }),
    )
    .catch(() => undefined);
  expect(seen).toEqual([
    'transaction ada: open', // inside the transaction: the caller's context
    'commit ada: undefined',
    'onCommit: undefined',
    'transaction bob: open',
    'rollback bob: undefined',
  ]);
});

test("captureSignals records, and withoutSignals mutes, the writes of commit receivers, as before", async () => {
  listen(postSave.connect(({ instance, manager }) => manager.insert(Tag, { label: `for ${instance.name}` }).then(() => undefined), { sender: Author, phase: 'commit' }));

  const { records } = await captureSignals(() => dataSource.transaction((manager) => manager.save(Author, { name: 'ada' })), { signals: [postSave] });
  expect(records.filter((r) => r.phase === 'transaction').map((r) => [r.sender, r.muted])).toEqual([
    [Author, false],
    [Tag, false], // the commit receiver's insert, recorded by the capture around the transaction
  ]);

  const tagReceiver = jest.fn();
  listen(postSave.connect(tagReceiver, { sender: Tag }));
  await withoutSignals(() => dataSource.transaction((manager) => manager.save(Author, { name: 'bob' })), { signals: [postSave], senders: [Tag] });
  expect(tagReceiver).not.toHaveBeenCalled(); // muted for the commit receiver's write too
  expect(await dataSource.getRepository(Tag).count()).toBe(2);
});
