/**
 * Receivers limited to one DataSource (the `dataSource` option of model signals), on two real
 * PostgreSQL databases with the example's migrations: a receiver runs only for writes on its
 * own DataSource, in every phase and as a batch; the same function may be connected once per
 * DataSource; receivers(), describeSignals() and checkSignals() show the scope.
 */
import 'reflect-metadata';
import type { DataSource } from 'typeorm';
import { checkSignals, describeSignals, postDelete, postSave, receiver } from '../../src';
import { exampleConfig } from '../../src/example/data-source';
import { User } from '../../src/example/entities';
import { openTestDataSource, type TestDataSource } from '../helpers/database';
import { connections } from '../helpers/connections';

let dbA: TestDataSource;
let dbB: TestDataSource;
let a: DataSource;
let b: DataSource;
const { listen } = connections();

beforeAll(async () => {
  [dbA, dbB] = await Promise.all([openTestDataSource(exampleConfig), openTestDataSource(exampleConfig)]);
  a = dbA.dataSource;
  b = dbB.dataSource;
});
afterAll(async () => {
  await Promise.all([dbA?.cleanup(), dbB?.cleanup()]);
});
afterEach(async () => {
  await Promise.all([a, b].map((ds) => ds.query('TRUNCATE "users", "user_profiles" RESTART IDENTITY CASCADE')));
});

const nameOf = (ds: DataSource | undefined) => (ds === a ? 'A' : ds === b ? 'B' : ds === undefined ? 'any' : 'other');

test('a receiver limited to a DataSource runs for writes on it only, in every phase and as a batch', async () => {
  const seen: string[] = [];
  listen(postSave.connect(({ instance, dataSource }) => void seen.push(`tx A ${instance.email} on ${nameOf(dataSource)}`), { sender: User, dataSource: a }));
  listen(postSave.connect(({ instance, dataSource }) => void seen.push(`commit B ${instance.email} on ${nameOf(dataSource)}`), { sender: User, phase: 'commit', dataSource: b }));
  listen(postSave.connect(({ items }) => void seen.push(`batch B ${items.length}`), { sender: User, batch: true, dataSource: b }));
  listen(postSave.connect(({ instance, dataSource }) => void seen.push(`any ${instance.email} on ${nameOf(dataSource)}`), { sender: User }));

  await a.getRepository(User).save({ email: 'a@example.com' });
  expect(seen.splice(0)).toEqual(['tx A a@example.com on A', 'any a@example.com on A']);

  await b.transaction((manager) => manager.save(User, [{ email: 'b1@example.com' }, { email: 'b2@example.com' }]));
  expect(seen.splice(0)).toEqual([
    'any b1@example.com on B',
    'any b2@example.com on B',
    'batch B 2',
    'commit B b1@example.com on B',
    'commit B b2@example.com on B',
  ]);

  // Statements by criteria (partial payloads: the SET values) go through the same filter.
  await b.getRepository(User).update({ email: 'b1@example.com' }, { email: 'b3@example.com' });
  expect(seen.splice(0)).toEqual(['any b3@example.com on B', 'batch B 1', 'commit B b3@example.com on B']);
  await a.getRepository(User).update({ email: 'a@example.com' }, { email: 'a2@example.com' });
  expect(seen.splice(0)).toEqual(['tx A a2@example.com on A', 'any a2@example.com on A']);
});

test('the same receiver connected for each DataSource is two connections; disconnect() removes the one it names', async () => {
  // A criteria delete sends postDelete only for rows it removed, so each delete removes one.
  let made = 0;
  const deleteOne = async (ds: DataSource) => {
    const email = `doomed${made++}@example.com`;
    await ds.getRepository(User).insert({ email });
    await ds.getRepository(User).delete({ email });
  };
  const seen: string[] = [];
  function audit({ dataSource }: { dataSource: DataSource }) {
    seen.push(nameOf(dataSource));
  }
  const offA = postDelete.connect(audit, { sender: User, dataSource: a });
  listen(offA);
  listen(postDelete.connect(audit, { sender: User, dataSource: b }));
  // Connecting again with the same DataSource changes nothing.
  listen(postDelete.connect(audit, { sender: User, dataSource: a }));
  expect(postDelete.receivers(User).map((r) => [r.receiver, nameOf(r.dataSource)])).toEqual([
    [audit, 'A'],
    [audit, 'B'],
  ]);

  await deleteOne(a);
  await deleteOne(b);
  expect(seen.splice(0)).toEqual(['A', 'B']);

  // Without the DataSource, disconnect() looks for an unscoped connection: there is none.
  expect(postDelete.disconnect(audit, { sender: User })).toBe(false);
  expect(postDelete.disconnect(audit, { sender: User, dataSource: b })).toBe(true);
  await deleteOne(b);
  await deleteOne(a);
  expect(seen).toEqual(['A']);
  expect(offA()).toBe(true);
});

test('receiver() and hand-sent payloads honour the DataSource too', async () => {
  const seen: string[] = [];
  const onB = receiver(postSave, { sender: User, dataSource: b }, ({ dataSource }) => void seen.push(`onB got ${nameOf(dataSource)}`));
  listen(() => postSave.disconnect(onB, { sender: User, dataSource: b }));
  const [user] = await a.getRepository(User).find();
  const payload = (ds: DataSource) => ({
    instance: user ?? a.getRepository(User).create({ email: 'hand@example.com' }),
    created: false as const,
    partial: false as const,
    source: 'save' as const,
    updateFields: undefined,
    previous: undefined,
    changes: undefined,
    entityId: 1,
    metadata: ds.getMetadata(User),
    data: undefined,
    manager: ds.manager,
    queryRunner: undefined,
    dataSource: ds,
  });
  await postSave.send(User, payload(a));
  await postSave.sendRobust(User, payload(b));
  expect(seen).toEqual(['onB got B']);
});

test('describeSignals() shows the scope; checkSignals() checks senders against the DataSource a receiver is limited to', async () => {
  function typoOnB() {}
  function typoOnA() {}
  listen(postSave.connect(typoOnB, { sender: 'Usr', dataSource: b }));
  listen(postSave.connect(typoOnA, { sender: 'Usr', dataSource: a }));
  const described = describeSignals().find((d) => d.signal === postSave)!.receivers;
  expect(described.map((r) => [r.receiver.name, nameOf(r.dataSource)])).toEqual([
    ['typoOnB', 'B'],
    ['typoOnA', 'A'],
  ]);
  // Each DataSource reports the typo of its own receiver only.
  expect(checkSignals(a).map((p) => [p.code, p.receiver])).toEqual([['unknown-sender', typoOnA]]);
  expect(checkSignals(b).map((p) => [p.code, p.receiver])).toEqual([['unknown-sender', typoOnB]]);
});

test('checkSignals() reports a receiver limited to a DataSource that is closed or has no subscriber', async () => {
  const closed = await openTestDataSource(exampleConfig);
  const bare = await openTestDataSource({ ...exampleConfig, subscribers: [] });
  try {
    function leftBehind() {}
    function neverSent() {}
    listen(postSave.connect(leftBehind, { sender: User, dataSource: closed.dataSource }));
    listen(postSave.connect(neverSent, { sender: User, dataSource: bare.dataSource }));
    await closed.dataSource.destroy();

    const problems = checkSignals(a);
    expect(problems.map((p) => [p.code, p.receiver, p.signal, p.sender])).toEqual([
      ['unknown-data-source', leftBehind, postSave, User],
      ['unknown-data-source', neverSent, postSave, User],
    ]);
    expect(problems[0].message).toMatch(
      /^checkSignals\(\): receiver leftBehind of postSave \(connected at .*data-source-scope\.test\.ts:\d+\) is limited to a DataSource that is not initialized \(destroyed, or never initialized\), so it never runs; disconnect it/,
    );
    expect(problems[1].message).toMatch(/receiver neverSent of postSave .* is limited to a DataSource that has no SignalsSubscriber, so it never runs/);
  } finally {
    await Promise.all([closed.cleanup(), bare.cleanup()]);
  }
});
